"""Tateyama pack (seed 003): every rule with a passing and a failing case, figures worked out."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from forms.checks import Case, CaseDocument, CheckReport, run_checks
from forms.findings import Finding
from forms.rules.tateyama import TIERS, tier_for_donation, tier_for_price

TODAY = date(2025, 6, 2)


def application(**changes: Any) -> CaseDocument:
    fields: dict[str, Any] = dict(
        application_date="2025-06-01", applicant_postal_code="294-8601", applicant_address="千葉県館山市北条1145-1",
        applicant_name="館山海産株式会社", applicant_representative="代表取締役 館山一郎", applicant_phone="0470-22-0000",
        applicant_email="info@tateyama-kaisan.example.jp", taxed_in_city=True,
    )  # fmt: skip
    fields.update(changes)
    return CaseDocument(form="tateyama.form1", fields={k: v for k, v in fields.items() if v is not None})


def proposal(**changes: Any) -> CaseDocument:
    fields: dict[str, Any] = dict(
        applicant_name="館山海産株式会社", product_name="房州ひじき煮セット", product_type="goods", donation_amount=12000,
        proposed_price=3600, goods_price=3200, is_food=True, is_fresh=False, shelf_life_days=60,
        days_before_shipping=3, licence_required=True, attachments=["food_label", "business_licence", "images"],
    )  # fmt: skip
    fields.update(changes)
    return CaseDocument(form="tateyama.form2", fields={k: v for k, v in fields.items() if v is not None})


def voucher(**changes: Any) -> CaseDocument:
    base: dict[str, Any] = dict(product_name="館山湾クルーズ利用券", product_type="service", donation_amount=20000,
                                proposed_price=6000, goods_price=6000, is_food=False, licence_required=False,
                                attachments=["images"], voucher_validity_months=12, date_specified=False,
                                voucher_items=["service_content", "reservation_deadline", "usage_deadline",
                                               "reservation_method", "cancellation_policy"],
                                resale_prevention="numbered")  # fmt: skip
    base.update(changes)
    return proposal(**base)


def check(*docs: CaseDocument) -> CheckReport:
    return run_checks(Case(program="tateyama", documents=list(docs), today=TODAY))


def findings(report: CheckReport, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


def only(report: CheckReport, rule: str) -> Finding:
    found = findings(report, rule)
    assert len(found) == 1, found
    return found[0]


def test_a_complete_application_is_approved_and_every_finding_cites_003() -> None:
    report = check(application(), proposal())
    assert report.decision == "approve", [f for f in report.findings if f.status != "pass"]
    assert all(f.clause.startswith("003 ") for f in report.findings)


# --- the 寄附金額設定表 (003 5) as data ----------------------------------------------------------


def test_the_tier_table_is_a_to_z_with_contiguous_ranges_capped_at_30_percent() -> None:
    assert [t.code for t in TIERS] == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    for tier in TIERS:
        assert tier.high * 100 == tier.donation * 30  # e.g. C: 3,600 = 30% of 12,000
    for lower, upper in zip(TIERS, TIERS[1:]):
        assert upper.low == lower.high + 1
    assert TIERS[0].low == 2701 and TIERS[-1].high == 90000


def test_tier_lookups() -> None:
    assert tier_for_price(3301).code == "C" and tier_for_price(3300).code == "B"  # type: ignore[union-attr]
    assert tier_for_price(2700) is None and tier_for_price(90001) is None
    assert tier_for_donation(150000).code == "W"  # type: ignore[union-attr]


def test_tier_price_in_the_range_of_the_donation_passes() -> None:
    f = only(check(application(), proposal(donation_amount=12000, proposed_price=3600)), "tier")
    assert f.status == "pass" and f.evidence["price_tier"] == "C" and f.clause == "003 5"


def test_tier_price_above_the_range_fails_and_names_the_right_tier() -> None:
    f = only(check(application(), proposal(donation_amount=12000, proposed_price=3601, goods_price=3000)), "tier")
    assert f.status == "fail" and f.evidence["price_tier"] == "D" and "区分D" in f.message
    assert "13,000円" in f.message


def test_tier_price_below_the_range_fails_too() -> None:
    # 3,000 yen is tier A (10,000 yen), not C (12,000 yen), though it is under 30%.
    f = only(check(application(), proposal(donation_amount=12000, proposed_price=3000, goods_price=2800)), "tier")
    assert f.status == "fail" and f.evidence["price_tier"] == "A"


def test_tier_donation_off_the_table_or_price_out_of_range_needs_review() -> None:
    assert only(check(application(), proposal(donation_amount=10500, proposed_price=3000)), "tier").status == "warn"
    big = proposal(donation_amount=300000, proposed_price=95000, goods_price=80000)
    assert only(check(application(), big), "tier").status == "warn"


# --- return_ratio and goods_only_ratio (003 4(2), 5) -------------------------------------------


def test_return_ratio_30_percent_passes_and_more_fails() -> None:
    f = only(check(application(), proposal(donation_amount=12000, proposed_price=3600)), "return_ratio")
    assert f.status == "pass" and f.evidence["ratio_percent"] == 30.0 and f.clause == "003 4(2)"
    f = only(check(application(), proposal(donation_amount=12000, proposed_price=3610)), "return_ratio")
    assert f.status == "fail" and f.evidence["ratio_percent"] == 30.08


def test_goods_only_ratio() -> None:
    # 3,000 / 10,000 = 30%: passes; 3,100 / 10,000 = 31%: fails.
    ok = proposal(donation_amount=10000, proposed_price=3000, goods_price=3000)
    assert only(check(application(), ok), "goods_only_ratio").status == "pass"
    bad = proposal(donation_amount=10000, proposed_price=3000, goods_price=3100)
    f = only(check(application(), bad), "goods_only_ratio")
    assert f.status == "fail" and f.evidence["ratio_percent"] == 31.0 and f.clause == "003 5"


def test_goods_price_above_the_proposed_price_needs_review() -> None:
    odd = proposal(donation_amount=12000, proposed_price=3000, goods_price=3200)
    assert only(check(application(), odd), "goods_only_ratio").status == "warn"


# --- shelf_life (003 3(6)) ------------------------------------------------------------------------


def test_shelf_life_a_week_after_arrival_passes_and_less_warns() -> None:
    # 14 − 3 − 2 = 9 days ≥ 7; 10 − 2 − 2 = 6 days < 7.
    f = only(check(application(), proposal(shelf_life_days=14, days_before_shipping=3)), "shelf_life")
    assert f.status == "pass" and f.evidence["days_left_on_arrival"] == 9
    f = only(check(application(), proposal(shelf_life_days=10, days_before_shipping=2)), "shelf_life")
    assert f.status == "warn" and f.evidence["days_left_on_arrival"] == 6 and f.clause == "003 3(6)"


def test_shelf_life_fresh_food_and_non_food_are_not_applicable() -> None:
    assert only(check(application(), proposal(is_fresh=True, shelf_life_days=3)), "shelf_life").status == "not_applicable"
    assert only(check(application(), proposal(is_food=False, shelf_life_days=None)), "shelf_life").status == "not_applicable"


def test_shelf_life_of_food_without_days_warns() -> None:
    f = only(check(application(), proposal(shelf_life_days=None)), "shelf_life")
    assert f.status == "warn" and f.evidence["missing"] == "shelf_life_days"


# --- voucher_terms (003 3(9), 3(10)) ------------------------------------------------------------------


def test_voucher_usable_a_year_with_every_item_and_numbered_passes() -> None:
    validity, statement = findings(check(application(), voucher()), "voucher_terms")
    assert validity.status == "pass" and validity.clause == "003 3(9)"
    assert statement.status == "pass" and statement.clause == "003 3(10)"


def test_voucher_usable_six_months_fails() -> None:
    validity, _ = findings(check(application(), voucher(voucher_validity_months=6)), "voucher_terms")
    assert validity.status == "fail" and validity.evidence["minimum_months"] == 12


def test_voucher_with_a_fixed_date_needs_no_year() -> None:
    validity, _ = findings(check(application(), voucher(voucher_validity_months=1, date_specified=True)), "voucher_terms")
    assert validity.status == "pass"


def test_voucher_without_cancellation_terms_or_resale_prevention_fails() -> None:
    doc = voucher(voucher_items=["service_content", "reservation_deadline", "usage_deadline", "reservation_method"],
                  resale_prevention="none")  # fmt: skip
    _, statement = findings(check(application(), doc), "voucher_terms")
    assert statement.status == "fail"
    assert statement.evidence["missing_items"] == ["キャンセル規定"] and "転売防止" in statement.message


def test_voucher_terms_do_not_apply_to_goods() -> None:
    assert only(check(application(), proposal()), "voucher_terms").status == "not_applicable"


# --- required_documents (003 9) -----------------------------------------------------------------------


def test_required_documents_complete_pass() -> None:
    f = only(check(application(), proposal()), "required_documents")
    assert f.status == "pass" and f.evidence["missing"] == []


@pytest.mark.parametrize(
    ("docs", "missing_word"),
    [
        (lambda: [proposal()], "登録申請書"),
        (lambda: [application()], "提案書"),
        (lambda: [application(taxed_in_city=False), proposal()], "納税証明書"),
        (lambda: [application(), proposal(attachments=["business_licence", "images"])], "食品表示シール"),
        (lambda: [application(), proposal(attachments=["food_label", "images"])], "営業許可証"),
        (lambda: [application(), proposal(attachments=["food_label", "business_licence"])], "返礼品画像"),
    ],
)
def test_required_documents_missing_fail(docs: Any, missing_word: str) -> None:
    f = only(check(*docs()), "required_documents")
    assert f.status == "fail" and missing_word in f.message


def test_required_documents_a_tax_certificate_replaces_city_taxation() -> None:
    cert = CaseDocument(form="tax_certificate", fields=dict(taxpayer_name="館山海産株式会社",
                        taxpayer_address="館山市北条1145-1", issue_date="2025-05-15", no_arrears=True))  # fmt: skip
    report = check(application(taxed_in_city=False), proposal(), cert)
    assert only(report, "required_documents").status == "pass"
    assert only(report, "tax_arrears").status == "pass"
    assert only(report, "tax_certificate_applicant").status == "pass"
    assert only(report, "tax_certificate_recent").clause == "003 9(3)"


def test_tax_arrears_not_taxed_in_the_city_without_a_certificate_warns() -> None:
    f = only(check(application(taxed_in_city=False), proposal()), "tax_arrears")
    assert f.status == "warn" and f.clause == "003 2(3)"
