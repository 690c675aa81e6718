# ruff: noqa: F401, F811  -- pytest fixtures imported from web.testing are used as test arguments
"""Decisions are made once: simultaneous 「決定」 requests on one case give one decision, one
notice and one document number, on SQLite and on PostgreSQL; the database itself refuses a
second standing decision; undoing is explicit, audited, and withdraws the notice."""

from __future__ import annotations

import io
import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from web.models import AuditEvent, Case, Decision, Notice, NumberCounter
from web.testing import (
    PASSWORD,
    FakeEngine,
    add_user,
    any_db_app,
    engine,
    login,
    pg_schema_url,
    tiny_pdf,
)


def _upload(client: FlaskClient, token: str) -> int:
    resp = client.post("/clerk/upload", data={"program": "shibukawa", "csrf_token": token,
                                              "files": [(io.BytesIO(tiny_pdf()), "a.pdf")]},
                       content_type="multipart/form-data", headers={"Accept": "application/json"})
    case_id: int = resp.get_json()["cases"][0]
    return case_id


def _approvers(app: Flask, n: int) -> list[FlaskClient]:
    clients = []
    for i in range(n):
        add_user(app, f"kessai{i}", "approver")
        c = app.test_client()
        c.token = login(c, f"kessai{i}", PASSWORD)  # type: ignore[attr-defined]
        clients.append(c)
    return clients


def test_simultaneous_decisions_give_one_decision_and_one_number(any_db_app: Flask) -> None:
    app = any_db_app
    clerk = app.test_client()
    case_id = _upload(clerk, login(clerk))
    approvers = _approvers(app, 6)
    barrier = threading.Barrier(len(approvers))
    statuses: list[int] = []
    lock = threading.Lock()

    def fire(i: int, c: FlaskClient) -> None:
        data = {"csrf_token": c.token}  # type: ignore[attr-defined]
        if i % 2:
            data.update(outcome="approve", confirm="1")
        else:
            data.update(outcome="reject", reasons="返礼割合が基準を超える")
        barrier.wait()
        resp = c.post(f"/clerk/cases/{case_id}/decide", data=data, headers={"Accept": "application/json"})
        with lock:
            statuses.append(resp.status_code)

    threads = [threading.Thread(target=fire, args=(i, c)) for i, c in enumerate(approvers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [200] + [409] * (len(approvers) - 1)
    with app.extensions["madoguchi"].db.session() as s:
        case = s.get(Case, case_id)
        assert len(case.decisions) == 1 and len(case.notices) == 1
        decided = case.decisions[0].outcome
        assert case.status == {"approve": "approved", "reject": "rejected"}[decided]
        assert case.notices[0].kind == {"approve": "approval", "reject": "rejection"}[decided]
        assert case.notices[0].doc_number == "渋広第1号" and case.notices[0].status == "done"
        # no number was used up by the refused decisions
        assert s.scalar(select(func.sum(NumberCounter.last))) == 1
        refused = s.scalar(select(func.count()).where(AuditEvent.action == "case.decide.refused"))
        assert refused == len(approvers) - 1


def test_the_database_refuses_a_second_standing_decision(any_db_app: Flask) -> None:
    app = any_db_app
    clerk = app.test_client()
    case_id = _upload(clerk, login(clerk))
    db = app.extensions["madoguchi"].db
    with db.session() as s:
        s.add(Decision(case_id=case_id, outcome="approve", decided_by=1))
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(Decision(case_id=case_id, outcome="reject", decided_by=1))
    with db.session() as s:  # an undone decision stands no longer: another may be made
        first = s.scalar(select(Decision).where(Decision.case_id == case_id))
        first.undone_at = first.decided_at
    with db.session() as s:
        s.add(Decision(case_id=case_id, outcome="reject", decided_by=1))


def test_undo_is_explicit_audited_and_withdraws_the_notice(any_db_app: Flask, engine: FakeEngine) -> None:
    app = any_db_app
    clerk = app.test_client()
    token = login(clerk)
    case_id = _upload(clerk, token)
    (approver,) = _approvers(app, 1)
    approver.post(f"/clerk/cases/{case_id}/decide",
                  data={"csrf_token": approver.token, "outcome": "approve", "confirm": "1"})  # type: ignore[attr-defined]
    # a decided case cannot be corrected; a clerk cannot undo; undoing needs a reason
    assert clerk.post(f"/clerk/cases/{case_id}/undo", data={"csrf_token": token, "reason": "x"}).status_code == 403
    approver.post(f"/clerk/cases/{case_id}/undo", data={"csrf_token": approver.token, "reason": " "})  # type: ignore[attr-defined]
    with app.extensions["madoguchi"].db.session() as s:
        assert s.get(Case, case_id).status == "approved"
    page = approver.get(f"/clerk/cases/{case_id}").get_data(as_text=True)
    assert 'id="undo-form"' in page
    approver.post(f"/clerk/cases/{case_id}/undo",  # type: ignore[attr-defined]
                  data={"csrf_token": approver.token, "reason": "申請者の取下げの申出による"})
    with app.extensions["madoguchi"].db.session() as s:
        case = s.get(Case, case_id)
        assert case.status == "review"
        (decision,) = case.decisions
        assert decision.undone_at is not None and decision.undo_reason == "申請者の取下げの申出による"
        assert [n.status for n in case.notices] == ["withdrawn"]
        assert s.scalar(select(func.count()).where(AuditEvent.action == "case.undo")) == 1
    # decided again: a new notice with the next number (the withdrawn one keeps its own)
    approver.post(f"/clerk/cases/{case_id}/decide",  # type: ignore[attr-defined]
                  data={"csrf_token": approver.token, "outcome": "reject", "reasons": "書類不備"})
    with app.extensions["madoguchi"].db.session() as s:
        case = s.get(Case, case_id)
        assert case.status == "rejected"
        assert [(n.kind, n.status, n.doc_number) for n in case.notices] == [
            ("approval", "withdrawn", "渋広第1号"), ("rejection", "done", "渋広第2号")]
    page = approver.get(f"/clerk/cases/{case_id}").get_data(as_text=True)
    assert "取消済み" in page and "申請者の取下げの申出による" in page


def test_a_failed_render_keeps_the_number_of_its_decision(any_db_app: Flask, engine: FakeEngine,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from forms.errors import ProgramMissing
    from web import services

    app = any_db_app
    clerk = app.test_client()
    token = login(clerk)
    case_id = _upload(clerk, token)
    (approver,) = _approvers(app, 1)
    real = services.render_notices

    def broken(*args: object, **kwargs: object) -> object:
        raise ProgramMissing("LibreOffice が見つかりません")

    monkeypatch.setattr(services, "render_notices", broken)
    approver.post(f"/clerk/cases/{case_id}/decide",  # type: ignore[attr-defined]
                  data={"csrf_token": approver.token, "outcome": "reject", "reasons": "書類不備"})
    with app.extensions["madoguchi"].db.session() as s:
        (notice,) = s.get(Case, case_id).notices
        assert (notice.status, notice.doc_number) == ("error", "渋広第1号")
        notice_id = notice.id
    monkeypatch.setattr(services, "render_notices", real)
    clerk.post(f"/clerk/notices/{notice_id}/retry", data={"csrf_token": token})
    with app.extensions["madoguchi"].db.session() as s:
        notice = s.get(Notice, notice_id)
        assert (notice.status, notice.doc_number) == ("done", "渋広第1号")
        assert s.scalar(select(func.sum(NumberCounter.last))) == 1


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "postgresql":
        url: str = request.getfixturevalue("pg_schema_url")
        return url
    return f"sqlite:///{tmp_path / 'old.db'}"


def test_the_migration_keeps_the_latest_of_a_cases_double_decisions(empty_db_url: str) -> None:
    """A database decided twice by the old bug upgrades: the latest decision stands, the older
    is marked superseded, and the unique index is in place."""
    from alembic import command
    from sqlalchemy import text

    from web.db import Database, alembic_config

    db = Database.from_url(empty_db_url)
    try:
        command.upgrade(alembic_config(db.engine), "0001")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO programs (id, name, municipality, settings, active) "
                              "VALUES ('shibukawa', 'x', '渋川市', '{}', true)"))
            conn.execute(text("INSERT INTO users (id, username, display_name, password_hash, role, active, "
                              "session_version, created_at) VALUES (1, 'a', '', 'x', 'approver', true, 1, "
                              "CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO cases (id, program_id, kind, status, applicant_name, product_name, "
                              "created_at, updated_at) VALUES (7, 'shibukawa', 'application', 'rejected', '', '', "
                              "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            for n, outcome in ((1, "approve"), (2, "reject")):
                conn.execute(text("INSERT INTO decisions (id, case_id, outcome, conditions, reasons, decided_by, "
                                  f"decided_at) VALUES ({n}, 7, '{outcome}', '', '', 1, CURRENT_TIMESTAMP)"))
        db.migrate()
        with db.session() as s:
            first, second = s.scalars(select(Decision).order_by(Decision.id))
            assert first.undone_at is not None and first.undo_reason.startswith("superseded")
            assert second.undone_at is None
        with pytest.raises(IntegrityError), db.session() as s:
            s.add(Decision(case_id=7, outcome="approve", decided_by=1))
    finally:
        db.dispose()
