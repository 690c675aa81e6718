# ruff: noqa: F401, F811  -- pytest fixtures imported from web.testing and test_mail_servers are used as arguments
"""Mail intake against a real IMAP server (Dovecot, started by the tests): Shika's mailed
application (001 4) becomes a case with its body items and attachments read; ISO-2022-JP and
UTF-8, base64 and quoted-printable, multipart/alternative and HTML-only bodies; a message read
twice is one case; messages no program claims, and malformed ones, wait in the clerk's queue."""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterator
from email.header import Header
from email.policy import compat32
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.test_mail_servers import Imap, dovecot
from web.testing import pg_schema_url  # noqa: F401 - a fixture
from web.app import create_app
from web.mail_catalogue import mail_form
from web.mail_intake import MailboxError, ingest_message, poll, poll_folder, poll_imap
from web.mail_parse import parse_message, read_body
from web.models import AuditEvent, Case, MailMessage
from web.testing import FakeEngine, engine, login, make_settings, png_bytes, tiny_pdf

SUBJECT = "志賀町ふるさと納税返礼品提供事業者の申込について"
BODY = """志賀町 企画財政課 震災復興旧復興創生室 御中

お世話になっております。返礼品提供事業者に申し込みます。

①本社・支社・事業所・工場等の所在地：石川県羽咋郡志賀町末吉千古1-1
②事業者名：株式会社のと物産
③部署名：営業部
④担当者名：山田 花子
⑤電話番号：0767-32-1111
⑥メールアドレス：hanako@noto-bussan.example.jp
⑦商品・サービスの概要等：
能登牛のローストビーフ（300g）
冷凍でお届けします。

--
株式会社のと物産 営業部 山田
"""


def cp50220(text: str) -> bytes:
    """ISO-2022-JP as Outlook and Japanese mail programs write it (CP50220): the vendors' rows
    (①, ㈱) inside ESC $ B, which Python's own codec cannot write."""
    sjis, out, jis, i = text.encode("cp932"), bytearray(), False, 0
    while i < len(sjis):
        if sjis[i] < 0x80:
            if jis:
                out += b"\x1b(B"
                jis = False
            out.append(sjis[i])
            i += 1
            continue
        s1, s2 = sjis[i], sjis[i + 1]
        i += 2
        if not jis:
            out += b"\x1b$B"
            jis = True
        s1 = (s1 - (0xB0 if s1 >= 0xE0 else 0x70)) * 2
        if s2 >= 0x9F:
            s2 -= 0x7E
        else:
            s1 -= 1
            s2 -= 0x1F + (1 if s2 >= 0x80 else 0)
        out += bytes((s1, s2))
    if jis:
        out += b"\x1b(B"
    return bytes(out)


def shika_iso2022(message_id: str = "<shika-1@noto-bussan.example.jp>") -> bytes:
    """The application as Japanese mail programs send it: ISO-2022-JP subject and body (with
    ①–⑦), a PDF in base64 and an image in quoted-printable."""
    msg = MIMEMultipart()
    msg["Subject"] = "=?ISO-2022-JP?B?" + base64.b64encode(cp50220(SUBJECT)).decode() + "?="
    msg["From"] = formataddr(("山田 花子", "hanako@noto-bussan.example.jp"), charset="iso-2022-jp")
    msg["To"] = "furusato@town.shika.example.jp"
    msg["Message-ID"] = message_id
    msg["Date"] = "Mon, 06 Apr 2026 10:00:00 +0900"
    text = MIMEBase("text", "plain", charset="ISO-2022-JP")
    text.set_payload(cp50220(BODY).decode("ascii"))
    text["Content-Transfer-Encoding"] = "7bit"
    msg.attach(text)
    pdf = MIMEApplication(tiny_pdf(2), "pdf")
    pdf.add_header("Content-Disposition", "attachment", filename=("utf-8", "", "様式第1号_誓約書.pdf"))
    msg.attach(pdf)
    png = MIMEBase("image", "png")  # binary quoted-printable: CR and LF written as =0D =0A
    png.set_payload(binascii.b2a_qp(png_bytes(600, 840), quotetabs=True, istext=False).decode("ascii"))
    png["Content-Transfer-Encoding"] = "quoted-printable"
    png.add_header("Content-Disposition", "attachment", filename="license.png")
    msg.attach(png)
    return wire(msg)


def utf8_alternative(message_id: str = "<shika-2@example.jp>") -> bytes:
    """UTF-8, a multipart/alternative body (text and HTML), the subject in base64 words."""
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText(BODY.replace("株式会社のと物産", "有限会社志賀ファーム"), "plain", "utf-8"))
    alt.attach(MIMEText("<p>HTML版：②事業者名：別の名前</p>", "html", "utf-8"))
    msg = MIMEMultipart()
    msg.attach(alt)
    msg["Subject"] = Header("Re: " + SUBJECT, "utf-8")
    msg["From"] = "farm@shika-farm.example.jp"
    msg["Message-ID"] = message_id
    return wire(msg)


def html_only() -> bytes:
    html = "<html><body>" + "".join(f"<p>{line}</p>" for line in BODY.splitlines()) + "</body></html>"
    msg = MIMEText(html, "html", "utf-8")
    msg["Subject"] = Header(SUBJECT, "utf-8")
    msg["From"] = "html@example.jp"
    msg["Message-ID"] = "<html-only@example.jp>"
    return wire(msg)


def unmatched() -> bytes:
    msg = MIMEText("返礼品について質問があります。", "plain", "utf-8")
    msg["Subject"] = Header("お問い合わせ", "utf-8")
    msg["From"] = "question@example.jp"
    msg["Message-ID"] = "<question@example.jp>"
    return wire(msg)


def wire(msg: Any) -> bytes:
    """A message as it travels: lines ended by CRLF (what an IMAP server stores and gives back)."""
    return bytes(msg.as_bytes(policy=compat32.clone(linesep="\r\n")))


MALFORMED = b"\x89PNG\x1a\x7f this is not a message at all \xff\xfe"


@pytest.fixture
def mail_app(tmp_path: Path, engine: FakeEngine, dovecot: Imap) -> Iterator[Flask]:
    dovecot.clear()
    application = create_app(make_settings(
        tmp_path, imap_host=dovecot.host, imap_port=dovecot.port, imap_security="plain",
        imap_user=dovecot.user, imap_password=dovecot.password,
    ))
    application.config["TESTING"] = True
    yield application
    application.extensions["madoguchi"].db.dispose()


def _rt(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["madoguchi"]


def test_a_shika_application_mailed_to_the_mailbox_becomes_a_case(mail_app: Flask, dovecot: Imap) -> None:
    raw = shika_iso2022()
    dovecot.append(raw)
    rt = _rt(mail_app)
    [taken] = poll(rt)
    assert taken.status == "case" and not taken.duplicate
    assert dovecot.search("UNKEYWORD", "$MadoguchiTaken") == 0  # flagged once taken
    assert dovecot.unseen() == 1  # and still unread for the people who read the mailbox
    with rt.db.session() as s:
        case = s.get(Case, taken.case_id)
        assert case.program_id == "shika" and case.status == "review"
        message_doc, pdf, png = case.documents
        assert message_doc.media_type == "message/rfc822" and message_doc.status == "done"
        assert (pdf.filename, pdf.media_type, pdf.pages, pdf.status) == ("様式第1号_誓約書.pdf", "application/pdf", 2, "done")
        assert (png.filename, png.media_type, png.status) == ("license.png", "image/png", "done")
        [rec] = message_doc.records
        assert rec.form == "shika.mail"
        values = {f.key: f.value for f in rec.fields}
        assert values == {
            "applicant_address": "石川県羽咋郡志賀町末吉千古1-1",
            "applicant_name": "株式会社のと物産",
            "contact_department": "営業部",
            "contact_person": "山田 花子",
            "contact_phone": "0767-32-1111",
            "contact_email": "hanako@noto-bussan.example.jp",
            "product_description": "能登牛のローストビーフ(300g)\n冷凍でお届けします。",
        }
        assert all(f.confidence >= 0.9 and not f.review and f.source == "text" for f in rec.fields)
        mail = s.scalar(select(MailMessage))
        assert (mail.case_id, mail.subject, mail.sender, mail.attachments) == (
            case.id, SUBJECT, "hanako@noto-bussan.example.jp", 2)
        # the message is kept byte for byte as the original of the case's first document
        stored = rt.storage.original_path(message_doc.sha256, "eml")
        assert stored.read_bytes() == raw
        # the attachments are the bytes that were sent, decoded from base64 and quoted-printable
        assert rt.storage.original_path(png.sha256, "png").read_bytes() == png_bytes(600, 840)
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action.like("mail.%"))))
        assert {e.action for e in events} == {"mail.receive", "mail.case"}
        assert "花子" not in repr([e.detail for e in events]) and "のと物産" not in repr([e.detail for e in events])


def test_a_message_read_twice_makes_one_case(mail_app: Flask, dovecot: Imap) -> None:
    raw = shika_iso2022("<twice@example.jp>")
    dovecot.append(raw)
    dovecot.append(raw)  # delivered twice: two copies in the mailbox, one Message-ID
    rt = _rt(mail_app)
    first, second = poll_imap(rt)
    assert second.duplicate and second.case_id == first.case_id
    assert poll_imap(rt) == []  # nothing unseen is left
    again = ingest_message(rt, raw, "upload")  # and a clerk uploads the same .eml
    assert again.duplicate and again.case_id == first.case_id
    with rt.db.session() as s:
        assert len(list(s.scalars(select(Case)))) == 1
        assert len(list(s.scalars(select(MailMessage)))) == 1


def test_a_message_someone_already_read_is_still_taken(mail_app: Flask, dovecot: Imap) -> None:
    dovecot.append(shika_iso2022("<read-in-outlook@example.jp>"), flags="(\\Seen)")
    [taken] = poll_imap(_rt(mail_app))
    assert taken.status == "case"
    assert poll_imap(_rt(mail_app)) == []


def test_utf8_alternative_and_html_only_bodies_are_read(mail_app: Flask, dovecot: Imap) -> None:
    dovecot.append(utf8_alternative())
    dovecot.append(html_only())
    rt = _rt(mail_app)
    alt, html = poll_imap(rt)
    assert alt.status == html.status == "case"
    with rt.db.session() as s:
        names = {}
        for taken in (alt, html):
            case = s.get(Case, taken.case_id)
            [rec] = case.documents[0].records
            names[taken.case_id] = {f.key: f.value for f in rec.fields}
        # the text/plain half of the alternative is read, not the HTML
        assert names[alt.case_id]["applicant_name"] == "有限会社志賀ファーム"
        assert names[html.case_id]["applicant_name"] == "株式会社のと物産"
        assert names[html.case_id]["contact_phone"] == "0767-32-1111"


def test_unmatched_and_malformed_messages_wait_in_the_queue(mail_app: Flask, dovecot: Imap) -> None:
    dovecot.append(unmatched())
    dovecot.append(MALFORMED)
    rt = _rt(mail_app)
    question, broken = poll_imap(rt)
    assert (question.status, question.reason, question.case_id) == ("queued", "no_program", None)
    assert (broken.status, broken.reason, broken.case_id) == ("queued", "malformed", None)
    with rt.db.session() as s:
        assert list(s.scalars(select(Case))) == []
        rows = {m.id: m for m in s.scalars(select(MailMessage))}
        assert rows[broken.mail_id].error_message == "メールのヘッダがありません"
        for m in rows.values():  # nothing lost: each kept as it came
            assert rt.storage.original_path(m.sha256, "eml").exists()
        assert rt.storage.original_path(rows[broken.mail_id].sha256, "eml").read_bytes() == MALFORMED


def test_the_queue_in_the_desk_assigns_a_program_and_takes_eml_uploads(mail_app: Flask, dovecot: Imap) -> None:
    rt = _rt(mail_app)
    question = ingest_message(rt, unmatched(), "imap")
    broken = ingest_message(rt, MALFORMED, "imap")
    client = mail_app.test_client()
    token = login(client)
    page = client.get("/clerk/mail/").get_data(as_text=True)
    assert "お問い合わせ" in page and "件名がどの制度の件名とも一致しません" in page
    assert "メールとして読めません" in page
    detail = client.get(f"/clerk/mail/messages/{broken.mail_id}").get_data(as_text=True)
    assert "メールのヘッダがありません" in detail
    resp = client.get(f"/clerk/mail/messages/{broken.mail_id}/original")
    assert resp.data == MALFORMED
    resp.close()
    resp = client.post(f"/clerk/mail/messages/{question.mail_id}/assign",
                       data={"program": "tateyama", "csrf_token": token})
    assert resp.status_code == 302 and "/clerk/cases/" in resp.headers["Location"]
    with rt.db.session() as s:
        mail = s.get(MailMessage, question.mail_id)
        assert mail.status == "assigned" and s.get(Case, mail.case_id).program_id == "tateyama"
    # an .eml uploaded in the desk becomes a case like one from the mailbox
    resp = client.post("/clerk/mail/upload", content_type="multipart/form-data",
                       data={"csrf_token": token, "files": [(io.BytesIO(shika_iso2022("<up@example.jp>")), "a.eml")]})
    assert resp.status_code == 302 and "/clerk/cases/" in resp.headers["Location"]
    # without the CSRF token nothing is taken
    resp = client.post("/clerk/mail/upload", content_type="multipart/form-data",
                       data={"files": [(io.BytesIO(unmatched()), "b.eml")]})
    assert resp.status_code == 400


def test_a_wrong_password_is_a_mailbox_error_and_loses_nothing(tmp_path: Path, engine: FakeEngine,
                                                               dovecot: Imap) -> None:
    dovecot.clear()
    dovecot.append(unmatched())
    app = create_app(make_settings(tmp_path, imap_host=dovecot.host, imap_port=dovecot.port,
                                   imap_security="plain", imap_user=dovecot.user, imap_password="wrong"))
    with pytest.raises(MailboxError, match="接続できません"):
        poll(app.extensions["madoguchi"])
    app.extensions["madoguchi"].db.dispose()
    assert dovecot.unseen() == 1


def test_the_default_is_a_folder_of_eml_files(tmp_path: Path, engine: FakeEngine) -> None:
    app = create_app(make_settings(tmp_path))
    rt = app.extensions["madoguchi"]
    inbox = rt.settings.mail_inbox_path
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "a.eml").write_bytes(shika_iso2022())
    (inbox / "b.eml").write_bytes(MALFORMED)
    taken = poll(rt)
    assert sorted(t.status for t in taken) == ["case", "queued"]
    assert list(inbox.glob("*.eml")) == []  # the stored copy is the original
    assert poll_folder(rt) == []
    rt.db.dispose()


# --- the body's items ---------------------------------------------------------------------


def test_items_are_found_by_number_or_label_and_marked_when_unsure() -> None:
    form = mail_form("shika.mail")
    body = (
        "1. 所在地　石川県羽咋郡志賀町富来領家町甲10\n"
        "(2) 事業者名\n"
        "    志賀町観光協会\n"
        "④ 担当者名：能登 太郎\n"
        "5) 電話：０７６７（４２）０３５５\n"
        "⑥メールアドレス: tarou＠shika-kanko.example.jp\n"
        "⑦ 商品の概要：体験型ツアー\n"
    )
    reading = read_body(body, form)
    values = {k: f.value for k, f in reading.fields.items()}
    assert values["applicant_address"] == "石川県羽咋郡志賀町富来領家町甲10"
    assert values["applicant_name"] == "志賀町観光協会"  # on the line under its label
    assert values["contact_person"] == "能登 太郎"
    assert values["contact_phone"] == "0767-42-0355"
    assert values["contact_email"] == "tarou@shika-kanko.example.jp"
    assert values["product_description"] == "体験型ツアー"
    assert {m.field: m.reason for m in reading.missing} == {"contact_department": "label_not_found"}


def test_a_misspelt_label_or_extra_lines_are_marked_for_review_and_a_bad_phone_is_unparsed() -> None:
    form = mail_form("shika.mail")
    body = "②事業社名：株式会社テスト\n⑤電話番号：でんわなし\n④担当者名：山田\n（不在時は鈴木）\n"
    reading = read_body(body, form)
    name = reading.fields["applicant_name"]
    assert name.value == "株式会社テスト" and name.review and name.confidence < 0.8
    person = reading.fields["contact_person"]
    assert person.value == "山田" and person.review  # a one-line item with more lines under it
    missing = {m.field: m.reason for m in reading.missing}
    assert missing["contact_phone"] == "unparsed"


def test_quoted_replies_and_the_signature_are_not_read() -> None:
    form = mail_form("shika.mail")
    body = "②事業者名：新しい名前\n\n> ②事業者名：引用された古い名前\n> ⑤電話番号：03-0000-0000\n-- \n⑤電話番号：090-1111-2222\n"
    reading = read_body(body, form)
    assert reading.fields["applicant_name"].value == "新しい名前"
    assert "contact_phone" not in reading.fields


def test_a_broken_multipart_is_read_as_far_as_it_goes() -> None:
    raw = (b"From: a@example.jp\r\nSubject: =?utf-8?b?5b+X6LOA55S6?=\r\nMessage-ID: <cut@example.jp>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n--XX\r\n"
           b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
           b"Content-Disposition: attachment; filename=a.pdf\r\n\r\nJVBERi0xLjQK!!!notbase64")
    parsed = parse_message(raw)
    assert parsed.subject == "志賀町" and parsed.body.strip() == "hello"
    assert [a.filename for a in parsed.attachments] == ["a.pdf"]
    assert parsed.problems  # the missing end boundary and the bad base64 are noted


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
    else:
        yield request.getfixturevalue("pg_schema_url")


def test_two_workers_taking_the_same_message_make_one_case(tmp_path: Path, engine: FakeEngine,
                                                           db_url: str | None) -> None:
    """The mailbox read by two workers at once (a beat tick overlapping a manual poll)."""
    from concurrent.futures import ThreadPoolExecutor

    overrides = {"database_url": db_url} if db_url else {}
    app = create_app(make_settings(tmp_path, **overrides))
    rt = app.extensions["madoguchi"]
    raw = shika_iso2022("<race@example.jp>")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: ingest_message(rt, raw, "imap"), range(4)))
    assert sum(not r.duplicate for r in results) == 1
    assert len({r.mail_id for r in results}) == 1
    with rt.db.session() as s:
        assert len(list(s.scalars(select(MailMessage)))) == 1
        assert len(list(s.scalars(select(Case)))) == 1
    rt.db.dispose()


def test_a_server_without_keywords_is_read_by_the_seen_flag(mail_app: Flask, dovecot: Imap,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import web.mail_intake as intake

    monkeypatch.setattr(intake, "_keeps_keywords", lambda conn: False)  # as on servers that keep none
    dovecot.append(unmatched())
    [taken] = poll_imap(_rt(mail_app))
    assert taken.status == "queued"
    assert dovecot.unseen() == 0 and poll_imap(_rt(mail_app)) == []


def test_attachments_that_cannot_be_read_are_kept_with_their_reason(mail_app: Flask) -> None:
    msg = MIMEMultipart()
    msg["Subject"] = Header(SUBJECT, "utf-8")
    msg["From"] = "a@example.jp"
    msg["Message-ID"] = "<odd-attachments@example.jp>"
    msg.attach(MIMEText(BODY, "plain", "utf-8"))
    for name, data in (("price-list.xlsx", b"PK\x03\x04 not a docx"), ("empty.pdf", b""),
                       ("memo.txt", "備考です".encode())):
        part = MIMEApplication(data, "octet-stream")
        part.add_header("Content-Disposition", "attachment", filename=name)
        msg.attach(part)
    rt = _rt(mail_app)
    taken = ingest_message(rt, wire(msg), "upload")
    with rt.db.session() as s:
        case = s.get(Case, taken.case_id)
        assert case.status == "review"  # the body was read: the case goes on
        odd = {d.filename: d for d in case.documents[1:]}
        assert set(odd) == {"price-list.xlsx", "empty.pdf", "memo.txt"}
        assert all(d.status == "error" and d.error_code and d.error_message for d in odd.values())
        assert odd["empty.pdf"].error_message == "empty.pdf: 空のファイルです"
        # nothing lost: each kept as it came
        assert rt.storage.original_path(odd["memo.txt"].sha256, "bin").read_bytes() == "備考です".encode()


def test_the_case_mail_page_shows_the_items_read_with_their_marks(mail_app: Flask) -> None:
    body = BODY.replace("②事業者名：株式会社のと物産", "②事業社名：株式会社のと物産").replace("⑤電話番号：0767-32-1111\n", "")
    msg = MIMEText(body, "plain", "utf-8")
    msg["Subject"] = Header(SUBJECT, "utf-8")
    msg["From"] = "a@example.jp"
    msg["Message-ID"] = "<marks@example.jp>"
    taken = ingest_message(_rt(mail_app), wire(msg), "upload")
    client = mail_app.test_client()
    login(client)
    page = client.get(f"/clerk/mail/cases/{taken.case_id}").get_data(as_text=True)
    rows = page.split('id="mail-items"')[1].split("</table>")[0].split("<tr")[2:]
    assert len(rows) == 7
    assert "本社・支社・事業所・工場等の所在地" in rows[0] and "要確認" not in rows[0]
    assert "事業者名" in rows[1] and "株式会社のと物産" in rows[1] and "要確認" in rows[1]  # a misspelt label
    assert "電話番号" in rows[4] and "記載なし" in rows[4] and "要確認" in rows[4]


def test_the_beat_schedule_polls_the_mailbox_and_purges_daily(tmp_path: Path, engine: FakeEngine) -> None:
    from web import tasks

    app = create_app(make_settings(tmp_path, mail_poll_seconds=30, purge_hour=3))
    rt = app.extensions["madoguchi"]
    schedule = tasks.beat_schedule(rt.settings)
    assert schedule["poll-mailbox"] == {"task": "madoguchi.poll_mailbox", "schedule": 30.0}
    purge_at = schedule["purge-expired"]["schedule"]
    assert purge_at.hour == {18} and schedule["purge-expired"]["task"] == "madoguchi.purge_expired"  # 03:17 JST
    assert "poll-mailbox" not in tasks.beat_schedule(rt.settings.model_copy(update={"mail_poll_seconds": 0}))
    inbox = rt.settings.mail_inbox_path
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "a.eml").write_bytes(unmatched())
    assert tasks.poll_mailbox.delay().get() == 1  # the tasks the schedule names, run as the worker would
    assert tasks.purge_expired.delay().get() == {}
    rt.db.dispose()


def test_raw_utf8_subjects_and_shift_jis_bodies_are_read_as_mail_programs_write_them() -> None:
    utf8 = ("From: a@example.jp\r\nSubject: " + SUBJECT + "\r\nMessage-ID: <8bit@example.jp>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n②事業者名：テスト\r\n")
    assert parse_message(utf8.encode("utf-8")).subject == SUBJECT  # RFC 6532: 8-bit, no encoded words
    sjis = ("From: a@example.jp\r\nSubject: Re: " + SUBJECT + "\r\nMessage-ID: <sjis@example.jp>\r\n"
            "Content-Type: text/plain; charset=Shift_JIS\r\n\r\n②事業者名：㈱髙橋商店\r\n")
    parsed = parse_message(sjis.encode("cp932"))  # Shift_JIS as Windows writes it (NEC and IBM rows)
    assert parsed.subject == "Re: " + SUBJECT
    reading = read_body(parsed.body, mail_form("shika.mail"))
    assert reading.fields["applicant_name"].value == "(株)髙橋商店"  # NFKC, as every reading
