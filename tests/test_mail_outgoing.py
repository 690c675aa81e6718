# ruff: noqa: F401, F811  -- pytest fixtures imported from web.testing and test_mail_servers are used as arguments
"""Mail out against a real SMTP server (aiosmtpd, started by the tests): the decision notice's
PDF sent to the applicant's address from the record, in the program's wording, retried when the
server refuses for a while, a failure kept on the case and sent again; the outbox folder when no
server is configured. And the whole way: a Shika application mailed to a real IMAP server is
read, approved in the desk and its notice arrives at the SMTP server."""

from __future__ import annotations

import binascii
import email
from collections.abc import Iterator
from email import policy
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.test_mail_intake import BODY, cp50220, shika_iso2022, wire
from tests.test_mail_servers import Imap, Smtp, dovecot, free_port, smtp_server
from web.app import create_app
from web.mail_intake import ingest_message, poll
from web.models import AuditEvent, Case, Notice, OutgoingMail
from web.testing import PASSWORD, FakeEngine, add_user, engine, login, make_settings

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "golden"


def _app(tmp_path: Path, **overrides: Any) -> Flask:
    application = create_app(make_settings(tmp_path, smtp_retry_seconds=0.01, **overrides))
    application.config["TESTING"] = True
    return application


def _approve(app: Flask, case_id: int) -> int:
    """The approver approves in the desk (confirming the checks' warnings); the notice's id."""
    add_user(app, "kessai", "approver")
    approver = app.test_client()
    token = login(approver, "kessai", PASSWORD)
    resp = approver.post(f"/clerk/cases/{case_id}/decide",
                         data={"outcome": "approve", "confirm": "1", "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    with app.extensions["madoguchi"].db.session() as s:
        [notice] = s.get(Case, case_id).notices
        assert notice.status == "done", notice.error_message
        return notice.id


def _send(client: FlaskClient, case_id: int, notice_id: int) -> str:
    token = login(client)
    page = client.get(f"/clerk/mail/cases/{case_id}").get_data(as_text=True)
    resp = client.post(f"/clerk/mail/cases/{case_id}/send", data={"notice": notice_id, "csrf_token": token})
    assert resp.status_code == 302
    return page


def _mailed_case(app: Flask) -> int:
    taken = ingest_message(app.extensions["madoguchi"], shika_iso2022(), "imap")
    assert taken.case_id is not None
    return taken.case_id


@pytest.fixture
def smtp_app(tmp_path: Path, engine: FakeEngine, smtp_server: Smtp) -> Iterator[Flask]:
    app = _app(tmp_path, smtp_host=smtp_server.host, smtp_port=smtp_server.port, smtp_security="plain",
               mail_from="furusato@town.shika.example.jp")
    yield app
    app.extensions["madoguchi"].db.dispose()


def test_the_notice_is_sent_to_the_applicant_with_its_pdf(smtp_app: Flask, smtp_server: Smtp) -> None:
    case_id = _mailed_case(smtp_app)
    notice_id = _approve(smtp_app, case_id)
    clerk = smtp_app.test_client()
    login(clerk)

    def unsent() -> str:
        return clerk.get("/clerk/mail/").get_data(as_text=True).split('id="unsent-notices"')[1]

    assert f"/clerk/mail/cases/{case_id}" in unsent()  # the mail page lists notices not yet sent
    preview = _send(smtp_app.test_client(), case_id, notice_id)
    assert f"/clerk/mail/cases/{case_id}" not in unsent()
    assert "hanako@noto-bussan.example.jp" in preview  # the preview the clerk sees before sending
    assert "【志賀町ふるさと納税】承認書の送付について" in preview
    [envelope] = smtp_server.received
    assert envelope.rcpt_tos == ["hanako@noto-bussan.example.jp"]
    msg = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert msg["Subject"] == "【志賀町ふるさと納税】承認書の送付について"
    text = msg.get_body(("plain",)).get_content()
    assert "山田 花子 様" in text and "審査の結果を承認書のとおり通知します" in text
    [pdf] = list(msg.iter_attachments())
    assert pdf.get_filename() == "承認書.pdf" and pdf.get_content_type() == "application/pdf"
    rt = smtp_app.extensions["madoguchi"]
    with rt.db.session() as s:
        notice = s.get(Notice, notice_id)
        assert pdf.get_content() == rt.storage.resolve(notice.files["pdf"]).read_bytes()
        [out] = list(s.scalars(select(OutgoingMail)))
        assert (out.status, out.attempts, out.to_address) == ("sent", 1, "hanako@noto-bussan.example.jp")
        assert out.message_id == msg["Message-ID"]
        sends = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "mail.send")))
        assert [e.detail["status"] for e in sends] == ["sent"] and sends[0].object_id == str(case_id)
        assert "hanako" not in repr(sends[0].detail)
    # recorded on the case's mail page
    client = smtp_app.test_client()
    login(client)
    assert "送信済み" in client.get(f"/clerk/mail/cases/{case_id}").get_data(as_text=True)
    case_page = client.get(f"/clerk/cases/{case_id}").get_data(as_text=True)
    assert f"/clerk/mail/cases/{case_id}" in case_page
    timeline = case_page.split('id="timeline"')[1]  # the sending is on the case's timeline
    assert "メールから案件を作成" in timeline and "通知書をメールで送信" in timeline
    assert "案件のメールの表示" not in timeline


def test_a_refusing_server_is_retried(smtp_app: Flask, smtp_server: Smtp) -> None:
    smtp_server.refuse = 2  # 451 twice, then accepted
    case_id = _mailed_case(smtp_app)
    notice_id = _approve(smtp_app, case_id)
    _send(smtp_app.test_client(), case_id, notice_id)
    assert smtp_server.refused == 2 and len(smtp_server.received) == 1
    with smtp_app.extensions["madoguchi"].db.session() as s:
        [out] = list(s.scalars(select(OutgoingMail)))
        assert (out.status, out.attempts, out.last_error) == ("sent", 3, None)


def test_a_failure_is_shown_and_can_be_sent_again(tmp_path: Path, engine: FakeEngine) -> None:
    from aiosmtpd.controller import Controller

    from tests.test_mail_servers import _Handler

    port = free_port()  # nothing listens there yet
    app = _app(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_security="plain", smtp_attempts=2)
    case_id = _mailed_case(app)
    notice_id = _approve(app, case_id)
    client = app.test_client()
    _send(client, case_id, notice_id)
    page = client.get(f"/clerk/mail/cases/{case_id}").get_data(as_text=True)
    assert "送信失敗" in page and "ConnectionRefusedError" in page
    assert "通知書のメール送信に失敗" in client.get(f"/clerk/cases/{case_id}").get_data(as_text=True)
    with app.extensions["madoguchi"].db.session() as s:
        [out] = list(s.scalars(select(OutgoingMail)))
        assert (out.status, out.attempts) == ("error", 2)
    box = Smtp("127.0.0.1", port)
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        token = login(client)
        resp = client.post(f"/clerk/mail/outgoing/{out.id}/retry", data={"csrf_token": token})
        assert resp.status_code == 302
    finally:
        controller.stop()
    assert len(box.received) == 1
    with app.extensions["madoguchi"].db.session() as s:
        out = s.get(OutgoingMail, out.id)
        assert (out.status, out.attempts) == ("sent", 3)
    app.extensions["madoguchi"].db.dispose()


def test_without_a_server_the_message_is_written_to_the_outbox(tmp_path: Path, engine: FakeEngine) -> None:
    app = _app(tmp_path)
    case_id = _mailed_case(app)
    notice_id = _approve(app, case_id)
    _send(app.test_client(), case_id, notice_id)
    outbox = app.extensions["madoguchi"].settings.mail_outbox_path
    [written] = list(outbox.glob("*.eml"))
    msg = email.message_from_bytes(written.read_bytes(), policy=policy.default)
    assert msg["To"] == "hanako@noto-bussan.example.jp"
    assert [a.get_filename() for a in msg.iter_attachments()] == ["承認書.pdf"]
    app.extensions["madoguchi"].db.dispose()


def test_a_case_without_an_address_cannot_be_sent(tmp_path: Path, engine: FakeEngine) -> None:
    app = _app(tmp_path)
    rt = app.extensions["madoguchi"]
    body = BODY.replace("⑥メールアドレス：hanako@noto-bussan.example.jp\n", "")
    crlf = cp50220(BODY).replace(b"\n", b"\r\n")
    raw = shika_iso2022().replace(b"\r\nFrom: ", b"\r\nX-Old-From: ", 1)
    assert crlf in raw
    raw = raw.replace(crlf, cp50220(body).replace(b"\n", b"\r\n"))
    taken = ingest_message(rt, raw, "upload")
    notice_id = _approve(app, taken.case_id)
    client = app.test_client()
    page = _send(client, taken.case_id, notice_id)
    assert "申請者のメールアドレスが記録にありません" in page
    with rt.db.session() as s:
        assert list(s.scalars(select(OutgoingMail))) == []
    rt.db.dispose()


# --- the whole way, with the real engine -----------------------------------------------------


def shika_with_forms() -> bytes:
    """Shika's application as mailed: the seven items and 様式第1号–第3号 attached (PDF in
    base64, the DOCX in quoted-printable)."""
    raw = shika_iso2022("<whole-way@shika-food.example.jp>")
    msg = email.message_from_bytes(raw, policy=policy.compat32)
    assert isinstance(msg, MIMEMultipart) or msg.is_multipart()
    msg.set_payload([msg.get_payload()[0]])
    for name in ("shika_form1_roastbeef.pdf", "shika_form3_roastbeef.pdf"):
        part = MIMEApplication((SAMPLES / name).read_bytes(), "pdf")
        part.add_header("Content-Disposition", "attachment", filename=name)
        msg.attach(part)
    docx = MIMEBase("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
    docx.set_payload(binascii.b2a_qp((SAMPLES / "shika_form2_roastbeef.docx").read_bytes(),
                                     quotetabs=True, istext=False).decode("ascii"))
    docx["Content-Transfer-Encoding"] = "quoted-printable"
    docx.add_header("Content-Disposition", "attachment", filename="shika_form2_roastbeef.docx")
    msg.attach(docx)
    return wire(msg)


def test_a_mailed_application_is_read_approved_and_answered_by_mail(
    tmp_path: Path, dovecot: Imap, smtp_server: Smtp
) -> None:
    dovecot.clear()
    app = _app(tmp_path, imap_host=dovecot.host, imap_port=dovecot.port, imap_security="plain",
               imap_user=dovecot.user, imap_password=dovecot.password, smtp_host=smtp_server.host,
               smtp_port=smtp_server.port, smtp_security="plain", mail_from="furusato@town.shika.example.jp")
    rt = app.extensions["madoguchi"]
    dovecot.append(shika_with_forms())
    [taken] = poll(rt)
    with rt.db.session() as s:
        case = s.get(Case, taken.case_id)
        assert case.status == "review"
        forms = {r.form: {f.key: f.value for f in r.fields} for d in case.documents for r in d.records}
        assert set(forms) == {"shika.mail", "shika.form1", "shika.form2", "shika.form3"}
        assert forms["shika.mail"]["contact_email"] == "hanako@noto-bussan.example.jp"
        assert forms["shika.form1"]["product_name"] == "能登牛ローストビーフ 400g"
        assert forms["shika.form1"]["donation_amount"] == 12000
        assert all(d.status == "done" for d in case.documents)
    notice_id = _approve(app, taken.case_id)
    _send(app.test_client(), taken.case_id, notice_id)
    [envelope] = smtp_server.received
    msg = email.message_from_bytes(envelope.original_content, policy=policy.default)
    [pdf] = list(msg.iter_attachments())
    data = pdf.get_content()
    assert data.startswith(b"%PDF") and len(data) > 1000
    from pypdf import PdfReader
    import io

    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    assert "能登牛ローストビーフ" in text or "志賀フードファクトリー" in text.replace(" ", "")
    rt.db.dispose()


def test_an_address_carrying_a_header_sends_to_the_address_alone(smtp_app: Flask, smtp_server: Smtp) -> None:
    from web.models import RecordField

    case_id = _mailed_case(smtp_app)
    rt = smtp_app.extensions["madoguchi"]
    with rt.db.session() as s:
        field = s.scalar(select(RecordField).where(RecordField.key == "contact_email"))
        field.value = "hanako@noto-bussan.example.jp\r\nBcc: someone@elsewhere.example"
    notice_id = _approve(smtp_app, case_id)
    _send(smtp_app.test_client(), case_id, notice_id)
    [envelope] = smtp_server.received  # to the address alone: the line break and Bcc are not sent
    assert envelope.rcpt_tos == ["hanako@noto-bussan.example.jp"]
    assert b"someone@elsewhere" not in envelope.original_content
