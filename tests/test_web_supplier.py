# ruff: noqa: F401, F811  -- pytest fixtures imported from web.testing are used as test arguments
"""Supplier pages, no login: programs, blank forms, the web form that gives back a filled PDF."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from web.testing import FakeEngine, app, client, csrf_token, engine


def test_programs_and_their_forms(client: FlaskClient) -> None:
    home = client.get("/").get_data(as_text=True)
    for name in ("渋川市", "/programs/shibukawa"):
        assert name in home
    page = client.get("/programs/shibukawa").get_data(as_text=True)
    assert "/forms/shibukawa.form1.docx" in page and "/forms/shibukawa.form1.pdf" in page
    assert "/forms/shibukawa.form1/fill" in page
    assert "tax_certificate" not in page  # issued by others: no blank form
    assert client.get("/programs/atlantis").status_code == 404


def test_blank_forms_download(client: FlaskClient) -> None:
    resp = client.get("/forms/shibukawa.form1.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert 'filename=shibukawa.form1.pdf' in resp.headers["Content-Disposition"]
    assert client.get("/forms/shibukawa.form1.docx").data.startswith(b"PK")
    assert client.get("/forms/shibukawa.form1.exe").status_code == 404
    assert client.get("/forms/tax_certificate.pdf").status_code == 404
    assert client.get("/forms/nothing.pdf").status_code == 404


def test_web_form_is_built_from_the_catalogue(client: FlaskClient) -> None:
    html = client.get("/forms/shibukawa.form1/fill").get_data(as_text=True)
    from forms.catalogue import get_form

    form = get_form("shibukawa.form1")
    for f in form.fields():
        names = [f"f.{f.key}.{n}" for n in range(1, f.blanks() + 1)] if f.guide else [f"f.{f.key}"]
        for name in names:
            assert f'name="{name}"' in html, name
    assert 'type="date"' in html and 'value="yamato"' in html and 'value="りんご"' in html
    assert html.count('name="f.allergens"') == 28


def _fld(html: str, marker: str) -> str:
    """The markup of the one field (div.fld) that holds ``marker``."""
    blocks = [b for b in html.split('<div class="fld') if marker in b]
    assert len(blocks) == 1, marker
    return blocks[0].split("</div>")[0]


def _text(markup: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", markup))


def test_web_form_prints_the_lines_of_seed_004(client: FlaskClient) -> None:
    """Issue 23: rows 9-10 時期限定（　頃～　頃）, row 17 梱包重量　kg　サイズ, ウェブサイト 有／無."""
    html = client.get("/forms/shibukawa.form1/fill").get_data(as_text=True)
    for key in ("supply_period_detail", "acceptance_period_detail"):
        block = _fld(html, f'name="f.{key}.1"')
        assert 'name="f.' + key + '.2"' in block
        # the inputs stand where the blanks are: （[ ]頃～[ ]頃）
        assert re.sub(r"<input[^>]*>", "[]", block).count("[]") == 2
        assert "（[]頃～[]頃）" in _text(re.sub(r"<input[^>]*>", "[]", block))
        assert "例 4月上旬頃～8月下旬頃" in block
    package = _fld(html, 'name="f.package_size_weight.1"')
    assert "梱包重量[]kg[]サイズ" in _text(re.sub(r"<input[^>]*>", "[]", package))
    assert "例 梱包重量1.2kg" in package
    website = _fld(html, 'name="f.contact_website_present"')
    assert "ウェブサイト" in website and "ウェブサイトURL" not in website
    assert re.search(r'<input type="radio" name="f.contact_website_present" value="true"\s*> 有</label>', website)
    assert re.search(r'<input type="radio" name="f.contact_website_present" value="false"\s*> 無</label>', website)


def test_guided_inputs_make_one_value_and_come_back_as_typed(client: FlaskClient, engine: FakeEngine) -> None:
    token = csrf_token(client, "/forms/shibukawa.form1/fill")
    typed = {"f.supply_period": "limited", "f.supply_period_detail.1": "４月上旬", "f.supply_period_detail.2": "8月下旬",
             "f.package_size_weight.1": "1.2", "f.package_size_weight.2": "60", "f.contact_website_present": "false"}
    resp = client.post("/forms/shibukawa.form1/fill", data={**REQUIRED, **typed, "csrf_token": token})
    assert resp.status_code == 200
    values = engine.called("filled_pdf")[0]
    assert values["supply_period_detail"] == "4月上旬頃~8月下旬頃"  # NFKC, as the reader gives it
    assert values["package_size_weight"] == "梱包重量1.2kg 60サイズ"
    assert values["contact_website_present"] is False
    assert "acceptance_period_detail" not in values  # both blanks left empty: no value
    # shown again with an error elsewhere, each blank keeps what was typed in it
    resp = client.post("/forms/shibukawa.form1/fill", data={**typed, "csrf_token": token})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'name="f.supply_period_detail.1" value="4月上旬"' in html
    assert 'name="f.supply_period_detail.2" value="8月下旬"' in html
    assert 'name="f.package_size_weight.2" value="60"' in html
    assert re.search(r'value="false" checked\s*> 無', html)


REQUIRED = {
    "f.application_date": "2025-04-01", "f.applicant_postal_code": "3778501", "f.applicant_address": "渋川市石原80",
    "f.applicant_name": "株式会社 見本", "f.applicant_representative": "代表取締役 見本 太郎",
    "f.product_name_kana": "ミホン", "f.product_name": "見本セット", "f.product_spec": "500g",
    "f.product_description": "見本です", "f.donation_amount": "１２,０００", "f.gift_price_excl_tax": "3000",
    "f.gift_price_incl_tax": "3240", "f.ingredients_origin": "in_city", "f.manufacturing_place": "in_city",
    "f.supply_period": "year_round", "f.acceptance_period": "year_round", "f.carriers": ["yamato", "sagawa"],
    "f.temperature": "frozen", "f.allergens_present": "true", "f.contact_person": "見本",
    "f.contact_phone": "0279-22-2396",
}


def test_submission_gives_the_filled_pdf_and_keeps_nothing(app: Flask, client: FlaskClient, engine: FakeEngine) -> None:
    token = csrf_token(client, "/forms/shibukawa.form1/fill")
    resp = client.post("/forms/shibukawa.form1/fill", data={**REQUIRED, "csrf_token": token, "f.allergens": ["卵"]})
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF")
    values = engine.called("filled_pdf")[0]
    assert values["applicant_name"] == "株式会社 見本"
    assert values["donation_amount"] == 12000
    assert values["carriers"] == ["yamato", "sagawa"] and values["allergens_present"] is True
    assert values["applicant_postal_code"] == "377-8501" and values["temperature"] == "frozen"
    assert "retail_price_excl_tax" not in values  # empty fields are left out
    with app.extensions["madoguchi"].db.session() as s:
        from sqlalchemy import func, select

        from web.models import AuditEvent, Case, Supplier

        assert s.scalar(select(func.count()).select_from(Case)) == 0
        assert s.scalar(select(func.count()).select_from(Supplier)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_invalid_values_are_shown_again_with_messages(client: FlaskClient, engine: FakeEngine) -> None:
    token = csrf_token(client, "/forms/shibukawa.form1/fill")
    resp = client.post("/forms/shibukawa.form1/fill", data={
        "csrf_token": token, "f.applicant_name": "株式会社 見本", "f.donation_amount": "たくさん",
        "f.contact_email": "not-an-address", "f.temperature": "boiling"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "数字で入力してください" in html and "メールアドレス" in html and "選択肢にない値です" in html
    assert "必須の項目です" in html  # product_name and the other required fields were left empty
    assert re.search(r'name="f.applicant_name" value="株式会社 見本"', html)  # what was typed is kept
    assert engine.called("filled_pdf") == []


def test_web_form_needs_csrf(client: FlaskClient) -> None:
    assert client.post("/forms/shibukawa.form1/fill", data={"f.applicant_name": "x"}).status_code == 400


def test_each_kind_of_bad_value_gets_a_clear_japanese_message_and_the_typed_text_back(
        client: FlaskClient, engine: FakeEngine) -> None:
    token = csrf_token(client, "/forms/shibukawa.form1/fill")
    bad = {"f.applicant_postal_code": "37785", "f.contact_phone": "12-34", "f.contact_email": "info@@example",
           "f.donation_amount": "-5000", "f.gift_price_excl_tax": "三千円", "f.contact_website_url": "example.jp",
           "f.contact_fax": "0279-22-2396"}
    resp = client.post("/forms/shibukawa.form1/fill", data={**REQUIRED, **bad, "csrf_token": token})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    for message in ("郵便番号は7桁", "電話番号は市外局番から", "メールアドレスの形式ではありません", "0以上の数で入力してください",
                    "数字で入力してください", "https:// から入力してください"):
        assert message in html, message
    for name, typed in bad.items():  # every value comes back as it was typed, the good one too
        assert f'name="{name}" value="{typed}"' in html, name
    assert "入力に誤りがあります（6 件）" in html
    assert engine.called("filled_pdf") == []


def test_good_values_in_other_writings_are_accepted(client: FlaskClient, engine: FakeEngine) -> None:
    token = csrf_token(client, "/forms/shibukawa.form1/fill")
    good = {"f.contact_phone": "０２７９（２２）２３９６", "f.contact_email": "ｉｎｆｏ@example.jp",
            "f.donation_amount": "12,000円", "f.contact_website_url": "https://example.jp/shop"}
    resp = client.post("/forms/shibukawa.form1/fill", data={**REQUIRED, **good, "csrf_token": token})
    assert resp.status_code == 200
    values = engine.called("filled_pdf")[0]
    assert values["contact_email"] == "info@example.jp" and values["donation_amount"] == 12000

