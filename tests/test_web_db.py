# ruff: noqa: F401, F811  -- pytest fixtures imported from web.testing are used as test arguments
"""Persistence: migrations match the models, on SQLite and on PostgreSQL; document numbers
never repeat, even when taken concurrently; the whole workflow runs on PostgreSQL."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from web.config import Settings
from web.db import Database, alembic_config
from web.models import Base
from web.numbering import DbNumberSequence
from web.testing import FakeEngine, engine, login, make_settings, pg_schema_url, tiny_pdf



@pytest.fixture
def pg_url(pg_schema_url: str) -> str:
    """A fresh schema in the PostgreSQL test database (``web.testing``'s), dropped afterwards."""
    return pg_schema_url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    database = Database.from_url(url)
    database.migrate()
    yield database
    database.dispose()


def test_migrations_create_exactly_the_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []
    tables = set(inspect(db.engine).get_table_names())
    assert {"programs", "suppliers", "cases", "documents", "records", "record_fields", "field_corrections",
            "findings", "decisions", "notices", "certificates", "users", "api_tokens", "audit_events",
            "jobs", "number_counters", "publications", "alembic_version"} <= tables
    # running them again is a no-op
    db.migrate()


def test_migrations_go_down_and_up_again(db: Database) -> None:
    from alembic import command

    cfg = alembic_config(db.engine)
    command.downgrade(cfg, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(cfg, "heads")
    assert "cases" in inspect(db.engine).get_table_names()


def test_document_numbers_never_repeat(db: Database) -> None:
    seq = DbNumberSequence(db)
    assert [seq.next("shibukawa", 2025) for _ in range(3)] == [1, 2, 3]
    assert seq.next("shibukawa", 2026) == 1  # a new fiscal year starts again
    assert seq.next("tateyama", 2025) == 1  # each program has its own
    taken: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        mine = [DbNumberSequence(db).next("shibukawa", 2025) for _ in range(10)]
        with lock:
            taken.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == list(range(4, 44))
    assert seq.current("shibukawa", 2025) == 43


def test_number_sequence_fits_the_generate_protocol() -> None:
    from generate.numbering import NumberSequence

    assert isinstance(DbNumberSequence(Database.from_url("sqlite://")), NumberSequence)


def test_workflow_on_postgresql(pg_url: str, tmp_path: Path, engine: FakeEngine) -> None:
    from web.app import create_app
    from web.models import Case
    from web.testing import add_user

    app = create_app(make_settings(tmp_path, database_url=pg_url))
    assert app.extensions["madoguchi"].db.engine.dialect.name == "postgresql"
    client = app.test_client()
    token = login(client)
    resp = client.post("/clerk/upload", data={"program": "shibukawa", "csrf_token": token,
                                              "files": [(io.BytesIO(tiny_pdf(2)), "a.pdf")]},
                       content_type="multipart/form-data", headers={"Accept": "application/json"})
    case_id = resp.get_json()["cases"][0]
    add_user(app, "kessai", "approver")
    approver = app.test_client()
    atoken = login(approver, "kessai", "correct horse battery")
    approver.post(f"/clerk/cases/{case_id}/decide", data={"csrf_token": atoken, "outcome": "reject",
                                                        "reasons": "返礼割合が基準を超える"})
    assert "株式会社テスト物産" in client.get("/clerk/?q=テスト").get_data(as_text=True)
    with app.extensions["madoguchi"].db.session() as s:
        case = s.get(Case, case_id)
        assert case.status == "rejected"
        assert case.notices[0].doc_number == "渋広第1号"
        assert case.documents[0].records[0].fields[0].value is not None
    app.extensions["madoguchi"].db.dispose()


def test_postgres_urls_use_psycopg() -> None:
    settings = Settings.model_validate({}).model_copy(update={"database_url": "postgresql://u@h/db"})
    assert settings.db_url == "postgresql+psycopg://u@h/db"
    assert Settings.model_validate({}).model_copy(update={"data_dir": Path("/tmp/x")}).db_url == "sqlite:////tmp/x/madoguchi.db"
