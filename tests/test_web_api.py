# ruff: noqa: F401, F811  -- pytest fixtures imported from web.testing are used as test arguments
"""The extraction API (DESIGN 4.4) through the test client."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from web.models import AuditEvent, Job
from web import services
from web.testing import FakeEngine, add_token, app, client, engine, make_settings, png_bytes, tiny_pdf


def _post(client: FlaskClient, token: str | None, data: bytes | None, name: str = "scan.pdf", **form: str):  # type: ignore[no-untyped-def]
    payload: dict[str, object] = dict(form)
    if data is not None:
        payload["file"] = (io.BytesIO(data), name)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/v1/extract", data=payload, headers=headers, content_type="multipart/form-data")


def _assert_error(resp, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.is_json
    body = resp.get_json()
    assert body["error"]["code"] == code and body["error"]["message"]


def test_token_is_required(app: Flask, client: FlaskClient) -> None:
    resp = _post(client, None, tiny_pdf())
    _assert_error(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    _assert_error(_post(client, "mdg_wrong", tiny_pdf()), 401, "unauthorized")


def test_revoked_token_is_refused(app: Flask, client: FlaskClient) -> None:
    from web.models import ApiToken

    token = add_token(app)
    assert _post(client, token, tiny_pdf()).status_code == 200
    with app.extensions["madoguchi"].db.session() as s:
        for t in s.scalars(select(ApiToken)):
            t.revoked = True
    _assert_error(_post(client, token, tiny_pdf()), 401, "unauthorized")


def test_one_page_answers_at_once_with_the_result(app: Flask, client: FlaskClient, engine: FakeEngine) -> None:
    from web import api

    api.results._items.clear()
    token = add_token(app)
    resp = _post(client, token, tiny_pdf(), program="shibukawa")
    assert resp.status_code == 200
    doc = resp.get_json()["documents"][0]
    assert doc["file"] == "scan.pdf" and doc["form"] == "shibukawa.form1"
    field = doc["fields"]["donation_amount"]
    assert field == {"value": 10000, "confidence": 0.91, "page": 1, "bbox": [100.0, 300.0, 200.0, 320.0],
                     "source": "ocr", "review": False, "raw": None}
    with app.extensions["madoguchi"].db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "api.extract"))
        assert event is not None and event.token_id is not None and event.user_id is not None


def test_the_same_file_again_is_answered_from_memory(app: Flask, client: FlaskClient, engine: FakeEngine) -> None:
    from web import api

    api.results._items.clear()
    token = add_token(app)
    pdf = tiny_pdf()
    first = _post(client, token, pdf, "a.pdf").get_json()
    second = _post(client, token, pdf, "b.pdf").get_json()
    assert engine.called("extract_bytes") == ["a.pdf"]
    assert second["documents"][0]["file"] == "b.pdf"
    assert second["documents"][0]["fields"] == first["documents"][0]["fields"]
    _post(client, token, pdf, "c.pdf", program="shibukawa")  # another program: read again
    _post(client, token, tiny_pdf(2)[:-1] + b"\n", "d.pdf")  # other bytes: read again
    assert engine.called("extract_bytes") == ["a.pdf", "c.pdf", "d.pdf"]


def test_multi_page_becomes_a_job(app: Flask, client: FlaskClient, engine: FakeEngine) -> None:
    token = add_token(app)
    resp = _post(client, token, tiny_pdf(5))
    assert resp.status_code == 202
    job = resp.get_json()["job"]
    assert resp.headers["Location"] == job["url"] == f"/api/v1/jobs/{job['id']}"
    assert job["pages"] == 5
    # the test runs Celery eagerly: the job is done when the answer comes back
    status = client.get(job["url"], headers={"Authorization": f"Bearer {token}"})
    body = status.get_json()
    assert body["status"] == "done" and body["pages_done"] == 5
    assert body["result"]["documents"][0]["fields"]["applicant_name"]["value"] == "株式会社テスト物産"
    assert sorted(engine.called("prepare_page")) == [1, 2, 3, 4, 5]
    # the upload is not kept once the job is done
    assert not (app.extensions["madoguchi"].storage.root / "api" / job["id"]).exists()


def test_old_job_results_are_deleted(app: Flask, client: FlaskClient) -> None:
    app.extensions["madoguchi"].settings.__dict__["job_retention_hours"] = 0
    token = add_token(app)
    first = _post(client, token, tiny_pdf(3)).get_json()["job"]
    second = _post(client, token, tiny_pdf(4)).get_json()["job"]
    headers = {"Authorization": f"Bearer {token}"}
    _assert_error(client.get(first["url"], headers=headers), 404, "not_found")
    assert client.get(second["url"], headers=headers).get_json()["status"] == "done"


def test_jobs_are_visible_only_to_their_account(app: Flask, client: FlaskClient) -> None:
    from web.testing import add_user

    token = add_token(app)
    add_user(app, "other", "clerk")
    other = add_token(app, "other")
    job = _post(client, token, tiny_pdf(3)).get_json()["job"]
    _assert_error(client.get(job["url"], headers={"Authorization": f"Bearer {other}"}), 404, "not_found")
    _assert_error(client.get("/api/v1/jobs/nope", headers={"Authorization": f"Bearer {token}"}), 404, "not_found")
    _assert_error(client.get(job["url"]), 401, "unauthorized")


def test_failed_job_reports_its_error(app: Flask, client: FlaskClient, engine: FakeEngine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from forms.errors import CorruptFile
    from web import services

    def broken(path, name, program=None):  # type: ignore[no-untyped-def]
        raise CorruptFile(f"{name}: the PDF is damaged")

    monkeypatch.setattr(services, "extract_file", broken)
    token = add_token(app)
    job = _post(client, token, tiny_pdf(3)).get_json()["job"]
    body = client.get(job["url"], headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["status"] == "error"
    assert body["error"] == {"code": "corrupt_file", "message": "scan.pdf: the PDF is damaged"}


def test_bad_input_gets_json_errors(app: Flask, client: FlaskClient) -> None:
    token = add_token(app)
    _assert_error(_post(client, token, None), 400, "missing_file")
    _assert_error(_post(client, token, b"plain text, not a document", "a.pdf"), 415, "unsupported_type")
    _assert_error(_post(client, token, b"", "a.pdf"), 422, "bad_input")
    _assert_error(_post(client, token, tiny_pdf(), program="atlantis"), 404, "unknown_program")


def test_size_and_page_limits(app: Flask, client: FlaskClient) -> None:
    settings = app.extensions["madoguchi"].settings
    settings.__dict__["max_pages"] = 4
    token = add_token(app)
    _assert_error(_post(client, token, tiny_pdf(5)), 413, "too_many_pages")
    settings.__dict__["max_upload_bytes"] = 1000
    _assert_error(_post(client, token, png_bytes(400, 400) + b"\0" * 2000, "big.png"), 413, "too_large")
    # a body over the server's own limit is refused before it is read, as JSON too
    app.config["MAX_CONTENT_LENGTH"] = 5000
    _assert_error(_post(client, token, b"%PDF" + b"\0" * 10000), 413, "too_large")


def test_openapi_document(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/extract", "/jobs/{id}"}
    assert set(doc["paths"]["/extract"]["post"]["responses"]) >= {"200", "202", "401", "413", "415", "422"}
    schemas = doc["components"]["schemas"]
    record = schemas["fields.shibukawa.form1"]
    assert "donation_amount" in record["properties"]
    assert "integer (yen)" in record["properties"]["donation_amount"]["description"]
    assert record["properties"]["carriers"]["$ref"] == "#/components/schemas/ExtractedField"
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "shibukawa" in doc["paths"]["/extract"]["post"]["requestBody"]["content"]["multipart/form-data"][
        "schema"]["properties"]["program"]["enum"]


def test_api_needs_no_csrf_token_but_no_cookie_works_either(app: Flask, client: FlaskClient) -> None:
    from web.testing import login

    login(client)  # a logged-in browser session is not an API credential
    _assert_error(_post(client, None, tiny_pdf()), 401, "unauthorized")


def test_job_row_keeps_the_hash_and_the_result(app: Flask, client: FlaskClient) -> None:
    import hashlib

    token = add_token(app)
    pdf = tiny_pdf(3)
    _post(client, token, pdf, program="shibukawa")
    with app.extensions["madoguchi"].db.session() as s:
        job = s.scalar(select(Job))
        assert job is not None and job.status == "done" and job.finished_at is not None
        assert job.sha256 == hashlib.sha256(pdf).hexdigest() and job.program_id == "shibukawa"
        assert job.result["documents"][0]["form"] == "shibukawa.form1"


def test_a_token_over_its_rate_limit_gets_429_with_retry_after(tmp_path: Path, engine: FakeEngine) -> None:
    from web.app import create_app

    app = create_app(make_settings(tmp_path, api_rate_per_minute=3))
    client = app.test_client()
    token, other = add_token(app), add_token(app)

    def post(tok: str, n: int) -> Any:
        return client.post("/api/v1/extract", data={"file": (io.BytesIO(tiny_pdf() + f"%{n}".encode()), "a.pdf")},
                           headers={"Authorization": f"Bearer {tok}"}, content_type="multipart/form-data")

    assert [post(token, n).status_code for n in range(3)] == [200, 200, 200]
    refused = post(token, 3)
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 20
    assert post(other, 9).status_code == 200  # per token: another token is not held back
    app.extensions["madoguchi"].db.dispose()


def test_the_queue_limit_answers_503_with_retry_after(tmp_path: Path, engine: FakeEngine,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from web import api
    from web.app import create_app

    app = create_app(make_settings(tmp_path, api_queue_limit=2))
    token = add_token(app)
    inside = threading.Barrier(3)
    release = threading.Event()
    real = engine.extract_bytes

    def slow(name: str, data: bytes, program: str | None = None) -> Any:
        inside.wait(10)
        release.wait(10)
        return real(name, data, program)

    monkeypatch.setattr(services, "extract_bytes", slow)
    codes: list[int] = []

    def post(n: int) -> None:
        resp = app.test_client().post(
            "/api/v1/extract", data={"file": (io.BytesIO(tiny_pdf() + f"%{n}".encode()), "a.pdf")},
            headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")
        codes.append(resp.status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    inside.wait(10)  # two uploads are being read
    busy = app.test_client().post("/api/v1/extract", data={"file": (io.BytesIO(tiny_pdf() + b"%x"), "a.pdf")},
                                  headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")
    release.set()
    for t in threads:
        t.join(10)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    assert busy.get_json()["error"]["code"] == "busy"
    assert sorted(codes) == [200, 200] and api.in_flight.count == 0
    app.extensions["madoguchi"].db.dispose()
