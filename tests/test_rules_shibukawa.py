"""Shibukawa pack (seed 004): every rule with a passing and a failing case, figures worked out."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from forms.checks import Case, CaseDocument, CheckReport, run_checks
from forms.findings import Finding

TODAY = date(2025, 6, 2)


def form1(**changes: Any) -> CaseDocument:
    fields: dict[str, Any] = dict(
        application_date="2025-06-01", applicant_postal_code="377-8501", applicant_address="群馬県渋川市石原80番地",
        applicant_name="株式会社渋川フーズ", applicant_representative="代表取締役 渋川太郎",
        product_name_kana="シブカワミソ", product_name="渋川みそ", product_spec="500g×2",
        product_description="渋川産大豆の手造り味噌", donation_amount=12000, gift_price_excl_tax=3334,
        gift_price_incl_tax=3600, retail_price_excl_tax=2000, retail_price_incl_tax=2160,
        ingredients_origin="in_city", manufacturing_place="in_city", supply_period="year_round",
        acceptance_period="year_round", carriers=["yamato"], temperature="ambient", allergens_present=True,
        allergens=["大豆"], best_before="製造日から180日", shipping_timing="申込み後1週間以内",
        contact_person="渋川花子", contact_phone="0279-22-0000",
    )  # fmt: skip
    fields.update(changes)
    return CaseDocument(form="shibukawa.form1", fields={k: v for k, v in fields.items() if v is not None})


def form2(**changes: Any) -> CaseDocument:
    fields: dict[str, Any] = dict(
        certificate_date="2025-05-20", manufacturer_address="前橋市大手町1-1-1", manufacturer_name="上州製造株式会社",
        manufacturer_representative="代表取締役 上州一郎", product_name="渋川みそ", value_added_percent=51.0,
        method="standard", procurement_cost_a=10000, outside_cost_b=4900, manufacturing_place="群馬県前橋市",
        general_retail_price=2160,
    )  # fmt: skip
    fields.update(changes)
    return CaseDocument(form="shibukawa.form2", fields={k: v for k, v in fields.items() if v is not None})


def tax_certificate(**changes: Any) -> CaseDocument:
    fields: dict[str, Any] = dict(taxpayer_name="(株)渋川フーズ", taxpayer_address="渋川市石原８０",
                                  issue_date="2025-05-20", no_arrears=True, unpaid_amount=0, issuer="渋川市長")  # fmt: skip
    fields.update(changes)
    return CaseDocument(form="tax_certificate", fields={k: v for k, v in fields.items() if v is not None})


def check(*docs: CaseDocument, today: date = TODAY) -> CheckReport:
    return run_checks(Case(program="shibukawa", documents=list(docs), today=today))


def only(report: CheckReport, rule: str) -> Finding:
    found = [f for f in report.findings if f.rule == rule]
    assert len(found) == 1, found
    return found[0]


def test_a_complete_application_is_approved_and_every_finding_cites_004() -> None:
    report = check(form1(), tax_certificate())
    assert report.decision == "approve", [f for f in report.findings if f.status != "pass"]
    assert all(f.clause.startswith("004 ") for f in report.findings)
    assert {f.rule for f in report.findings} >= {
        "return_ratio", "tax_consistency", "local_product", "shelf_life", "required_fields",
        "allergen_consistency", "applicant_location", "tax_arrears", "notice_period", "registration_expiry",
        "tax_certificate_applicant", "tax_certificate_recent", "value_added_certificate_product",
    }  # fmt: skip


# --- return_ratio (004 7(2)) ---------------------------------------------------------------


def test_return_ratio_exactly_30_percent_passes() -> None:
    f = only(check(form1(donation_amount=12000, gift_price_incl_tax=3600, gift_price_excl_tax=3334)), "return_ratio")
    # 3,600 / 12,000 = 0.30 exactly: at the limit, allowed ("30% 以下").
    assert f.status == "pass" and f.clause == "004 7(2)"
    assert f.evidence["ratio_percent"] == 30.0 and f.evidence["max_price"] == 3600


def test_return_ratio_over_30_percent_fails() -> None:
    f = only(check(form1(gift_price_incl_tax=3610, gift_price_excl_tax=3343)), "return_ratio")
    # 3,610 / 12,000 = 30.08%.
    assert f.status == "fail"
    assert f.evidence["ratio_percent"] == 30.08
    assert "3,600円" in f.message


def test_return_ratio_on_a_change_application_uses_the_new_prices() -> None:
    change = CaseDocument(form="shibukawa.form5", fields=dict(
        application_date="2025-06-01", applicant_address="渋川市石原80", applicant_name="株式会社渋川フーズ",
        applicant_representative="代表 渋川太郎", original_approval_date="2024-05-01", product_name="渋川みそ",
        new_donation_amount=15000, new_gift_price_incl_tax=4500))  # fmt: skip
    assert [f.status for f in check(change).findings if f.rule == "return_ratio"] == ["pass"]  # 4,500 = 30% of 15,000
    change.fields["new_gift_price_incl_tax"] = 4600  # 30.67%
    assert [f.status for f in check(change).findings if f.rule == "return_ratio"] == ["fail"]


def test_a_missing_donation_gives_a_warning_naming_the_field_not_an_exception() -> None:
    f = only(check(form1(donation_amount=None)), "return_ratio")
    assert f.status == "warn"
    assert "寄附金額" in f.message and f.evidence["missing"] == "donation_amount"


# --- tax_consistency (004 7(2)) ---------------------------------------------------------------


def test_tax_consistency_at_8_and_10_percent_passes() -> None:
    report = check(form1(gift_price_excl_tax=3334, gift_price_incl_tax=3600))  # 3,334 × 1.08 = 3,600.72
    gift, retail = [f for f in report.findings if f.rule == "tax_consistency"]
    assert gift.status == "pass" and gift.evidence["rate_percent"] == 8
    assert retail.status == "pass" and retail.clause == "004 様式第1号 6"  # 2,000 × 1.08 = 2,160
    report = check(form1(gift_price_excl_tax=3000, gift_price_incl_tax=3300))  # 3,000 × 1.10 = 3,300
    assert [f.evidence.get("rate_percent") for f in report.findings if f.rule == "tax_consistency"][0] == 10


def test_tax_consistency_fails_when_neither_rate_fits() -> None:
    report = check(form1(gift_price_excl_tax=3000, gift_price_incl_tax=3000))
    gift = [f for f in report.findings if f.rule == "tax_consistency"][0]
    assert gift.status == "fail"
    assert gift.evidence["expected_8"] == 3240 and gift.evidence["expected_10"] == 3300


def test_tax_consistency_between_the_rates_is_a_warning() -> None:
    report = check(form1(gift_price_excl_tax=3000, gift_price_incl_tax=3270))  # 9%: food with a taxed box?
    assert [f.status for f in report.findings if f.rule == "tax_consistency"][0] == "warn"


# --- local_product (004 7(1)ウ) and 様式第2号 ----------------------------------------------------


def test_local_product_ingredients_in_the_city_pass() -> None:
    f = only(check(form1()), "local_product")
    assert f.status == "pass" and f.clause == "004 7(1)ウ(イ)"


def test_local_product_outside_without_certificate_fails() -> None:
    f = only(check(form1(ingredients_origin="outside", manufacturing_place="outside")), "local_product")
    assert f.status == "fail" and "様式第2号" in f.message


def test_value_added_51_percent_recomputed_passes() -> None:
    # (10,000 − 4,900) / 10,000 × 100 = 51.0 > 50, equal to the stated 51.0.
    f = only(check(form1(ingredients_origin="outside", manufacturing_place="outside"), form2()), "local_product")
    assert f.status == "pass" and f.clause == "004 7(1)ウ(ウ)"
    assert f.evidence["computed_percent"] == 51.0


def test_value_added_of_exactly_half_fails() -> None:
    # (10,000 − 5,000) / 10,000 = 50.0: not more than half (過半).
    doc = form2(outside_cost_b=5000, value_added_percent=50)
    f = only(check(form1(ingredients_origin="outside", manufacturing_place="outside"), doc), "local_product")
    assert f.status == "fail" and "過半" in f.message


def test_value_added_that_does_not_match_the_stated_percentage_fails() -> None:
    # (10,000 − 4,000) / 10,000 = 60.0 but 65 is stated.
    doc = form2(outside_cost_b=4000, value_added_percent=65)
    f = only(check(form1(ingredients_origin="outside", manufacturing_place="outside"), doc), "local_product")
    assert f.status == "fail" and "一致しません" in f.message and f.evidence["difference"] == 5.0


def test_value_added_within_the_tolerance_passes() -> None:
    doc = form2(outside_cost_b=4000, value_added_percent=60.1)  # 60.0 computed, 0.1 apart
    f = only(check(form1(ingredients_origin="outside", manufacturing_place="outside"), doc), "local_product")
    assert f.status == "pass"
    doc = form2(outside_cost_b=4000, value_added_percent=60.2)
    assert only(check(form1(ingredients_origin="outside", manufacturing_place="outside"), doc), "local_product").status == "fail"


def test_value_added_by_another_method_needs_review() -> None:
    doc = form2(method="other", value_added_percent=55, procurement_cost_a=None, outside_cost_b=None)
    f = only(check(form1(ingredients_origin="outside", manufacturing_place="outside"), doc), "local_product")
    assert f.status == "warn"


def test_certificate_for_the_same_product_passes_and_for_another_fails() -> None:
    assert only(check(form1(), form2(product_name="渋川みそ 500g×2")), "value_added_certificate_product").status == "pass"
    f = only(check(form1(), form2(product_name="伊香保温泉まんじゅう")), "value_added_certificate_product")
    assert f.status == "fail" and f.evidence["score"] < 60
    # A set named after the product may be another product: 渋川みそ / 渋川みそセット = 2·4/11 = 72.7.
    f = only(check(form1(), form2(product_name="渋川みそセット")), "value_added_certificate_product")
    assert f.status == "warn" and f.evidence["score"] == 72.7


# --- shelf_life (004 7(1)イ) ---------------------------------------------------------------------


def test_shelf_life_30_days_shipped_within_a_week_passes() -> None:
    f = only(check(form1(best_before="製造日から30日", shipping_timing="申込み後1週間以内")), "shelf_life")
    # 30 − 7 (shipping) − 2 (transit) = 21 days left ≥ 5.
    assert f.status == "pass" and f.evidence["days_left_on_arrival"] == 21


def test_shelf_life_7_days_shipped_within_a_week_warns() -> None:
    f = only(check(form1(best_before="製造日から7日", shipping_timing="申込み後1週間以内")), "shelf_life")
    # 7 − 7 − 2 = −2 days: short.
    assert f.status == "warn" and f.evidence["days_left_on_arrival"] == -2


def test_shelf_life_stated_on_arrival_is_used_as_it_is() -> None:
    assert only(check(form1(best_before="到着後5日")), "shelf_life").status == "pass"
    assert only(check(form1(best_before="到着後3日")), "shelf_life").status == "warn"


def test_shelf_life_fresh_goods_are_excepted() -> None:
    f = only(check(form1(product_description="朝採れ野菜の詰め合わせ", best_before="到着後2日")), "shelf_life")
    assert f.status == "not_applicable" and "生鮮" in f.message


def test_shelf_life_of_non_food_is_not_applicable_but_food_without_a_date_warns() -> None:
    non_food = form1(best_before="なし", allergens_present=False, allergens=[], temperature="ambient")
    assert only(check(non_food), "shelf_life").status == "not_applicable"
    assert only(check(form1(best_before=None, temperature="frozen")), "shelf_life").status == "warn"
    assert only(check(form1(best_before="お早めにお召し上がりください")), "shelf_life").status == "warn"


# --- required_fields --------------------------------------------------------------------------


def test_required_fields_all_present_pass_and_missing_ones_fail_by_label() -> None:
    assert only(check(form1(allergens_present=False, allergens=[])), "required_fields").status == "pass"
    f = only(check(form1(product_name=None, carriers=[])), "required_fields")
    assert f.status == "fail"
    assert f.evidence["missing"] == ["product_name", "carriers"]
    assert "「商品名」" in f.message and "「運送便」" in f.message


# --- allergen_consistency ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("present", "ticked", "status"),
    [
        (True, ["卵", "乳"], "pass"),
        (False, [], "pass"),
        (True, [], "fail"),  # あり with nothing ticked
        (False, ["小麦"], "fail"),  # なし with something ticked
        (None, ["小麦"], "warn"),
        (True, ["キャベツ"], "warn"),  # not one of the 28
    ],
)
def test_allergen_consistency(present: bool | None, ticked: list[str], status: str) -> None:
    assert only(check(form1(allergens_present=present, allergens=ticked)), "allergen_consistency").status == status


# --- applicant_location (004 3) ----------------------------------------------------------------


def test_applicant_in_the_city_passes_and_outside_with_nothing_local_fails() -> None:
    assert only(check(form1()), "applicant_location").status == "pass"
    outside = form1(applicant_address="群馬県前橋市大手町1-1-1", ingredients_origin="outside", manufacturing_place="outside")
    f = only(check(outside), "applicant_location")
    assert f.status == "fail" and f.clause == "004 3"


def test_applicant_outside_the_city_with_manufacturing_in_it_passes() -> None:
    doc = form1(applicant_address="群馬県前橋市大手町1-1-1", ingredients_origin="outside", manufacturing_place="in_city")
    assert only(check(doc), "applicant_location").status == "pass"


# --- tax_arrears and the tax certificate (004 3(1)) -------------------------------------------------


def test_tax_arrears_certificate_without_arrears_passes_and_with_arrears_fails() -> None:
    assert only(check(form1(), tax_certificate()), "tax_arrears").status == "pass"
    f = only(check(form1(), tax_certificate(no_arrears=False, unpaid_amount=12300)), "tax_arrears")
    assert f.status == "fail" and "12,300円" in f.message


def test_tax_arrears_without_a_certificate_rests_on_the_consent_of_the_application() -> None:
    f = only(check(form1()), "tax_arrears")
    assert f.status == "pass" and f.evidence["basis"] == "consent"


def test_tax_certificate_of_the_applicant_matches_by_fuzzy_name_and_address() -> None:
    f = only(check(form1(), tax_certificate()), "tax_certificate_applicant")
    # (株)渋川フーズ ≈ 株式会社渋川フーズ; 渋川市石原８０ ≈ 群馬県渋川市石原80番地.
    assert f.status == "pass" and f.evidence["name_score"] == 100.0 and f.evidence["address_score"] >= 85


def test_tax_certificate_of_someone_else_fails() -> None:
    cert = tax_certificate(taxpayer_name="前橋商事株式会社", taxpayer_address="前橋市大手町1-1-1")
    f = only(check(form1(), cert), "tax_certificate_applicant")
    assert f.status == "fail" and f.evidence["name_score"] < 75


def test_tax_certificate_within_three_months_passes_and_older_warns() -> None:
    # Application 2025-06-01: three months before is 2025-03-01.
    assert only(check(form1(), tax_certificate(issue_date="2025-03-01")), "tax_certificate_recent").status == "pass"
    f = only(check(form1(), tax_certificate(issue_date="2025-02-28")), "tax_certificate_recent")
    assert f.status == "warn" and f.evidence["age_days"] == 93


def test_tax_certificate_issued_after_today_fails() -> None:
    assert only(check(form1(), tax_certificate(issue_date="2025-07-01")), "tax_certificate_recent").status == "fail"


# --- notice_period (004 12(2)) ------------------------------------------------------------------


def withdrawal(applied: str, effective: str) -> CaseDocument:
    return CaseDocument(form="shibukawa.form6", fields=dict(
        application_date=applied, applicant_address="渋川市石原80", applicant_name="株式会社渋川フーズ",
        applicant_representative="代表 渋川太郎", product_name="渋川みそ", withdrawal_reason="原料の調達が困難なため",
        withdrawal_date=effective))  # fmt: skip


def test_withdrawal_40_days_ahead_passes_and_39_fails() -> None:
    f = only(check(withdrawal("2025-05-01", "2025-06-10")), "notice_period")
    assert f.status == "pass" and f.evidence["days_ahead"] == 40
    f = only(check(withdrawal("2025-05-02", "2025-06-10")), "notice_period")
    assert f.status == "fail" and f.evidence["days_ahead"] == 39
    assert f.evidence["latest_application_date"] == "2025-05-01"


def test_change_application_without_a_change_date_warns_with_the_earliest_date() -> None:
    change = CaseDocument(form="shibukawa.form5", fields=dict(
        application_date="2025-06-01", applicant_address="渋川市石原80", applicant_name="株式会社渋川フーズ",
        applicant_representative="代表 渋川太郎", original_approval_date="2024-05-01", product_name="渋川みそ"))  # fmt: skip
    f = only(check(change), "notice_period")
    assert f.status == "warn" and f.evidence["earliest_effective_date"] == "2025-07-11"


# --- registration_expiry (004 8) ------------------------------------------------------------------


def test_registration_runs_to_the_end_of_the_fiscal_year() -> None:
    assert only(check(form1()), "registration_expiry").evidence["registration_expiry"] == "2026-03-31"
    f = only(check(form1(), today=date(2026, 4, 1)), "registration_expiry")
    assert f.status == "pass" and f.evidence["registration_expiry"] == "2027-03-31"


def test_registration_of_a_change_renews_yearly_and_an_approval_after_the_application_fails() -> None:
    fields = dict(application_date="2025-06-01", applicant_address="渋川市石原80", applicant_name="株式会社渋川フーズ",
                  applicant_representative="代表 渋川太郎", original_approval_date="2024-05-01", product_name="渋川みそ")  # fmt: skip
    f = only(check(CaseDocument(form="shibukawa.form5", fields=fields)), "registration_expiry")
    assert f.status == "pass" and f.evidence["renewals"] == 1 and f.evidence["current_term_end"] == "2026-03-31"
    fields["original_approval_date"] = "2025-07-01"
    assert only(check(CaseDocument(form="shibukawa.form5", fields=fields)), "registration_expiry").status == "fail"


# --- origin certificate (004 様式第1号 21) -------------------------------------------------------------


def test_origin_certificate_matching_the_claim_passes_and_a_different_origin_warns() -> None:
    cert = CaseDocument(form="origin_certificate", fields=dict(product_name="大豆", origin="群馬県渋川市",
                                                                issuer="JA北群渋川", issue_date="2025-04-01"))  # fmt: skip
    assert only(check(form1(), cert), "origin_certificate").status == "pass"
    cert.fields["origin"] = "北海道十勝"
    assert only(check(form1(), cert), "origin_certificate").status == "warn"


def test_shelf_life_of_a_change_combines_the_new_rows_with_form1() -> None:
    change = CaseDocument(form="shibukawa.form5", fields=dict(
        application_date="2025-06-01", applicant_address="渋川市石原80", applicant_name="株式会社渋川フーズ",
        applicant_representative="代表 渋川太郎", original_approval_date="2024-05-01", product_name="渋川みそ",
        new_shipping_timing="申込み後20日以内"))  # fmt: skip
    # With 様式第1号's 製造日から30日: 30 − 20 − 2 = 8 days ≥ 5.
    [original, changed] = [f for f in check(form1(best_before="製造日から30日"), change).findings if f.rule == "shelf_life"]
    assert changed.status == "pass" and changed.evidence["days_left_on_arrival"] == 8
    # With 製造日から25日: 25 − 20 − 2 = 3 days: short.
    [_, changed] = [f for f in check(form1(best_before="製造日から25日"), change).findings if f.rule == "shelf_life"]
    assert changed.status == "warn" and changed.evidence["days_left_on_arrival"] == 3
    # Alone, the change form does not say how long the food keeps.
    assert only(check(change), "shelf_life").status == "warn"
