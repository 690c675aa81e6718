# ruff: noqa: F811  -- the pg_schema_url fixture imported from web.testing is used as an argument
"""Retention and destruction with a set clock: a Shika application mailed in, read by the real
engine, viewed, corrected, rejected, answered by mail; three months after the rejection its
personal data is destroyed (001 別紙② 3(5)) and no trace of it is left on disk or in the
database, while what the town must keep stays, another case still running is untouched, and
the written notice (廃棄報告) carries the counts and the date in 和暦."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import MetaData, select

from extract.cache import cached_pages
from extract.pagemodel import Page, Word
from tests.test_mail_intake import BODY, SUBJECT, cp50220, unmatched, wire
from web.testing import pg_schema_url  # noqa: F401 - a fixture
from web.app import create_app
from web.mail_intake import discard, ingest_message, poll_folder
from web.models import (
    AuditEvent,
    Case,
    CaseMemo,
    CasePurge,
    Decision,
    DestructionReport,
    FieldCorrection,
    MailMessage,
    Notice,
    OutgoingMail,
)
from web.retention import add_months, purge
from web.testing import PASSWORD, add_user, login, make_settings

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "golden"

#: What the rejected applicant gave: in the mail body and in its 様式 (samples/records/shika_*_roastbeef).
PERSONAL = ["山田 花子", "hanako@noto-bussan.example.jp", "0767-32-1111", "末吉千古", "株式会社のと物産",
            "北村 さやか", "北村 沙耶香", "sales@shika-food.co.jp", "0767-32-1180", "志賀フードファクトリー",
            "高浜町ア12番地1", "中村 大地"]
#: The other applicant, whose case goes on.
OTHER_BODY = (BODY.replace("山田 花子", "川上 一郎").replace("株式会社のと物産", "合同会社富来の里")
              .replace("hanako@noto-bussan.example.jp", "ichiro@togi-sato.example.jp")
              .replace("末吉千古1-1", "富来領家町1-2").replace("0767-32-1111", "0767-42-9999"))


def mailed(body: str, message_id: str, forms: str) -> bytes:
    msg = MIMEMultipart()
    msg["Subject"] = "=?ISO-2022-JP?B?" + base64.b64encode(cp50220(SUBJECT)).decode() + "?="
    msg["From"] = "applicant@example.jp"
    msg["Message-ID"] = message_id
    msg["Date"] = "Mon, 06 Apr 2026 10:00:00 +0900"
    part = MIMEBase("text", "plain", charset="ISO-2022-JP")
    part.set_payload(cp50220(body).decode("ascii"))
    part["Content-Transfer-Encoding"] = "7bit"
    msg.attach(part)
    for n in (1, 3):
        pdf = MIMEApplication((SAMPLES / f"shika_form{n}_{forms}.pdf").read_bytes(), "pdf")
        pdf.add_header("Content-Disposition", "attachment", filename=f"shika_form{n}.pdf")
        msg.attach(pdf)
    return wire(msg)


def question() -> bytes:
    msg = MIMEText("返礼品の件で佐藤 次郎と申します。090-5555-6666", "plain", "utf-8")
    msg["Subject"] = Header("お問い合わせ（佐藤）", "utf-8")
    msg["From"] = "jiro.sato@example.jp"
    msg["Message-ID"] = "<q@example.jp>"
    msg["Date"] = "Mon, 06 Apr 2026 10:00:00 +0900"
    return wire(msg)


@pytest.fixture
def walk_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setenv("MADOGUCHI_CACHE_DIR", str(tmp_path / "cache"))
    app = create_app(make_settings(tmp_path, mail_outbox_dir=tmp_path / "var" / "mail" / "outbox"))
    app.config["TESTING"] = True
    yield app
    app.extensions["madoguchi"].db.dispose()


def _encodings(marker: str) -> list[bytes]:
    """The ways a value can sit in a file: UTF-8, JSON's escapes, ISO-2022-JP, Shift_JIS."""
    forms = [marker.encode("utf-8"), json.dumps(marker).strip('"').encode("ascii"), cp50220(marker)]
    try:
        forms.append(marker.encode("cp932"))
    except UnicodeEncodeError:
        pass
    return [f for f in forms if len(f) >= 6]


def traces(roots: list[Path], markers: list[str]) -> list[tuple[str, str]]:
    found = []
    for root in roots:
        for path in root.rglob("*") if root.exists() else []:
            if path.is_file():
                data = path.read_bytes()
                found += [(str(path), m) for m in markers for f in _encodings(m) if f in data]
    return found


def db_traces(app: Flask, markers: list[str]) -> list[tuple[str, str]]:
    engine = app.extensions["madoguchi"].db.engine
    meta = MetaData()
    meta.reflect(engine)
    found = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(table.select()):
                dumped = json.dumps([str(v) for v in row], ensure_ascii=False)
                found += [(table.name, m) for m in markers if m in dumped or json.dumps(m).strip('"') in dumped]
    return found


def _decide(app: Flask, case_id: int, outcome: str) -> None:
    approver = app.test_client()
    token = login(approver, "kessai", PASSWORD)
    resp = approver.post(f"/clerk/cases/{case_id}/decide", data={
        "outcome": outcome, "confirm": "1", "csrf_token": token, "reasons": "返礼割合が基準を超えるため"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]


def test_from_upload_to_destruction_no_trace_is_left(walk_app: Flask, tmp_path: Path) -> None:
    app, rt = walk_app, walk_app.extensions["madoguchi"]
    add_user(app, "kessai", "approver")
    inbox = rt.settings.mail_inbox_path
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "1.eml").write_bytes(mailed(BODY, "<gone@example.jp>", "roastbeef"))
    (inbox / "2.eml").write_bytes(mailed(OTHER_BODY, "<stays@example.jp>", "korogaki"))
    gone, stays = sorted(poll_folder(rt), key=lambda t: t.mail_id)
    queued = ingest_message(rt, question(), "upload")
    assert queued.status == "queued"
    waiting = ingest_message(rt, unmatched(), "upload")  # no clerk has looked at this one yet
    discard(rt, queued.mail_id, None)  # a clerk judged the question to need nothing

    clerk = app.test_client()
    token = login(clerk)
    with rt.db.session() as s:
        case = s.get(Case, gone.case_id)
        form1 = next(d for d in case.documents if d.filename == "shika_form1.pdf")
        form1_sha = form1.sha256
        resp = clerk.get(f"/clerk/documents/{form1.id}/pages/1.png")  # a page image for review
        assert resp.status_code == 200
        resp.close()
        field = next(f for r in form1.records for f in r.fields if f.key == "contact_person")
        assert field.value == "北村 さやか"
        s.add(FieldCorrection(field_id=field.id, old_value=field.value, new_value="北村 沙耶香"))
        field.value = "北村 沙耶香"
        s.add(CaseMemo(case_id=case.id, body="北村 さやか様に電話で確認（0767-32-1180）"))
    # a scan's reading is cached by content: an entry for this file, as the OCR pipeline writes it
    cached_pages(f"{form1_sha}-p1", lambda: [Page(number=1, width=595, height=842, source="ocr",
                                                   words=[Word(text="北村 さやか", x0=1, y0=1, x1=2, y1=2)])])
    assert list((tmp_path / "cache").rglob(f"{form1_sha}*"))

    _decide(app, gone.case_id, "reject")
    _decide(app, stays.case_id, "approve")
    with rt.db.session() as s:
        [notice] = s.get(Case, gone.case_id).notices
        assert notice.kind == "rejection" and notice.status == "done", notice.error_message
        notice_id, number = notice.id, notice.doc_number
        decided = s.scalar(select(Decision.decided_at).where(Decision.case_id == gone.case_id))
    resp = clerk.post(f"/clerk/mail/cases/{gone.case_id}/send", data={"notice": notice_id, "csrf_token": token})
    assert resp.status_code == 302
    assert traces([rt.settings.data_path, tmp_path / "cache"], PERSONAL)  # the data is there to find

    end = (decided + timedelta(hours=9)).date()
    due = add_months(end, 3)
    # the day before: only the question a clerk discarded goes (90 days after it came)
    assert purge(rt, due - timedelta(days=1)).counts == {"mail_messages": 1}
    with rt.db.session() as s:
        assert s.scalar(select(CasePurge)) is None
    preview = purge(rt, due, dry_run=True)
    assert preview.by_program["shika"]["cases"] == 1
    assert traces([rt.settings.data_path], ["北村 沙耶香"])  # a dry run changes nothing

    result = purge(rt, due)
    counts = result.by_program["shika"]
    assert counts["cases"] == 1 and counts["originals"] == 3 and counts["page_images"] >= 2
    assert counts["cache_entries"] == 1 and counts["notice_files"] == 2 and counts["mail_messages"] == 1
    assert counts["outgoing_mails"] == 1 and counts["corrections"] == 1 and counts["memos"] == 1
    assert counts["suppliers"] == 1 and counts["fields"] >= 20

    # no trace on disk (data dir, outbox, OCR cache) or in any table
    assert traces([rt.settings.data_path, tmp_path / "cache"], PERSONAL) == []
    assert db_traces(app, PERSONAL) == []
    assert db_traces(app, ["佐藤 次郎", "jiro.sato@example.jp"]) == []  # the discarded question too
    with rt.db.session() as s:  # but a message still waiting for a clerk is never dropped
        assert s.get(MailMessage, waiting.mail_id).subject == "お問い合わせ"
    with rt.db.session() as s:
        case = s.get(Case, gone.case_id)
        # what the town keeps: the decision, its number, the notice's kind and date
        assert case.status == "rejected" and [d.outcome for d in case.decisions] == ["reject"]
        notice = s.get(Notice, notice_id)
        assert (notice.kind, notice.doc_number, notice.files) == ("rejection", number, {})
        assert s.get(CasePurge, gone.case_id) is not None
        out = s.scalar(select(OutgoingMail))
        assert out.status == "sent" and out.to_address == ""
        # the case still going on is untouched
        other = s.get(Case, stays.case_id)
        values = {r.form: {f.key: f.value for f in r.fields} for d in other.documents for r in d.records}
        assert values["shika.mail"]["contact_person"] == "川上 一郎"
        assert values["shika.form1"]["contact_person"] == "坂本 久美子"
        assert all(rt.storage.original_path(d.sha256, "bin").exists() or d.media_type != "message/rfc822"
                   for d in other.documents)
        # the audit entry holds counts, never the data
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purge")))
        assert [e.detail.get("cases") for e in events] == [None, 1]
        assert events[1].detail["originals"] == 3
        reports = list(s.scalars(select(DestructionReport).order_by(DestructionReport.id)))
        assert [r.program_id for r in reports] == [None, "shika"]
        pdf_path = rt.storage.resolve(reports[1].files["pdf"])
    # the 廃棄報告: counts and the date in 和暦
    from pypdf import PdfReader

    from generate.wareki import format_wareki

    text_ = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages)
    flat = text_.replace(" ", "").replace("\n", "").replace("\u3000", "")
    assert format_wareki(due) in flat and "個人情報等の廃棄について（報告）" in flat
    assert "業務が終了した案件1件" in flat and "申請書類の原本（ファイル）3件" in flat
    assert "001別紙②3(5),7" in flat

    # the clerk downloads it from the desk; a second run finds nothing more
    resp = app.test_client()
    login(resp, "kessai", PASSWORD)
    page = resp.get("/clerk/retention/")
    assert page.status_code == 200 and "保存期間を過ぎたものはありません" in page.get_data(as_text=True)
    assert purge(rt, due + timedelta(days=30)).counts == {}


def test_programs_without_a_period_are_kept_and_the_command_line_counts(
    walk_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from web.cli import main

    rt = walk_app.extensions["madoguchi"]
    with rt.db.session() as s:
        case = Case(program_id="tateyama", status="rejected")
        s.add(case)
    assert purge(rt, date(2099, 1, 1)).counts == {}  # 館山市 declares no period: nothing goes
    discard(rt, ingest_message(rt, question(), "upload").mail_id, None)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(rt.settings.data_path))
    monkeypatch.setenv("DATABASE_URL", str(rt.db.engine.url))
    assert main(["purge", "--dry-run", "--today", "2026-12-01"]) == 0
    out = capsys.readouterr().out
    assert "廃棄の予定 (dry run): 2026-12-01" in out and "mail_messages 1" in out
    with rt.db.session() as s:
        assert s.scalar(select(MailMessage.subject)) == "お問い合わせ（佐藤）"  # unchanged by a dry run
    assert main(["purge", "--today", "2026-12-01"]) == 0
    with rt.db.session() as s:
        mail = s.scalar(select(MailMessage))
        assert mail.subject == "" and mail.purged_at is not None
    with pytest.raises(SystemExit) as exit_:
        main(["purge", "--today", "not-a-date"])
    assert exit_.value.code == 2


def test_the_purge_leaves_no_trace_in_postgresql(tmp_path: Path, pg_schema_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from web.testing import FakeEngine

    FakeEngine().install(monkeypatch)
    monkeypatch.setenv("MADOGUCHI_CACHE_DIR", "off")
    app = create_app(make_settings(tmp_path, database_url=pg_schema_url))
    rt = app.extensions["madoguchi"]
    add_user(app, "kessai", "approver")
    taken = ingest_message(rt, mailed(BODY, "<pg@example.jp>", "roastbeef"), "upload")
    _decide(app, taken.case_id, "reject")
    with rt.db.session() as s:
        decided = s.scalar(select(Decision.decided_at).where(Decision.case_id == taken.case_id))
    markers = ["山田 花子", "hanako@noto-bussan.example.jp", "末吉千古", "株式会社テスト物産"]
    assert db_traces(app, markers)
    result = purge(rt, add_months((decided + timedelta(hours=9)).date(), 3))
    assert result.counts["cases"] == 1
    assert db_traces(app, markers) == []
    assert traces([rt.settings.data_path], markers) == []
    rt.db.dispose()


def test_a_file_two_cases_share_goes_with_the_last_of_them(walk_app: Flask, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The same PDF attached to two applications: kept while one case needs it, destroyed with
    the second, even though the first was purged before."""
    from web.testing import FakeEngine

    FakeEngine().install(monkeypatch)
    rt = walk_app.extensions["madoguchi"]
    add_user(walk_app, "kessai", "approver")
    first = ingest_message(rt, mailed(BODY, "<share-1@example.jp>", "roastbeef"), "upload")
    second = ingest_message(rt, mailed(OTHER_BODY, "<share-2@example.jp>", "roastbeef"), "upload")
    _decide(walk_app, first.case_id, "reject")
    with rt.db.session() as s:
        pdf = next(d for d in s.get(Case, first.case_id).documents if d.filename == "shika_form1.pdf")
        shared = rt.storage.original_path(pdf.sha256, "pdf")
        decided = s.scalar(select(Decision.decided_at).where(Decision.case_id == first.case_id))
    due = add_months((decided + timedelta(hours=9)).date(), 3)
    assert purge(rt, due).counts["cases"] == 1
    assert shared.exists()  # the second case still needs it
    _decide(walk_app, second.case_id, "reject")
    assert purge(rt, due + timedelta(days=200)).counts["cases"] == 1
    assert not shared.exists()


def test_the_desk_previews_runs_and_hands_out_the_report(walk_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """An approver sees what is due, runs the purge with the button and downloads the 廃棄報告;
    a clerk may not run it."""
    from web import tasks
    from web.testing import FakeEngine

    FakeEngine().install(monkeypatch)
    rt = walk_app.extensions["madoguchi"]
    add_user(walk_app, "kessai", "approver")
    add_user(walk_app, "tanto", "clerk")
    taken = ingest_message(rt, mailed(BODY, "<desk@example.jp>", "roastbeef"), "upload")
    _decide(walk_app, taken.case_id, "reject")
    monkeypatch.setattr(tasks, "today_jst", lambda: date.today() + timedelta(days=100))  # the clock set ahead
    clerk = walk_app.test_client()
    clerk_token = login(clerk, "tanto", PASSWORD)
    assert clerk.get("/clerk/retention/").status_code == 403
    assert clerk.post("/clerk/retention/purge", data={"csrf_token": clerk_token}).status_code == 403
    approver = walk_app.test_client()
    token = login(approver, "kessai", PASSWORD)
    page = approver.get("/clerk/retention/").get_data(as_text=True)
    assert 'id="purge-preview"' in page and "shika" in page
    with rt.db.session() as s:
        assert s.scalar(select(CasePurge)) is None  # the preview destroys nothing
    resp = approver.post("/clerk/retention/purge", data={"csrf_token": token})
    assert resp.status_code == 302
    page = approver.get("/clerk/retention/").get_data(as_text=True)
    assert "保存期間を過ぎたものはありません" in page
    with rt.db.session() as s:
        report = s.scalar(select(DestructionReport))
        assert s.get(CasePurge, taken.case_id).report_id == report.id
    resp = clerk.get(f"/clerk/retention/reports/{report.id}.pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    resp.close()
