# ruff: noqa: F401, F811  -- pytest fixtures imported from web.testing are used as test arguments
"""The yearly filing to 総務省 (001 4): gifts approved in a period, per program, as XLSX and CSV,
from the command line and the desk; only standing approvals of the program inside the period
(in Japan's time) are listed, with the 地場産品基準 category and place as the forms declare."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from web.ministry_export import gift_rows, ratio, to_csv, to_xlsx
from web.models import AuditEvent, Case, Decision, Document, Notice, Record, RecordField, User
from web.testing import app, engine, login

RECORDS = Path(__file__).resolve().parents[1] / "samples" / "records"


def _case(app: Flask, sample: str, outcome: str | None, decided_at: datetime, program: str = "shika",
          undone: bool = False, number: str | None = None) -> int:
    """A case of the sample record, decided at ``decided_at`` (UTC)."""
    fields: dict[str, Any] = json.loads((RECORDS / f"{sample}.json").read_text())["fields"]
    form = json.loads((RECORDS / f"{sample}.json").read_text())["form"]
    with app.extensions["madoguchi"].db.session() as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        status = {"approve": "approved", "reject": "rejected", None: "review"}[outcome]
        case = Case(program_id=program, status=status, applicant_name=fields.get("applicant_name", ""),
                    product_name=fields.get("product_name", ""))
        s.add(case)
        s.flush()
        doc = Document(case_id=case.id, filename="a.pdf", media_type="application/pdf", sha256="0" * 64,
                       size=1, pages=1, status="done")
        s.add(doc)
        s.flush()
        rec = Record(document_id=doc.id, form=form)
        s.add(rec)
        s.flush()
        for key, value in fields.items():
            s.add(RecordField(record_id=rec.id, key=key, value=value, extracted_value=value, confidence=0.99))
        if outcome is not None:
            decision = Decision(case_id=case.id, outcome=outcome, decided_by=admin.id, decided_at=decided_at)
            if undone:
                decision.undone_at = decided_at
            s.add(decision)
            s.flush()
            if number:
                s.add(Notice(case_id=case.id, decision_id=decision.id, kind="approval", status="done",
                             doc_number=number))
        return case.id


def test_approved_gifts_of_the_period_are_listed(app: Flask) -> None:
    roast = _case(app, "shika_form1_roastbeef", "approve", datetime(2026, 6, 30, 15, 30, tzinfo=UTC), number="志企第3号")
    persimmon = _case(app, "shika_form1_korogaki", "approve", datetime(2027, 5, 1, 1, 0, tzinfo=UTC))
    _case(app, "shika_form1_korogaki", "reject", datetime(2026, 8, 1, tzinfo=UTC))  # rejected
    _case(app, "shika_form1_korogaki", None, datetime(2026, 8, 1, tzinfo=UTC))  # still in review
    _case(app, "shika_form1_korogaki", "approve", datetime(2026, 8, 1, tzinfo=UTC), undone=True)  # undone
    _case(app, "shibukawa_form1_manju", "approve", datetime(2026, 8, 1, tzinfo=UTC), program="shibukawa")
    _case(app, "shika_form1_korogaki", "approve", datetime(2026, 6, 30, 14, 59, tzinfo=UTC))  # 6/30 23:59 JST
    with app.extensions["madoguchi"].db.session() as s:
        rows = gift_rows(s, "shika", date(2026, 7, 1), date(2027, 6, 30))
    # 2026-06-30 15:30 UTC is 7月1日 00:30 in Japan: inside; 23:59 the day before is not
    assert [r.case_id for r in rows] == [roast, persimmon]
    first = rows[0]
    assert (first.number, first.product_name, first.supplier) == (1, "能登牛ローストビーフ 400g", "株式会社 志賀フードファクトリー")
    assert (first.donation_amount, first.procurement_price, first.return_ratio) == (12000, 9500, 79.2)
    assert first.category == "3 町内で製造・加工" and first.place == "町内"
    assert first.approved_on == date(2026, 7, 1) and first.approval_number == "志企第3号"
    with app.extensions["madoguchi"].db.session() as s:
        shibukawa = gift_rows(s, "shibukawa", date(2026, 7, 1), date(2027, 6, 30))
    assert len(shibukawa) == 1 and shibukawa[0].category == "（該当なし）"
    assert shibukawa[0].procurement_price is not None and shibukawa[0].place


def test_the_files_read_back(app: Flask) -> None:
    _case(app, "shika_form1_roastbeef", "approve", datetime(2026, 7, 2, tzinfo=UTC), number="志企第3号")
    with app.extensions["madoguchi"].db.session() as s:
        rows = gift_rows(s, "shika", date(2026, 7, 1), date(2027, 6, 30))
    wb = load_workbook(io.BytesIO(to_xlsx(rows, "志賀町")))
    ws = wb["返礼品一覧"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][:6] == ["番号", "返礼品名", "返礼品提供事業者", "寄附金額（円）", "調達価格（円）", "返礼割合（%）"]
    assert values[1][:8] == [1, "能登牛ローストビーフ 400g", "株式会社 志賀フードファクトリー", 12000, 9500, 79.2,
                             "3 町内で製造・加工", "町内"]
    assert ws["D2"].number_format == "#,##0" and ws["I2"].value.date() == date(2026, 7, 2)
    data = to_csv(rows)
    assert data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[1][:6] == ["1", "能登牛ローストビーフ 400g", "株式会社 志賀フードファクトリー", "12000", "9500", "79.2"]
    assert table[1][8] == "2026-07-02"


def test_ratio_is_rounded_half_up_and_needs_a_donation() -> None:
    assert ratio(2999, 10000) == 30.0 and ratio(3005, 10000) == 30.1 and ratio(100, 0) is None
    assert ratio(None, 10000) is None


def test_the_command_line_writes_both_files(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from web.cli import main

    _case(app, "shika_form1_roastbeef", "approve", datetime(2026, 7, 2, tzinfo=UTC))
    rt = app.extensions["madoguchi"]
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(rt.settings.data_path))
    monkeypatch.setenv("DATABASE_URL", str(rt.db.engine.url))
    out = tmp_path / "filing"
    assert main(["export", "ministry", "--program", "shika", "--from", "2026-07-01", "--to", "2027-06-30",
                 "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["ministry-shika-2026-07-01-2027-06-30.csv",
                                                      "ministry-shika-2026-07-01-2027-06-30.xlsx"]
    assert "1 件" in capsys.readouterr().err
    # bad input: a period backwards, an unknown program
    assert main(["export", "ministry", "--program", "shika", "--from", "2027-07-01", "--to", "2026-06-30"]) == 2
    assert "期間が逆です" in capsys.readouterr().err
    assert main(["export", "ministry", "--program", "nosuch", "--from", "2026-07-01", "--to", "2027-06-30"]) == 2
    assert "unknown program" in capsys.readouterr().err


def test_the_desk_button_downloads_and_is_audited(app: Flask) -> None:
    _case(app, "shika_form1_roastbeef", "approve", datetime(2026, 7, 2, tzinfo=UTC))
    client = app.test_client()
    login(client)
    assert "総務省への申出用一覧" in client.get("/clerk/exports/").get_data(as_text=True)
    resp = client.get("/clerk/exports/ministry.xlsx?program=shika&from=2026-07-01&to=2027-06-30")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    assert "ministry-shika-2026-07-01-2027-06-30.xlsx" in resp.headers["Content-Disposition"]
    resp = client.get("/clerk/exports/ministry.csv?program=shika&from=2026-07-01&to=2027-06-30")
    assert resp.status_code == 200 and "能登牛".encode() in resp.data
    assert client.get("/clerk/exports/ministry.csv?program=shika&from=2026-07-01&to=yesterday").status_code == 422
    assert client.get("/clerk/exports/ministry.pdf?program=shika&from=2026-07-01&to=2027-06-30").status_code == 404
    with app.extensions["madoguchi"].db.session() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "export.ministry")))
        assert [e.detail["count"] for e in events] == [1, 1]
        assert "志賀フード" not in repr([e.detail for e in events])
    anonymous = app.test_client()
    assert anonymous.get("/clerk/exports/ministry.csv?program=shika&from=2026-07-01&to=2027-06-30").status_code == 302
