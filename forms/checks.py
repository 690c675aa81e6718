"""Requirement checks: each program's rules run over a case and give findings with clauses.

A **case** is the documents of one application: the application form and its attachments
(様式第2号, 納税証明書, …), each with its typed fields. A **rule** is a small function of a
:class:`CaseView` registered in its program's :class:`RulePack` with a rule id and the clause
it enforces (``"004 7(2)"``: seed file and section). It returns one or more :class:`Verdict`
objects; the engine turns them into :class:`~forms.findings.Finding` records.

Reading a value through a :class:`DocView` (``doc.yen("donation_amount")``) raises
:class:`Missing` when the field is absent or unreadable; the engine turns that into a finding
that names the field (status ``warn`` unless the rule says otherwise), so a missing field never
crashes a check.

**The decision hint**: ``reject`` when any finding is ``fail``; otherwise ``needs_review`` when
any finding is ``warn``; otherwise ``approve``. ``not_applicable`` findings do not count. The
hint is advice to the clerk, who decides.

Rule packs live in ``forms/rules/<program id with - as _>.py`` and define ``PACK``. Adding a
program means adding a module there, not changing this engine.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator
from rapidfuzz import fuzz

from forms.catalogue import catalogue
from forms.findings import Finding, Status
from forms.programs import ProgramSettings, get_program
from forms.schema import FormDecl

Decision = Literal["approve", "reject", "needs_review"]

# --- the case ------------------------------------------------------------------------


class CaseDocument(BaseModel):
    """One document of a case: its catalogue form id (None when unknown) and typed fields.

    Field values are the typed values of DESIGN 4.2 (yen as int, dates as ISO strings or
    ``date``, lists, bools). An extraction result's field objects (``{"value": …,
    "confidence": …}``) are accepted too and reduced to their value.
    """

    model_config = ConfigDict(extra="forbid")

    form: str | None = None
    fields: dict[str, Any] = {}
    #: Why a field has no value, as the reader found it (``label_not_found``, ``empty``,
    #: ``unparsed``): a field the reader did not find is the clerk's to look at, a blank one
    #: the applicant's (未記入).
    missing: dict[str, str] = {}
    #: The file the document came from (for the clerk; not used by the rules).
    file: str | None = None

    @field_validator("fields", mode="before")
    @classmethod
    def _unwrap_extracted(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, Mapping) and "value" in item and "confidence" in item:
                item = item["value"]
            elif hasattr(item, "value") and hasattr(item, "confidence"):
                item = item.value
            out[str(key)] = item
        return out


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    program: str
    documents: list[CaseDocument]
    #: Reference date of the checks (deadlines, recency); today when not given.
    today: date | None = None


class CheckReport(BaseModel):
    program: str
    decision: Decision
    findings: list[Finding]

    def counts(self) -> dict[str, int]:
        out = {"pass": 0, "fail": 0, "warn": 0, "not_applicable": 0}
        for f in self.findings:
            out[f.status] += 1
        return out


def decide(findings: Iterable[Finding]) -> Decision:
    """reject if any fail; needs_review if any warn; else approve (not_applicable ignored)."""
    statuses = {f.status for f in findings}
    if "fail" in statuses:
        return "reject"
    if "warn" in statuses:
        return "needs_review"
    return "approve"


# --- verdicts ------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a rule returns; the engine adds the rule id and (unless given) its clause."""

    status: Status
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    clause: str | None = None


def passed(message: str, *, clause: str | None = None, **evidence: Any) -> Verdict:
    return Verdict("pass", message, _jsonable(evidence), clause)


def failed(message: str, *, clause: str | None = None, **evidence: Any) -> Verdict:
    return Verdict("fail", message, _jsonable(evidence), clause)


def warned(message: str, *, clause: str | None = None, **evidence: Any) -> Verdict:
    return Verdict("warn", message, _jsonable(evidence), clause)


def not_applicable(message: str, *, clause: str | None = None, **evidence: Any) -> Verdict:
    return Verdict("not_applicable", message, _jsonable(evidence), clause)


def worst(statuses: Iterable[Status]) -> Status:
    """The most serious of several statuses (fail > warn > pass > not_applicable)."""
    order: dict[Status, int] = {"not_applicable": 0, "pass": 1, "warn": 2, "fail": 3}
    found = list(statuses)
    return max(found, key=order.__getitem__) if found else "not_applicable"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [_jsonable(v) for v in items]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


# --- reading values ------------------------------------------------------------------


class Missing(Exception):
    """A value a rule needs is absent or unreadable; the engine turns it into a finding."""

    def __init__(self, key: str, label: str, form: str | None, reason: str = "missing") -> None:
        super().__init__(f"{form}:{key} {reason}")
        self.key = key
        self.label = label
        self.form = form
        self.reason = reason


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


_ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925, "R": 2018, "H": 1988, "S": 1925}


def as_date(value: Any) -> date | None:
    """A date from a ``date``, an ISO string, ``2025/4/1``, ``令和7年4月1日`` or ``R7.4.1``."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = nfkc(value).replace(" ", "").replace("元年", "1年")
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    era = re.fullmatch(r"(令和|平成|昭和|R|H|S)(\d{1,2})[年.](\d{1,2})[月.](\d{1,2})日?", text, re.I)
    try:
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
        if era:
            return date(_ERAS[era[1].upper() if len(era[1]) == 1 else era[1]] + int(era[2]), int(era[3]), int(era[4]))
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def as_int(value: Any) -> int | None:
    """An integer from an int, a float with no fraction, or text such as ``12,000円``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = nfkc(value).replace(",", "").replace("円", "").replace("¥", "").replace(" ", "")
        if re.fullmatch(r"-?\d+", text):
            return int(text)
    return None


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = nfkc(value).replace(",", "").replace("%", "").replace(" ", "")
        try:
            return float(text)
        except ValueError:
            return None
    return None


_TRUE_WORDS = {"true", "yes", "はい", "あり", "有", "該当", "○", "レ", "✓", "1"}
_FALSE_WORDS = {"false", "no", "いいえ", "なし", "無", "非該当", "×", "0"}


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = nfkc(value).lower()
        if text in _TRUE_WORDS:
            return True
        if text in _FALSE_WORDS:
            return False
    return None


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, (list, tuple, set, dict)) and not value
    )


def field_label(decl: FormDecl | None, key: str) -> str:
    """The printed label of a field (返礼品の価格（税込）), or the key when undeclared."""
    if decl is None:
        return key
    for row in decl.rows():
        for f in row.fields:
            if f.key != key:
                continue
            label = row.label
            if f.label and f.label != row.label:
                label = f"{label}・{f.label}"
            elif f.suffix and "（" in f.suffix:
                label += f.suffix[f.suffix.index("（") :]
            return label
    return key


class DocView:
    """Typed access to one document's fields. Accessors raise :class:`Missing` when required."""

    def __init__(self, doc: CaseDocument, decl: FormDecl | None) -> None:
        self.doc = doc
        self.form = doc.form
        self.decl = decl
        self.fields = doc.fields

    def __repr__(self) -> str:
        return f"DocView({self.form!r})"

    @property
    def title(self) -> str:
        if self.decl is None:
            return self.form or "不明な書類"
        return self.decl.form_number or self.decl.title

    def label(self, key: str) -> str:
        return field_label(self.decl, key)

    def has(self, key: str) -> bool:
        return not is_blank(self.fields.get(key))

    def raw(self, key: str) -> Any:
        return self.fields.get(key)

    def _get(self, key: str, convert: Callable[[Any], Any], required: bool) -> Any:
        value = self.fields.get(key)
        if is_blank(value):
            if required:
                reason = self.doc.missing.get(key, "empty")
                raise Missing(key, self.label(key), self.form, reason="missing" if reason == "empty" else "not_found")
            return None
        converted = convert(value)
        if converted is None and required:
            raise Missing(key, self.label(key), self.form, reason="unreadable")
        return converted

    def text(self, key: str, required: bool = True) -> Any:
        return self._get(key, lambda v: nfkc(str(v)) if not isinstance(v, (list, dict)) else None, required)

    def yen(self, key: str, required: bool = True) -> Any:
        return self._get(key, as_int, required)

    def integer(self, key: str, required: bool = True) -> Any:
        return self._get(key, as_int, required)

    def number(self, key: str, required: bool = True) -> Any:
        return self._get(key, as_number, required)

    def date(self, key: str, required: bool = True) -> Any:
        return self._get(key, as_date, required)

    def flag(self, key: str, required: bool = True) -> Any:
        return self._get(key, as_bool, required)

    def items(self, key: str) -> list[str]:
        """A multi-choice value as a list (empty when nothing is ticked or the key is absent)."""
        value = self.fields.get(key)
        if is_blank(value):
            return []
        if isinstance(value, str):
            return [nfkc(p) for p in re.split(r"[,、，\s]+", value) if p.strip()]
        if isinstance(value, (list, tuple, set)):
            return [nfkc(str(v)) for v in value if not is_blank(v)]
        return [nfkc(str(value))]


class CaseView:
    """What a rule sees: the documents by form, the program's settings and the reference date."""

    def __init__(self, case: Case, settings: ProgramSettings, pack: "RulePack") -> None:
        forms = catalogue()
        self.case = case
        self.program = case.program
        self.settings = settings
        self.pack = pack
        self.today: date = case.today or date.today()
        self.documents = [DocView(d, forms.get(d.form) if d.form else None) for d in case.documents]

    def docs(self, *forms: str) -> list[DocView]:
        return [d for d in self.documents if d.form in forms]

    def doc(self, *forms: str) -> DocView | None:
        found = self.docs(*forms)
        return found[0] if found else None

    def has(self, *forms: str) -> bool:
        return bool(self.docs(*forms))

    @property
    def application(self) -> DocView | None:
        """The program's application form (the first of the pack's application forms present)."""
        for form in self.pack.application_forms:
            found = self.doc(form)
            if found is not None:
                return found
        return None


# --- rules and packs -----------------------------------------------------------------

RuleResult = Verdict | Finding | Iterable[Verdict | Finding] | None
RuleFunc = Callable[[CaseView], RuleResult]


@dataclass(frozen=True)
class RuleSpec:
    id: str
    clause: str
    func: RuleFunc
    #: Short Japanese name for tables (返礼割合).
    title: str = ""
    #: The rule runs only when the case holds one of these forms; otherwise not_applicable.
    applies_to: tuple[str, ...] = ()
    #: Status of the finding when a value the rule reads is missing.
    on_missing: Status = "warn"


class RulePack:
    """A program's rules, in the order they are reported."""

    def __init__(
        self,
        program: str,
        *,
        application_forms: tuple[str, ...] = (),
        application_clause: str = "",
    ) -> None:
        self.program = program
        #: The forms that make up an application, main form first (used by ``CaseView.application``).
        #: A case holding none of them fails ``application_form`` (citing ``application_clause``).
        self.application_forms = application_forms
        self.application_clause = application_clause
        self.rules: list[RuleSpec] = []

    def rule(
        self,
        rule_id: str,
        clause: str,
        *,
        title: str = "",
        applies_to: tuple[str, ...] = (),
        on_missing: Status = "warn",
    ) -> Callable[[RuleFunc], RuleFunc]:
        def register(func: RuleFunc) -> RuleFunc:
            self.add(rule_id, clause, func, title=title, applies_to=applies_to, on_missing=on_missing)
            return func

        return register

    def add(
        self,
        rule_id: str,
        clause: str,
        func: RuleFunc,
        *,
        title: str = "",
        applies_to: tuple[str, ...] = (),
        on_missing: Status = "warn",
    ) -> None:
        if any(r.id == rule_id for r in self.rules):
            raise ValueError(f"{self.program}: rule {rule_id!r} registered twice")
        self.rules.append(RuleSpec(rule_id, clause, func, title, applies_to, on_missing))

    def get(self, rule_id: str) -> RuleSpec:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def load_pack(program: str) -> RulePack:
    """The rule pack of a program (validated settings first; unknown programs raise)."""
    get_program(program)
    module_name = f"forms.rules.{program.replace('-', '_')}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return RulePack(program)
    pack = module.PACK
    if not isinstance(pack, RulePack) or pack.program != program:
        raise TypeError(f"{module_name}.PACK is not the rule pack of {program!r}")
    return pack


def run_rule(spec: RuleSpec, view: CaseView) -> list[Finding]:
    """One rule's findings; missing values and unexpected errors become findings too."""
    if spec.applies_to and not view.has(*spec.applies_to):
        names = "・".join(_form_title(f) for f in spec.applies_to)
        return [Finding(rule=spec.id, status="not_applicable", clause=spec.clause,
                        message=f"{names}が提出されていないため対象外です。",
                        evidence={"forms_needed": list(spec.applies_to)})]  # fmt: skip
    try:
        result = spec.func(view)
    except Missing as exc:
        what = {"missing": "記載がない（未記入）", "not_found": "記載を読取りで見つけられなかった"}.get(exc.reason, "読み取れない")
        where = _form_title(exc.form) if exc.form else "書類"
        return [Finding(rule=spec.id, status=spec.on_missing, clause=spec.clause,
                        message=f"{where}の「{exc.label}」の{what}ため判定できません。",
                        evidence={"missing": exc.key, "form": exc.form, "reason": exc.reason})]  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - a broken rule must not hide the others
        return [Finding(rule=spec.id, status="warn", clause=spec.clause,
                        message="この項目は自動判定できませんでした。職員が確認してください。",
                        evidence={"error": type(exc).__name__, "detail": str(exc)})]  # fmt: skip
    return [_to_finding(spec, item) for item in _as_list(result)]


def _as_list(result: RuleResult) -> list[Verdict | Finding]:
    if result is None:
        return []
    if isinstance(result, (Verdict, Finding)):
        return [result]
    return list(result)


def _to_finding(spec: RuleSpec, item: Verdict | Finding) -> Finding:
    if isinstance(item, Finding):
        return item
    return Finding(rule=spec.id, status=item.status, message=item.message,
                   clause=item.clause or spec.clause, evidence=item.evidence)  # fmt: skip


def _form_title(form_id: str | None) -> str:
    if form_id is None:
        return "書類"
    decl = catalogue().get(form_id)
    if decl is None:
        return form_id
    return decl.form_number or decl.title


def run_checks(case: Case) -> CheckReport:
    """Run every rule of the case's program; see the module docstring for the decision."""
    settings = get_program(case.program)
    pack = load_pack(case.program)
    view = CaseView(case, settings, pack)
    findings: list[Finding] = []
    if pack.application_forms and view.application is None:
        names = "・".join(_form_title(f) for f in pack.application_forms)
        findings.append(Finding(rule="application_form", status="fail", clause=pack.application_clause or settings.seed,
                                message=f"申請書（{names}のいずれか）が見つかりません。",
                                evidence={"forms_needed": list(pack.application_forms),
                                          "documents": [d.form for d in case.documents]}))  # fmt: skip
    for spec in pack.rules:
        findings.extend(run_rule(spec, view))
    return CheckReport(program=case.program, decision=decide(findings), findings=findings)


def rules_for(program: str) -> list[RuleSpec]:
    return list(load_pack(program).rules)


# --- shared helpers for rule packs -----------------------------------------------------


def yen(amount: int | float) -> str:
    """12000 → '12,000円'."""
    return f"{amount:,.0f}円"


def ratio_percent(part: int, whole: int, limit: int | None = None) -> float:
    """part / whole in percent, to 2 decimals; to 4 when 2 would make it look equal to ``limit``
    though it is not (299,999 of 1,000,000 is 29.9999%, not 30.0%)."""
    if not whole:
        return 0.0
    shown = round(part * 100 / whole, 2)
    if limit is not None and shown == limit and part * 100 != whole * limit:
        return round(part * 100 / whole, 4)
    return shown


def within_ratio(part: int, whole: int, percent: int) -> bool:
    """part ≤ percent% of whole, in exact integer arithmetic (3,600 of 12,000 is 30%)."""
    return part * 100 <= whole * percent


def return_ratio_verdict(donation: int, price: int, limit_percent: int, *, what: str) -> Verdict:
    """``price`` ≤ ``limit_percent``% of ``donation`` (exact integer arithmetic)."""
    max_price = donation * limit_percent // 100
    percent = ratio_percent(price, donation, limit_percent)
    evidence = dict(donation_amount=donation, price=price, ratio_percent=percent,
                    limit_percent=limit_percent, max_price=max_price)  # fmt: skip
    if donation <= 0:
        return failed(f"寄附金額が{yen(donation)}で、割合を計算できません。", **evidence)
    shown = f"{what}{yen(price)}は寄附金額{yen(donation)}の{percent}%"
    if within_ratio(price, donation, limit_percent):
        return passed(f"{shown}で、{limit_percent}%以下です。", **evidence)
    return failed(f"{shown}で、{limit_percent}%（{yen(max_price)}）を超えています。", **evidence)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (earlier when negative), clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def fiscal_year_end(day: date, start_month: int = 4) -> date:
    """Last day of the fiscal year containing ``day`` (31 March for an April start)."""
    year = day.year if day.month >= start_month else day.year - 1
    return date(year + 1, start_month, 1) - timedelta(days=1)


_UNIT_DAYS = {"日": 1, "週": 7, "月": 30, "年": 365}


def parse_days(text: str | None) -> int | None:
    """The first period in a free text, in days: ``製造日から30日`` → 30, ``6か月`` → 180."""
    if not text:
        return None
    t = nfkc(text)
    if "半年" in t:
        return 182
    m = re.search(r"(\d+(?:\.\d+)?)\s*(日|週間|週|か月|ヶ月|ケ月|カ月|ヵ月|箇月|ケ月間|ヶ月間|月|年)", t)
    if not m:
        return None
    unit = m[2]
    per = 1
    for word, days in _UNIT_DAYS.items():
        if word in unit:
            per = days
    return int(float(m[1]) * per)


# --- fuzzy matching of names and addresses -------------------------------------------

_CORP_FORMS = (
    "株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "一般社団法人", "一般財団法人",
    "公益社団法人", "公益財団法人", "特定非営利活動法人", "NPO法人", "農業協同組合", "農事組合法人",
    "社会福祉法人", "協同組合",
)  # fmt: skip
_CORP_ABBREV = {"(株)": "株式会社", "(有)": "有限会社", "(同)": "合同会社", "(一社)": "一般社団法人",
                "(一財)": "一般財団法人", "(社福)": "社会福祉法人", "(農)": "農事組合法人"}  # fmt: skip


def normalize_name(name: str) -> str:
    """NFKC, no spaces, corporate forms (株式会社, (株), …) removed: 'ｶﾌﾞ' noise left alone."""
    text = re.sub(r"\s+", "", nfkc(name))
    for abbrev, full in _CORP_ABBREV.items():
        text = text.replace(abbrev, full)
    for form in _CORP_FORMS:
        text = text.replace(form, "")
    return text


_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _kanji_number(text: str) -> int:
    total, current = 0, 0
    for ch in text:
        if ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + _KANJI_DIGITS[ch]
    return total + current


def normalize_address(address: str) -> str:
    """NFKC, no spaces or postal code, prefecture dropped, 丁目/番地/番/号 → '-'."""
    text = re.sub(r"\s+", "", nfkc(address))
    text = re.sub(r"〒?\d{3}-?\d{4}", "", text)
    text = re.sub(r"^(東京都|北海道|(?:京都|大阪)府|.{2,3}県)", "", text)
    text = re.sub(r"([〇一二三四五六七八九十]+)(?=丁目)", lambda m: str(_kanji_number(m[1])), text)
    # 番 and 号 only after a number (四丁目四番 but not 一番町).
    text = re.sub(r"(?<=[\d目-])([〇一二三四五六七八九十]+)(?=番|号)", lambda m: str(_kanji_number(m[1])), text)
    text = re.sub(r"(丁目|番地の?|番|号の?|の)(?=\d)", "-", text)
    text = re.sub(r"[ー―‐−–]", "-", text)
    text = re.sub(r"(丁目|番地|番|号)$", "", text)
    return text


def name_similarity(a: str, b: str) -> float:
    return round(fuzz.ratio(normalize_name(a), normalize_name(b)), 1)


def address_similarity(a: str, b: str) -> float:
    x, y = normalize_address(a), normalize_address(b)
    score = fuzz.ratio(x, y)
    if min(len(x), len(y)) >= 6:
        # One address may carry a building name or a missing town prefix.
        score = max(score, fuzz.partial_ratio(x, y) * 0.95)
    return round(score, 1)


def address_in(address: str, municipality: str) -> bool:
    """Whether the address lies in the municipality (渋川市 in 群馬県渋川市石原80)."""
    return municipality in re.sub(r"\s+", "", nfkc(address))


# --- cross-document checks shared by packs -----------------------------------------------

#: A tax certificate counts as recent when issued at most this many months before the
#: application (the seeds give no period; three months is the usual municipal practice).
CERTIFICATE_MAX_AGE_MONTHS = 3

NAME_PASS, NAME_WARN = 90.0, 75.0
ADDRESS_PASS, ADDRESS_WARN = 85.0, 65.0


def check_tax_certificate_applicant(view: CaseView) -> RuleResult:
    """The taxpayer on the 納税証明書 is the applicant of the form (names and addresses)."""
    cert = view.doc("tax_certificate")
    if cert is None:
        return not_applicable("納税証明書が提出されていないため対象外です。")
    app = view.application
    if app is None:
        return not_applicable("申請書が提出されていないため照合できません。")
    name_a, name_c = app.text("applicant_name"), cert.text("taxpayer_name")
    name_score = name_similarity(name_a, name_c)
    name_status: Status = "pass" if name_score >= NAME_PASS else "warn" if name_score >= NAME_WARN else "fail"
    addr_a, addr_c = app.text("applicant_address", required=False), cert.text("taxpayer_address", required=False)
    addr_score = address_similarity(addr_a, addr_c) if addr_a and addr_c else None
    if addr_score is None:
        addr_status: Status = "warn"
    else:
        addr_status = "pass" if addr_score >= ADDRESS_PASS else "warn" if addr_score >= ADDRESS_WARN else "fail"
    status = worst([name_status, addr_status])
    evidence = dict(applicant_name=name_a, taxpayer_name=name_c, name_score=name_score,
                    applicant_address=addr_a, taxpayer_address=addr_c, address_score=addr_score,
                    thresholds={"name": [NAME_WARN, NAME_PASS], "address": [ADDRESS_WARN, ADDRESS_PASS]})  # fmt: skip
    if status == "pass":
        return passed(f"納税証明書の納税者（{name_c}）は申請者と一致します。", **evidence)
    problems = []
    if name_status != "pass":
        problems.append(f"名称（申請書「{name_a}」、証明書「{name_c}」、一致度{name_score:.0f}）")
    if addr_status != "pass":
        problems.append(
            "住所（記載なし）" if addr_score is None
            else f"住所（申請書「{addr_a}」、証明書「{addr_c}」、一致度{addr_score:.0f}）"
        )  # fmt: skip
    verb = "一致しません" if status == "fail" else "一致するか確認が必要です"
    return Verdict(status, f"納税証明書と申請者の{'・'.join(problems)}が{verb}。", _jsonable(evidence))


def check_tax_certificate_recent(view: CaseView) -> RuleResult:
    """The 納税証明書 was issued within three months before the application (or today)."""
    cert = view.doc("tax_certificate")
    if cert is None:
        return not_applicable("納税証明書が提出されていないため対象外です。")
    issued = cert.date("issue_date")
    app = view.application
    reference = (app.date("application_date", required=False) if app else None) or view.today
    oldest = add_months(reference, -CERTIFICATE_MAX_AGE_MONTHS)
    age_days = (reference - issued).days
    evidence = dict(issue_date=issued, reference_date=reference, oldest_accepted=oldest,
                    age_days=age_days, max_age_months=CERTIFICATE_MAX_AGE_MONTHS)  # fmt: skip
    if issued > view.today:
        return failed(f"納税証明書の発行日（{issued}）が本日より後です。読み取りを確認してください。", **evidence)
    if issued < oldest:
        return warned(
            f"納税証明書は{issued}発行で、基準日{reference}の{CERTIFICATE_MAX_AGE_MONTHS}か月より前（{age_days}日前）"
            "のものです。最近の証明書の提出を求めてください。", **evidence)  # fmt: skip
    return passed(f"納税証明書は{issued}発行（基準日の{age_days}日前）で、{CERTIFICATE_MAX_AGE_MONTHS}か月以内です。",
                  **evidence)  # fmt: skip


def check_certificate_no_arrears(cert: DocView) -> Verdict:
    """A tax certificate states nothing unpaid (no_arrears true, unpaid_amount 0)."""
    no_arrears = cert.flag("no_arrears", required=False)
    unpaid = cert.yen("unpaid_amount", required=False)
    evidence = dict(no_arrears=no_arrears, unpaid_amount=unpaid)
    if (unpaid is not None and unpaid > 0) or no_arrears is False:
        shown = f"（未納額 {yen(unpaid)}）" if unpaid else ""
        return failed(f"納税証明書に滞納（未納）があります{shown}。", **evidence)
    if no_arrears is None and unpaid is None:
        return warned("納税証明書から滞納の有無が読み取れません。職員が確認してください。", **evidence)
    return passed("納税証明書により滞納がないことを確認しました。", **evidence)


def required_fields_rule(clauses: Mapping[str, str]) -> RuleFunc:
    """A rule: every field the catalogue marks ``required`` is filled, on each of the program's
    own forms in the case (documents issued by others are checked by their own rules).

    ``clauses`` gives the clause per form id (the section that asks for the form).
    """

    def required_fields(view: CaseView) -> RuleResult:
        out: list[Verdict] = []
        for doc in view.documents:
            if doc.decl is None or doc.decl.program != view.program:
                continue
            keys = [f.key for f in doc.decl.fields() if f.required]
            empty = [k for k in keys if not doc.has(k) and not isinstance(doc.raw(k), bool)]
            evidence = dict(form=doc.form, required=len(keys), missing=empty,
                            missing_labels=[doc.label(k) for k in empty])  # fmt: skip
            clause = clauses.get(doc.form or "")
            if empty:
                names = "、".join(f"「{doc.label(k)}」" for k in empty)
                out.append(failed(f"{doc.title}の必須項目{len(empty)}件が未記入です: {names}", clause=clause,
                                  **evidence))  # fmt: skip
            else:
                out.append(passed(f"{doc.title}の必須項目{len(keys)}件はすべて記入されています。", clause=clause,
                                  **evidence))  # fmt: skip
        if not out:
            return not_applicable("この制度の様式が提出されていないため対象外です。")
        return out

    return required_fields


#: Parenthesised notes and quantities (500g×2, 3袋, 200ml) in a product name.
_SPEC = re.compile(
    r"[（(][^）)]*[）)]"
    r"|\d+(?:\.\d+)?\s*(?:g|kg|ml|l|cc|個|本|枚|袋|箱|缶|瓶|パック|p|切れ|食|人前|入り?)?"
    r"(?:\s*[×x*]\s*\d+\s*(?:個|本|袋|箱|パック|p)?)?",
    re.IGNORECASE,
)


def normalize_product(name: str) -> str:
    """NFKC, no spaces, no parenthesised notes or quantities: 渋川みそ 500g×2 → 渋川みそ."""
    text = re.sub(r"\s+", "", nfkc(name))
    return _SPEC.sub("", text) or text


def fuzzy_same_product(a: str, b: str) -> float:
    return round(fuzz.ratio(normalize_product(a), normalize_product(b)), 1)


PRODUCT_PASS, PRODUCT_WARN = 85.0, 60.0


def product_match_verdict(what: str, applied: str, stated: str) -> Verdict:
    """Whether an attachment (様式第2号) is about the product applied for (quantities ignored)."""
    score = fuzzy_same_product(applied, stated)
    evidence = dict(applied_product=applied, certificate_product=stated, score=score,
                    thresholds=[PRODUCT_WARN, PRODUCT_PASS])  # fmt: skip
    if score >= PRODUCT_PASS:
        return passed(f"{what}の品名「{stated}」は申請の返礼品「{applied}」と一致します。", **evidence)
    if score >= PRODUCT_WARN:
        return warned(f"{what}の品名「{stated}」が申請の返礼品「{applied}」と同じか確認してください（一致度{score:.0f}）。",
                      **evidence)  # fmt: skip
    return failed(f"{what}の品名「{stated}」は申請の返礼品「{applied}」と一致しません（一致度{score:.0f}）。", **evidence)


def shelf_life_verdict(
    *,
    shelf_days: int | None,
    days_before_shipping: int,
    min_days: int,
    transit_days: int = 2,
    on_arrival: bool = False,
    basis: dict[str, Any] | None = None,
) -> Verdict:
    """Days of shelf life left on arrival, estimated as shelf life − days to shipping − transit.

    Short shelf life is a ``warn`` (the seeds say 程度 / 概ね: the clerk judges).
    """
    evidence: dict[str, Any] = dict(basis or {})
    if shelf_days is None:
        return warned("消費期限・賞味期限の日数が確認できません。到着後の期限を職員が確認してください。",
                      minimum_days_on_arrival=min_days, **evidence)  # fmt: skip
    remaining = shelf_days if on_arrival else shelf_days - days_before_shipping - transit_days
    evidence.update(shelf_life_days=shelf_days, days_before_shipping=None if on_arrival else days_before_shipping,
                    transit_days=None if on_arrival else transit_days, days_left_on_arrival=remaining,
                    minimum_days_on_arrival=min_days)  # fmt: skip
    how = (f"到着後{shelf_days}日" if on_arrival
           else f"期限{shelf_days}日 − 発送まで{days_before_shipping}日 − 配送{transit_days}日 = {remaining}日")  # fmt: skip
    if remaining >= min_days:
        return passed(f"到着時に約{remaining}日の期限が残ります（{how}）。基準は{min_days}日程度です。", **evidence)
    return warned(f"到着時の残り期限が約{remaining}日で、基準の{min_days}日程度に足りない可能性があります（{how}）。",
                  **evidence)  # fmt: skip


def food_shelf_life_verdict(doc: DocView, min_days: int) -> Verdict:
    """Shelf life from a form with ``is_food``, ``is_fresh``, ``shelf_life_days`` and
    ``days_before_shipping``: food keeps ``min_days`` after arrival; fresh food and non-food are
    not applicable."""
    if doc.flag("is_food") is False:
        return not_applicable("食品ではないため対象外です。", is_food=False)
    if doc.flag("is_fresh", required=False):
        return not_applicable("生鮮食料品のため賞味期限の基準は適用しません。発送希望日を寄附者と事前に調整してください。",
                              is_food=True, is_fresh=True)  # fmt: skip
    return shelf_life_verdict(
        shelf_days=doc.integer("shelf_life_days"),
        days_before_shipping=doc.integer("days_before_shipping", required=False) or 0,
        min_days=min_days,
    )
