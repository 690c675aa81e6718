"""Mail out: a decision notice (its PDF attached) to the applicant's address from the record.

The clerk previews the message and sends it; sending goes through SMTP with retries (or, with
no SMTP server configured, the message is written to the outbox folder), and every attempt is
recorded on the case: an ``OutgoingMail`` row with its status, attempts and last error, and an
audit entry (ids and counts). A failure is shown on the case, never lost, and can be sent again.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy import select

from forms.errors import InputError, MadoguchiError
from web import services
from web.db_session import Runtime
from web.mail_catalogue import handling
from web.mail_intake import audit_event
from web.models import Case, MailMessage, Notice, OutgoingMail, utcnow
from web.notices import NOTICE_NAMES

log = logging.getLogger("madoguchi.mail")

#: Where the applicant's address is read from, first found wins.
ADDRESS_KEYS = ("contact_email", "applicant_email", "email", "store_email", "seller_email")
#: Notices a decision makes, which are sent to the applicant.
SENDABLE = ("approval", "rejection", "change_notice")


class NoAddress(InputError):
    code = "no_address"


class NoticeNotReady(InputError):
    code = "notice_not_ready"


@dataclass
class Draft:
    to: str
    subject: str
    body: str
    attachment_name: str
    pdf: Path


def applicant_address(case: Case, s: Any) -> str:
    """The address in the case's records, else the address the application was mailed from."""
    for doc in case.documents:
        for rec in doc.records:
            for f in rec.fields:
                if f.key in ADDRESS_KEYS and isinstance(f.value, str) and "@" in f.value:
                    return f.value.strip()
    sender = s.scalar(select(MailMessage.sender).where(MailMessage.case_id == case.id, MailMessage.sender != ""))
    return str(sender or "")


def draft(rt: Runtime, s: Any, case: Case, notice: Notice) -> Draft:
    """The message for a notice, in the program's wording (``handling.yaml``)."""
    if notice.status != "done" or "pdf" not in notice.files:
        raise NoticeNotReady("通知書のPDFがまだできていません")
    to = parseaddr(applicant_address(case, s))[1]  # the address alone: no name, no line breaks
    if "@" not in to or any(c in to for c in "\r\n,;"):
        raise NoAddress("申請者のメールアドレスが記録にありません")
    program = services.get_program(case.program_id)
    mail = handling(case.program_id).mail
    name = NOTICE_NAMES.get(notice.kind, notice.kind)
    contact = "\n".join(
        x for x in (
            " ".join(y for y in (program.postal_code and f"〒{program.postal_code}", program.address) if y),
            program.phone and f"電話 {program.phone}",
            program.email and f"電子メール {program.email}",
        ) if x
    )  # fmt: skip
    person = _value(case, "contact_person")
    addressee = case.applicant_name + (f"　{person}" if person else "") or "申請者"
    fields = {"addressee": addressee, "notice": name, "municipality": program.municipality,
              "department": program.department, "program": program.name, "contact": contact}
    return Draft(
        to=to,
        subject=mail.notice_subject.format(**fields),
        body=mail.notice_body.format(**fields),
        attachment_name=f"{name}.pdf",
        pdf=rt.storage.resolve(notice.files["pdf"]),
    )


def _value(case: Case, key: str) -> str:
    for doc in case.documents:
        for rec in doc.records:
            for f in rec.fields:
                if f.key == key and f.value:
                    return str(f.value)
    return ""


def build_message(rt: Runtime, d: Draft, message_id: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = rt.settings.mail_from
    msg["To"] = d.to
    msg["Subject"] = d.subject
    msg["Message-ID"] = message_id
    msg["Date"] = utcnow().astimezone().strftime("%a, %d %b %Y %H:%M:%S %z")
    msg.set_content(d.body)
    msg.add_attachment(d.pdf.read_bytes(), maintype="application", subtype="pdf", filename=d.attachment_name)
    return msg


def queue_notice_mail(rt: Runtime, case_id: int, notice_id: int, user_id: int | None) -> int:
    """Record the message to send (the caller then runs ``send``, in the background)."""
    with rt.db.session() as s:
        case = s.get(Case, case_id)
        notice = s.get(Notice, notice_id)
        if case is None or notice is None or notice.case_id != case_id:
            raise InputError("通知書が見つかりません")
        d = draft(rt, s, case, notice)
        out = OutgoingMail(case_id=case_id, notice_id=notice_id, to_address=d.to[:300], subject=d.subject[:300],
                           status="pending", created_by=user_id)
        s.add(out)
        s.flush()
        audit_event(s, "mail.queue", "case", case_id, user_id, outgoing=out.id, notice=notice_id)
        return out.id


def send(rt: Runtime, outgoing_id: int, sleep: Any = time.sleep) -> str:
    """Send a recorded message: SMTP with ``smtp_attempts`` tries (waits doubling), or the
    outbox folder. Returns the status, kept on the row with the attempts and the last error."""
    st = rt.settings
    with rt.db.session() as s:
        out = s.get(OutgoingMail, outgoing_id)
        if out is None or out.status == "sent":
            return "missing" if out is None else "sent"
        case, notice = s.get(Case, out.case_id), s.get(Notice, out.notice_id)
        assert case is not None and notice is not None
        try:
            d = draft(rt, s, case, notice)
        except MadoguchiError as exc:
            out.status, out.last_error = "error", exc.message
            audit_event(s, "mail.send_failed", "case", case.id, None, outgoing=out.id, status="error",
                        attempts=out.attempts)
            return "error"
        d.to = out.to_address or d.to
        message_id = out.message_id or make_msgid(domain=(st.mail_from.rpartition("@")[2] or "localhost"))
        out.message_id = message_id
    status, error, attempts, where = "error", None, 0, None
    try:
        msg = build_message(rt, d, message_id)
    except (ValueError, OSError) as exc:  # an address no header can hold, the PDF gone
        msg, error = None, f"送信するメールを作れません ({type(exc).__name__})"
    if msg is None:
        pass
    elif not st.smtp_host:
        folder = st.mail_outbox_path
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"outgoing-{outgoing_id}.eml"
        path.write_bytes(msg.as_bytes())
        status, attempts, where = "sent", 1, str(path)
    else:
        delay = st.smtp_retry_seconds
        for attempt in range(1, max(st.smtp_attempts, 1) + 1):
            attempts = attempt
            try:
                _smtp_send(rt, msg)
                status, error = "sent", None
                break
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"[:1000]
                log.warning("outgoing %s: attempt %s failed (%s)", outgoing_id, attempt, type(exc).__name__)
                permanent = isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600
                if permanent or attempt == st.smtp_attempts:
                    break
                sleep(delay)
                delay *= 2
    with rt.db.session() as s:
        out = s.get(OutgoingMail, outgoing_id)
        assert out is not None
        out.attempts += attempts
        out.status, out.last_error = status, error
        if where:
            out.file = where
        if status == "sent":
            out.sent_at = utcnow()
        action = "mail.send" if status == "sent" else "mail.send_failed"
        audit_event(s, action, "case", out.case_id, None, outgoing=out.id, notice=out.notice_id,
                    status=status, attempts=out.attempts)
    log.info("outgoing %s: %s after %s attempt(s)", outgoing_id, status, attempts)
    return status


def _smtp_send(rt: Runtime, msg: EmailMessage) -> None:
    st = rt.settings
    assert st.smtp_host
    if st.smtp_security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(st.smtp_host, st.smtp_port, timeout=st.smtp_timeout,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(st.smtp_host, st.smtp_port, timeout=st.smtp_timeout)
    with smtp:
        if st.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if st.smtp_user:
            smtp.login(st.smtp_user, st.smtp_password)
        smtp.send_message(msg, from_addr=parseaddr(st.mail_from)[1] or st.mail_from)


def sender_line(rt: Runtime) -> str:
    return formataddr(parseaddr(rt.settings.mail_from))
