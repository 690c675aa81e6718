"""Mail intake: messages from an IMAP mailbox, a folder of ``.eml`` files or a clerk's upload
become cases, or wait in the clerk's queue; none is dropped, none makes two cases.

A message whose subject is a program's declared subject becomes a case of that program: the
message itself is the case's first document (kept as the original, ``message/rfc822``), its
body read by the program's mail form into a record with the same confidence and review marks
as any reading, and every attachment a document of the case read in the background. A message
that matches no program, or cannot be read as mail, waits in the queue with its reason. The
same Message-ID read again (a mailbox read twice, an upload of a copy) is the same message.

Logs and audit entries name ids and counts only.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forms.errors import InputError, MadoguchiError
from web import services
from web.db_session import Runtime
from web.mail_catalogue import handling, mail_form, program_for_subject
from web.mail_parse import MalformedMessage, ParsedMessage, message_key, parse_message, read_body
from web.models import AuditEvent, Case, Document, MailMessage, Program, Record, RecordField, utcnow
from web.storage import safe_name

log = logging.getLogger("madoguchi.mail")

MESSAGE_MEDIA_TYPE = "message/rfc822"
#: Why a message waits for a clerk, in Japanese.
QUEUE_REASONS = {
    "no_program": "件名がどの制度の件名とも一致しません",
    "malformed": "メールとして読めません",
    "no_mail_form": "制度にメール様式がありません",
}


class MailboxError(MadoguchiError):
    """The mailbox cannot be reached or read (wrong host, refused login)."""

    exit_code = 4
    http_status = 503
    code = "mailbox_unavailable"


@dataclass
class Intake:
    mail_id: int
    status: str
    case_id: int | None
    duplicate: bool = False
    reason: str | None = None


#: Storage names its temporary file by process id: threads of one process (the web server's)
#: storing the same bytes at once would share it. One at a time here.
_SAVE_LOCK = threading.Lock()


def _save(rt: Runtime, data: bytes, kind: str) -> str:
    with _SAVE_LOCK:
        digest, _ = rt.storage.save_original(data, kind)
    return digest


def audit_event(s: Session, action: str, object_type: str | None, object_id: Any,
                user_id: int | None = None, **detail: Any) -> None:
    """An audit entry written in the caller's transaction (background tasks have no request)."""
    s.add(AuditEvent(user_id=user_id, action=action, object_type=object_type,
                     object_id=None if object_id is None else str(object_id), detail=detail))


def ingest_message(rt: Runtime, raw: bytes, source: str, user_id: int | None = None) -> Intake:
    """Take one message: a case, a queue entry, or the message already taken."""
    try:
        parsed: ParsedMessage | None = parse_message(raw)
        key = parsed.message_key if parsed else ""
        error = None
    except MalformedMessage as exc:
        parsed, key, error = None, message_key(raw, None), exc.message
    with rt.db.session() as s:
        existing = s.scalar(select(MailMessage).where(MailMessage.message_key == key))
        if existing is not None:
            return Intake(existing.id, existing.status, existing.case_id, duplicate=True, reason=existing.reason)
    digest = _save(rt, raw, "eml")
    program_id = None
    if parsed is not None:
        programs = _mail_programs(rt)
        program_id = program_for_subject(parsed.subject, programs)
    mail = MailMessage(
        message_key=key,
        source=source,
        status="queued",
        subject=(parsed.subject if parsed else "")[:300],
        sender=(parsed.sender if parsed else "")[:300],
        sha256=digest,
        size=len(raw),
        attachments=len(parsed.attachments) if parsed else 0,
        received_at=_received(parsed),
    )
    if parsed is None:
        mail.reason, mail.error_message = "malformed", error
    elif program_id is None:
        mail.reason = "no_program"
    try:
        with rt.db.session() as s:
            s.add(mail)
            s.flush()
            audit_event(s, "mail.receive", "mail", mail.id, user_id, source=source, size=len(raw),
                        attachments=mail.attachments, queued=program_id is None)
    except IntegrityError:  # the same message, taken at the same moment by another worker
        with rt.db.session() as s:
            other = s.scalar(select(MailMessage).where(MailMessage.message_key == key))
            assert other is not None
            return Intake(other.id, other.status, other.case_id, duplicate=True, reason=other.reason)
    log.info("mail %s: received (%s, %s attachment(s))", mail.id, source, mail.attachments)
    if parsed is None or program_id is None:
        return Intake(mail.id, "queued", None, reason=mail.reason)
    case_id = make_case(rt, mail.id, parsed, program_id, user_id, status="case")
    return Intake(mail.id, "case", case_id)


def _received(parsed: ParsedMessage | None) -> datetime:
    if parsed is not None and parsed.date is not None:
        when = parsed.date
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return utcnow()


def _mail_programs(rt: Runtime) -> list[str]:
    with rt.db.session() as s:
        ids = list(s.scalars(select(Program.id).where(Program.active).order_by(Program.id)))
    return [p for p in ids if _has_subject(p)]


def _has_subject(program_id: str) -> bool:
    try:
        return handling(program_id).mail.subject is not None
    except MadoguchiError:
        return False


def make_case(rt: Runtime, mail_id: int, parsed: ParsedMessage, program_id: str,
              user_id: int | None, status: str) -> int:
    """A case from a message: the message as its first document, the body's record, the
    attachments queued for reading."""
    settings = rt.settings
    queued: list[int] = []
    with rt.db.session() as s:
        mail = s.get(MailMessage, mail_id)
        assert mail is not None
        case = Case(program_id=program_id, kind="application", status="processing", created_by=user_id)
        s.add(case)
        s.flush()
        message_doc = Document(case_id=case.id, filename=f"mail-{mail.id}.eml", media_type=MESSAGE_MEDIA_TYPE,
                               sha256=mail.sha256, size=mail.size, pages=0, status="done",
                               pages_done=0, uploaded_by=user_id, processed_at=utcnow())
        s.add(message_doc)
        s.flush()
        form_id = handling(program_id).mail.form
        if form_id is not None:
            reading = read_body(parsed.body, mail_form(form_id))
            rec = Record(document_id=message_doc.id, form=form_id, first_page=1, pages=1, text=parsed.body[:20000])
            s.add(rec)
            s.flush()
            for key, f in reading.fields.items():
                s.add(RecordField(record_id=rec.id, key=key, value=f.value, extracted_value=f.value,
                                  confidence=f.confidence, page=None, bbox=None, source=f.source,
                                  review=f.review, raw=f.raw))
        for n, att in enumerate(parsed.attachments, start=1):
            name = safe_name(att.filename)
            try:
                if not att.data:
                    raise InputError(f"{name}: 空のファイルです")
                sniffed = services.sniff(att.data, name, settings.max_upload_bytes, settings.max_pages)
            except InputError as exc:
                digest = _save(rt, att.data, "bin")
                s.add(Document(case_id=case.id, filename=name, media_type=att.content_type[:100] or "application/octet-stream",
                               sha256=digest, size=len(att.data), pages=0, status="error",
                               error_code=exc.code, error_message=exc.message, uploaded_by=user_id,
                               processed_at=utcnow()))
                continue
            digest = _save(rt, att.data, sniffed.kind)
            doc = Document(case_id=case.id, filename=name, media_type=sniffed.media_type, sha256=digest,
                           size=len(att.data), pages=sniffed.pages, uploaded_by=user_id)
            s.add(doc)
            s.flush()
            queued.append(doc.id)
        mail.status, mail.case_id, mail.program_id, mail.reason = status, case.id, program_id, None
        case_id = case.id
        audit_event(s, "mail.case", "case", case_id, user_id, mail=mail.id, documents=len(queued))
    log.info("mail %s: case %s, %s document(s) to read", mail_id, case_id, len(queued))
    from web.tasks import process_document, recheck_case

    if queued:
        for doc_id in queued:
            process_document.delay(doc_id)
    else:
        recheck_case(rt, case_id)
    return case_id


def assign(rt: Runtime, mail_id: int, program_id: str, user_id: int | None) -> int:
    """A clerk gives a queued message its program: it becomes a case like a matched one."""
    with rt.db.session() as s:
        mail = s.get(MailMessage, mail_id)
        if mail is None or mail.status != "queued" or mail.purged_at is not None:
            raise InputError("このメールは振り分けできません")
        if s.get(Program, program_id) is None:
            raise InputError("制度を選んでください")
        sha = mail.sha256
    raw = rt.storage.original_path(sha, "eml").read_bytes()
    try:
        parsed = parse_message(raw)
    except MalformedMessage:
        parsed = ParsedMessage(message_key="", message_id=None, subject="", sender="", date=None, body="")
    return make_case(rt, mail_id, parsed, program_id, user_id, status="assigned")


def discard(rt: Runtime, mail_id: int, user_id: int | None) -> None:
    """A queued message a clerk judged to need nothing (kept until the queue's retention)."""
    with rt.db.session() as s:
        mail = s.get(MailMessage, mail_id)
        if mail is None or mail.status != "queued":
            raise InputError("このメールは処理済みです")
        mail.status = "discarded"
        audit_event(s, "mail.discard", "mail", mail_id, user_id)


# --- where messages come from ------------------------------------------------------------


def poll(rt: Runtime) -> list[Intake]:
    """Read the configured mailbox: IMAP when a host is set, else the inbox folder."""
    if rt.settings.imap_host:
        return poll_imap(rt)
    return poll_folder(rt)


def poll_folder(rt: Runtime) -> list[Intake]:
    """Every ``.eml`` in the inbox folder, taken and then removed (the stored copy is the original)."""
    folder = rt.settings.mail_inbox_path
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Intake] = []
    for path in sorted(folder.glob("*.eml")):
        out.append(ingest_message(rt, path.read_bytes(), "folder"))
        path.unlink(missing_ok=True)
    return out


def _imap_connect(rt: Runtime) -> imaplib.IMAP4:
    st = rt.settings
    assert st.imap_host
    try:
        if st.imap_security == "ssl":
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(st.imap_host, st.imap_port, ssl_context=ssl.create_default_context(),
                                                    timeout=30)
        else:
            conn = imaplib.IMAP4(st.imap_host, st.imap_port, timeout=30)
            if st.imap_security == "starttls":
                conn.starttls(ssl.create_default_context())
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"メールボックスに接続できません ({type(exc).__name__}: {exc})") from None
    try:
        conn.login(st.imap_user, st.imap_password)
    except (OSError, imaplib.IMAP4.error) as exc:
        conn.shutdown()
        raise MailboxError(f"メールボックスに接続できません ({type(exc).__name__}: {exc})") from None
    return conn


#: The keyword a taken message is flagged with, where the server keeps keywords: a message a
#: person already opened in a mail program (\\Seen) is still taken.
TAKEN_KEYWORD = "$MadoguchiTaken"


def _keeps_keywords(conn: imaplib.IMAP4) -> bool:
    """Whether the selected folder accepts new keywords (PERMANENTFLAGS holds ``\\*``)."""
    typ, data = conn.response("PERMANENTFLAGS")
    return any(isinstance(d, bytes) and b"\\*" in d for d in data or [])


def poll_imap(rt: Runtime) -> list[Intake]:
    """The messages of the IMAP folder not taken yet, each taken and then flagged: with the
    keyword ``$MadoguchiTaken`` where the server keeps keywords (so a message someone already
    read is still taken), else ``\\Seen`` (unseen messages only). A message whose taking
    failed is left unflagged and read again next time; Message-ID keeps it one."""
    conn = _imap_connect(rt)
    out: list[Intake] = []
    try:
        typ, _ = conn.select(rt.settings.imap_folder)
        if typ != "OK":
            raise MailboxError(f"フォルダ {rt.settings.imap_folder} を開けません")
        keyword = _keeps_keywords(conn)
        criteria = ("UNKEYWORD", TAKEN_KEYWORD) if keyword else ("UNSEEN",)
        flag = f"({TAKEN_KEYWORD})" if keyword else "(\\Seen)"
        typ, data = conn.uid("SEARCH", *criteria)
        uids = data[0].split() if typ == "OK" and data and data[0] else []
        for uid in uids:
            typ, fetched = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in fetched if isinstance(part, tuple)), None) if typ == "OK" else None
            if not isinstance(raw, bytes):
                log.warning("imap uid %s: not fetched", uid.decode())
                continue
            out.append(ingest_message(rt, raw, "imap"))
            conn.uid("STORE", uid, "+FLAGS", flag)
    except imaplib.IMAP4.error as exc:
        raise MailboxError(f"メールボックスを読めません ({exc})") from None
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    return out


def mail_path(rt: Runtime, mail: MailMessage) -> Path:
    return rt.storage.original_path(mail.sha256, "eml")
