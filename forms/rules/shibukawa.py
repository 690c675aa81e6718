"""渋川市ふるさと応援寄附金 返礼品提供事業者募集要項 (seed 004): the rules of the Shibukawa pack.

Clauses cite "004 SECTION". The application is 様式第1号 (new product), 様式第5号 (change) or
様式第6号 (withdrawal); attachments are 様式第2号 (value-added certificate), a 納税証明書 and an
原産地証明書.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from forms.checks import (
    CaseView,
    DocView,
    Missing,
    RulePack,
    RuleResult,
    Verdict,
    address_in,
    check_certificate_no_arrears,
    check_tax_certificate_applicant,
    check_tax_certificate_recent,
    failed,
    fiscal_year_end,
    nfkc,
    not_applicable,
    parse_days,
    passed,
    product_match_verdict,
    required_fields_rule,
    return_ratio_verdict,
    shelf_life_verdict,
    warned,
    yen,
)
from forms.schema import ALLERGENS

F1, F2, F5, F6 = "shibukawa.form1", "shibukawa.form2", "shibukawa.form5", "shibukawa.form6"

PACK = RulePack("shibukawa", application_forms=(F1, F5, F6), application_clause="004 4")

#: 7(2): the gift's price with packing and tax is at most 30% of the donation.
RETURN_RATIO_LIMIT = 30
#: 様式第2号: the value arising in the city must be more than half (過半).
VALUE_ADDED_OVER = 50
#: Stated and recomputed percentages may differ by this much (rounding on the form).
PERCENT_TOLERANCE = 0.1
#: 7(1)イ: about five days of shelf life left when the food arrives.
SHELF_LIFE_DAYS = 5
#: 12(2): changes and withdrawals are reported at least 40 days ahead.
NOTICE_DAYS = 40
#: The consumption-tax rates a price may carry (reduced 8% for food, standard 10%).
TAX_RATES = (8, 10)

# --- required fields ---------------------------------------------------------------------

PACK.add(
    "required_fields",
    "004 4",
    required_fields_rule({F1: "004 4", F2: "004 4", F5: "004 12(2)", F6: "004 12(2)"}),
    title="必須項目",
)

# --- applicant -----------------------------------------------------------------------------


@PACK.rule("applicant_location", "004 3", title="応募資格（所在地）", applies_to=(F1,))
def applicant_location(case: CaseView) -> RuleResult:
    app = _form1(case)
    address = app.text("applicant_address")
    city = case.settings.municipality
    ingredients = app.text("ingredients_origin", required=False)
    manufacturing = app.text("manufacturing_place", required=False)
    evidence = dict(applicant_address=address, municipality=city, ingredients_origin=ingredients,
                    manufacturing_place=manufacturing)  # fmt: skip
    if address_in(address, city):
        return passed(f"申込者の所在地（{address}）は{city}内です。", **evidence)
    if manufacturing == "in_city":
        return passed(f"申込者は{city}外ですが、返礼品は{city}内で製造されています（3）。", **evidence)
    if ingredients == "in_city":
        return passed(f"申込者は{city}外ですが、返礼品の原材料は{city}内産です（3）。", **evidence)
    if case.has(F2):
        return warned(f"申込者は{city}外で、製造・原材料も市外です。様式第2号により資格を認めるか確認してください（3）。",
                      **evidence)  # fmt: skip
    return failed(f"申込者の所在地（{address}）は{city}外で、返礼品の製造・原材料も市外です。応募資格（3）を満たしません。",
                  **evidence)  # fmt: skip


@PACK.rule("tax_arrears", "004 3(1)", title="市税等の滞納", applies_to=(F1,))
def tax_arrears(case: CaseView) -> RuleResult:
    cert = case.doc("tax_certificate")
    if cert is not None:
        return check_certificate_no_arrears(cert)
    return passed(
        "納税証明書の添付はありませんが、申込書により市による納税状況の確認に同意しています（3(1)）。"
        "市税等の滞納がないことを市で確認してください。",
        basis="consent",
    )


PACK.add("tax_certificate_applicant", "004 3(1)", check_tax_certificate_applicant, title="納税証明書の申請者")
PACK.add("tax_certificate_recent", "004 3(1)", check_tax_certificate_recent, title="納税証明書の発行日")

# --- prices ----------------------------------------------------------------------------------


@PACK.rule("return_ratio", "004 7(2)", title="返礼割合（30%以下）", applies_to=(F1, F5))
def return_ratio(case: CaseView) -> RuleResult:
    out: list[Verdict] = []
    for doc in case.docs(F1):
        out.append(return_ratio_verdict(doc.yen("donation_amount"), doc.yen("gift_price_incl_tax"), RETURN_RATIO_LIMIT,
                                        what="返礼品の価格（税込）"))
    for doc in case.docs(F5):
        if not (doc.has("new_donation_amount") or doc.has("new_gift_price_incl_tax")):
            out.append(not_applicable("変更申請書で寄附金額・返礼品の価格は変更されていません。"))
            continue
        original = case.doc(F1)
        donation = doc.yen("new_donation_amount", required=False)
        price = doc.yen("new_gift_price_incl_tax", required=False)
        if donation is None:
            donation = original.yen("donation_amount") if original else doc.yen("new_donation_amount")
        if price is None:
            price = original.yen("gift_price_incl_tax") if original else doc.yen("new_gift_price_incl_tax")
        out.append(return_ratio_verdict(donation, price, RETURN_RATIO_LIMIT, what="変更後の返礼品の価格（税込）"))
    return out


def tax_verdict(excl: int, incl: int, *, what: str, clause: str | None = None) -> Verdict:
    """税込 ≈ 税抜 × 1.08 or × 1.10 (within 1 yen); between the two: mixed rates, warn."""
    evidence = dict(price_excl_tax=excl, price_incl_tax=incl,
                    expected_8=round(excl * 1.08), expected_10=round(excl * 1.10),
                    implied_rate_percent=round((incl / excl - 1) * 100, 2) if excl else None)  # fmt: skip
    if excl <= 0:
        return failed(f"{what}（税抜）が{yen(excl)}です。", clause=clause, **evidence)
    for rate in TAX_RATES:
        if abs(incl * 100 - excl * (100 + rate)) <= 100:
            return passed(f"{what}: 税抜{yen(excl)} × {1 + rate / 100:.2f} ≒ 税込{yen(incl)}（消費税{rate}%）で整合します。",
                          clause=clause, rate_percent=rate, **evidence)  # fmt: skip
    if excl * 108 < incl * 100 < excl * 110:
        return warned(f"{what}: 税込{yen(incl)}は税抜{yen(excl)}の8%と10%の間です。軽減税率と標準税率の混在か確認してください。",
                      clause=clause, **evidence)  # fmt: skip
    return failed(f"{what}: 税込{yen(incl)}が税抜{yen(excl)}の8%（{yen(round(excl * 1.08))}）・10%"
                  f"（{yen(round(excl * 1.10))}）のどちらとも合いません。", clause=clause, **evidence)  # fmt: skip


@PACK.rule("tax_consistency", "004 7(2)", title="税込・税抜の整合", applies_to=(F1, F5))
def tax_consistency(case: CaseView) -> RuleResult:
    out: list[Verdict] = []
    for doc in case.docs(F1):
        out.append(tax_verdict(doc.yen("gift_price_excl_tax"), doc.yen("gift_price_incl_tax"), what="返礼品の価格"))
        if doc.has("retail_price_excl_tax") and doc.has("retail_price_incl_tax"):
            out.append(tax_verdict(doc.yen("retail_price_excl_tax"), doc.yen("retail_price_incl_tax"),
                                   what="一般小売価格", clause="004 様式第1号 6"))  # fmt: skip
    for doc in case.docs(F5):
        for stem, what, clause in (("gift_price", "変更後の返礼品の価格", None),
                                   ("retail_price", "変更後の一般小売価格", "004 様式第1号 6")):  # fmt: skip
            if doc.has(f"new_{stem}_excl_tax") and doc.has(f"new_{stem}_incl_tax"):
                out.append(tax_verdict(doc.yen(f"new_{stem}_excl_tax"), doc.yen(f"new_{stem}_incl_tax"),
                                       what=what, clause=clause))  # fmt: skip
    if not out:
        return not_applicable("税抜・税込の両方が記載された価格がありません。")
    return out


# --- local product ---------------------------------------------------------------------------


def value_added_verdict(cert: DocView, *, clause: str = "004 7(1)ウ(ウ)") -> Verdict:
    """様式第2号: (A − B) / A × 100 must be over 50 and match the stated percentage (±0.1)."""
    stated = cert.number("value_added_percent")
    method = cert.text("method", required=False)
    if method == "other":
        evidence = dict(method=method, stated_percent=stated, threshold_over=VALUE_ADDED_OVER)
        if stated > VALUE_ADDED_OVER:
            return warned(f"様式第2号はその他の算出方法で{stated}%です。算出方法の妥当性を職員が確認してください。",
                          clause=clause, **evidence)  # fmt: skip
        return failed(f"様式第2号の付加価値割合{stated}%は過半（50%超）ではありません。", clause=clause, **evidence)
    a = cert.yen("procurement_cost_a")
    b = cert.yen("outside_cost_b")
    evidence = dict(method=method or "standard", procurement_cost_a=a, outside_cost_b=b, stated_percent=stated,
                    threshold_over=VALUE_ADDED_OVER, tolerance=PERCENT_TOLERANCE)  # fmt: skip
    if a <= 0 or b < 0 or b > a:
        return failed(f"様式第2号の算出基礎が不正です（A={yen(a)}、B={yen(b)}）。", clause=clause, **evidence)
    computed = (a - b) * 100 / a
    evidence.update(computed_percent=round(computed, 2), difference=round(abs(computed - stated), 2))
    formula = f"(A {yen(a)} − B {yen(b)}) ÷ A × 100 = {computed:.2f}%"
    problems = []
    if not (a - b) * 100 > a * VALUE_ADDED_OVER:
        problems.append(f"過半（{VALUE_ADDED_OVER}%超）ではありません")
    if abs(computed - stated) > PERCENT_TOLERANCE + 1e-9:
        problems.append(f"記載の割合{stated:g}%と一致しません")
    if problems:
        return failed(f"様式第2号: {formula}で、{'。また、'.join(problems)}。", clause=clause, **evidence)
    return passed(f"様式第2号: {formula}で、記載の{stated:g}%と一致し、過半です。", clause=clause, **evidence)


@PACK.rule("local_product", "004 7(1)ウ", title="地場産品基準", applies_to=(F1,))
def local_product(case: CaseView) -> RuleResult:
    app = _form1(case)
    ingredients = app.text("ingredients_origin", required=False)
    manufacturing = app.text("manufacturing_place", required=False)
    evidence = dict(ingredients_origin=ingredients, manufacturing_place=manufacturing,
                    ingredients_origin_detail=app.text("ingredients_origin_detail", required=False),
                    manufacturing_place_detail=app.text("manufacturing_place_detail", required=False))  # fmt: skip
    if ingredients == "in_city":
        return passed("原材料が市内産です（地場産品基準7(1)ウ(イ)）。", clause="004 7(1)ウ(イ)", **evidence)
    if manufacturing == "in_city":
        return passed("製造場所が市内です（地場産品基準7(1)ウ(ウ)）。", clause="004 7(1)ウ(ウ)", **evidence)
    cert = case.doc(F2)
    if cert is not None:
        return value_added_verdict(cert)
    if ingredients is None and manufacturing is None:
        raise Missing("ingredients_origin", app.label("ingredients_origin"), app.form)
    return failed("原材料・製造場所がいずれも市外で、様式第2号（付加価値割合の証明書）もないため、"
                  "地場産品基準（7(1)ウ）を満たすことが確認できません。", **evidence)  # fmt: skip


@PACK.rule("value_added_certificate_product", "004 4", title="様式第2号の対象商品", applies_to=(F2,))
def value_added_certificate_product(case: CaseView) -> RuleResult:
    cert = case.doc(F2)
    app = case.application
    if cert is None or app is None:
        return not_applicable("申込書がないため照合できません。")
    return product_match_verdict("様式第2号", app.text("product_name"), cert.text("product_name"))


@PACK.rule("origin_certificate", "004 様式第1号 21", title="原産地証明書", applies_to=("origin_certificate",))
def origin_certificate(case: CaseView) -> RuleResult:
    cert = case.doc("origin_certificate")
    app = case.doc(F1)
    if cert is None or app is None:
        return not_applicable("申込書（様式第1号）がないため照合できません。")
    origin = cert.text("origin")
    claimed = app.text("ingredients_origin", required=False)
    detail = app.text("ingredients_origin_detail", required=False)
    city, pref = case.settings.municipality, case.settings.prefecture
    evidence = dict(origin=origin, ingredients_origin=claimed, ingredients_origin_detail=detail)
    if claimed == "in_city":
        if city in origin or city.removesuffix("市") in origin:
            return passed(f"原産地証明書の原産地（{origin}）は申込書の「市内」と一致します。", **evidence)
        return warned(f"申込書は原材料「市内」ですが、原産地証明書の原産地は「{origin}」です。確認してください。", **evidence)
    if detail and (detail in origin or origin in detail):
        return passed(f"原産地証明書の原産地（{origin}）は申込書の記載（{detail}）と一致します。", **evidence)
    if pref in origin or city in origin:
        return passed(f"原産地証明書の原産地は{origin}です。", **evidence)
    return warned(f"原産地証明書の原産地（{origin}）と申込書の原材料の記載（{detail or '記載なし'}）を確認してください。",
                  **evidence)  # fmt: skip


# --- shelf life and allergens ------------------------------------------------------------------

_NO_SHELF_LIFE = {"なし", "無し", "該当なし", "なし。", "-", "ー", "―", "特になし", "期限なし"}
_FRESH_WORDS = ("生鮮", "鮮魚", "朝採れ", "朝どれ", "採れたて", "とれたて", "獲れたて", "生野菜", "青果", "鮮度")


def shipping_days(text: str | None) -> int | None:
    """Days from order (or production) to dispatch in ``出荷タイミング``: 即日 → 0, 1週間以内 → 7."""
    if not text:
        return None
    t = nfkc(text)
    if re.search(r"即日|当日", t):
        return 0
    if "翌日" in t:
        return 1
    return parse_days(t)


def _shelf_life_of(doc: DocView, best_before: str | None, timing: str | None) -> Verdict:
    """``best_before`` and ``timing`` are the texts of rows 16 and 12; ``doc`` (様式第1号 when
    there is one) tells whether the gift is food and whether it is fresh."""
    food_signs = [s for s, on in (("アレルギー品目あり", doc.flag("allergens_present", required=False) is True),
                                  ("アレルギー品目の記載", bool(doc.items("allergens"))),
                                  ("冷蔵・冷凍", doc.text("temperature", required=False) in ("chilled", "frozen")))
                  if on]  # fmt: skip
    if best_before is None or best_before in _NO_SHELF_LIFE:
        if food_signs:
            return warned(f"飲食物と思われますが（{'、'.join(food_signs)}）、消費期限・賞味期限の記載がありません。",
                          food_signs=food_signs, best_before=best_before)  # fmt: skip
        return not_applicable("消費期限・賞味期限の記載がなく、飲食物ではないとみなしました。", best_before=best_before)
    words = " ".join(filter(None, (doc.text(k, required=False) for k in ("product_name", "product_description"))))
    fresh = [w for w in _FRESH_WORDS if w in words or w in best_before]
    days = parse_days(best_before)
    ship = shipping_days(timing)
    basis = dict(best_before=best_before, shipping_timing=timing, shipping_days_read=ship is not None)
    verdict = shelf_life_verdict(shelf_days=days, days_before_shipping=ship or 0, min_days=SHELF_LIFE_DAYS,
                                 on_arrival="到着" in best_before, basis=basis)  # fmt: skip
    if fresh and verdict.status != "pass":
        return not_applicable(f"生鮮品（{'、'.join(fresh)}）のため賞味期限の基準は適用しません。発送日の調整を確認してください。",
                              fresh_words=fresh, **verdict.evidence)  # fmt: skip
    return verdict


@PACK.rule("shelf_life", "004 7(1)イ", title="賞味期限（到着後5日程度）", applies_to=(F1, F5))
def shelf_life(case: CaseView) -> RuleResult:
    out = [
        _shelf_life_of(doc, doc.text("best_before", required=False), doc.text("shipping_timing", required=False))
        for doc in case.docs(F1)
    ]
    original = case.doc(F1)
    for doc in case.docs(F5):
        if not (doc.has("new_best_before") or doc.has("new_shipping_timing")):
            out.append(not_applicable("変更申請書で消費期限・賞味期限・出荷タイミングは変更されていません。"))
            continue
        # the change form holds only what changes: the rest comes from 様式第1号 when it is in the case
        best_before = doc.text("new_best_before", required=False)
        timing = doc.text("new_shipping_timing", required=False)
        if original is not None:
            best_before = best_before or original.text("best_before", required=False)
            timing = timing or original.text("shipping_timing", required=False)
        elif best_before is None:
            out.append(warned("出荷タイミングが変更されましたが、消費期限・賞味期限がわからないため判定できません。"))
            continue
        out.append(_shelf_life_of(original or doc, best_before, timing))
    return out


@PACK.rule("allergen_consistency", "004 様式第1号 15", title="アレルギー品目", applies_to=(F1,))
def allergen_consistency(case: CaseView) -> RuleResult:
    app = _form1(case)
    present = app.flag("allergens_present", required=False)
    ticked = app.items("allergens")
    unknown = [a for a in ticked if a not in ALLERGENS]
    evidence = dict(allergens_present=present, allergens=ticked, unknown=unknown)
    if present is True and not ticked:
        return failed("アレルギー品目が「あり」ですが、該当する品目にチェックがありません。", **evidence)
    if present is False and ticked:
        return failed(f"アレルギー品目が「なし」ですが、品目（{'、'.join(ticked)}）にチェックがあります。", **evidence)
    if present is None:
        if ticked:
            return warned(f"アレルギー品目の「あり・なし」が選ばれていませんが、品目（{'、'.join(ticked)}）にチェックがあります。",
                          **evidence)  # fmt: skip
        raise Missing("allergens_present", app.label("allergens_present"), app.form)
    if unknown:
        return warned(f"様式にないアレルギー品目名があります: {'、'.join(unknown)}", **evidence)
    if present:
        return passed(f"アレルギー品目「あり」: {'、'.join(ticked)}", **evidence)
    return passed("アレルギー品目「なし」で、品目のチェックもありません。", **evidence)


# --- changes, withdrawals and the registration --------------------------------------------------


@PACK.rule("notice_period", "004 12(2)", title="変更・辞退の40日前報告", applies_to=(F5, F6))
def notice_period(case: CaseView) -> RuleResult:
    out: list[Verdict] = []
    for doc in case.docs(F6):
        applied = doc.date("application_date")
        effective = doc.date("withdrawal_date")
        out.append(_notice_verdict("辞退", applied, effective))
    for doc in case.docs(F5):
        applied = doc.date("application_date")
        effective = doc.date("change_date", required=False) or doc.date("effective_date", required=False)
        if effective is None:
            earliest = applied + timedelta(days=NOTICE_DAYS)
            out.append(warned(f"変更予定日の記載がないため、{NOTICE_DAYS}日前までの申請か確認できません。"
                              f"変更は{earliest.isoformat()}以降に適用してください。",
                              application_date=applied, earliest_effective_date=earliest,
                              notice_days=NOTICE_DAYS))  # fmt: skip
        else:
            out.append(_notice_verdict("変更", applied, effective))
    return out


def _notice_verdict(kind: str, applied: date, effective: date) -> Verdict:
    days = (effective - applied).days
    deadline = effective - timedelta(days=NOTICE_DAYS)
    evidence = dict(application_date=applied, effective_date=effective, days_ahead=days,
                    notice_days=NOTICE_DAYS, latest_application_date=deadline)  # fmt: skip
    shown = f"{kind}日{effective.isoformat()}の{days}日前の届出"
    if days >= NOTICE_DAYS:
        return passed(f"{shown}で、{NOTICE_DAYS}日前までの報告です。", **evidence)
    return failed(f"{shown}で、{NOTICE_DAYS}日前（{deadline.isoformat()}）までの報告になっていません。", **evidence)


@PACK.rule("registration_expiry", "004 8", title="登録期限（年度末・自動更新）", applies_to=(F1, F5, F6))
def registration_expiry(case: CaseView) -> RuleResult:
    start = case.settings.fiscal_year_start_month
    out: list[Verdict] = []
    for _ in case.docs(F1):
        end = fiscal_year_end(case.today, start)
        out.append(passed(f"承認された場合、登録期限は{end.isoformat()}（承認年度の末日）で、"
                          "以後辞退・取扱中止がない限り1年ごとに自動更新されます。",
                          reference_date=case.today, registration_expiry=end, renewal="yearly"))  # fmt: skip
    for doc in case.docs(F5):
        approved = doc.date("original_approval_date")
        applied = doc.date("application_date")
        evidence = dict(original_approval_date=approved, application_date=applied,
                        first_term_end=fiscal_year_end(approved, start),
                        current_term_end=fiscal_year_end(applied, start))  # fmt: skip
        if approved > applied:
            out.append(failed(f"承認日（{approved.isoformat()}）が変更申請日（{applied.isoformat()}）より後です。",
                              **evidence))  # fmt: skip
            continue
        renewals = applied.year - approved.year + (applied.month >= start) - (approved.month >= start)
        evidence["renewals"] = renewals
        out.append(passed(f"{approved.isoformat()}承認の登録は自動更新により{fiscal_year_end(applied, start).isoformat()}"
                          f"まで有効です（更新{renewals}回）。", **evidence))  # fmt: skip
    for doc in case.docs(F6):
        withdrawal = doc.date("withdrawal_date")
        out.append(passed(f"辞退により登録は{withdrawal.isoformat()}から終了します（自動更新されません）。",
                          withdrawal_date=withdrawal))  # fmt: skip
    return out


def _form1(case: CaseView) -> DocView:
    doc = case.doc(F1)
    assert doc is not None  # rules using this declare applies_to=(F1,)
    return doc
