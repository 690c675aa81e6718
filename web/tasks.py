"""Background work through Celery: reading uploads page by page, API jobs, notices.

By default the broker is Celery's filesystem transport (a directory in the data dir) and the
result store a SQLite file (``db+sqlite://``), so nothing else has to run; with
``CELERY_BROKER_URL=redis://…`` the same tasks run on workers on other machines that share the
database and the data directory.

A file of N pages is read as a chord: N ``process_page`` tasks (page image for the review
screen and the page's OCR, on whichever worker is free) and then ``assemble_document``, which
locates the fields, stores the records and runs the program's checks.

Logs name ids only: no file names, no field values.
"""

from __future__ import annotations

import logging
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from celery import Celery, chord, group, shared_task, signals
from sqlalchemy import and_, delete, or_, select, update

from forms.errors import MadoguchiError
from web import broker, services
from web.config import Settings
from web.db_session import Runtime
from web.models import (
    Case,
    Document,
    FindingRow,
    Job,
    Record,
    RecordField,
    Supplier,
    utcnow,
)

log = logging.getLogger("madoguchi.tasks")

JST = timezone(timedelta(hours=9), "JST")

#: The Celery application of this process, made by ``configure`` (tasks are shared tasks, so
#: they run on whichever application is current).
celery_app = Celery("madoguchi", set_as_current=False)
_runtime: Runtime | None = None


def configure(settings: Settings, rt: Runtime | None = None) -> Runtime:
    """A Celery application for ``settings``, made current, and the tasks' runtime (web
    process and worker alike). A new application each time: Celery caches its connections."""
    global _runtime, celery_app
    _runtime = rt or Runtime.from_settings(settings)
    conf: dict[str, Any] = {
        "broker_url": settings.broker_url,
        "result_backend": settings.result_backend,
        "broker_connection_retry_on_startup": True,
        "task_default_queue": settings.celery_queue,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_always_eager": settings.celery_eager,
        "task_eager_propagates": settings.celery_eager,
        "task_acks_late": True,
        # a task whose worker process died (killed, out of memory) goes back to the queue
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # reading scans (OCR) has its own queue, served by worker processes at lower priority
        "task_routes": {
            "madoguchi.process_page": {"queue": settings.celery_ocr_queue},
            "madoguchi.assemble_document": {"queue": settings.celery_ocr_queue},
            "madoguchi.reread_record": {"queue": settings.celery_ocr_queue},
            "madoguchi.api_finish": {"queue": settings.celery_ocr_queue},
        },
        "task_ignore_result": False,
        "result_expires": timedelta(days=1),
        "result_extended": False,
        "worker_hijack_root_logger": False,
        "database_create_tables_at_setup": True,
    }
    if settings.broker_url.startswith("filesystem"):
        folder = settings.broker_dir
        for sub in ("queue", "processed"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        conf["broker_transport"] = broker.TRANSPORT
        conf["broker_transport_options"] = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
            "polling_interval": 0.2,
        }
    else:
        # Redis gives an unacknowledged task to another worker after this long (a worker that
        # died whole); longer than any task may run, so a slow task is not read twice
        conf["broker_transport_options"] = {"visibility_timeout": settings.document_time_limit * 2 + 120}
    old = celery_app
    celery_app = Celery("madoguchi", set_as_current=True)
    celery_app.conf.update(conf)
    celery_app.set_default()
    old.close()
    _time_limits(settings)
    return _runtime


def runtime() -> Runtime:
    if _runtime is None:
        return configure(Settings())
    return _runtime


@signals.worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked worker process must not share the parent's database connections; one that
    reads scans yields the CPU to the web server and the API (``worker_nice``)."""
    if _runtime is not None:
        _runtime.db.engine.dispose(close=False)
    nice = int(os.environ.get("MADOGUCHI_PROCESS_NICE", "0") or 0)
    if nice > 0:
        os.nice(nice)


@signals.worker_ready.connect
def _sweep_on_start(**_: Any) -> None:
    """A worker (re)started: documents left stuck by the one before are read again."""
    try:
        sweep_stuck(runtime())
    except Exception:  # the sweep must never stop a worker from starting
        log.exception("sweep of stuck documents failed")


def today_jst() -> date:
    return datetime.now(JST).date()


# --- uploads ----------------------------------------------------------------------------


@shared_task(name="madoguchi.process_document")
def process_document(document_id: int) -> None:
    """Start reading an uploaded file: one task per page, then the assembly.

    Each start counts as an attempt; past ``task_max_retries`` more the document fails with
    its reason instead of being read again (a file that kills its worker every time).
    """
    rt = runtime()
    with rt.db.session() as s:
        doc = s.get(Document, document_id)
        if doc is None or doc.status == "done":
            return
        if doc.attempts > rt.settings.task_max_retries:
            doc.status, doc.error_code = "error", "gave_up"
            doc.error_message = f"{doc.attempts} 回読み取りを試みましたが完了しませんでした。"
            doc.processed_at = utcnow()
            case_id = doc.case_id
        else:
            case_id = None
            doc.status = "processing"
            doc.attempts += 1
            doc.started_at = utcnow()
            doc.error_code = doc.error_message = None
            doc.pages_done = 0
        pages = max(doc.pages, 1)
    if case_id is not None:
        recheck_case(rt, case_id)
        return
    log.info("document %s: %s page(s) queued", document_id, pages)
    if pages == 1 and rt.settings.celery_eager:
        process_page("document", document_id, 1)
        assemble_document(None, document_id)
        return
    if pages == 1:
        (process_page.si("document", document_id, 1) | assemble_document.s(document_id)).apply_async()
        return
    chord(
        group(process_page.si("document", document_id, n) for n in range(1, pages + 1)),
        assemble_document.s(document_id),
    ).apply_async()


def _stored_path(rt: Runtime, kind: str, obj_id: Any) -> tuple[Path, str]:
    with rt.db.session() as s:
        if kind == "document":
            doc = s.get(Document, obj_id)
            assert doc is not None
            kind_ = {v: k for k, v in services.MEDIA_TYPES.items()}.get(doc.media_type, "bin")
            return rt.storage.original_path(doc.sha256, kind_), doc.sha256
        job = s.get(Job, obj_id)
        assert job is not None
        return rt.storage.api_upload(job.id), job.sha256


@shared_task(name="madoguchi.process_page", bind=True)
def process_page(self: Any, kind: str, obj_id: Any, page: int) -> int:
    """Per-page work: the page image (documents) and the page's OCR, on any worker.

    A page that outlives its time limit is tried again (``task_max_retries``), then given up:
    the assembly reads what it can. Never raises otherwise, so a chord always completes.
    """
    from celery.exceptions import SoftTimeLimitExceeded

    rt = runtime()
    try:
        path, digest = _stored_path(rt, kind, obj_id)
        if kind == "document":
            out = rt.storage.page_image(digest, page)
            if not out.exists():
                try:
                    services.render_page_png(path, page, out, dpi=rt.settings.page_image_dpi)
                except services.ServiceUnavailable:
                    pass
        services.prepare_page(path, page)
    except SoftTimeLimitExceeded:
        retries = self.request.retries or 0
        log.warning("%s %s page %s: over its time limit (try %s)", kind, obj_id, page, retries + 1)
        if retries < rt.settings.task_max_retries and not rt.settings.celery_eager:
            raise self.retry(countdown=1, max_retries=rt.settings.task_max_retries) from None
    except MadoguchiError as exc:
        log.warning("%s %s page %s: %s", kind, obj_id, page, exc.code)
    except Exception:
        log.exception("%s %s page %s failed", kind, obj_id, page)
    model = Document if kind == "document" else Job
    with rt.db.session() as s:
        values: dict[str, Any] = {"pages_done": model.pages_done + 1}
        if kind == "document":
            values["started_at"] = utcnow()  # progress: the document is not stuck
        s.execute(update(model).where(model.id == obj_id).values(**values))
    return page


def _time_limits(settings: Settings) -> None:
    """Soft and hard time limits of the reading tasks, from the settings."""
    process_page.soft_time_limit = settings.page_time_limit
    process_page.time_limit = settings.page_time_limit + 30
    assemble_document.soft_time_limit = settings.document_time_limit
    assemble_document.time_limit = settings.document_time_limit + 30
    reread_record.soft_time_limit = settings.document_time_limit
    reread_record.time_limit = settings.document_time_limit + 30


def sweep_stuck(rt: Runtime, stale_after: timedelta | None = None) -> list[int]:
    """Documents whose reading made no progress for longer than the time limits allow (their
    worker died with the task, or the broker lost it) are queued again, or failed after the
    last attempt. Run when a worker starts and every minute by ``madoguchi serve``; when serve
    restarts a dead reading worker, with ``stale_after`` 0: what it was reading is lost."""
    limit = stale_after if stale_after is not None else timedelta(
        seconds=rt.settings.page_time_limit + rt.settings.document_time_limit + 60
    )
    cutoff = utcnow() - limit
    with rt.db.session() as s:
        stuck = list(
            s.scalars(
                select(Document.id).where(
                    Document.status.in_(("queued", "processing")),
                    or_(Document.started_at < cutoff, and_(Document.started_at.is_(None), Document.uploaded_at < cutoff)),
                )
            )
        )
    for doc_id in stuck:
        log.warning("document %s: no progress for %s s, queued again", doc_id, int(limit.total_seconds()))
        process_document.delay(doc_id)
    return stuck


@shared_task(name="madoguchi.assemble_document")
def assemble_document(_pages: Any, document_id: int) -> None:
    rt = runtime()
    with rt.db.session() as s:
        doc = s.get(Document, document_id)
        if doc is None:
            return
        case = doc.case
        path, _ = _stored_path(rt, "document", document_id)
        filename, program_id, case_id = doc.filename, case.program_id, case.id
    from celery.exceptions import SoftTimeLimitExceeded

    try:
        result = services.extract_file(path, filename, program=program_id)
    except SoftTimeLimitExceeded:
        minutes = max(1, rt.settings.document_time_limit // 60)
        _document_failed(rt, document_id, "timeout", f"読取が制限時間（{minutes} 分）内に終わりませんでした。")
    except MadoguchiError as exc:
        _document_failed(rt, document_id, exc.code, exc.message)
    except Exception as exc:
        log.exception("document %s: extraction failed", document_id)
        _document_failed(rt, document_id, "internal", f"内部エラー ({type(exc).__name__})")
    else:
        with rt.db.session() as s:
            doc = s.get(Document, document_id)
            assert doc is not None
            for old in list(doc.records):
                for f in old.fields:
                    s.delete(f)
                s.delete(old)
            for d in result.documents:
                rec = Record(document_id=document_id, form=d.form, first_page=d.first_page, pages=d.pages, text=d.text)
                s.add(rec)
                s.flush()
                _store_fields(s, rec, d.fields)
            doc.status = "done"
            doc.pages_done = doc.pages
            doc.processed_at = utcnow()
        log.info("document %s: %s record(s)", document_id, len(result.documents))
    recheck_case(rt, case_id)


def _store_fields(s: Any, rec: Record, fields: dict[str, Any]) -> None:
    for key, f in fields.items():
        s.add(
            RecordField(
                record_id=rec.id,
                key=key,
                value=f.value,
                extracted_value=f.value,
                confidence=f.confidence,
                page=f.page,
                bbox=list(f.bbox) if f.bbox else None,
                source=f.source,
                review=f.review,
                raw=f.raw,
            )
        )


@shared_task(name="madoguchi.reread_record")
def reread_record(record_id: int, form_id: str) -> None:
    """Read a record's pages again as the form a clerk named; its fields are replaced."""
    rt = runtime()
    with rt.db.session() as s:
        rec = s.get(Record, record_id)
        if rec is None:
            return
        doc = rec.document
        path, _ = _stored_path(rt, "document", doc.id)
        filename, first, pages, case_id = doc.filename, rec.first_page, rec.pages, doc.case_id
    try:
        result = services.extract_record_as(path, filename, form_id, first, pages)
    except MadoguchiError as exc:
        log.warning("record %s: reading as %s failed: %s", record_id, form_id, exc.code)
        result = None
    with rt.db.session() as s:
        rec = s.get(Record, record_id)
        assert rec is not None
        rec.form = form_id
        for old in list(rec.fields):
            for c in list(old.corrections):
                s.delete(c)
            s.delete(old)
        s.flush()
        if result is not None and result.documents:
            rec.text = None
            _store_fields(s, rec, result.documents[0].fields)
    recheck_case(rt, case_id)


def _document_failed(rt: Runtime, document_id: int, code: str, message: str) -> None:
    log.warning("document %s: %s", document_id, code)
    with rt.db.session() as s:
        doc = s.get(Document, document_id)
        if doc is not None:
            doc.status = "error"
            doc.error_code = code
            doc.error_message = message
            doc.processed_at = utcnow()


# --- the case: summary fields, checks, status ------------------------------------------

APPLICANT_KEYS = ("applicant_name", "store_name", "seller_name", "manufacturer_name", "taxpayer_name")
PRODUCT_KEYS = ("product_name", "store_name")


def case_documents(s: Any, case: Case) -> list[tuple[Record, dict[str, Any]]]:
    out = []
    for doc in case.documents:
        for rec in doc.records:
            out.append((rec, {f.key: f.value for f in rec.fields}))
    return out


def recheck_case(rt: Runtime, case_id: int) -> None:
    """Refresh the case after its documents or fields changed: summary, checks, status."""
    with rt.db.session() as s:
        case = s.get(Case, case_id)
        if case is None:
            return
        records = case_documents(s, case)
        main = next((v for r, v in records if r.form and r.form.endswith(".form1")), None)
        main = main or next((v for _, v in records if any(v.get(k) for k in APPLICANT_KEYS)), {})
        case.applicant_name = next((str(main[k]) for k in APPLICANT_KEYS if main.get(k)), "")[:200]
        case.product_name = next((str(main[k]) for k in PRODUCT_KEYS if main.get(k)), "")[:200]
        if case.applicant_name and case.supplier_id is None:
            supplier = s.scalar(select(Supplier).where(Supplier.name == case.applicant_name))
            if supplier is None:
                supplier = Supplier(
                    name=case.applicant_name,
                    address=str(main.get("applicant_address") or "")[:300],
                    representative=str(main.get("applicant_representative") or "")[:200],
                )
                s.add(supplier)
                s.flush()
            case.supplier_id = supplier.id
        pending = [d for d in case.documents if d.status in ("queued", "processing")]
        if pending or not case.documents:
            return
        try:
            outcome = services.run_checks(case.program_id, [(r.form, v) for r, v in records], today_jst())
        except services.ServiceUnavailable:
            outcome = None
        except MadoguchiError as exc:
            log.warning("case %s: checks failed: %s", case_id, exc.code)
            outcome = None
        if outcome is not None:
            s.execute(delete(FindingRow).where(FindingRow.case_id == case_id))
            for f in outcome.findings:
                s.add(
                    FindingRow(
                        case_id=case_id,
                        rule=f.rule,
                        status=f.status,
                        message=f.message,
                        clause=f.clause,
                        evidence=_jsonable(f.evidence),
                    )
                )
            case.decision_hint = outcome.decision
        if case.status in ("processing", "error"):
            ok = [d for d in case.documents if d.status == "done"]
            case.status = "review" if ok else "error"
        case.updated_at = utcnow()


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


# --- API jobs -----------------------------------------------------------------------------


@shared_task(name="madoguchi.api_extract")
def api_extract(job_id: str) -> None:
    rt = runtime()
    with rt.db.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            return
        job.status = "running"
        pages = max(job.pages, 1)
    if pages == 1:
        api_finish(None, job_id)
        return
    chord(
        group(process_page.si("job", job_id, n) for n in range(1, pages + 1)),
        api_finish.s(job_id),
    ).apply_async()


@shared_task(name="madoguchi.api_finish")
def api_finish(_pages: Any, job_id: str) -> None:
    rt = runtime()
    with rt.db.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            return
        filename, program = job.filename, job.program_id
    path = rt.storage.api_upload(job_id)
    status, result, code, message = "done", None, None, None
    try:
        result = services.extract_file(path, filename, program=program).model_dump(mode="json")
    except MadoguchiError as exc:
        status, code, message = "error", exc.code, exc.message
    except Exception as exc:
        log.exception("job %s failed", job_id)
        status, code, message = "error", "internal", f"internal error ({type(exc).__name__})"
    with rt.db.session() as s:
        job = s.get(Job, job_id)
        assert job is not None
        job.status, job.result, job.error_code, job.error_message = status, result, code, message
        job.pages_done = job.pages
        job.finished_at = utcnow()
        cutoff = utcnow() - timedelta(hours=rt.settings.job_retention_hours)
        s.execute(delete(Job).where(Job.finished_at < cutoff, Job.id != job_id))
    rt.storage.drop_api_upload(job_id)
    log.info("job %s: %s", job_id, status)


# --- notices ------------------------------------------------------------------------------


@shared_task(name="madoguchi.generate_notices")
def generate_notices(notice_ids: list[int]) -> None:
    """Render pending notices (DOCX and PDF) with numbers from the database sequence."""
    from web.decisions import render_notices

    render_notices(runtime(), notice_ids)


# --- mail in and out, retention (issue 25) --------------------------------------------------


@shared_task(name="madoguchi.poll_mailbox")
def poll_mailbox() -> int:
    """Read the mailbox (IMAP, or the inbox folder): each message a case or a queue entry."""
    from web.mail_intake import MailboxError, poll

    try:
        return len(poll(runtime()))
    except MailboxError as exc:
        log.warning("mailbox: %s", exc.code)
        return 0


@shared_task(name="madoguchi.send_notice_mail")
def send_notice_mail(outgoing_id: int) -> str:
    """Send a notice by e-mail with retries; the outcome is kept on the case."""
    from web.mail_outgoing import send

    return send(runtime(), outgoing_id)


@shared_task(name="madoguchi.purge_expired")
def purge_expired() -> dict[str, int]:
    """Destroy the personal data of cases past their program's retention period."""
    from web.retention import purge

    return purge(runtime(), today=today_jst()).counts


def beat_schedule(settings: Settings) -> dict[str, Any]:
    """The Celery beat schedule: the mailbox every ``mail_poll_seconds``, the purge daily."""
    from celery.schedules import crontab

    schedule: dict[str, Any] = {
        "purge-expired": {
            "task": "madoguchi.purge_expired",
            # beat's clock is UTC: the hour is given in JST
            "schedule": crontab(minute=17, hour=(settings.purge_hour - 9) % 24),
        },
    }
    if settings.mail_poll_seconds > 0:
        schedule["poll-mailbox"] = {"task": "madoguchi.poll_mailbox", "schedule": float(settings.mail_poll_seconds)}
    return schedule


@signals.worker_ready.connect
def _start_beat(sender: Any = None, **_: Any) -> None:
    """The worker ``madoguchi serve`` starts runs the beat schedule in a thread (no other
    process to run); a worker elsewhere does when ``MADOGUCHI_BEAT`` is on (the default)."""
    rt = runtime()
    if not rt.settings.beat or rt.settings.celery_eager:
        return
    from celery.beat import EmbeddedService

    celery_app.conf.beat_schedule = beat_schedule(rt.settings)
    celery_app.conf.beat_schedule_filename = str(rt.settings.data_path / "celerybeat-schedule")
    beat = EmbeddedService(celery_app, thread=True)
    beat.start()
    log.info("beat: started (%s entries)", len(celery_app.conf.beat_schedule))
