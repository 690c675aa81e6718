"""Gunma mask pack (seed 000): every rule with a passing and a failing case, figures worked out."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from forms.checks import Case, CaseDocument, CheckReport, run_checks
from forms.findings import Finding
from forms.rules.gunma_mask import plan_deadline


def plan(**changes: Any) -> CaseDocument:
    fields: dict[str, Any] = dict(
        submission_date="2020-12-20", seller_name="上州衛生株式会社", seller_address="群馬県前橋市大手町1-1-1",
        seller_representative="代表取締役 上州一郎", contact_person="上州花子", contact_phone="027-000-0000",
        sales_month="2021-01-01",
        item1_name="群馬県産サージカルマスク50枚入", item1_category="surgical_mask", item1_quantity=10000,
        item1_price=1980, item1_limit=2,
        item2_name="手指消毒液500ml", item2_category="disinfectant", item2_quantity=3000, item2_price=880, item2_limit=1,
        resident_only=True, delivery_in_prefecture=True,
    )  # fmt: skip
    fields.update(changes)
    return CaseDocument(form="gunma-mask.form1", fields={k: v for k, v in fields.items() if v is not None})


def check(*docs: CaseDocument) -> CheckReport:
    return run_checks(Case(program="gunma-mask", documents=list(docs), today=date(2020, 12, 28)))


def only(report: CheckReport, rule: str) -> Finding:
    found = [f for f in report.findings if f.rule == rule]
    assert len(found) == 1, found
    return found[0]


def test_a_complete_plan_is_approved_and_every_finding_cites_000() -> None:
    report = check(plan())
    assert report.decision == "approve", [f for f in report.findings if f.status != "pass"]
    assert all(f.clause.startswith("000 第") for f in report.findings)


# --- sales_plan_deadline (000 第8条1) ----------------------------------------------------------


def test_plan_deadline_is_the_25th_of_the_month_before() -> None:
    assert plan_deadline(date(2021, 1, 1)) == date(2020, 12, 25)
    assert plan_deadline(date(2021, 3, 15)) == date(2021, 2, 25)


def test_plan_submitted_on_the_25th_passes() -> None:
    f = only(check(plan(submission_date="2020-12-25")), "sales_plan_deadline")
    assert f.status == "pass" and f.evidence["deadline"] == "2020-12-25" and f.clause == "000 第8条1"


def test_plan_submitted_on_the_26th_fails() -> None:
    f = only(check(plan(submission_date="2020-12-26")), "sales_plan_deadline")
    assert f.status == "fail" and f.evidence["days_before_deadline"] == -1 and "1日遅れ" in f.message


def test_plan_accepts_wareki_dates() -> None:
    f = only(check(plan(submission_date="令和2年12月25日", sales_month="R3.1.1")), "sales_plan_deadline")
    assert f.status == "pass"


# --- purchase_limits (000 第4条3) --------------------------------------------------------------------


def test_every_product_with_a_limit_passes() -> None:
    f = only(check(plan()), "purchase_limits")
    assert f.status == "pass" and [i["limit"] for i in f.evidence["items"]] == [2, 1]


@pytest.mark.parametrize("limit", [None, 0])
def test_a_product_without_a_limit_fails(limit: int | None) -> None:
    f = only(check(plan(item2_limit=limit)), "purchase_limits")
    assert f.status == "fail" and f.evidence["without_limit"] == ["手指消毒液500ml"]


def test_different_limits_within_one_category_need_review() -> None:
    doc = plan(item2_name="群馬県産サージカルマスク7枚入", item2_category="surgical_mask", item2_limit=5)
    f = only(check(doc), "purchase_limits")
    assert f.status == "warn" and f.evidence["uneven_categories"] == {"サージカルマスク": [2, 5]}


def test_a_plan_without_products_warns_about_the_missing_field() -> None:
    f = only(check(plan(item1_name=None, item2_name=None)), "purchase_limits")
    assert f.status == "warn" and f.evidence["missing"] == "item1_name"


# --- delivery_in_prefecture, resident_only (000 第3条) ----------------------------------------------------


def test_delivery_in_the_prefecture() -> None:
    assert only(check(plan()), "delivery_in_prefecture").status == "pass"
    f = only(check(plan(delivery_in_prefecture=False)), "delivery_in_prefecture")
    assert f.status == "fail" and f.clause == "000 第3条"


def test_residents_only() -> None:
    assert only(check(plan()), "resident_only").status == "pass"
    assert only(check(plan(resident_only=False)), "resident_only").status == "fail"
