# ruff: noqa: F401, F811  -- pytest fixtures imported from web.testing are used as test arguments
"""Background work through a real Celery worker: the default filesystem broker with the SQLite
result store (nothing else running), and Redis when it answers. A multi-page upload is read
as a chord of per-page tasks."""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from web.models import Case, Job
from web.testing import FakeEngine, add_token, engine, login, make_settings, tiny_pdf

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_reason() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return None
    except Exception as exc:  # any failure means: no server to test against
        return f"Redis not reachable at {REDIS_URL}: {type(exc).__name__}"


@contextmanager
def running_worker(app: Flask) -> Iterator[None]:
    from celery.contrib.testing.worker import start_worker

    from web.tasks import celery_app

    settings = app.extensions["madoguchi"].settings
    with start_worker(celery_app, pool="threads", concurrency=4, perform_ping_check=False,
                      shutdown_timeout=10, loglevel="WARNING",
                      queues=[settings.celery_queue, settings.celery_ocr_queue]):
        yield


def _wait(predicate: Any, timeout: float = 40.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("background work did not finish in time")


def _scenario(app: Flask, engine: FakeEngine) -> None:
    client = app.test_client()
    token = login(client)
    db = app.extensions["madoguchi"].db
    with running_worker(app):
        resp = client.post("/clerk/upload", data={"program": "shibukawa", "csrf_token": token,
                                                  "files": [(io.BytesIO(tiny_pdf(4)), "a.pdf")]},
                           content_type="multipart/form-data", headers={"Accept": "application/json"})
        case_id = resp.get_json()["cases"][0]

        def case_done() -> bool:
            with db.session() as s:
                return s.get(Case, case_id).status == "review"

        _wait(case_done)
        api_token = add_token(app)
        job = client.post("/api/v1/extract", data={"file": (io.BytesIO(tiny_pdf(3)), "b.pdf")},
                          headers={"Authorization": f"Bearer {api_token}"}, content_type="multipart/form-data")
        assert job.status_code == 202
        job_id = job.get_json()["job"]["id"]

        def job_done() -> bool:
            with db.session() as s:
                return s.get(Job, job_id).status == "done"

        _wait(job_done)
    with db.session() as s:
        doc = s.get(Case, case_id).documents[0]
        assert doc.status == "done" and doc.pages_done == 4 and doc.records
    assert sorted(engine.called("prepare_page")) == [1, 1, 2, 2, 3, 3, 4]
    assert sorted(engine.called("render_page_png")) == [1, 2, 3, 4]


def test_filesystem_broker_and_sqlite_results(tmp_path: Path, engine: FakeEngine) -> None:
    from web.app import create_app

    settings = make_settings(tmp_path, celery_eager=False, celery_broker_url=None, celery_result_backend=None)
    assert settings.broker_url.startswith("filesystem://")
    assert settings.result_backend.startswith("db+sqlite:///") and str(settings.data_path) in settings.result_backend
    app = create_app(settings)
    _scenario(app, engine)
    assert (settings.data_path / "celery-results.db").exists()
    assert (settings.broker_dir / "queue").is_dir()
    app.extensions["madoguchi"].db.dispose()


def test_redis_broker(tmp_path: Path, engine: FakeEngine) -> None:
    reason = _redis_reason()
    if reason:
        pytest.skip(reason)
    from web.app import create_app

    queue = f"madoguchi-test-{secrets.token_hex(4)}"
    app = create_app(make_settings(tmp_path, celery_eager=False, celery_broker_url=REDIS_URL,
                                   celery_result_backend=REDIS_URL, celery_queue=queue,
                                   celery_ocr_queue=f"{queue}-ocr"))
    _scenario(app, engine)
    app.extensions["madoguchi"].db.dispose()
