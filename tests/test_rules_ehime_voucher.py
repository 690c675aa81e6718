"""Ehime voucher pack (seed 002): every rule with a passing and a failing case, and the repayment."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from forms.checks import Case, CaseDocument, CheckReport, run_checks
from forms.findings import Finding
from forms.rules.ehime_voucher import fraud_repayment, parse_time

ALL_DECLARED = ["no_adult_entertainment", "no_religion_politics", "no_antisocial_forces"]


def store(**changes: Any) -> CaseDocument:
    fields: dict[str, Any] = dict(
        application_date="2024-01-10", operator_name="JAえひめ中央", representative="代表理事組合長 伊予太郎",
        registration_type="use_and_sales", store_name="太陽市", store_postal_code="791-3120",
        store_address="愛媛県伊予郡松前町大字筒井123", facility_type="direct_sales", multiple_producers=True,
        staffed_face_to_face=True, opening_days_per_week=6, opening_days_total=60, sales_scope="whole_store",
        producer_priced_sales=4_500_000, total_sales=10_000_000, exclusion_declarations=ALL_DECLARED,
        contact_person="伊予花子", contact_phone="089-000-0000",
    )  # fmt: skip
    fields.update(changes)
    return CaseDocument(form="ehime-voucher.form1", fields={k: v for k, v in fields.items() if v is not None})


def check(*docs: CaseDocument) -> CheckReport:
    return run_checks(Case(program="ehime-voucher", documents=list(docs), today=date(2024, 1, 22)))


def only(report: CheckReport, rule: str) -> Finding:
    found = [f for f in report.findings if f.rule == rule]
    assert len(found) == 1, found
    return found[0]


def test_a_complete_registration_is_approved_and_every_finding_cites_002() -> None:
    report = check(store())
    assert report.decision == "approve", [f for f in report.findings if f.status != "pass"]
    assert all(f.clause.startswith("002 ") for f in report.findings)


# --- store_location (002 3(2)) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "postal", "status"),
    [
        ("愛媛県松山市一番町四丁目4-2", None, "pass"),
        ("松山市一番町四丁目4-2", None, "pass"),  # an Ehime city without the prefecture
        ("一番町4-4-2", "790-8570", "pass"),  # the postal code decides
        ("香川県観音寺市坂本町1-1", "768-0000", "fail"),
        ("北海道松前郡松前町福山1", None, "fail"),  # another 松前町
        ("一番町4-4-2", None, "warn"),
    ],
)
def test_store_location(address: str, postal: str | None, status: str) -> None:
    assert only(check(store(store_address=address, store_postal_code=postal)), "store_location").status == status


# --- permanent_store (002 3(2) ※2) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_week", "total", "status"),
    [(1, None, "pass"), (0, 10, "pass"), (None, 10, "pass"), (0, 9, "fail"), (None, 9, "fail")],
)
def test_permanent_store_one_day_a_week_or_ten_days(per_week: int | None, total: int | None, status: str) -> None:
    f = only(check(store(opening_days_per_week=per_week, opening_days_total=total)), "permanent_store")
    assert f.status == status


def test_an_unstaffed_store_fails_and_missing_days_warn() -> None:
    f = only(check(store(staffed_face_to_face=False)), "permanent_store")
    assert f.status == "fail" and "有人" in f.message
    f = only(check(store(opening_days_per_week=None, opening_days_total=None)), "permanent_store")
    assert f.status == "warn" and f.evidence["missing"] == "opening_days_per_week"


# --- producer_sales_ratio (002 3(3)) ---------------------------------------------------------------


def test_producer_sales_of_exactly_30_percent_pass() -> None:
    f = only(check(store(producer_priced_sales=300_000, total_sales=1_000_000)), "producer_sales_ratio")
    assert f.status == "pass" and f.evidence["percent"] == 30.0


def test_producer_sales_under_30_percent_fail() -> None:
    f = only(check(store(producer_priced_sales=299_999, total_sales=1_000_000)), "producer_sales_ratio")
    assert f.status == "fail" and f.evidence["percent"] == 29.9999 and "29.9999%で、30%に足りません" in f.message


def test_producer_sales_of_a_separated_corner_are_measured_on_the_corner() -> None:
    doc = store(sales_scope="separated_corner", producer_priced_sales=1_200_000, total_sales=3_000_000)
    f = only(check(doc), "producer_sales_ratio")
    assert f.status == "pass" and f.evidence["percent"] == 40.0 and "産直コーナー" in f.message


# --- not_restaurant, multiple_producers (002 3(1)) ------------------------------------------------------


def test_not_restaurant() -> None:
    assert only(check(store(facility_type="direct_sales")), "not_restaurant").status == "pass"
    assert only(check(store(facility_type="restaurant")), "not_restaurant").status == "fail"
    assert only(check(store(facility_type="other")), "not_restaurant").status == "warn"


def test_multiple_producers() -> None:
    assert only(check(store(multiple_producers=True)), "multiple_producers").status == "pass"
    assert only(check(store(multiple_producers=False)), "multiple_producers").status == "fail"


# --- exclusions (002 4(1)) ----------------------------------------------------------------------------


def test_exclusions_all_declared_pass_and_a_missing_declaration_fails() -> None:
    assert only(check(store()), "exclusions").status == "pass"
    f = only(check(store(exclusion_declarations=ALL_DECLARED[:2])), "exclusions")
    assert f.status == "fail" and "4(1)③" in f.message


# --- registration_window (002 2(2), 2(4)) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "received", "at", "status"),
    [
        ("use_and_sales", "2024-01-04", None, "pass"),
        ("use_and_sales", "2024-01-19", "17:00", "pass"),
        ("use_and_sales", "2024-01-19", "17時01分", "fail"),
        ("use_and_sales", "2024-01-19", None, "warn"),
        ("use_and_sales", "2024-01-20", None, "fail"),
        ("use_and_sales", "2024-01-03", None, "fail"),
        ("use_only", "2024-04-30", None, "pass"),
        ("use_only", "2024-05-01", None, "fail"),
    ],
)
def test_registration_window(kind: str, received: str, at: str | None, status: str) -> None:
    doc = store(registration_type=kind, received_date=received, received_time=at)
    assert only(check(doc), "registration_window").status == status


def test_registration_window_uses_the_application_date_when_no_receipt_date() -> None:
    f = only(check(store(application_date="2024-02-01", registration_type="use_and_sales")), "registration_window")
    assert f.status == "fail" and "4月30日" in f.message
    assert only(check(store(application_date="2024-02-01", registration_type="use_only")), "registration_window").clause == "002 2(4)"


def test_parse_time() -> None:
    assert parse_time("16:30").isoformat() == "16:30:00"  # type: ignore[union-attr]
    assert parse_time("１７時").isoformat() == "17:00:00"  # type: ignore[union-attr]
    assert parse_time("夕方") is None


# --- fraud repayment (002 8(3)③) -------------------------------------------------------------------------


def test_fraud_repayment_adds_20_percent_and_3_percent_a_year() -> None:
    # Received 2024-04-01, paid 2025-03-31: 364 days from the day after receipt to the payment day.
    # 100,000 + 20,000 + floor(100,000 × 0.03 × 364 / 365 = 2,991.78) = 122,991.
    r = fraud_repayment(100_000, date(2024, 4, 1), date(2025, 3, 31))
    assert (r.days, r.surcharge, r.late_charge, r.total) == (364, 20_000, 2_991, 122_991)
    assert "364日" in r.explain() and r.clause == "002 8(3)③"


def test_fraud_repayment_paid_the_next_day_counts_one_day() -> None:
    # floor(50,000 × 0.03 × 1 / 365 = 4.11) = 4.
    r = fraud_repayment(50_000, date(2024, 5, 1), date(2024, 5, 2))
    assert (r.days, r.surcharge, r.late_charge, r.total) == (1, 10_000, 4, 60_004)


def test_fraud_repayment_rejects_a_payment_before_the_receipt() -> None:
    with pytest.raises(ValueError):
        fraud_repayment(1_000, date(2024, 5, 2), date(2024, 5, 1))
