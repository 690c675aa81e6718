"""館山市ふるさと納税返礼品提供事業者募集要項 (seed 003): the rules of the Tateyama pack.

Clauses cite "003 SECTION". The application is the 登録申請書 (tateyama.form1) and one 提案書
per gift (tateyama.form2), with a 納税証明書 when the applicant is not taxed in the city.
"""

from __future__ import annotations

from dataclasses import dataclass

from forms.checks import (
    CaseView,
    DocView,
    RulePack,
    RuleResult,
    Verdict,
    check_certificate_no_arrears,
    check_tax_certificate_applicant,
    check_tax_certificate_recent,
    failed,
    food_shelf_life_verdict,
    not_applicable,
    passed,
    required_fields_rule,
    return_ratio_verdict,
    warned,
    yen,
)

F1, F2 = "tateyama.form1", "tateyama.form2"

PACK = RulePack("tateyama", application_forms=(F1, F2), application_clause="003 9")

#: 4(2), 5: price with goods, packing and tax at most 30% of the donation; goods alone too.
RETURN_RATIO_LIMIT = 30
#: 3(6): food keeps about a week (概ね一週間以上) after arrival.
SHELF_LIFE_DAYS = 7
#: 3(9): a service voucher is usable for at least a year after it is sent.
VOUCHER_MIN_MONTHS = 12


@dataclass(frozen=True)
class Tier:
    """One row of the 寄附金額設定表 (003 5): a donation and the proposed prices it takes."""

    code: str
    donation: int
    low: int
    high: int

    def describe(self) -> str:
        return f"区分{self.code}（寄附金額{yen(self.donation)}: 提案価格{self.low:,}〜{self.high:,}円）"


#: 003 5 寄附金額設定表 (提案価格には、消費税・梱包料を含む。), as printed.
TIERS: tuple[Tier, ...] = tuple(
    Tier(*row)
    for row in (
        ("A", 10_000, 2_701, 3_000), ("B", 11_000, 3_001, 3_300), ("C", 12_000, 3_301, 3_600),
        ("D", 13_000, 3_601, 3_900), ("E", 14_000, 3_901, 4_200), ("F", 15_000, 4_201, 4_500),
        ("G", 16_000, 4_501, 4_800), ("H", 17_000, 4_801, 5_100), ("I", 18_000, 5_101, 5_400),
        ("J", 19_000, 5_401, 5_700), ("K", 20_000, 5_701, 6_000), ("L", 25_000, 6_001, 7_500),
        ("M", 30_000, 7_501, 9_000), ("N", 35_000, 9_001, 10_500), ("O", 40_000, 10_501, 12_000),
        ("P", 45_000, 12_001, 13_500), ("Q", 50_000, 13_501, 15_000), ("R", 60_000, 15_001, 18_000),
        ("S", 70_000, 18_001, 21_000), ("T", 80_000, 21_001, 24_000), ("U", 90_000, 24_001, 27_000),
        ("V", 100_000, 27_001, 30_000), ("W", 150_000, 30_001, 45_000), ("X", 200_000, 45_001, 60_000),
        ("Y", 250_000, 60_001, 75_000), ("Z", 300_000, 75_001, 90_000),
    )
)  # fmt: skip


def tier_for_price(price: int) -> Tier | None:
    return next((t for t in TIERS if t.low <= price <= t.high), None)


def tier_for_donation(donation: int) -> Tier | None:
    return next((t for t in TIERS if t.donation == donation), None)


def _proposals(case: CaseView) -> list[tuple[DocView, str]]:
    """Each 提案書 with a label naming its gift when the case has several (「…」: ), else ""."""
    docs = case.docs(F2)
    if len(docs) < 2:
        return [(d, "") for d in docs]
    return [(d, f"「{d.text('product_name', required=False) or '返礼品'}」: ") for d in docs]


def _labelled(verdict: Verdict, label: str) -> Verdict:
    if not label:
        return verdict
    return Verdict(verdict.status, label + verdict.message, verdict.evidence, verdict.clause)


PACK.add("required_fields", "003 9", required_fields_rule({F1: "003 9(1)", F2: "003 9(2)"}), title="必須項目")


@PACK.rule("required_documents", "003 9", title="応募書類")
def required_documents(case: CaseView) -> RuleResult:
    application = case.doc(F1)
    missing: list[str] = []
    unknown: list[str] = []
    if application is None:
        missing.append("登録申請書（誓約書兼同意書）（9(1)）")
    if not case.has(F2):
        missing.append("返礼品提案書（9(2)）")
    taxed = application.flag("taxed_in_city", required=False) if application else None
    if taxed is False and not case.has("tax_certificate"):
        missing.append("課税のある市町村の納税証明書（滞納のない証明）（9(3)）")
    elif taxed is None and not case.has("tax_certificate"):
        unknown.append("本市での課税の有無（なしの場合は納税証明書が必要: 9(3)）")
    attachments: dict[str, list[str]] = {}
    for doc, label in _proposals(case):
        ticked = attachments[doc.text("product_name", required=False) or "?"] = doc.items("attachments")
        for needed, flag, key, name in (
            ("9(4)", doc.flag("is_food", required=False), "food_label", "食品表示シール"),
            ("9(5)", doc.flag("licence_required", required=False), "business_licence", "営業許可証の写し"),
            ("9(6)", True, "images", "返礼品画像"),
        ):
            if flag is True and key not in ticked:
                missing.append(f"{label}{name}（{needed}）")
            elif flag is None:
                unknown.append(f"{label}{name}が必要か（{needed}）")
    evidence = dict(documents=[d.form for d in case.documents], taxed_in_city=taxed, attachments=attachments,
                    missing=missing, undetermined=unknown)  # fmt: skip
    if missing:
        return failed(f"応募書類が不足しています: {'、'.join(missing)}", **evidence)
    if unknown:
        return warned(f"応募書類が揃っているか判定できません: {'、'.join(unknown)}", **evidence)
    return passed("応募書類（申請書・提案書と必要な添付書類）は揃っています。", **evidence)


@PACK.rule("tax_arrears", "003 2(3)", title="市町村税の滞納", applies_to=(F1,))
def tax_arrears(case: CaseView) -> RuleResult:
    cert = case.doc("tax_certificate")
    if cert is not None:
        return check_certificate_no_arrears(cert)
    application = case.doc(F1)
    assert application is not None
    if application.flag("taxed_in_city"):
        return passed("本市で課税があり、申請書により市が納税状況を確認することに同意しています。",
                      basis="consent", taxed_in_city=True)  # fmt: skip
    return warned("本市で課税がなく、納税証明書もないため、滞納がないことを確認できません（2(3)、9(3)）。",
                  taxed_in_city=False)  # fmt: skip


PACK.add("tax_certificate_applicant", "003 9(3)", check_tax_certificate_applicant, title="納税証明書の申請者")
PACK.add("tax_certificate_recent", "003 9(3)", check_tax_certificate_recent, title="納税証明書の発行日")


@PACK.rule("tier", "003 5", title="寄附金額設定表の区分", applies_to=(F2,))
def tier(case: CaseView) -> RuleResult:
    return [_labelled(tier_verdict(p.yen("donation_amount"), p.yen("proposed_price")), label)
            for p, label in _proposals(case)]  # fmt: skip


def tier_verdict(donation: int, price: int) -> Verdict:
    stated, right = tier_for_donation(donation), tier_for_price(price)
    evidence = dict(donation_amount=donation, proposed_price=price,
                    stated_tier=stated.code if stated else None, price_tier=right.code if right else None,
                    price_tier_donation=right.donation if right else None,
                    price_range=[right.low, right.high] if right else None)  # fmt: skip
    if right is None:
        return warned(f"提案価格{yen(price)}は寄附金額設定表の範囲（{TIERS[0].low:,}〜{TIERS[-1].high:,}円）外です。"
                      "市との協議が必要です（5 ※）。", **evidence)  # fmt: skip
    if stated is None:
        return warned(f"寄附金額{yen(donation)}は寄附金額設定表にありません（5 ※: 市と協議）。"
                      f"提案価格{yen(price)}は{right.describe()}に当たります。", **evidence)  # fmt: skip
    if stated == right:
        return passed(f"提案価格{yen(price)}は{right.describe()}の範囲内です。", **evidence)
    return failed(f"提案価格{yen(price)}は寄附金額{yen(donation)}の範囲（{stated.low:,}〜{stated.high:,}円）になく、"
                  f"{right.describe()}に当たります。", **evidence)  # fmt: skip


@PACK.rule("return_ratio", "003 4(2)", title="返礼割合（30%以下）", applies_to=(F2,))
def return_ratio(case: CaseView) -> RuleResult:
    return [
        _labelled(return_ratio_verdict(p.yen("donation_amount"), p.yen("proposed_price"), RETURN_RATIO_LIMIT,
                                       what="提案価格（消費税・梱包料込み）"), label)  # fmt: skip
        for p, label in _proposals(case)
    ]


@PACK.rule("goods_only_ratio", "003 5", title="品物代のみの割合", applies_to=(F2,))
def goods_only_ratio(case: CaseView) -> RuleResult:
    out: list[Verdict] = []
    for p, label in _proposals(case):
        donation, goods = p.yen("donation_amount"), p.yen("goods_price")
        proposed = p.yen("proposed_price", required=False)
        verdict = return_ratio_verdict(donation, goods, RETURN_RATIO_LIMIT, what="品物代（品物のみ）")
        if verdict.status == "pass" and proposed is not None and goods > proposed:
            verdict = warned(f"品物代{yen(goods)}が提案価格{yen(proposed)}（すべての経費込み）を上回っています。確認してください。",
                             proposed_price=proposed, **verdict.evidence)  # fmt: skip
        out.append(_labelled(verdict, label))
    return out


@PACK.rule("shelf_life", "003 3(6)", title="賞味期限（到着後概ね1週間）", applies_to=(F2,))
def shelf_life(case: CaseView) -> RuleResult:
    return [_labelled(food_shelf_life_verdict(p, SHELF_LIFE_DAYS), label) for p, label in _proposals(case)]


VOUCHER_ITEMS = {
    "service_content": "サービス内容",
    "reservation_deadline": "予約期限",
    "usage_deadline": "利用期限",
    "reservation_method": "予約方法",
    "cancellation_policy": "キャンセル規定",
}


@PACK.rule("voucher_terms", "003 3(9)", title="利用券の条件", applies_to=(F2,))
def voucher_terms(case: CaseView) -> RuleResult:
    out: list[Verdict] = []
    for p, label in _proposals(case):
        if p.text("product_type") != "service":
            out.append(_labelled(not_applicable("サービス（利用券）ではないため対象外です。"), label))
            continue
        out.append(_labelled(_voucher_validity(p), label))
        out.append(_labelled(_voucher_statement(p), label))
    return out


def _voucher_validity(p: DocView) -> Verdict:
    if p.flag("date_specified", required=False):
        return passed("日時指定のサービスのため、1年以上の有効期間は求められません（3(9)ただし書）。", date_specified=True)
    months = p.integer("voucher_validity_months")
    evidence = dict(voucher_validity_months=months, minimum_months=VOUCHER_MIN_MONTHS)
    if months >= VOUCHER_MIN_MONTHS:
        return passed(f"利用券は発送後{months}か月利用でき、1年以上です。", **evidence)
    return failed(f"利用券の有効期間が{months}か月で、発送後1年以上利用可能になっていません（3(9)）。", **evidence)


def _voucher_statement(p: DocView) -> Verdict:
    ticked = p.items("voucher_items")
    absent = [name for key, name in VOUCHER_ITEMS.items() if key not in ticked]
    prevention = p.text("resale_prevention", required=False)
    evidence = dict(voucher_items=ticked, missing_items=absent, resale_prevention=prevention)
    problems = []
    if absent:
        problems.append(f"利用券に{'・'.join(absent)}の記載がありません")
    if prevention not in ("named", "numbered"):
        problems.append("記名・通し番号などの転売防止措置がありません")
    if problems:
        return failed("。".join(problems) + "（3(10)）。", clause="003 3(10)", **evidence)
    how = "記名" if prevention == "named" else "通し番号"
    return passed(f"利用券に必要事項（{'・'.join(VOUCHER_ITEMS.values())}）が明記され、{how}により転売を防止しています。",
                  clause="003 3(10)", **evidence)  # fmt: skip

