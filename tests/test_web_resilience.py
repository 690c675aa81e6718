# ruff: noqa: F401, F811  -- pytest fixtures imported from web.testing are used as test arguments
"""No work lost or stuck: a real Celery worker (prefork, the real reader) killed by pid in the
middle of a scanned page, with the filesystem broker and with Redis; the case still finishes.
``madoguchi serve`` starts a reading worker killed whole again, and what it was reading is read
again. Documents that stop making progress are swept back into the queue or failed with their
reason; the clerk can retry or remove a document."""

from __future__ import annotations

import io
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from web.models import AuditEvent, Case, Document, utcnow
from web.testing import REDIS_URL, FakeEngine, app, client, engine, login, make_settings, redis_reason, tiny_pdf

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "samples" / "golden" / "form1_wagyu.pdf"


def _scan(out: Path) -> bytes:
    """様式第1号 as a 150 dpi grey scan: about six seconds of OCR on one core."""
    from extract.pdftoppm import render_pages

    (page,) = render_pages(GOLDEN, [1], dpi=150, gray=True)
    buf = io.BytesIO()
    page.save(buf, format="PNG", dpi=(150, 150))
    return buf.getvalue()


def _wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _env(settings: Any, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "MADOGUCHI_DATA_DIR": str(settings.data_path),
        "DATABASE_URL": settings.database_url,
        "CELERY_BROKER_URL": settings.broker_url,
        "CELERY_RESULT_BACKEND": settings.result_backend,
        "MADOGUCHI_CELERY_QUEUE": settings.celery_queue,
        "MADOGUCHI_CELERY_OCR_QUEUE": settings.celery_ocr_queue,
        "MADOGUCHI_CACHE_DIR": str(tmp_path / "ocr-cache"),  # the page is really read each time
        "MADOGUCHI_BEAT": "0",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _upload_scan(app: Flask, tmp_path: Path) -> tuple[int, int]:
    client = app.test_client()
    token = login(client)
    resp = client.post("/clerk/upload", data={"program": "shibukawa", "csrf_token": token,
                                              "files": [(io.BytesIO(_scan(tmp_path)), "scan.png")]},
                       content_type="multipart/form-data", headers={"Accept": "application/json"})
    case_id = resp.get_json()["cases"][0]
    with app.extensions["madoguchi"].db.session() as s:
        return case_id, s.get(Case, case_id).documents[0].id


def _doc(app: Flask, doc_id: int) -> Document:
    with app.extensions["madoguchi"].db.session() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        s.expunge(doc)
        return doc


def _case_status(app: Flask, case_id: int) -> str:
    with app.extensions["madoguchi"].db.session() as s:
        return s.get(Case, case_id).status


@pytest.fixture(params=["filesystem", "redis"])
def broker_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    overrides: dict[str, Any] = {"celery_eager": False, "celery_broker_url": None, "celery_result_backend": None}
    if request.param == "redis":
        reason = redis_reason()
        if reason:
            pytest.skip(reason)
        queue = f"madoguchi-test-{secrets.token_hex(4)}"
        overrides.update(celery_broker_url=REDIS_URL, celery_result_backend=REDIS_URL, celery_queue=queue,
                         celery_ocr_queue=f"{queue}-ocr")
    return make_settings(tmp_path, **overrides)


def test_a_worker_killed_in_the_middle_of_a_page_does_not_lose_the_case(broker_settings: Any, tmp_path: Path) -> None:
    from web.app import create_app
    from web.serve import WorkerSpec, worker_command

    settings = broker_settings
    app = create_app(settings)  # the real reader: the worker is another process
    spec = WorkerSpec("test", (settings.celery_queue, settings.celery_ocr_queue), 1)
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(worker_command(settings, spec), env=_env(settings, tmp_path), cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        first_child = _wait(lambda: _children(worker.pid), 60, "the worker's pool")[0]
        case_id, doc_id = _upload_scan(app, tmp_path)
        _wait(lambda: _doc(app, doc_id).status == "processing", 60, "the reading to start")
        time.sleep(2.5)  # into the page's OCR (about six seconds)
        doc = _doc(app, doc_id)
        assert doc.status == "processing" and doc.pages_done == 0, "the page was over before the kill"
        os.kill(first_child, signal.SIGKILL)
        _wait(lambda: _case_status(app, case_id) == "review", 180, "the case to be read after the kill")
        doc = _doc(app, doc_id)
        assert doc.status == "done" and doc.pages_done == 1 and doc.error_code is None
        with app.extensions["madoguchi"].db.session() as s:
            records = s.get(Document, doc_id).records
            assert records and records[0].form == "shibukawa.form1" and len(records[0].fields) > 10
        assert first_child not in _children(worker.pid)
    finally:
        _stop_group(worker)
        log.close()
        app.extensions["madoguchi"].db.dispose()
    assert b"WorkerLostError" in (tmp_path / "worker.log").read_bytes()


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop a worker and its pool: warm shutdown, then killed after 10 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()


def _started_here(pid: int, data_path: Path) -> bool:
    """Whether ``pid`` is still a worker of this test (its environment names the test's data dir)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"MADOGUCHI_DATA_DIR={data_path}".encode() in environ.split(b"\0")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_starts_a_killed_worker_again_and_reads_what_it_was_reading(tmp_path: Path) -> None:
    from web.app import create_app

    settings = make_settings(tmp_path, celery_eager=False, celery_broker_url=None, celery_result_backend=None,
                             worker_concurrency=1)
    app = create_app(settings)
    env = _env(settings, tmp_path)
    env.update({"MADOGUCHI_ADMIN_PASSWORD": "unused-admin-password-1", "MADOGUCHI_SECRET_KEY": "test-secret",
                "MADOGUCHI_COOKIE_SECURE": "0", "MADOGUCHI_WORKER_CONCURRENCY": "1"})
    log_path = tmp_path / "serve.log"
    log = log_path.open("wb")
    server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(_free_port())], env=env,
                              cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        line = _wait(lambda: next((ln for ln in log_path.read_text().splitlines() if "workers:" in ln), None),
                     60, "serve to start its workers")
        pids = dict(part.strip().split(" pid ") for part in line.split("workers:")[1].split(","))
        ocr = int(pids["ocr"])
        _wait(lambda: _children(ocr), 60, "the reading worker's pool")
        case_id, doc_id = _upload_scan(app, tmp_path)
        _wait(lambda: _doc(app, doc_id).status == "processing", 60, "the reading to start")
        time.sleep(2.5)
        assert _doc(app, doc_id).pages_done == 0
        os.killpg(ocr, signal.SIGKILL)  # the whole reading worker, pool and all
        _wait(lambda: "starting it again" in log_path.read_text(), 30, "serve to notice")
        _wait(lambda: _case_status(app, case_id) == "review", 180, "the case to be read by the new worker")
        doc = _doc(app, doc_id)
        assert doc.status == "done" and doc.attempts == 2
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        for pid in (int(p) for p in re.findall(r"pid (\d+)", log_path.read_text())):  # no worker outlives the test
            if _started_here(pid, settings.data_path):
                os.killpg(pid, signal.SIGKILL)
        log.close()
        app.extensions["madoguchi"].db.dispose()


def test_stuck_documents_are_swept_back_and_given_up_after_the_last_attempt(app: Flask, engine: FakeEngine) -> None:
    from web.tasks import sweep_stuck

    rt = app.extensions["madoguchi"]
    client = app.test_client()
    token = login(client)
    case_id = client.post("/clerk/upload", data={"program": "shibukawa", "csrf_token": token,
                                                 "files": [(io.BytesIO(tiny_pdf()), "a.pdf")]},
                          content_type="multipart/form-data", headers={"Accept": "application/json"}).get_json()["cases"][0]
    with rt.db.session() as s:
        doc = s.get(Case, case_id).documents[0]
        doc_id = doc.id
        assert doc.status == "done" and doc.attempts == 1
    # a worker died with it: left 「読取中」 an hour ago
    old = utcnow() - timedelta(hours=1)
    for attempt in (2, 3):
        with rt.db.session() as s:
            s.execute(update(Document).where(Document.id == doc_id).values(status="processing", started_at=old))
        assert sweep_stuck(rt) == [doc_id]
        assert _doc(app, doc_id).status == "done" and _doc(app, doc_id).attempts == attempt
    with rt.db.session() as s:
        s.execute(update(Document).where(Document.id == doc_id).values(status="processing", started_at=old))
    sweep_stuck(rt)
    doc = _doc(app, doc_id)
    assert (doc.status, doc.error_code) == ("error", "gave_up") and "3 回" in (doc.error_message or "")
    page = client.get(f"/clerk/cases/{case_id}").get_data(as_text=True)
    assert "3 回読み取りを試みましたが完了しませんでした" in page and 'id="retry-doc-' in page
    # the clerk tries again: read and done
    client.post(f"/clerk/documents/{doc_id}/retry", data={"csrf_token": token})
    doc = _doc(app, doc_id)
    assert doc.status == "done" and doc.attempts == 1
    assert _case_status(app, case_id) == "review"


def test_a_page_over_its_time_limit_is_given_up_with_the_reason(app: Flask, engine: FakeEngine,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    def too_slow(*_: Any) -> None:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(engine, "extract_file", lambda *a, **k: too_slow())
    engine.install(monkeypatch)
    client = app.test_client()
    token = login(client)
    case_id = client.post("/clerk/upload", data={"program": "shibukawa", "csrf_token": token,
                                                 "files": [(io.BytesIO(tiny_pdf()), "a.pdf")]},
                          content_type="multipart/form-data", headers={"Accept": "application/json"}).get_json()["cases"][0]
    with app.extensions["madoguchi"].db.session() as s:
        doc = s.get(Case, case_id).documents[0]
        assert (doc.status, doc.error_code) == ("error", "timeout")
        assert "制限時間" in doc.error_message
        assert s.get(Case, case_id).status == "error"
    assert "制限時間" in client.get(f"/clerk/cases/{case_id}").get_data(as_text=True)


def test_the_clerk_removes_a_document_uploaded_by_mistake(app: Flask, engine: FakeEngine) -> None:
    client = app.test_client()
    token = login(client)
    case_id = client.post("/clerk/upload", data={"program": "shibukawa", "csrf_token": token,
                                                 "files": [(io.BytesIO(tiny_pdf()), "a.pdf"),
                                                           (io.BytesIO(tiny_pdf(2)), "b.pdf")]},
                          content_type="multipart/form-data", headers={"Accept": "application/json"}).get_json()["cases"][0]
    rt = app.extensions["madoguchi"]
    with rt.db.session() as s:
        first, second = (d.id for d in s.get(Case, case_id).documents)
    resp = client.post(f"/clerk/documents/{second}/remove", data={"csrf_token": token})
    assert resp.status_code == 302
    with rt.db.session() as s:
        assert [d.id for d in s.get(Case, case_id).documents] == [first]
        events = [e.action for e in s.query(AuditEvent).filter(AuditEvent.object_id == str(second))]
        assert "document.remove" in events


def test_the_supervisor_restarts_a_dead_worker_but_not_in_a_tight_loop(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from web import serve

    started: list[subprocess.Popen[bytes]] = []

    def fake_start(settings: Any, spec: Any = None) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
        started.append(proc)
        return proc

    swept: list[Any] = []
    monkeypatch.setattr(serve, "start_worker", fake_start)
    monkeypatch.setattr(serve.Supervisor, "_sweep", lambda self, stale=None: swept.append(stale))
    settings = make_settings(tmp_path, worker_nice=10)
    specs = serve.worker_specs(settings)
    assert [(s.name, s.nice, dict(s.env).get("MADOGUCHI_BEAT")) for s in specs] == [("main", 0, None),
                                                                                    ("ocr", 10, "0")]
    sup = serve.Supervisor(settings, specs, burst=2)
    try:
        for spec in specs:
            sup.procs[spec.name] = fake_start(settings, spec)
        assert sup.check() == []
        for round_ in range(3):
            ocr = sup.procs["ocr"]
            ocr.kill()
            ocr.wait()
            restarted = sup.check()
            if round_ < 2:
                assert restarted == ["ocr"] and sup.procs["ocr"].poll() is None
            else:
                assert restarted == []  # twice in a minute is the limit: wait
        assert swept == [timedelta(0), timedelta(0)]  # what the dead reading worker read is read again
    finally:
        sup._stop.set()
        for proc in started:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
