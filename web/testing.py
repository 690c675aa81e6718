"""Test helpers for the web layer: an application on a temporary data dir, and a stand-in for
the slow parts of the engine (OCR, LibreOffice) so that the web tests check the web layer
quickly. Uploads are still judged by the real ``extract.ingest``.

The stand-in behaves like the engine at the seam: it returns typed records with boxes and
confidences, and writes real files for notices.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from extract.result import DocumentResult, ExtractedField, ExtractionResult
from forms.findings import Finding
from web import services
from web.app import create_app
from web.config import Settings

ADMIN_PASSWORD = "admin-password-1"
PASSWORD = "correct horse battery"


def tiny_pdf(pages: int = 1) -> bytes:
    """A valid PDF of ``pages`` blank A4 pages with a line of text (made with reportlab)."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(595, 842))
    for n in range(pages):
        c.drawString(72, 72, f"page {n + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


def png_bytes(width: int = 40, height: int = 56) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class FakeEngine:
    """Records the calls the web layer makes, and answers like the engine would."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    decision: str = "needs_review"
    #: The return-ratio finding fails while the donation is under this amount.
    min_donation: int = 12000

    def result(self, name: str, pages: int = 1) -> ExtractionResult:
        fields = {
            "applicant_name": ExtractedField(value="株式会社テスト物産", confidence=0.96, page=1,
                                             bbox=[100, 120, 300, 140], source="ocr"),
            "product_name": ExtractedField(value="上州牛ハンバーグ", confidence=0.55, page=1, bbox=[100, 200, 320, 220],
                                           source="ocr", review=True, raw="上州牛ハンバ一グ"),
            "donation_amount": ExtractedField(value=10000, confidence=0.91, page=1,
                                              bbox=[100, 300, 200, 320], source="ocr"),
            "application_date": ExtractedField(value="2025-04-01", confidence=0.88, page=1,
                                               bbox=[400, 60, 520, 80], source="ocr"),
            "allergens_present": ExtractedField(value=True, confidence=0.97, page=1, source="ocr"),
            "allergens": ExtractedField(value=["卵", "乳"], confidence=0.8, page=1, source="ocr"),
        }
        doc = DocumentResult(file=name, sha256="0" * 64, form="shibukawa.form1", pages=pages, fields=fields)
        return ExtractionResult(documents=[doc])

    def extract_file(self, path: Path, name: str, program: str | None = None) -> ExtractionResult:
        assert path.exists(), path
        self.calls.append(("extract_file", name))
        return self.result(name)

    def extract_record_as(self, path: Path, name: str, form_id: str, first_page: int, pages: int) -> ExtractionResult:
        assert path.exists(), path
        self.calls.append(("extract_record_as", form_id))
        fields = {"applicant_name": ExtractedField(value="株式会社テスト物産", confidence=0.9, page=first_page,
                                                   bbox=[100, 120, 300, 140], source="ocr")}
        doc = DocumentResult(file=name, sha256="0" * 64, form=form_id, pages=pages, first_page=first_page,
                             fields=fields)
        return ExtractionResult(documents=[doc])

    def extract_bytes(self, name: str, data: bytes, program: str | None = None) -> ExtractionResult:
        self.calls.append(("extract_bytes", name))
        return self.result(name)

    def prepare_page(self, path: Path, page: int) -> None:
        self.calls.append(("prepare_page", page))

    def render_page_png(self, path: Path, page: int, out: Path, dpi: int) -> Path:
        self.calls.append(("render_page_png", page))
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (595 * dpi // 72, 842 * dpi // 72), "white").save(out)
        return out

    def run_checks(self, program: str, documents: list[tuple[str | None, dict[str, Any]]], today: date) -> Any:
        self.calls.append(("run_checks", documents))
        values = next((v for f, v in documents if f == "shibukawa.form1"), {})
        amount = values.get("donation_amount") or 0
        status = "pass" if amount >= self.min_donation else "fail"
        finding = Finding(rule="return_ratio", status=status, message=f"寄附金額 {amount} 円に対する返礼割合",
                          clause="004 7(2)", evidence={"donation_amount": amount})
        return services.CheckOutcome(decision="approve" if status == "pass" else "reject", findings=[finding])

    def render_notices(self, kind: str, program_id: str, records: list[dict[str, Any]], outdir: Path,
                       numbers: Any = None, issue_date: date | None = None) -> list[services.RenderedFiles]:
        self.calls.append(("render_notices", (kind, records)))
        given = records[0].get("document_number") if records else None
        number = numbers.next(program_id, 2025) if numbers is not None else 0
        if given:
            return self._files(kind, outdir, str(given))
        return self._files(kind, outdir, f"渋広第{number}号")

    def _files(self, kind: str, outdir: Path, doc_number: str) -> list[services.RenderedFiles]:
        outdir.mkdir(parents=True, exist_ok=True)
        files = {}
        for fmt in ("docx", "pdf"):
            path = outdir / f"{kind}.{fmt}"
            path.write_bytes(tiny_pdf() if fmt == "pdf" else b"PK\x03\x04 docx")
            files[fmt] = path
        return [services.RenderedFiles(kind=kind, files=files, doc_number=doc_number)]

    def publish_certificates(self, program_id: str, rows: list[dict[str, Any]], outdir: Path,
                             published: date) -> dict[str, Path]:
        self.calls.append(("publish", rows))
        outdir.mkdir(parents=True, exist_ok=True)
        html = outdir / "list.html"
        html.write_text("<table>" + "".join(f"<tr><td>{r['product_name']}</td></tr>" for r in rows) + "</table>")
        csv = outdir / "list.csv"
        csv.write_text("\ufeff商品名\n" + "".join(f"{r['product_name']}\n" for r in rows), encoding="utf-8")
        return {"html": html, "csv": csv}

    def blank_form(self, form: Any, fmt: str) -> bytes:
        return tiny_pdf() if fmt == "pdf" else b"PK\x03\x04 docx"

    def filled_pdf(self, form: Any, values: dict[str, Any]) -> bytes:
        self.calls.append(("filled_pdf", values))
        return tiny_pdf()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in ("extract_file", "extract_record_as", "extract_bytes", "prepare_page", "render_page_png", "run_checks",
                     "render_notices", "publish_certificates", "blank_form", "filled_pdf"):
            monkeypatch.setattr(services, name, getattr(self, name))

    def called(self, name: str) -> list[Any]:
        return [arg for n, arg in self.calls if n == name]


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "celery_eager": True,
        "cookie_secure": False,
        "admin_password": ADMIN_PASSWORD,
        "secret_key": "test-secret",
        "database_url": f"sqlite:///{tmp_path / 'var' / 'test.db'}",
        "celery_broker_url": "memory://",
        "celery_result_backend": "cache+memory://",
        "password_hash_method": "pbkdf2:sha256:1000",
        # the tests log in as the first account at once; test_web_security checks the default
        "admin_must_change_password": False,
    }
    values.update(overrides)
    return Settings.model_validate({}).model_copy(update=values)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    fake = FakeEngine()
    fake.install(monkeypatch)
    return fake


@pytest.fixture
def app(tmp_path: Path, engine: FakeEngine) -> Iterator[Flask]:
    application = create_app(make_settings(tmp_path))
    application.config["TESTING"] = True
    yield application
    application.extensions["madoguchi"].db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str = "admin", password: str = ADMIN_PASSWORD) -> str:
    """Log in through the form; returns a CSRF token valid for the session."""
    token = csrf_token(client)
    resp = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return csrf_token(client, "/clerk/")


def add_user(app: Flask, username: str, role: str, password: str = PASSWORD) -> int:
    from web.auth import create_user

    with app.extensions["madoguchi"].db.session() as s:
        return create_user(s, username, password, role).id


def add_token(app: Flask, username: str = "admin") -> str:
    from sqlalchemy import select

    from web.auth import issue_token
    from web.models import User

    with app.extensions["madoguchi"].db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        return issue_token(s, user, "test")


PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


def pg_reason() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=2):
            return None
    except Exception as exc:  # any failure means: no server to test against
        return f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"


def redis_reason() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return None
    except Exception as exc:  # any failure means: no server to test against
        return f"Redis not reachable at {REDIS_URL}: {type(exc).__name__}"


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A fresh schema in the PostgreSQL test database (skips when none answers), dropped afterwards."""
    import secrets

    from sqlalchemy import create_engine, text

    reason = pg_reason()
    if reason:
        pytest.skip(reason)
    schema = f"madoguchi_test_{secrets.token_hex(4)}"
    url = Settings.model_validate({}).model_copy(update={"database_url": PG_URL}).db_url
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(request: pytest.FixtureRequest, tmp_path: Path, engine: FakeEngine) -> Iterator[Flask]:
    """The application on SQLite, then on PostgreSQL."""
    overrides: dict[str, Any] = {}
    if request.param == "postgresql":
        overrides["database_url"] = request.getfixturevalue("pg_schema_url")
    application = create_app(make_settings(tmp_path, **overrides))
    application.config["TESTING"] = True
    yield application
    application.extensions["madoguchi"].db.dispose()
