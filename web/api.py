"""The extraction API (DESIGN 4.4): bearer tokens, JSON errors, jobs for large files."""

from __future__ import annotations

import copy
import functools
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request, url_for
from sqlalchemy import func, select

from forms.errors import InputError
from web import audit, services
from web.auth import token_from_request
from web.db_session import db_session, runtime
from web.errors import api_error
from web.models import Job
from web.storage import safe_name, sha256

bp = Blueprint("api", __name__)


class ResultCache:
    """Recent results by (content hash, program), in this process's memory only and for a few
    minutes: an integrating system that posts the same file again gets the same answer at once,
    and no personal data is kept on disk for it."""

    def __init__(self, maxsize: int = 256, ttl: float = 600.0) -> None:
        self.maxsize, self.ttl = maxsize, ttl
        self._items: OrderedDict[tuple[str, str | None], tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str | None]) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                self._items.pop(key, None)
                return None
            self._items.move_to_end(key)
            return copy.deepcopy(item[1])

    def put(self, key: tuple[str, str | None], value: dict[str, Any]) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, copy.deepcopy(value))
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)


results = ResultCache()


class RateLimiter:
    """A token bucket per API token, in this process's memory: ``per_minute`` requests a
    minute on average, as many at once. Answers how many seconds until the next is allowed."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, per_minute: int) -> float:
        """0 when a request may go now (and counts it), else the seconds to wait."""
        if per_minute <= 0:
            return 0.0
        now = time.monotonic()
        rate = per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate


class InFlight:
    """How many uploads this process is reading for the API right now (the queue limit)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def enter(self, limit: int) -> bool:
        with self._lock:
            if limit > 0 and self.count >= limit:
                return False
            self.count += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.count -= 1


limiter = RateLimiter()
in_flight = InFlight()


def token_required(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        s = db_session()
        token = token_from_request(s)
        if token is None:
            return api_error(
                401, "unauthorized", "a valid API token is required (Authorization: Bearer …)",
                **{"WWW-Authenticate": 'Bearer realm="madoguchi"'},
            )
        s.commit()
        g.api_token = token
        wait = limiter.take(token.token_hash, runtime().settings.api_rate_per_minute)
        if wait > 0:
            return api_error(429, "rate_limited", "too many requests for this token; retry later",
                             **{"Retry-After": str(max(1, math.ceil(wait)))})
        return fn(*args, **kwargs)

    return wrapper


def _busy(retry_after: int) -> Response:
    return api_error(503, "busy", "the service is reading as many documents as it can; retry later",
                     **{"Retry-After": str(retry_after)})


@bp.post("/extract")
@token_required
def extract() -> Any:
    rt = runtime()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return api_error(400, "missing_file", "send the document as the multipart field 'file'")
    program = request.form.get("program") or None
    if program is not None:
        services.get_program(program)  # 404 unknown_program
    name = safe_name(upload.filename)
    data = upload.read(rt.settings.max_upload_bytes + 1)
    if not data:
        raise InputError(f"{name}: the file is empty") from None
    digest = sha256(data)
    known = results.get((digest, program)) if len(data) <= rt.settings.max_upload_bytes else None
    if known is not None:  # these very bytes were checked and read a moment ago
        audit.record("api.extract", "file", digest, cached=True)
        return _answer(known, name)
    sniffed = services.sniff(data, name, rt.settings.max_upload_bytes, rt.settings.max_pages)
    audit.record("api.extract", "file", digest, pages=sniffed.pages)
    if sniffed.pages <= rt.settings.sync_max_pages and len(data) <= rt.settings.sync_max_bytes:
        if not in_flight.enter(rt.settings.api_queue_limit):
            return _busy(1)
        try:
            processes = rt.settings.api_processes or 0
            body = services.extract_bytes_parallel(name, data, program, processes).model_dump(mode="json")
        finally:
            in_flight.leave()
        results.put((digest, program), body)
        return _answer(body, name)
    s = db_session()
    waiting = s.scalar(select(func.count()).select_from(Job).where(Job.status.in_(("queued", "running")))) or 0
    if rt.settings.api_queue_limit > 0 and waiting >= rt.settings.api_queue_limit:
        return _busy(30)

    job = Job(
        id=secrets.token_hex(16),
        token_id=g.api_token.id,
        user_id=g.api_token.user_id,
        filename=name,
        sha256=digest,
        program_id=program,
        pages=sniffed.pages,
    )
    rt.storage.save_api_upload(job.id, data, sniffed.kind)
    s.add(job)
    s.commit()
    from web.tasks import api_extract

    api_extract.delay(job.id)
    url = url_for("api.job", job_id=job.id)
    resp = jsonify({"job": {"id": job.id, "status": job.status, "url": url, "pages": job.pages}})
    resp.status_code = 202
    resp.headers["Location"] = url
    return resp


def _answer(body: dict[str, Any], name: str) -> Response:
    for doc in body["documents"]:
        doc["file"] = name
    return jsonify(body)


@bp.get("/jobs/<job_id>")
@token_required
def job(job_id: str) -> Any:
    s = db_session()
    job = s.get(Job, job_id)
    if job is None or job.user_id != g.api_token.user_id:
        return api_error(404, "not_found", "no such job")
    body: dict[str, Any] = {
        "id": job.id,
        "status": job.status,
        "pages": job.pages,
        "pages_done": job.pages_done,
        "created_at": job.created_at.isoformat(),
    }
    if job.status == "done":
        audit.record("api.job.result", "job", job.id)
        body["result"] = job.result
    elif job.status == "error":
        body["error"] = {"code": job.error_code, "message": job.error_message}
    return jsonify(body)


@bp.get("/openapi.json")
def openapi() -> Response:
    from web.openapi import openapi_document

    return jsonify(openapi_document())
