# ruff: noqa: F401, F811  -- pytest fixtures imported from web.testing are used as test arguments
"""Every declared field is editable, read or not; a value can be confirmed as well as corrected;
a clerk can say what a document is and have it read again as that form."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from web.decisions import warnings_for
from web.models import AuditEvent, Case, FieldCorrection, Record, RecordField
from web.testing import PASSWORD, FakeEngine, add_user, any_db_app, app, client, engine, login, pg_schema_url, tiny_pdf


def _case(client: FlaskClient, token: str) -> int:
    resp = client.post("/clerk/upload", data={"program": "shibukawa", "csrf_token": token,
                                              "files": [(io.BytesIO(tiny_pdf()), "a.pdf")]},
                       content_type="multipart/form-data", headers={"Accept": "application/json"})
    case_id: int = resp.get_json()["cases"][0]
    return case_id


def _record_id(app: Flask, case_id: int) -> int:
    with app.extensions["madoguchi"].db.session() as s:
        return s.get(Case, case_id).documents[0].records[0].id


def _fields(app: Flask, record_id: int) -> dict[str, RecordField]:
    with app.extensions["madoguchi"].db.session() as s:
        fields = {f.key: f for f in s.get(Record, record_id).fields}
        for f in fields.values():
            s.expunge(f)
        return fields


def test_fields_not_read_are_shown_and_can_be_typed_in(any_db_app: Flask) -> None:
    app = any_db_app
    client = app.test_client()
    token = login(client)
    record_id = _record_id(app, _case(client, token))
    page = client.get(f"/clerk/records/{record_id}").get_data(as_text=True)
    # the reading found six fields; the address, the contact's phone … are there to type in
    assert 'name="f.applicant_address"' in page and 'name="f.contact_phone"' in page
    assert page.count("未読取") >= 25
    assert "applicant_address" not in _fields(app, record_id)
    resp = client.post(f"/clerk/records/{record_id}", data={
        "csrf_token": token, "f.applicant_address": "群馬県渋川市石原80", "f.contact_phone": "0279-22-2111",
        "f.contact_fax": "", "present.contact_fax": "1"})
    assert resp.status_code == 302
    fields = _fields(app, record_id)
    assert fields["applicant_address"].value == "群馬県渋川市石原80"
    assert fields["applicant_address"].source == "clerk" and fields["applicant_address"].corrected
    assert fields["applicant_address"].extracted_value is None
    assert "contact_fax" not in fields  # left empty: nothing made up
    with app.extensions["madoguchi"].db.session() as s:
        history = list(s.scalars(select(FieldCorrection).where(FieldCorrection.field_id == fields["applicant_address"].id)))
        assert [(h.old_value, h.new_value) for h in history] == [(None, "群馬県渋川市石原80")]
    # a bad value for an unread field is refused with its message, the typed text kept
    bad = client.post(f"/clerk/records/{record_id}", data={"csrf_token": token, "f.applicant_postal_code": "37７-8"})
    assert bad.status_code == 422 and "郵便番号は7桁" in bad.get_data(as_text=True)
    assert 'name="f.applicant_postal_code" id="f-applicant_postal_code" value="37７-8"' in bad.get_data(as_text=True)


def test_a_field_is_confirmed_as_well_as_corrected(any_db_app: Flask) -> None:
    app = any_db_app
    client = app.test_client()
    token = login(client)
    case_id = _case(client, token)
    record_id = _record_id(app, case_id)
    with app.extensions["madoguchi"].db.session() as s:
        assert warnings_for(s.get(Case, case_id)).fields == [f"{record_id}:product_name"]
    page = client.get(f"/clerk/records/{record_id}").get_data(as_text=True)
    assert 'id="confirm-product_name"' in page and "⚠ 要確認" in page
    client.post(f"/clerk/records/{record_id}", data={
        "csrf_token": token, "f.product_name": "上州牛ハンバーグ", "present.product_name": "1", "confirm": "product_name"})
    field = _fields(app, record_id)["product_name"]
    assert field.confirmed_at is not None and field.value == "上州牛ハンバーグ" and not field.corrected
    with app.extensions["madoguchi"].db.session() as s:
        assert warnings_for(s.get(Case, case_id)).fields == []
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "record.confirm"))
        assert event.detail["keys"] == ["product_name"]
    assert "✔ 確認済み" in client.get(f"/clerk/records/{record_id}").get_data(as_text=True)


def test_the_clerk_sets_a_documents_form_and_it_is_read_again(app: Flask, client: FlaskClient,
                                                              engine: FakeEngine) -> None:
    token = login(client)
    case_id = _case(client, token)
    record_id = _record_id(app, case_id)
    assert client.post(f"/clerk/records/{record_id}/form",
                       data={"csrf_token": token, "form": "gunma_mask.form1"}).status_code == 400
    resp = client.post(f"/clerk/records/{record_id}/form", data={"csrf_token": token, "form": "shibukawa.form2"})
    assert resp.status_code == 302
    assert engine.called("extract_record_as") == ["shibukawa.form2"]
    with app.extensions["madoguchi"].db.session() as s:
        record = s.get(Record, record_id)
        assert record.form == "shibukawa.form2"
        assert [f.key for f in record.fields] == ["applicant_name"]
        assert s.get(Case, case_id).status == "review"
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "record.set_form"))
        assert (event.detail["form"], event.detail["was"]) == ("shibukawa.form2", "shibukawa.form1")
    page = client.get(f"/clerk/records/{record_id}").get_data(as_text=True)
    assert "付加価値の割合についての証明書" in page
    assert 'name="f.value_added_percent"' in page and 'name="f.donation_amount"' not in page


def test_a_decided_case_is_locked_until_its_decision_is_undone(app: Flask, client: FlaskClient) -> None:
    token = login(client)
    case_id = _case(client, token)
    record_id = _record_id(app, case_id)
    add_user(app, "kessai", "approver")
    approver = app.test_client()
    atoken = login(approver, "kessai", PASSWORD)
    approver.post(f"/clerk/cases/{case_id}/decide", data={"csrf_token": atoken, "outcome": "reject",
                                                          "reasons": "書類不備"})
    client.post(f"/clerk/records/{record_id}", data={"csrf_token": token, "f.applicant_address": "渋川市"})
    assert "applicant_address" not in _fields(app, record_id)
    approver.post(f"/clerk/cases/{case_id}/undo", data={"csrf_token": atoken, "reason": "住所の記入漏れを補うため"})
    client.post(f"/clerk/records/{record_id}", data={"csrf_token": token, "f.applicant_address": "渋川市"})
    assert _fields(app, record_id)["applicant_address"].value == "渋川市"
