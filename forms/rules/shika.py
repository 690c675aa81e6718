"""志賀町ふるさと納税返礼品提供事業者募集要項 (seed 001): the rules of the Shika pack.

Clauses cite "001 SECTION"; the local-product items cite "001 別紙① N". The application is the
誓約書 (様式第1号, shika.form1) with 様式第2号 (licences, with copies) and 様式第3号 (PL insurance).
"""

from __future__ import annotations

from datetime import date

from forms.checks import (
    CaseView,
    DocView,
    Missing,
    RulePack,
    RuleResult,
    Verdict,
    failed,
    food_shelf_life_verdict,
    not_applicable,
    passed,
    required_fields_rule,
    warned,
    yen,
)

F1, F2, F3 = "shika.form1", "shika.form2", "shika.form3"

PACK = RulePack("shika", application_forms=(F1,), application_clause="001 4")

#: 5(3): the donation is the gift price, shipping and fees rounded up to 1,000 yen.
DONATION_UNIT = 1_000
#: 3(5): food keeps about a week (概ね1週間以上) after arrival.
SHELF_LIFE_DAYS = 7
#: 別紙① 6: the local part of a set is at least 70% of its value.
SET_LOCAL_MIN_PERCENT = 70
#: 別紙① 7の3イ: lodging of at most 50,000 yen a night.
LODGING_MAX_PER_NIGHT = 50_000
#: 別紙① 3ロ: more than half of the value arises in the town.
VALUE_ADDED_OVER = 50

PACK.add("required_fields", "001 4", required_fields_rule({F1: "001 4", F2: "001 4(1)", F3: "001 4(2)"}),
         title="必須項目")  # fmt: skip


@PACK.rule("required_documents", "001 4", title="申込書類")
def required_documents(case: CaseView) -> RuleResult:
    missing: list[str] = []
    unknown: list[str] = []
    expired: list[str] = []
    if not case.has(F1):
        missing.append("誓約書（様式第1号）")
    licences = case.doc(F2)
    if licences is None:
        missing.append("免許及び許可の確認票（様式第2号）（4(1)）")
    else:
        needed = licences.flag("licence_needed", required=False)
        named = [n for n in (licences.text(f"licence{i}_name", required=False) for i in (1, 2)) if n]
        if needed is None:
            unknown.append("様式第2号の免許・許可の要否")
        elif needed:
            if not named:
                missing.append("様式第2号に免許・許可の名称の記載（4(1)）")
            if licences.flag("copies_attached", required=False) is not True:
                missing.append("免許及び許可を証明する書類の写し（4(1)※）")
            expired = _expired_licences(licences, case.today)
    insurance = case.doc(F3)
    if insurance is None:
        missing.append("PL保険加入有無の確認票（様式第3号）（4(2)）")
    elif insurance.flag("pl_insured", required=False) is None:
        unknown.append("様式第3号のPL保険加入の有無")
    evidence = dict(documents=[d.form for d in case.documents], missing=missing, undetermined=unknown,
                    expired_licences=expired,
                    pl_insured=insurance.flag("pl_insured", required=False) if insurance else None)  # fmt: skip
    if missing or expired:
        parts = []
        if missing:
            parts.append(f"申込書類が不足しています: {'、'.join(missing)}")
        if expired:
            parts.append(f"有効期限の切れた免許・許可があります: {'、'.join(expired)}")
        return failed("。".join(parts) + "。", **evidence)
    if unknown:
        return warned(f"申込書類の内容を確認してください: {'、'.join(unknown)}。", **evidence)
    return passed("誓約書（様式第1号）、免許及び許可の確認票（様式第2号）、PL保険加入有無の確認票（様式第3号）が揃っています。",
                  **evidence)  # fmt: skip


def _expired_licences(doc: DocView, today: date) -> list[str]:
    out = []
    for i in (1, 2):
        until = doc.date(f"licence{i}_valid_until", required=False)
        if until is not None and until < today:
            name = doc.text(f"licence{i}_name", required=False) or f"免許・許可（{i}）"
            out.append(f"{name}（{until.isoformat()}まで）")
    return out


@PACK.rule("donation_rounding", "001 5(3)", title="寄付金額（1,000円単位切り上げ）", applies_to=(F1,))
def donation_rounding(case: CaseView) -> RuleResult:
    app = _form1(case)
    parts = {
        "gift_price": app.yen("gift_price"),
        "installation_cost": app.yen("installation_cost", required=False) or 0,
        "shipping_fee": app.yen("shipping_fee"),
        "other_fees": app.yen("other_fees", required=False) or 0,
    }
    return donation_rounding_verdict(parts, app.yen("donation_amount"))


def donation_rounding_verdict(parts: dict[str, int], donation: int) -> Verdict:
    total = sum(parts.values())
    expected = -(-total // DONATION_UNIT) * DONATION_UNIT
    evidence = dict(parts, total=total, expected_donation=expected, donation_amount=donation, unit=DONATION_UNIT)
    shown = " + ".join(f"{v:,}" for v in parts.values())
    if donation == expected:
        return passed(f"{shown} = {yen(total)}を1,000円単位に切り上げた{yen(expected)}と寄付金額が一致します。", **evidence)
    return failed(f"{shown} = {yen(total)}を1,000円単位に切り上げると{yen(expected)}ですが、寄付金額は{yen(donation)}です。",
                  **evidence)  # fmt: skip


_REVIEW_ONLY = {
    "no5": "町のキャラクターグッズ等であることが形状・名称等から明白か",
    "no7_3_ro": "特定非常災害の指定・対象期間に当たるか",
    "no7_4": "町内で地域のエネルギー源により発電された電気か",
    "no8": "近隣市町・県との共通返礼品（8のイ〜ハ）の取決めがあるか",
    "no9": "災害により提供できなくなった返礼品の代替・交換に当たるか",
}
#: The items of 別紙① by the values of ``local_basis`` (no3_i → 3イ).
ITEMS = {"no1": "1", "no2": "2", "no3": "3", "no3_i": "3イ", "no3_ro": "3ロ", "no4": "4", "no5": "5", "no6": "6",
         "no7": "7", "no7_2": "7の2", "no7_3_i": "7の3イ", "no7_3_ro": "7の3ロ", "no7_4": "7の4", "no8": "8",
         "no9": "9"}  # fmt: skip


@PACK.rule("local_product", "001 別紙①", title="地場産品基準", applies_to=(F1,))
def local_product(case: CaseView) -> RuleResult:
    app = _form1(case)
    basis = app.text("local_basis")
    if basis not in ITEMS:
        raise Missing("local_basis", app.label("local_basis"), app.form, reason="unreadable")
    clause = f"001 別紙① {ITEMS[basis]}"
    place = app.text("production_place", required=False)
    origin = app.text("ingredients_origin", required=False)
    evidence = dict(local_basis=basis, production_place=place, ingredients_origin=origin)

    def need(ok: bool, good: str, bad: str, **more: object) -> Verdict:
        return (passed if ok else failed)(good if ok else bad, clause=clause, **evidence, **more)

    if basis == "no1":
        return need(place == "in_town", "町内で生産されたものです（別紙① 1）。", "町内で生産されたものではありません（別紙① 1）。")
    if basis == "no2":
        return need(origin == "in_town", "原材料の主要な部分が町内産です（別紙① 2）。",
                    "原材料の主要な部分が町内産ではありません（別紙① 2）。")  # fmt: skip
    if basis == "no3":
        return need(place == "in_town", "町内で製造・加工の主要な工程を行っています（別紙① 3）。",
                    "製造・加工の場所が町内ではありません（別紙① 3）。")  # fmt: skip
    if basis == "no3_i":
        ok = origin in ("in_town", "in_prefecture") and place == "in_town"
        return need(ok, "石川県内産の食肉・玄米を町内で熟成・精米しています（別紙① 3のイ）。",
                    "3のイは石川県内産の食肉・玄米を町内で熟成・精米したものに限られます"
                    f"（原材料: {_origin_name(origin)}、加工: {_place_name(place)}）。")  # fmt: skip
    if basis == "no3_ro":
        percent = app.number("value_added_percent")
        return need(percent > VALUE_ADDED_OVER, f"製造業者の証明により価値の{percent}%が町内で生じています（別紙① 3のロ）。",
                    f"町内で生じる価値が{percent}%で、過半（50%超）ではありません（別紙① 3のロ）。",
                    value_added_percent=percent)  # fmt: skip
    if basis == "no4":
        if place != "in_town":
            return failed("町内で生産されたものではありません（別紙① 4）。", clause=clause, **evidence)
        return warned("近隣市町産との混在が流通構造上避けられない場合か職員が確認してください（別紙① 4）。",
                      clause=clause, **evidence)  # fmt: skip
    if basis == "no6":
        local, total = app.yen("set_local_value"), app.yen("set_total_value")
        percent = round(local * 100 / total, 2) if total else 0.0
        ok = total > 0 and local * 100 >= total * SET_LOCAL_MIN_PERCENT
        return need(ok, f"地場産品の価値{yen(local)}は全体{yen(total)}の{percent}%で、7割以上です（別紙① 6）。",
                    f"地場産品の価値{yen(local)}は全体{yen(total)}の{percent}%で、7割に足りません（別紙① 6）。",
                    set_local_value=local, set_total_value=total, local_percent=percent,
                    minimum_percent=SET_LOCAL_MIN_PERCENT)  # fmt: skip
    if basis == "no7":
        service_place = app.text("service_place")
        return need(service_place == "in_town", "町内で提供される役務です（別紙① 7）。",
                    "役務の提供場所が町内ではありません（別紙① 7）。", service_place=service_place)  # fmt: skip
    if basis == "no7_2":
        service_place = app.text("service_place")
        only_here = app.flag("lodging_operated_only_in_town")
        return need(service_place == "in_town" and only_here is True,
                    "町内のみで運営する町内の宿泊施設による宿泊です（別紙① 7の2）。",
                    "7の2は町内に所在し町内のみで運営する宿泊施設に限られます。", service_place=service_place,
                    lodging_operated_only_in_town=only_here)  # fmt: skip
    if basis == "no7_3_i":
        price = app.yen("lodging_price_per_night")
        return need(price <= LODGING_MAX_PER_NIGHT,
                    f"宿泊料金は1泊{yen(price)}で、{yen(LODGING_MAX_PER_NIGHT)}以内です（別紙① 7の3イ）。",
                    f"宿泊料金が1泊{yen(price)}で、{yen(LODGING_MAX_PER_NIGHT)}を超えています（別紙① 7の3イ）。",
                    lodging_price_per_night=price, max_per_night=LODGING_MAX_PER_NIGHT)  # fmt: skip
    if basis in _REVIEW_ONLY:
        return warned(f"{_REVIEW_ONLY[basis]}を職員が確認してください（別紙① {ITEMS[basis]}）。",
                      clause=clause, **evidence)  # fmt: skip
    raise AssertionError(f"unhandled item {basis}")


def _origin_name(origin: str | None) -> str:
    return {"in_town": "志賀町内", "in_prefecture": "石川県内", "outside": "石川県外"}.get(origin or "", "記載なし")


def _place_name(place: str | None) -> str:
    return {"in_town": "町内", "outside": "町外"}.get(place or "", "記載なし")


@PACK.rule("shelf_life", "001 3(5)", title="賞味期限（到着後概ね1週間）", applies_to=(F1,))
def shelf_life(case: CaseView) -> RuleResult:
    return food_shelf_life_verdict(_form1(case), SHELF_LIFE_DAYS)


@PACK.rule("service_in_town", "001 3(6)", title="サービスの町内限定", applies_to=(F1,))
def service_in_town(case: CaseView) -> RuleResult:
    app = _form1(case)
    if app.flag("is_service") is False:
        return not_applicable("サービスの提供ではないため対象外です。", is_service=False)
    place = app.text("service_place")
    restricted = app.flag("usage_restricted")
    evidence = dict(is_service=True, service_place=place, usage_restricted=restricted)
    problems = []
    if place != "in_town":
        problems.append("サービスの提供場所が町外です（別紙① 7）")
    if restricted is not True:
        problems.append("指定のサービス以外・町外で利用できないようにする措置がありません（3(6)）")
    if problems:
        return failed("。".join(problems) + "。", **evidence)
    return passed("町内で提供され、指定のサービス以外・町外では利用できない措置があります。", **evidence)


def _form1(case: CaseView) -> DocView:
    doc = case.doc(F1)
    assert doc is not None  # rules using this declare applies_to=(F1,)
    return doc
