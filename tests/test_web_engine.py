"""The web layer over the real engine (no stand-ins): a text-layer application read, shown with
its page image, approved, and its 承認書 rendered by LibreOffice; a supplier's filled PDF."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader

from web.app import create_app
from web.models import Case
from web.testing import PASSWORD, add_user, csrf_token, login, make_settings

GOLDEN = Path(__file__).resolve().parent.parent / "samples" / "golden" / "form1_wagyu.pdf"

pytestmark = pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftoppm") is None, reason="LibreOffice or poppler missing"
)


@pytest.fixture
def real_app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(make_settings(tmp_path))
    yield app
    app.extensions["madoguchi"].db.dispose()


def _fetch(client, path: str):  # type: ignore[no-untyped-def]
    resp = client.get(path)
    resp.get_data()
    resp.close()
    return resp


def test_application_read_reviewed_approved_with_a_real_notice(real_app: Flask) -> None:
    client = real_app.test_client()
    token = login(client)
    resp = client.post("/clerk/upload", data={"program": "shibukawa", "csrf_token": token,
                                              "files": [(io.BytesIO(GOLDEN.read_bytes()), "wagyu.pdf")]},
                       content_type="multipart/form-data", headers={"Accept": "application/json"})
    case_id = resp.get_json()["cases"][0]
    db = real_app.extensions["madoguchi"].db
    with db.session() as s:
        case = s.get(Case, case_id)
        assert case.status == "review", [d.error_message for d in case.documents]
        assert case.applicant_name.replace(" ", "") == "株式会社渋川フーズ"
        record = case.documents[0].records[0]
        assert record.form == "shibukawa.form1"
        values = {f.key: f.value for f in record.fields}
        assert values["donation_amount"] == 12000 and values["carriers"] == ["japan_post", "yamato"]
        assert {f.rule for f in case.findings} >= {"return_ratio", "required_fields"}
        record_id, doc_id = record.id, case.documents[0].id
    page = client.get(f"/clerk/records/{record_id}").get_data(as_text=True)
    assert 'data-key="donation_amount"' in page and "<rect" in page
    png = _fetch(client, f"/clerk/documents/{doc_id}/pages/1.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")

    add_user(real_app, "kessai", "approver")
    approver = real_app.test_client()
    atoken = login(approver, "kessai", PASSWORD)
    approver.post(f"/clerk/cases/{case_id}/decide", data={"csrf_token": atoken, "outcome": "approve"})
    with db.session() as s:
        notice = s.get(Case, case_id).notices[0]
        assert notice.status == "done", notice.error_message
        assert notice.doc_number and notice.doc_number.startswith("渋広第")
        notice_id = notice.id
    pdf = _fetch(client, f"/clerk/notices/{notice_id}.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).replace(" ", "")
    assert "渋川フーズ" in text and "上州和牛すき焼きセット" in text and "承認" in text


def test_supplier_fills_the_form_and_gets_a_pdf_with_the_values(real_app: Flask) -> None:
    client = real_app.test_client()
    token = csrf_token(client, "/forms/shibukawa.form6/fill")
    resp = client.post("/forms/shibukawa.form6/fill", data={
        "csrf_token": token, "f.application_date": "2026-04-01", "f.applicant_address": "群馬県渋川市石原80番地",
        "f.applicant_name": "株式会社 渋川フーズ", "f.applicant_representative": "代表取締役 渋川 太郎",
        "f.product_name": "上州和牛すき焼きセット", "f.withdrawal_reason": "原材料の調達が困難となったため",
        "f.withdrawal_date": "2026-06-01"})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    fields = PdfReader(io.BytesIO(resp.data)).get_fields() or {}
    values = {str(v.get("/V")) for v in fields.values() if v.get("/V")}
    assert "株式会社 渋川フーズ" in values and "上州和牛すき焼きセット" in values
