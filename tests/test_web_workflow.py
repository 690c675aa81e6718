# ruff: noqa: F401, F811  -- pytest fixtures imported from web.testing are used as test arguments
"""The clerk's workflow through the test client: upload, progress, review, correct, decide,
notices, follow-ups, publication; files served only to those allowed; the audit trail."""

from __future__ import annotations

import io
import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from web.models import AuditEvent, Case, Document, FieldCorrection, RecordField
from web.testing import (
    PASSWORD,
    FakeEngine,
    add_user,
    app,
    client,
    engine,
    login,
    png_bytes,
    tiny_pdf,
)


def _db(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["madoguchi"].db.session()


def _upload(client: FlaskClient, token: str, files: list[tuple[bytes, str]], **extra: str):  # type: ignore[no-untyped-def]
    data = {"program": "shibukawa", "csrf_token": token, **extra}
    data["files"] = [(io.BytesIO(b), name) for b, name in files]  # type: ignore[assignment]
    return client.post("/clerk/upload", data=data, content_type="multipart/form-data",
                       headers={"Accept": "application/json"})


def fetch(client: FlaskClient, path: str):  # type: ignore[no-untyped-def]
    """GET a file and close the response (send_file keeps the file open until then)."""
    resp = client.get(path)
    resp.get_data()
    resp.close()
    return resp


def _audit(app: Flask, action: str) -> list[AuditEvent]:
    with _db(app) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def approver(app: Flask) -> FlaskClient:
    add_user(app, "kessai", "approver")
    c = app.test_client()
    c.token = login(c, "kessai", PASSWORD)  # type: ignore[attr-defined]
    return c


def test_upload_is_processed_in_the_background_and_stored_untouched(
    app: Flask, client: FlaskClient, engine: FakeEngine
) -> None:
    token = login(client)
    pdf = tiny_pdf(3)
    resp = _upload(client, token, [(pdf, "申請書.pdf"), (png_bytes(), "tax.png")])
    assert resp.status_code == 200
    body = resp.get_json()
    assert len(body["cases"]) == 1 and body["errors"] == []
    case_id = body["cases"][0]
    with _db(app) as s:
        case = s.get(Case, case_id)
        assert case.status == "review"
        assert case.applicant_name == "株式会社テスト物産"
        assert case.product_name == "上州牛ハンバーグ"
        assert case.decision_hint == "reject"
        docs = case.documents
        assert [d.pages for d in docs] == [3, 1]
        assert all(d.status == "done" and d.pages_done == d.pages for d in docs)
        rt = app.extensions["madoguchi"]
        stored = rt.storage.original_path(docs[0].sha256, "pdf")
        assert stored.read_bytes() == pdf and stored.stat().st_mode & 0o222 == 0
        assert not str(stored).startswith(str(app.static_folder))
    # the 3-page file was read page by page (a chord), then assembled once
    assert sorted(engine.called("prepare_page")) == [1, 1, 2, 3]
    assert len(engine.called("extract_file")) == 2
    progress = client.get(f"/clerk/cases/{case_id}/progress").get_json()
    assert progress["done"] is True and progress["status"] == "review"
    assert [d["pages_done"] for d in progress["documents"]] == [3, 1]
    page = client.get(f"/clerk/cases/{case_id}").get_data(as_text=True)
    assert "申請書.pdf" in page and "004 7(2)" in page and "不適合" in page
    assert len(_audit(app, "document.upload")) == 2


def test_upload_checks_content_not_name(app: Flask, client: FlaskClient) -> None:
    token = login(client)
    resp = _upload(client, token, [(b"MZ\x90\x00 not a document", "scan.pdf")])
    assert resp.status_code == 422
    assert "scan.pdf" in resp.get_json()["errors"][0]
    with _db(app) as s:
        assert s.scalar(select(Case)) is None
    # a good file beside a bad one: the good one is taken, the bad one reported
    resp = _upload(client, token, [(tiny_pdf(), "a.pdf"), (b"", "empty.pdf"), (b"GIF89a", "b.pdf")])
    body = resp.get_json()
    assert resp.status_code == 200 and len(body["cases"]) == 1 and len(body["errors"]) == 2


def test_upload_limits(app: Flask, client: FlaskClient) -> None:
    app.extensions["madoguchi"].settings.__dict__["max_pages"] = 2
    token = login(client)
    resp = _upload(client, token, [(tiny_pdf(3), "long.pdf")])
    assert resp.status_code == 422
    assert "3 pages" in resp.get_json()["errors"][0]


def test_separate_cases_and_plain_form_post(app: Flask, client: FlaskClient) -> None:
    token = login(client)
    resp = _upload(client, token, [(tiny_pdf(), "a.pdf"), (tiny_pdf(), "b.pdf")], separate="1")
    assert len(resp.get_json()["cases"]) == 2
    # without JavaScript the form posts normally and is redirected
    data = {"program": "shibukawa", "csrf_token": token, "files": [(io.BytesIO(tiny_pdf()), "c.pdf")]}
    resp = client.post("/clerk/upload", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302 and re.match(r"/clerk/cases/\d+$", resp.headers["Location"])


def _field(app: Flask, case_id: int, key: str) -> RecordField:
    with _db(app) as s:
        case = s.get(Case, case_id)
        rec = case.documents[0].records[0]
        return next(f for f in rec.fields if f.key == key)


def test_review_lists_low_confidence_first_and_corrections_keep_history(
    app: Flask, client: FlaskClient, engine: FakeEngine
) -> None:
    token = login(client)
    case_id = _upload(client, token, [(tiny_pdf(), "a.pdf")]).get_json()["cases"][0]
    record_id = _field(app, case_id, "product_name").record_id
    html = client.get(f"/clerk/records/{record_id}").get_data(as_text=True)
    order = re.findall(r'<tr class="field[^"]*" data-key="([a-z_]+)"', html)
    assert order[0] == "product_name"  # marked for review
    assert order.index("donation_amount") < order.index("applicant_name")  # 0.91 before 0.96
    assert 'class="field low"' in html
    assert re.search(r'<rect class="box low" data-key="product_name" x="100.0"', html)
    assert "/clerk/documents/" in html and "pages/1.png" in html
    assert len(_audit(app, "record.view")) == 1

    resp = client.post(f"/clerk/records/{record_id}", data={
        "csrf_token": token, "f.donation_amount": "１２，０００円", "present.donation_amount": "1",
        "f.product_name": "上州牛ハンバーグ", "present.product_name": "1",
        "present.allergens": "1", "f.allergens": ["卵", "小麦"],
    })
    assert resp.status_code == 302
    amount = _field(app, case_id, "donation_amount")
    assert amount.value == 12000 and amount.extracted_value == 10000 and amount.corrected
    assert _field(app, case_id, "product_name").corrected is False  # unchanged
    assert _field(app, case_id, "allergens").value == ["卵", "小麦"]
    with _db(app) as s:
        hist = list(s.scalars(select(FieldCorrection).order_by(FieldCorrection.id)))
        assert [(h.old_value, h.new_value) for h in hist] == [(10000, 12000), (["卵", "乳"], ["卵", "小麦"])]
        case = s.get(Case, case_id)
        assert case.decision_hint == "approve"  # the checks ran again on the corrected value
        assert [f.status for f in case.findings] == ["pass"]
    html = client.get(f"/clerk/records/{record_id}").get_data(as_text=True)
    assert "修正履歴 1 件" in html and "10,000 → 12,000" in html
    events = _audit(app, "record.correct")
    assert events[0].detail == {"keys": ["donation_amount", "allergens"]}

    bad = client.post(f"/clerk/records/{record_id}", data={
        "csrf_token": token, "f.donation_amount": "一万", "present.donation_amount": "1",
        "f.application_date": "2025-13-40", "present.application_date": "1"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "数字で入力してください" in text and "YYYY-MM-DD" in text
    assert _field(app, case_id, "donation_amount").value == 12000


def test_decision_by_approver_produces_numbered_notices(
    app: Flask, client: FlaskClient, approver: FlaskClient, engine: FakeEngine
) -> None:
    token = login(client)
    case_id = _upload(client, token, [(tiny_pdf(), "a.pdf")]).get_json()["cases"][0]
    # the clerk sees no decision form, the approver does
    assert 'id="decide-form"' not in client.get(f"/clerk/cases/{case_id}").get_data(as_text=True)
    assert 'id="decide-form"' in approver.get(f"/clerk/cases/{case_id}").get_data(as_text=True)
    decide = {"csrf_token": approver.token, "outcome": "approve_with_conditions",
              "conditions": "パッケージに原産地を表示すること"}
    # findings not met and a field marked for review: the approver is asked to confirm, nothing is decided
    warned = approver.post(f"/clerk/cases/{case_id}/decide", data=decide)
    assert warned.status_code == 409
    page = warned.get_data(as_text=True)
    assert 'id="confirm-warnings"' in page and "004 7(2)" in page and "パッケージに原産地を表示すること" in page
    with _db(app) as s:
        assert s.get(Case, case_id).status == "review" and not s.get(Case, case_id).notices
    resp = approver.post(f"/clerk/cases/{case_id}/decide", data={**decide, "confirm": "1"})
    assert resp.status_code == 302
    with _db(app) as s:
        case = s.get(Case, case_id)
        assert case.status == "approved_with_conditions"
        notice = case.notices[0]
        assert notice.kind == "approval" and notice.status == "done" and notice.doc_number == "渋広第1号"
        notice_id = notice.id
        # what the approver confirmed is recorded with the decision
        assert case.decisions[0].acknowledged["findings"][0]["clause"] == "004 7(2)"
        assert case.decisions[0].acknowledged["fields"] == [f"{case.documents[0].records[0].id}:product_name"]
    kind, records = engine.called("render_notices")[0]
    assert kind == "approval"
    assert records[0]["conditions"] == ["パッケージに原産地を表示すること"]
    assert records[0]["applicant_name"] == "株式会社テスト物産"
    pdf = fetch(client, f"/clerk/notices/{notice_id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert fetch(client, f"/clerk/notices/{notice_id}.docx").data.startswith(b"PK")
    assert len(_audit(app, "notice.download")) == 2
    # a decided case is not decided again, nor corrected
    again = approver.post(f"/clerk/cases/{case_id}/decide",
                          data={"csrf_token": approver.token, "outcome": "reject", "reasons": "返礼割合"})
    assert again.status_code == 409 and "すでに決定" in again.get_data(as_text=True)
    with _db(app) as s:
        assert len(s.get(Case, case_id).decisions) == 1

    # the next notice of the program takes the next number
    case2 = _upload(client, token, [(tiny_pdf(), "b.pdf")]).get_json()["cases"][0]
    # rejecting asks for a reason
    no_reason = approver.post(f"/clerk/cases/{case2}/decide", data={"csrf_token": approver.token, "outcome": "reject"})
    assert no_reason.status_code == 400 and "理由を入力" in no_reason.get_data(as_text=True)
    approver.post(f"/clerk/cases/{case2}/decide", data={"csrf_token": approver.token, "outcome": "reject",
                                                        "reasons": "返礼割合が3割を超える（004 7(2)）"})
    with _db(app) as s:
        n = s.get(Case, case2).notices[0]
        assert (n.kind, n.doc_number, s.get(Case, case2).status) == ("rejection", "渋広第2号", "rejected")
    rejection = engine.called("render_notices")[1][1][0]
    assert rejection["reasons"] == ["返礼割合が3割を超える（004 7(2)）"]
    assert rejection["findings"] == [{"rule": "return_ratio", "status": "fail",
                                      "message": "寄附金額 10000 円に対する返礼割合", "clause": "004 7(2)"}]


def test_conditions_are_required_for_conditional_approval(
    app: Flask, client: FlaskClient, approver: FlaskClient
) -> None:
    token = login(client)
    case_id = _upload(client, token, [(tiny_pdf(), "a.pdf")]).get_json()["cases"][0]
    approver.post(f"/clerk/cases/{case_id}/decide",
                  data={"csrf_token": approver.token, "outcome": "approve_with_conditions"})
    with _db(app) as s:
        assert s.get(Case, case_id).status == "review"


def test_withdrawal_and_change_follow_an_approved_case(
    app: Flask, client: FlaskClient, approver: FlaskClient, engine: FakeEngine
) -> None:
    token = login(client)
    case_id = _upload(client, token, [(tiny_pdf(), "a.pdf")]).get_json()["cases"][0]
    approver.post(f"/clerk/cases/{case_id}/decide", data={"csrf_token": approver.token, "outcome": "approve", "confirm": "1"})
    # a pre-filled withdrawal form for the supplier
    client.post(f"/clerk/cases/{case_id}/supplier-form", data={"csrf_token": token, "kind": "withdrawal"})
    assert engine.called("render_notices")[-1][0] == "withdrawal"
    # a change application uploaded against the case, approved: 取扱変更通知書
    page = client.get(f"/clerk/cases/{case_id}/followup?kind=change")
    assert page.status_code == 200 and 'name="parent"' in page.get_data(as_text=True)
    change = _upload(client, token, [(tiny_pdf(), "form5.pdf")], kind="change",
                     parent=str(case_id)).get_json()["cases"][0]
    approver.post(f"/clerk/cases/{change}/decide", data={"csrf_token": approver.token, "outcome": "approve", "confirm": "1"})
    assert engine.called("render_notices")[-1][0] == "change_notice"
    # a withdrawal accepted: the original case is withdrawn
    wd = _upload(client, token, [(tiny_pdf(), "form6.pdf")], kind="withdrawal",
                 parent=str(case_id)).get_json()["cases"][0]
    approver.post(f"/clerk/cases/{wd}/decide", data={"csrf_token": approver.token, "outcome": "approve", "confirm": "1"})
    with _db(app) as s:
        assert s.get(Case, wd).status == "withdrawn"
        assert s.get(Case, case_id).status == "withdrawn"
        assert s.get(Case, change).kind == "change" and s.get(Case, change).parent_id == case_id


def test_dashboard_counts_and_search(app: Flask, client: FlaskClient) -> None:
    token = login(client)
    _upload(client, token, [(tiny_pdf(), "a.pdf"), (tiny_pdf(), "b.pdf")], separate="1")
    html = client.get("/clerk/?status=review").get_data(as_text=True)
    assert html.count("株式会社テスト物産") == 2
    assert re.search(r"確認待ち <span class=\"count\">2</span>", html)
    assert "株式会社テスト物産" in client.get("/clerk/?q=テスト物産").get_data(as_text=True)
    assert "株式会社テスト物産" in client.get("/clerk/?q=ハンバーグ").get_data(as_text=True)
    assert "案件はありません" in client.get("/clerk/?q=存在しない会社").get_data(as_text=True)
    assert "案件はありません" in client.get("/clerk/?status=rejected").get_data(as_text=True)
    listed = _audit(app, "case.list")
    assert listed and all("テスト" not in str(e.detail) for e in listed)


def test_files_are_served_only_to_logged_in_clerks(app: Flask, client: FlaskClient) -> None:
    token = login(client)
    case_id = _upload(client, token, [(tiny_pdf(), "a.pdf")]).get_json()["cases"][0]
    with _db(app) as s:
        doc_id = s.scalar(select(Document.id).where(Document.case_id == case_id))
    assert fetch(client, f"/clerk/documents/{doc_id}/original").data.startswith(b"%PDF")
    png = fetch(client, f"/clerk/documents/{doc_id}/pages/1.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    assert client.get(f"/clerk/documents/{doc_id}/pages/9.png").status_code == 404
    anonymous = app.test_client()
    for path in (f"/clerk/documents/{doc_id}/original", f"/clerk/documents/{doc_id}/pages/1.png"):
        assert anonymous.get(path).status_code == 302
    # nothing under the data directory is reachable as a static file
    assert anonymous.get("/static/../var/madoguchi.db").status_code == 404
    assert len(_audit(app, "page.view")) == 1 and len(_audit(app, "document.download")) == 1


def test_publication_of_value_added_certificates(
    app: Flask, client: FlaskClient, approver: FlaskClient, engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from extract.result import DocumentResult, ExtractedField

    original = engine.result

    def with_form2(name: str, pages: int = 1):  # type: ignore[no-untyped-def]
        result = original(name, pages)
        result.documents.append(DocumentResult(file=name, sha256="0" * 64, form="shibukawa.form2", pages=1, fields={
            "product_name": ExtractedField(value="上州牛ハンバーグ", confidence=0.9, source="ocr"),
            "percentage": ExtractedField(value=62.5, confidence=0.9, source="ocr"),
        }))
        return result

    monkeypatch.setattr(engine, "result", with_form2)
    token = login(client)
    case_id = _upload(client, token, [(tiny_pdf(2), "a.pdf")]).get_json()["cases"][0]
    approver.post(f"/clerk/cases/{case_id}/decide", data={"csrf_token": approver.token, "outcome": "approve", "confirm": "1"})
    html = client.get("/clerk/certificates").get_data(as_text=True)
    assert "上州牛ハンバーグ" in html and "62.5%" in html
    clerk_publish = client.post("/clerk/certificates/publish", data={"csrf_token": token, "program": "shibukawa"})
    assert clerk_publish.status_code == 403
    approver.post("/clerk/certificates/publish", data={"csrf_token": approver.token, "program": "shibukawa"})
    rows = engine.called("publish")[0]
    assert rows[0]["percentage"] == 62.5 and rows[0]["municipality"] == "渋川市"
    public = fetch(app.test_client(), "/published/shibukawa")
    assert public.status_code == 200 and "上州牛ハンバーグ" in public.get_data(as_text=True)
    assert "sandbox" in public.headers["Content-Security-Policy"]


def test_no_personal_data_in_the_application_log(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = login(client)
    case_id = _upload(client, token, [(tiny_pdf(2), "山田太郎の申請書.pdf")]).get_json()["cases"][0]
    record_id = _field(app, case_id, "product_name").record_id
    client.post(f"/clerk/records/{record_id}", data={
        "csrf_token": token, "f.applicant_name": "山田商店", "present.applicant_name": "1"})
    client.get(f"/clerk/cases/{case_id}")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "audit" in logged  # the log is written …
    for secret in ("山田", "テスト物産", "ハンバーグ"):
        assert secret not in logged  # … with ids only
    # the donation amount as a number of its own (a task's run time such as 0.0548319120007 s
    # may hold the same digits: regression for a test that failed on a timing line)
    assert not re.search(r"(?<![0-9.])12,?000(?![0-9])", logged)
