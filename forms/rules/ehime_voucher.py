"""令和5年度愛媛県「農林水産物直売所プレミアム付商品券」事業 参加店舗募集要項 (seed 002).

Clauses cite "002 SECTION". The application is 申請様式1 (ehime-voucher.form1), one per store.
Also here: :func:`fraud_repayment`, the amount a store repays when it received money unduly
(002 前文 and 8(3)③).
"""

from __future__ import annotations

import re
from datetime import date, time

from pydantic import BaseModel

from forms.checks import (
    CaseView,
    DocView,
    Missing,
    RulePack,
    RuleResult,
    Verdict,
    failed,
    nfkc,
    passed,
    ratio_percent,
    required_fields_rule,
    warned,
    yen,
)

F1 = "ehime-voucher.form1"

PACK = RulePack("ehime-voucher", application_forms=(F1,), application_clause="002 2(1)")

#: 2(2): registration opens 2024-01-04; 利用店舗・販売所 until 2024-01-19 17:00.
WINDOW_OPENS = date(2024, 1, 4)
MAIN_CLOSES_ON, MAIN_CLOSES_AT = date(2024, 1, 19), time(17, 0)
#: 2(4) ※: 利用店舗 only, at the secretariat, from 2024-01-20 to 2024-04-30.
USE_ONLY_CLOSES_ON = date(2024, 4, 30)
#: 3(3) ※5: producer-priced sales at least 30% of the store's (or corner's) March–May 2023 sales.
PRODUCER_SALES_MIN_PERCENT = 30
#: 3(2) ※2: a permanent store opens at least one day a week or ten days in all.
MIN_DAYS_PER_WEEK, MIN_DAYS_TOTAL = 1, 10

EHIME_MUNICIPALITIES = (
    "松山市", "今治市", "宇和島市", "八幡浜市", "新居浜市", "西条市", "大洲市", "伊予市", "四国中央市",
    "西予市", "東温市", "上島町", "久万高原町", "松前町", "砥部町", "内子町", "伊方町", "松野町",
    "鬼北町", "愛南町",
)  # fmt: skip
_PREFECTURE = re.compile(r"^(東京都|北海道|京都府|大阪府|\S{2,3}県)")

PACK.add("required_fields", "002 2(1)", required_fields_rule({F1: "002 2(1)"}), title="必須項目")


def _form(case: CaseView) -> DocView:
    doc = case.doc(F1)
    assert doc is not None  # rules using this declare applies_to=(F1,)
    return doc


@PACK.rule("store_location", "002 3(2)", title="県内の店舗", applies_to=(F1,))
def store_location(case: CaseView) -> RuleResult:
    doc = _form(case)
    address = doc.text("store_address")
    postal = doc.text("store_postal_code", required=False)
    return store_location_verdict(address, postal)


def store_location_verdict(address: str, postal: str | None) -> Verdict:
    text = re.sub(r"\s+", "", nfkc(address))
    evidence = dict(store_address=address, store_postal_code=postal)
    pref = _PREFECTURE.match(text)
    if pref and pref[1] != "愛媛県":
        return failed(f"店舗の所在地（{address}）は愛媛県外（{pref[1]}）です。", **evidence)
    if pref or text.startswith(EHIME_MUNICIPALITIES) or "愛媛県" in text:
        return passed(f"店舗の所在地（{address}）は愛媛県内です。", **evidence)
    if postal and re.match(r"79\d", nfkc(postal)):
        return passed(f"店舗の郵便番号（{postal}）は愛媛県内です。", **evidence)
    return warned(f"店舗の所在地（{address}）が愛媛県内か判定できません。", **evidence)


@PACK.rule("permanent_store", "002 3(2)", title="常設・有人対面の店舗", applies_to=(F1,))
def permanent_store(case: CaseView) -> RuleResult:
    doc = _form(case)
    per_week = doc.integer("opening_days_per_week", required=False)
    total = doc.integer("opening_days_total", required=False)
    if per_week is None and total is None:
        raise Missing("opening_days_per_week", doc.label("opening_days_per_week"), doc.form)
    staffed = doc.flag("staffed_face_to_face")
    evidence = dict(opening_days_per_week=per_week, opening_days_total=total, staffed_face_to_face=staffed,
                    minimum={"per_week": MIN_DAYS_PER_WEEK, "total": MIN_DAYS_TOTAL})  # fmt: skip
    permanent = (per_week or 0) >= MIN_DAYS_PER_WEEK or (total or 0) >= MIN_DAYS_TOTAL
    shown = "、".join(s for s in (f"週{per_week}日" if per_week is not None else "",
                                   f"延べ{total}日" if total is not None else "") if s)  # fmt: skip
    problems = []
    if not permanent:
        problems.append(f"営業日（{shown}）が週1日以上又は延べ10日以上ではなく、常設の店舗に当たりません（3(2)※2）")
    if not staffed:
        problems.append("有人で対面販売する施設ではありません（3(2)）")
    if problems:
        return failed("。".join(problems) + "。", **evidence)
    return passed(f"営業日（{shown}）は常設の店舗の基準（週1日以上又は延べ10日以上）を満たし、有人で対面販売します。", **evidence)


@PACK.rule("producer_sales_ratio", "002 3(3)", title="生産者価格販売の割合（30%以上）", applies_to=(F1,))
def producer_sales_ratio(case: CaseView) -> RuleResult:
    doc = _form(case)
    return producer_sales_verdict(doc.yen("producer_priced_sales"), doc.yen("total_sales"),
                                  doc.text("sales_scope", required=False))  # fmt: skip


def producer_sales_verdict(producer: int, total: int, scope: str | None) -> Verdict:
    where = "区別された売場（産直コーナー等）全体" if scope == "separated_corner" else "施設全体"
    percent = ratio_percent(producer, total, PRODUCER_SALES_MIN_PERCENT)
    evidence = dict(producer_priced_sales=producer, total_sales=total, sales_scope=scope or "whole_store",
                    percent=percent, minimum_percent=PRODUCER_SALES_MIN_PERCENT,
                    period="2023-03/2023-05")  # fmt: skip
    if total <= 0 or producer < 0 or producer > total:
        return failed(f"売上額が不正です（生産者価格の売上{yen(producer)}、{where}の売上{yen(total)}）。", **evidence)
    shown = (f"令和5年3月～5月の生産者等が価格を付けた商品の売上{yen(producer)}は{where}の売上{yen(total)}の"
             f"{percent}%")  # fmt: skip
    if producer * 100 < total * PRODUCER_SALES_MIN_PERCENT:
        return failed(f"{shown}で、30%に足りません。", **evidence)
    return passed(f"{shown}で、30%以上です。", **evidence)


@PACK.rule("not_restaurant", "002 3(1)", title="飲食店でないこと", applies_to=(F1,))
def not_restaurant(case: CaseView) -> RuleResult:
    kind = _form(case).text("facility_type")
    if kind == "restaurant":
        return failed("飲食店は参加店舗の対象外です（3(1)）。", facility_type=kind)
    if kind == "direct_sales":
        return passed("農林水産物直売所であり、飲食店ではありません。", facility_type=kind)
    return warned("施設の種類が「その他」です。生産者等が自ら価格を付けて販売する施設か確認してください。", facility_type=kind)


@PACK.rule("multiple_producers", "002 3(1)", title="県内の複数の生産者", applies_to=(F1,))
def multiple_producers(case: CaseView) -> RuleResult:
    many = _form(case).flag("multiple_producers")
    if many:
        return passed("愛媛県内の複数の生産者等が出荷しています。", multiple_producers=True)
    return failed("愛媛県内の複数の生産者等の農林水産物を販売する施設ではありません（3(1)）。", multiple_producers=False)


EXCLUSIONS = {
    "no_adult_entertainment": ("風俗営業等に当たる営業を行っていないこと", "4(1)①"),
    "no_religion_politics": ("特定の宗教・政治団体と関わらず、公序良俗に反しないこと", "4(1)②"),
    "no_antisocial_forces": ("暴力団員が経営に関与していないこと", "4(1)③"),
}


@PACK.rule("exclusions", "002 4(1)", title="対象外店舗", applies_to=(F1,))
def exclusions(case: CaseView) -> RuleResult:
    ticked = _form(case).items("exclusion_declarations")
    absent = [f"{text}（{where}）" for key, (text, where) in EXCLUSIONS.items() if key not in ticked]
    evidence = dict(declared=ticked, not_declared=absent)
    if absent:
        return failed(f"対象外店舗に該当しないことの確認がありません: {'、'.join(absent)}。", **evidence)
    return passed("対象外店舗（4(1)①〜③）に該当しないことが確認されています。", **evidence)


def parse_time(text: str | None) -> time | None:
    """``16:30``, ``16時30分``, ``16時`` → a time; None when unreadable."""
    if not text:
        return None
    m = re.search(r"(\d{1,2})\s*[:時]\s*(\d{1,2})?", nfkc(text))
    if not m:
        return None
    try:
        return time(int(m[1]), int(m[2] or 0))
    except ValueError:
        return None


@PACK.rule("registration_window", "002 2(2)", title="申請期間", applies_to=(F1,))
def registration_window(case: CaseView) -> RuleResult:
    doc = _form(case)
    received = doc.date("received_date", required=False) or doc.date("application_date")
    at = parse_time(doc.text("received_time", required=False))
    return window_verdict(doc.text("registration_type"), received, at)


def window_verdict(kind: str, received: date, at: time | None) -> Verdict:
    evidence = dict(registration_type=kind, received_date=received, received_time=at.strftime("%H:%M") if at else None,
                    opens=WINDOW_OPENS, main_closes=f"{MAIN_CLOSES_ON.isoformat()}T{MAIN_CLOSES_AT:%H:%M}",
                    use_only_closes=USE_ONLY_CLOSES_ON)  # fmt: skip
    if received < WINDOW_OPENS:
        return failed(f"受付日{received.isoformat()}は申込期間（{WINDOW_OPENS.isoformat()}〜）の開始前です。", **evidence)
    if kind == "use_and_sales":
        if received < MAIN_CLOSES_ON:
            return passed(f"利用店舗・販売所の申込期間内（{received.isoformat()}受付）です。", **evidence)
        if received == MAIN_CLOSES_ON:
            if at is None:
                return warned("締切日（1月19日）の受付で、受付時刻がわかりません。17:00までの受付か確認してください。", **evidence)
            if at <= MAIN_CLOSES_AT:
                return passed(f"締切日の{at:%H:%M}受付で、17:00までの申込期間内です。", **evidence)
        shown = f"{received.isoformat()}{f' {at:%H:%M}' if at and received == MAIN_CLOSES_ON else ''}"
        return failed(f"受付（{shown}）は利用店舗・販売所の申込期間（令和6年1月19日17:00まで）を過ぎています。"
                      "利用店舗のみの登録なら4月30日まで受け付けます（2(4)※）。", clause="002 2(2)", **evidence)  # fmt: skip
    if kind == "use_only":
        if received <= USE_ONLY_CLOSES_ON:
            return passed(f"利用店舗のみの申込期間内（{received.isoformat()}受付、4月30日まで）です。",
                          clause="002 2(4)", **evidence)  # fmt: skip
        return failed(f"受付日{received.isoformat()}は利用店舗のみの申込期間（令和6年4月30日まで）を過ぎています。",
                      clause="002 2(4)", **evidence)  # fmt: skip
    return warned(f"登録区分（{kind}）が判定できません。", **evidence)


# --- fraud repayment (002 前文, 8(3)③) ------------------------------------------------------

#: The surcharge is 2割 of the amount; the late charge 年3分 (3% a year, 365-day year).
SURCHARGE_PERCENT = 20
LATE_CHARGE_PERCENT_PER_YEAR = 3
DAYS_PER_YEAR = 365


class Repayment(BaseModel):
    """What a store repays for an undue receipt: the amount, 20% of it, and 3% a year late charge."""

    amount: int
    received_date: date
    payment_date: date
    #: Days from the day after receipt to the payment day, both counted.
    days: int
    surcharge: int
    late_charge: int
    total: int
    clause: str = "002 8(3)③"

    def explain(self) -> str:
        return (f"不正受給額{yen(self.amount)} + 2割{yen(self.surcharge)} + 延滞金{yen(self.late_charge)}"
                f"（{yen(self.amount)} × 年3% × {self.days}日 ÷ {DAYS_PER_YEAR}日、{self.received_date.isoformat()}の翌日から"
                f"{self.payment_date.isoformat()}まで） = {yen(self.total)}")  # fmt: skip


def fraud_repayment(amount: int, received: date, paid: date) -> Repayment:
    """Amount + 20% + late charge of 3% a year on the amount, from the day after receipt to the
    payment day (``days = paid − received``), 365-day year, each part rounded down to the yen."""
    if amount < 0:
        raise ValueError("amount must not be negative")
    if paid < received:
        raise ValueError("payment date is before the receipt")
    days = (paid - received).days
    surcharge = amount * SURCHARGE_PERCENT // 100
    late = amount * LATE_CHARGE_PERCENT_PER_YEAR * days // (100 * DAYS_PER_YEAR)
    return Repayment(amount=amount, received_date=received, payment_date=paid, days=days,
                     surcharge=surcharge, late_charge=late, total=amount + surcharge + late)  # fmt: skip
