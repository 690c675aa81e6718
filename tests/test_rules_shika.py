"""Shika pack (seed 001): every rule with a passing and a failing case, figures worked out."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from forms.checks import Case, CaseDocument, CheckReport, run_checks
from forms.findings import Finding

TODAY = date(2025, 6, 2)


def pledge(**changes: Any) -> CaseDocument:
    fields: dict[str, Any] = dict(
        application_date="2025-06-01", applicant_address="石川県羽咋郡志賀町末吉千古1-1", applicant_name="志賀の里株式会社",
        applicant_representative="代表取締役 志賀太郎", contact_person="志賀花子", contact_phone="0767-32-0000",
        product_name="能登志賀ころ柿", product_description="志賀町特産の干し柿", local_basis="no1", production_place="in_town",
        ingredients_origin="in_town", gift_price=3500, shipping_fee=1200, other_fees=150, donation_amount=5000,
        is_food=True, is_fresh=False, shelf_life_days=30, days_before_shipping=2, is_service=False,
    )  # fmt: skip
    fields.update(changes)
    return CaseDocument(form="shika.form1", fields={k: v for k, v in fields.items() if v is not None})


def licences(**changes: Any) -> CaseDocument:
    fields: dict[str, Any] = dict(applicant_name="志賀の里株式会社", licence_needed=True, licence1_name="菓子製造業許可",
                                  licence1_number="第123号", licence1_issuer="石川県能登中部保健福祉センター",
                                  licence1_valid_until="2029-03-31", copies_attached=True)  # fmt: skip
    fields.update(changes)
    return CaseDocument(form="shika.form2", fields={k: v for k, v in fields.items() if v is not None})


def insurance(**changes: Any) -> CaseDocument:
    fields: dict[str, Any] = dict(applicant_name="志賀の里株式会社", pl_insured=True, insurer="北陸損害保険株式会社")
    fields.update(changes)
    return CaseDocument(form="shika.form3", fields={k: v for k, v in fields.items() if v is not None})


def check(*docs: CaseDocument) -> CheckReport:
    return run_checks(Case(program="shika", documents=list(docs), today=TODAY))


def only(report: CheckReport, rule: str) -> Finding:
    found = [f for f in report.findings if f.rule == rule]
    assert len(found) == 1, found
    return found[0]


def test_a_complete_application_is_approved_and_every_finding_cites_001() -> None:
    report = check(pledge(), licences(), insurance())
    assert report.decision == "approve", [f for f in report.findings if f.status != "pass"]
    assert all(f.clause.startswith("001 ") for f in report.findings)


# --- donation_rounding (001 5(3)) -------------------------------------------------------------


def test_donation_rounded_up_to_1000_yen_passes() -> None:
    # 3,500 + 1,200 + 150 = 4,850 → 5,000.
    f = only(check(pledge(donation_amount=5000)), "donation_rounding")
    assert f.status == "pass" and f.evidence["total"] == 4850 and f.evidence["expected_donation"] == 5000


def test_donation_not_matching_the_rounded_total_fails() -> None:
    f = only(check(pledge(donation_amount=6000)), "donation_rounding")
    assert f.status == "fail" and "5,000円" in f.message and f.clause == "001 5(3)"
    # 4,850 rounds up, never down.
    assert only(check(pledge(donation_amount=4000)), "donation_rounding").status == "fail"


def test_donation_rounding_counts_installation_costs_and_keeps_exact_thousands() -> None:
    # 3,500 + 300 (installation) + 1,200 + 0 = 5,000: already a multiple of 1,000.
    f = only(check(pledge(installation_cost=300, other_fees=None, donation_amount=5000)), "donation_rounding")
    assert f.status == "pass" and f.evidence["total"] == 5000


# --- local_product (001 別紙①) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status", "clause"),
    [
        (dict(local_basis="no1", production_place="in_town"), "pass", "001 別紙① 1"),
        (dict(local_basis="no1", production_place="outside"), "fail", "001 別紙① 1"),
        (dict(local_basis="no2", ingredients_origin="in_town"), "pass", "001 別紙① 2"),
        (dict(local_basis="no2", ingredients_origin="in_prefecture"), "fail", "001 別紙① 2"),
        (dict(local_basis="no3", production_place="in_town"), "pass", "001 別紙① 3"),
        (dict(local_basis="no3", production_place="outside"), "fail", "001 別紙① 3"),
        # 3のイ: meat or rice from Ishikawa, aged or polished in the town.
        (dict(local_basis="no3_i", ingredients_origin="in_prefecture", production_place="in_town"), "pass", "001 別紙① 3イ"),
        (dict(local_basis="no3_i", ingredients_origin="outside", production_place="in_town"), "fail", "001 別紙① 3イ"),
        (dict(local_basis="no3_ro", value_added_percent=51), "pass", "001 別紙① 3ロ"),
        (dict(local_basis="no3_ro", value_added_percent=50), "fail", "001 別紙① 3ロ"),
        # 6: 7,000 / 10,000 = 70% passes; 6,999 / 10,000 = 69.99% fails.
        (dict(local_basis="no6", set_local_value=7000, set_total_value=10000), "pass", "001 別紙① 6"),
        (dict(local_basis="no6", set_local_value=6999, set_total_value=10000), "fail", "001 別紙① 6"),
        (dict(local_basis="no7", service_place="in_town"), "pass", "001 別紙① 7"),
        (dict(local_basis="no7", service_place="outside"), "fail", "001 別紙① 7"),
        (dict(local_basis="no7_2", service_place="in_town", lodging_operated_only_in_town=True), "pass", "001 別紙① 7の2"),
        (dict(local_basis="no7_2", service_place="in_town", lodging_operated_only_in_town=False), "fail", "001 別紙① 7の2"),
        # 7の3イ: at most 50,000 yen a night.
        (dict(local_basis="no7_3_i", lodging_price_per_night=50000), "pass", "001 別紙① 7の3イ"),
        (dict(local_basis="no7_3_i", lodging_price_per_night=50001), "fail", "001 別紙① 7の3イ"),
        (dict(local_basis="no5"), "warn", "001 別紙① 5"),
        (dict(local_basis="no4", production_place="in_town"), "warn", "001 別紙① 4"),
        (dict(local_basis=None), "warn", "001 別紙①"),
    ],
)
def test_local_product(changes: dict[str, Any], status: str, clause: str) -> None:
    f = only(check(pledge(**changes)), "local_product")
    assert (f.status, f.clause) == (status, clause), f.message


def test_set_of_70_percent_reports_the_share() -> None:
    f = only(check(pledge(local_basis="no6", set_local_value=6999, set_total_value=10000)), "local_product")
    assert f.evidence["local_percent"] == 69.99 and "7割" in f.message


# --- required_documents (001 4) -----------------------------------------------------------------


def test_required_documents_all_three_forms_pass() -> None:
    assert only(check(pledge(), licences(), insurance()), "required_documents").status == "pass"
    assert only(check(pledge(), licences(licence_needed=False, licence1_name=None, copies_attached=None), insurance()),
                "required_documents").status == "pass"  # fmt: skip


def test_required_documents_without_the_pl_insurance_form_fails() -> None:
    f = only(check(pledge(), licences()), "required_documents")
    assert f.status == "fail" and "様式第3号" in f.message


def test_required_documents_licences_without_copies_fail() -> None:
    f = only(check(pledge(), licences(copies_attached=False), insurance()), "required_documents")
    assert f.status == "fail" and "写し" in f.message


def test_required_documents_expired_licence_fails() -> None:
    f = only(check(pledge(), licences(licence1_valid_until="2025-03-31"), insurance()), "required_documents")
    assert f.status == "fail" and f.evidence["expired_licences"] == ["菓子製造業許可（2025-03-31まで）"]


# --- shelf_life (001 3(5)) ----------------------------------------------------------------------


def test_shelf_life_a_week_after_arrival() -> None:
    # 12 − 3 − 2 = 7 days: passes; 11 − 3 − 2 = 6 days: short.
    assert only(check(pledge(shelf_life_days=12, days_before_shipping=3)), "shelf_life").status == "pass"
    f = only(check(pledge(shelf_life_days=11, days_before_shipping=3)), "shelf_life")
    assert f.status == "warn" and f.evidence["days_left_on_arrival"] == 6 and f.clause == "001 3(5)"
    assert only(check(pledge(is_fresh=True, shelf_life_days=2)), "shelf_life").status == "not_applicable"


# --- service_in_town (001 3(6)) -------------------------------------------------------------------


def test_service_in_town_with_restrictions_passes() -> None:
    doc = pledge(is_service=True, is_food=False, service_place="in_town", usage_restricted=True)
    assert only(check(doc), "service_in_town").status == "pass"


def test_service_outside_or_without_restrictions_fails() -> None:
    f = only(check(pledge(is_service=True, service_place="outside", usage_restricted=True)), "service_in_town")
    assert f.status == "fail" and "町外" in f.message
    f = only(check(pledge(is_service=True, service_place="in_town", usage_restricted=False)), "service_in_town")
    assert f.status == "fail" and "措置" in f.message


def test_service_in_town_does_not_apply_to_goods() -> None:
    assert only(check(pledge()), "service_in_town").status == "not_applicable"
