"""群馬県民向けマスク等販売事業実施要領 (seed 000): the rules of the Gunma pack.

Clauses cite "000 第N条M" (article N, paragraph M). The document checked is the seller's
販売計画 (gunma-mask.form1), one per sales month.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from forms.checks import (
    CaseView,
    DocView,
    Missing,
    RulePack,
    RuleResult,
    Verdict,
    add_months,
    failed,
    passed,
    required_fields_rule,
    warned,
)

F1 = "gunma-mask.form1"

PACK = RulePack("gunma-mask", application_forms=(F1,), application_clause="000 第8条1")

#: 第8条1: the plan is due by the 25th of the month before the sales month.
DEADLINE_DAY = 25
#: The product rows of the form (販売製品1〜3).
ITEM_ROWS = (1, 2, 3)

CATEGORY_NAMES = {
    "surgical_mask": "サージカルマスク",
    "mask": "その他のマスク",
    "disinfectant": "消毒液",
    "hygiene": "衛生用品",
    "emergency": "避難・非常用品",
}

PACK.add("required_fields", "000 第8条1", required_fields_rule({F1: "000 第8条1"}), title="必須項目")


def _plan(case: CaseView) -> DocView:
    doc = case.doc(F1)
    assert doc is not None  # rules using this declare applies_to=(F1,)
    return doc


def plan_deadline(sales_month: date) -> date:
    """The 25th of the month before the sales month (2021-01 → 2020-12-25)."""
    return add_months(sales_month.replace(day=1), -1).replace(day=DEADLINE_DAY)


@PACK.rule("sales_plan_deadline", "000 第8条1", title="販売計画の提出期限", applies_to=(F1,))
def sales_plan_deadline(case: CaseView) -> RuleResult:
    doc = _plan(case)
    return deadline_verdict(doc.date("submission_date"), doc.date("sales_month"))


def deadline_verdict(submitted: date, sales_month: date) -> Verdict:
    deadline = plan_deadline(sales_month)
    days = (deadline - submitted).days
    evidence = dict(submission_date=submitted, sales_month=sales_month.strftime("%Y-%m"), deadline=deadline,
                    days_before_deadline=days)  # fmt: skip
    month = f"{sales_month.year}年{sales_month.month}月"
    if days >= 0:
        return passed(f"{month}販売分の計画は{submitted.isoformat()}提出で、期限（{deadline.isoformat()}）までです。", **evidence)
    return failed(f"{month}販売分の計画の提出期限は前月25日（{deadline.isoformat()}）ですが、"
                  f"{submitted.isoformat()}提出で{-days}日遅れています。", **evidence)  # fmt: skip


@PACK.rule("purchase_limits", "000 第4条3", title="購入上限数", applies_to=(F1,))
def purchase_limits(case: CaseView) -> RuleResult:
    doc = _plan(case)
    rows = [n for n in ITEM_ROWS if doc.has(f"item{n}_name")]
    if not rows:
        raise Missing("item1_name", doc.label("item1_name"), doc.form)
    items = []
    for n in rows:
        items.append(dict(row=n, name=doc.text(f"item{n}_name"), category=doc.text(f"item{n}_category", required=False),
                          quantity=doc.integer(f"item{n}_quantity", required=False),
                          limit=doc.integer(f"item{n}_limit", required=False)))  # fmt: skip
    return limits_verdict(items)


def limits_verdict(items: list[dict[str, Any]]) -> Verdict:
    no_limit = [i["name"] for i in items if i["limit"] is None or i["limit"] <= 0]
    by_category: dict[str, set[int]] = {}
    for i in items:
        if i["limit"] and i["category"]:
            by_category.setdefault(i["category"], set()).add(i["limit"])
    uneven = {CATEGORY_NAMES.get(c, c): sorted(v) for c, v in by_category.items() if len(v) > 1}
    no_category = [i["name"] for i in items if not i["category"]]
    evidence = dict(items=items, without_limit=no_limit, uneven_categories=uneven, without_category=no_category)
    if no_limit:
        return failed(f"購入上限数が設定されていない製品があります: {'、'.join(no_limit)}（第4条3）。", **evidence)
    if uneven or no_category:
        parts = [f"{c}の上限数が製品により異なります（{'・'.join(map(str, v))}）" for c, v in uneven.items()]
        if no_category:
            parts.append(f"商品分類のない製品があります: {'、'.join(no_category)}")
        return warned("。".join(parts) + "。商品分類ごとの上限数を確認してください（第4条3）。", **evidence)
    shown = "、".join(f"{i['name']} {i['limit']}点" for i in items)
    return passed(f"すべての製品に1人あたりの購入上限数が設定されています（{shown}）。", **evidence)


@PACK.rule("delivery_in_prefecture", "000 第3条", title="県内住所への発送", applies_to=(F1,))
def delivery_in_prefecture(case: CaseView) -> RuleResult:
    if _plan(case).flag("delivery_in_prefecture"):
        return passed("配送先を県内の住所に限っています。", delivery_in_prefecture=True)
    return failed("県外にも発送する計画です。本事業は県内住所への発送が条件です（第3条）。", delivery_in_prefecture=False)


@PACK.rule("resident_only", "000 第3条", title="県民限定の販売", applies_to=(F1,))
def resident_only(case: CaseView) -> RuleResult:
    if _plan(case).flag("resident_only"):
        return passed("販売対象を県内に住所を有する又は居住する者に限っています。", resident_only=True)
    return failed("販売対象を県民に限っていません。本事業は県民限定の販売です（第2条1、第3条）。", resident_only=False)
