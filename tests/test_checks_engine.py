"""The checks engine: cases, value reading, rule packs, the decision, and robustness to bad input."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from forms.catalogue import catalogue
from forms.checks import (
    Case,
    CaseDocument,
    CaseView,
    Missing,
    RulePack,
    add_months,
    address_similarity,
    as_bool,
    as_date,
    as_int,
    decide,
    failed,
    fiscal_year_end,
    load_pack,
    name_similarity,
    normalize_address,
    parse_days,
    passed,
    run_checks,
    run_rule,
    rules_for,
    warned,
)
from forms.errors import UnknownProgram
from forms.findings import Finding
from forms.programs import get_program, programs

PROGRAMS = ("shibukawa", "tateyama", "shika", "ehime-voucher", "gunma-mask")


def finding(status: str) -> Finding:
    return Finding(rule="r", status=status, message="m", clause="004 1")  # type: ignore[arg-type]


# --- the decision hint ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "decision"),
    [
        (["pass", "not_applicable"], "approve"),
        ([], "approve"),
        (["pass", "warn", "not_applicable"], "needs_review"),
        (["pass", "warn", "fail"], "reject"),
        (["fail"], "reject"),
    ],
)
def test_decision_reject_on_fail_review_on_warn_else_approve(statuses: list[str], decision: str) -> None:
    assert decide([finding(s) for s in statuses]) == decision


# --- packs and settings ---------------------------------------------------------------------


def test_every_program_has_a_pack_whose_rules_cite_its_seed() -> None:
    assert set(PROGRAMS) <= set(programs())
    for program in PROGRAMS:
        seed = get_program(program).seed
        rules = rules_for(program)
        assert len(rules) >= 5, program
        assert all(r.clause.startswith(f"{seed} ") for r in rules), program
        assert len({r.id for r in rules}) == len(rules)


def test_the_issue_rule_lists_are_registered() -> None:
    expected = {
        "shibukawa": {"return_ratio", "tax_consistency", "local_product", "shelf_life", "required_fields",
                      "allergen_consistency", "applicant_location", "tax_arrears", "notice_period",
                      "registration_expiry", "tax_certificate_applicant", "tax_certificate_recent",
                      "value_added_certificate_product"},
        "tateyama": {"tier", "return_ratio", "goods_only_ratio", "shelf_life", "voucher_terms", "required_documents"},
        "shika": {"donation_rounding", "local_product", "required_documents", "shelf_life", "service_in_town"},
        "ehime-voucher": {"store_location", "permanent_store", "producer_sales_ratio", "not_restaurant", "exclusions",
                          "registration_window"},
        "gunma-mask": {"sales_plan_deadline", "purchase_limits", "delivery_in_prefecture", "resident_only"},
    }  # fmt: skip
    for program, ids in expected.items():
        assert ids <= {r.id for r in rules_for(program)}, program


@pytest.mark.parametrize(
    ("program", "head", "municipality", "email"),
    [
        ("tateyama", "館山市長", "館山市", "furunou@city.tateyama.chiba.jp"),
        ("shika", "志賀町長", "志賀町", ""),
        ("ehime-voucher", "愛媛県知事", "愛媛県", "brand@pref.ehime.lg.jp"),
        ("gunma-mask", "群馬県知事", "群馬県", ""),
    ],
)
def test_program_settings_come_from_the_seeds(program: str, head: str, municipality: str, email: str) -> None:
    settings = get_program(program)
    assert (settings.head_title, settings.municipality, settings.email) == (head, municipality, email)
    assert settings.doc_number_prefix and settings.fiscal_year_start_month == 4
    forms = catalogue()
    assert all(f in forms for f in settings.forms), settings.forms


def test_the_new_forms_are_declared_with_blank_forms() -> None:
    forms = catalogue()
    for form_id in ("ehime-voucher.form1", "gunma-mask.form1", "tateyama.form1", "tateyama.form2",
                    "shika.form1", "shika.form2", "shika.form3"):  # fmt: skip
        form = forms[form_id]
        assert form.blank and form.program == form_id.split(".")[0]
        assert any(f.required for f in form.fields())


def test_an_unknown_program_raises() -> None:
    with pytest.raises(UnknownProgram):
        run_checks(Case(program="nowhere", documents=[]))


def test_a_pack_registers_each_rule_once() -> None:
    pack = RulePack("shibukawa")
    pack.add("a", "004 1", lambda case: None)
    with pytest.raises(ValueError):
        pack.add("a", "004 1", lambda case: None)


# --- the case and its values -------------------------------------------------------------------


def test_case_documents_accept_extracted_field_objects() -> None:
    doc = CaseDocument(form="shibukawa.form1", fields={
        "donation_amount": {"value": 12000, "confidence": 0.97, "page": 1, "bbox": [0, 0, 1, 1], "source": "ocr"},
        "product_name": "渋川みそ"})  # fmt: skip
    assert doc.fields == {"donation_amount": 12000, "product_name": "渋川みそ"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-04-01", date(2025, 4, 1)),
        (date(2025, 4, 1), date(2025, 4, 1)),
        ("2025/4/1", date(2025, 4, 1)),
        ("令和7年4月1日", date(2025, 4, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("R7.4.1", date(2025, 4, 1)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("２０２５年４月１日", date(2025, 4, 1)),
        ("2025-02-30", None),
        ("そのうち", None),
    ],
)
def test_as_date(text: Any, expected: date | None) -> None:
    assert as_date(text) == expected


def test_as_int_and_as_bool() -> None:
    assert as_int("12,000円") == 12000 and as_int("１２，０００") == 12000 and as_int(3600.0) == 3600
    assert as_int("約1万円") is None and as_int(True) is None
    assert as_bool("あり") is True and as_bool("なし") is False and as_bool("たぶん") is None


@pytest.mark.parametrize(
    ("text", "days"),
    [("製造日から30日", 30), ("製造後90日間", 90), ("6か月", 180), ("冷凍で３ヶ月", 90), ("1年", 365),
     ("2週間", 14), ("半年", 182), ("お早めに", None), (None, None)],
)  # fmt: skip
def test_parse_days(text: str | None, days: int | None) -> None:
    assert parse_days(text) == days


def test_dates_arithmetic() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 6, 1), -3) == date(2025, 3, 1)
    assert fiscal_year_end(date(2025, 4, 1)) == date(2026, 3, 31)
    assert fiscal_year_end(date(2026, 3, 31)) == date(2026, 3, 31)
    assert fiscal_year_end(date(2025, 6, 1), start_month=1) == date(2025, 12, 31)


def test_fuzzy_names_and_addresses() -> None:
    assert name_similarity("（株）渋川フーズ", "株式会社 渋川フーズ") == 100.0
    assert name_similarity("渋川フーズ株式会社", "株式会社渋川フーズ") == 100.0
    assert name_similarity("前橋商事", "渋川フーズ") < 50
    assert normalize_address("〒790-8570 愛媛県松山市一番町四丁目4番2号") == "松山市一番町4-4-2"
    assert address_similarity("群馬県渋川市石原80番地", "渋川市石原８０") == 100.0
    assert address_similarity("渋川市石原80", "前橋市大手町1-1-1") < 50


# --- running rules ---------------------------------------------------------------------------------


def view(*docs: CaseDocument, pack: RulePack | None = None) -> CaseView:
    pack = pack or RulePack("shibukawa", application_forms=("shibukawa.form1",))
    return CaseView(Case(program="shibukawa", documents=list(docs), today=date(2025, 6, 1)), get_program("shibukawa"), pack)


def test_a_missing_value_becomes_a_finding_with_the_rules_status() -> None:
    pack = RulePack("shibukawa")
    pack.add("needs_donation", "004 7(2)", lambda case: passed(str(case.documents[0].yen("donation_amount"))),
             on_missing="fail")  # fmt: skip
    [f] = run_rule(pack.rules[0], view(CaseDocument(form="shibukawa.form1", fields={}), pack=pack))
    assert (f.status, f.rule, f.clause) == ("fail", "needs_donation", "004 7(2)")
    assert "寄附金額" in f.message and f.evidence == {"missing": "donation_amount", "form": "shibukawa.form1",
                                                     "reason": "missing"}  # fmt: skip


def test_an_unreadable_value_is_reported_as_unreadable() -> None:
    pack = RulePack("shibukawa")
    pack.add("r", "004 7(2)", lambda case: passed(str(case.documents[0].yen("donation_amount"))))
    [f] = run_rule(pack.rules[0], view(CaseDocument(form="shibukawa.form1", fields={"donation_amount": "一万円"})))
    assert f.status == "warn" and "読み取れない" in f.message and f.evidence["reason"] == "unreadable"


def test_a_broken_rule_gives_a_warning_and_the_others_still_run() -> None:
    pack = RulePack("shibukawa")

    def broken(case: CaseView) -> None:
        raise ZeroDivisionError("boom")

    pack.add("broken", "004 1", broken)
    [f] = run_rule(pack.rules[0], view())
    assert f.status == "warn" and f.evidence["error"] == "ZeroDivisionError"


def test_a_rule_for_absent_forms_is_not_applicable_and_several_verdicts_keep_their_clauses() -> None:
    pack = RulePack("shibukawa")
    pack.add("two", "004 7", lambda case: [passed("a"), failed("b", clause="004 7(2)"), warned("c")],
             applies_to=("shibukawa.form1",))  # fmt: skip
    [na] = run_rule(pack.rules[0], view())
    assert na.status == "not_applicable" and "様式第1号" in na.message
    found = run_rule(pack.rules[0], view(CaseDocument(form="shibukawa.form1")))
    assert [(f.status, f.clause) for f in found] == [("pass", "004 7"), ("fail", "004 7(2)"), ("warn", "004 7")]


def test_missing_exposes_the_field() -> None:
    exc = Missing("donation_amount", "寄附金額", "shibukawa.form1")
    assert exc.key == "donation_amount" and exc.reason == "missing"


def test_load_pack_returns_the_modules_pack() -> None:
    assert load_pack("ehime-voucher").program == "ehime-voucher"


# --- robustness: no input crashes a rule ---------------------------------------------------------------


def _program_forms(program: str) -> list[str]:
    return [f for f in get_program(program).forms if f in catalogue()]


@pytest.mark.parametrize("program", PROGRAMS)
def test_empty_and_garbage_cases_give_findings_never_errors(program: str) -> None:
    forms = catalogue()
    cases = [
        [],
        [CaseDocument(form=f) for f in _program_forms(program)],
        [CaseDocument(form=f, fields={k: "？？" for k in forms[f].keys()}) for f in _program_forms(program)],
        [CaseDocument(form=f, fields={k: 0 for k in forms[f].keys()}) for f in _program_forms(program)],
        [CaseDocument(form=f, fields={k: [] for k in forms[f].keys()}) for f in _program_forms(program)],
        [CaseDocument(form=None, fields={"text": "何かの書類"})],
    ]
    for docs in cases:
        report = run_checks(Case(program=program, documents=docs, today=date(2025, 6, 1)))
        errors = [f for f in report.findings if "error" in f.evidence]
        assert not errors, errors
        assert report.findings and report.decision in ("approve", "reject", "needs_review")
        assert all(f.message and f.clause for f in report.findings)


def test_today_defaults_to_the_current_date() -> None:
    case = Case(program="gunma-mask", documents=[])
    assert view().today == date(2025, 6, 1)
    assert CaseView(case, get_program("gunma-mask"), load_pack("gunma-mask")).today == date.today()


@pytest.mark.parametrize("program", PROGRAMS)
def test_a_case_without_its_application_form_is_rejected(program: str) -> None:
    for docs in ([], [CaseDocument(form=None, fields={"text": "パンフレット"})], [CaseDocument(form="tax_certificate")]):
        report = run_checks(Case(program=program, documents=docs, today=date(2025, 6, 1)))
        assert report.decision == "reject"
        [f] = [f for f in report.findings if f.rule == "application_form"]
        assert f.status == "fail" and f.clause.startswith(get_program(program).seed + " ")
