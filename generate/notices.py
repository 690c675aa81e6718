"""Official notices as DOCX and PDF: 承認書, 不承認書, 取扱変更通知書, the supplier's 辞退届 and
変更申請書, the manufacturer's 付加価値割合の証明書, and Ehime's registration result and fraud
repayment claim.

    rendered = render_notices("approval", "shibukawa", [record], outdir, numbers=seq)

A batch renders every DOCX first (docxtpl templates in ``generate/templates``), then converts
them all with one LibreOffice start. A record is a flat dict of field values (what the checks
and the web layer hold), a golden ``{form, fields}`` file or the output of ``madoguchi extract
--json``; ``generate.records.record_from_json`` reads all three.

What makes a notice official: a document number (渋広第12号) taken from a per-program,
per-fiscal-year sequence when the notice is rendered (or the one the record already carries,
when a notice is issued again), dates in 和暦, the addressee from the record with 様, the
head's title and name from the program settings, and a place for the seal (印). Forms the
supplier or the manufacturer files (辞退届, 変更申請書, 様式第2号) take no number: they cite
the approval's number instead.
"""

from __future__ import annotations

import copy
import io
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from pydantic import BaseModel, ConfigDict, ValidationError

from forms.errors import CatalogueError, InvalidRecord, MadoguchiError, UnknownForm
from forms.programs import ProgramSettings, get_program
from generate.libreoffice import convert_to_pdf
from generate.numbering import (
    NumberSequence,
    ReservingSequence,
    fiscal_year_of,
    format_document_number,
    issue_numbered,
)
from generate.wareki import blank_wareki, format_wareki, to_date

class OutputNotWritable(MadoguchiError):
    """The output directory cannot be made or written (not a directory, read-only, disk full)."""

    exit_code = 2
    http_status = 500
    code = "output_not_writable"


TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
WORDING_FILE = TEMPLATES_DIR / "wording.yaml"

#: Every notice kind, in the order of the official forms.
NOTICE_KINDS: tuple[str, ...] = (
    "approval",
    "rejection",
    "change_notice",
    "withdrawal",
    "change_application",
    "value_added_certificate",
    "registration_result",
    "fraud_repayment",
)
#: Kinds the municipality issues: they take a document number and bear the head's seal.
NUMBERED_KINDS = frozenset(
    {"approval", "rejection", "change_notice", "registration_result", "fraud_repayment"}
)
FORMATS = ("docx", "pdf")

_BLANK = "　　　　　　"


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedNotice:
    kind: str
    program_id: str
    #: Position of the record in the batch.
    index: int
    #: Written files by format ("docx", "pdf").
    paths: dict[str, Path]
    issue_date: date | None
    #: As printed (渋広第12号); None for forms that take no number.
    doc_number: str | None = None
    number: int | None = None
    fiscal_year: int | None = None
    #: Things the clerk should look at (e.g. a value-added share not over half).
    warnings: tuple[str, ...] = ()

    @property
    def docx(self) -> Path | None:
        return self.paths.get("docx")

    @property
    def pdf(self) -> Path | None:
        return self.paths.get("pdf")


# --- wording ---------------------------------------------------------------------------------


class Wording(BaseModel):
    """The words that differ by program (``templates/wording.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item: str
    submitted: str
    reference_document: str
    form_numbers: dict[str, str] = {}
    no_objection_note: str = ""
    titles: dict[str, str]
    withdrawal_statement: str
    #: Who issues the notices when not the head (Ehime: the 事務局 registers and claims, 002 2(5), 8(3)).
    sender: str = ""
    #: 様式第3号's sentence and its two options (the chosen one is marked); {application_date},
    #: {effective_date}, {submitted}, {item} are filled in.
    approval_sentence: str = (
        "{application_date}付けで{submitted}下記の{item}について、次のとおり承認し、{effective_date}から適用します。"
    )
    approved_as_applied: str = "申請のとおり承認します。"
    approved_with_conditions: str = "次の条件を付して承認します。"
    #: Printed under an approval (Tateyama: the contract with the 委託事業者 that follows, 003 9).
    approval_notes: tuple[str, ...] = ()
    rejection_sentence: str = "{application_date}付けで{submitted}下記の{item}について、承認できませんので通知します。"
    rejection_heading: str = "（不承認の理由）"


@lru_cache(maxsize=1)
def _wording_file() -> dict[str, Any]:
    try:
        raw = yaml.safe_load(WORDING_FILE.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{WORDING_FILE}: {exc}", file=str(WORDING_FILE)) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("defaults"), dict):
        raise CatalogueError(f"{WORDING_FILE}: needs a `defaults` mapping", file=str(WORDING_FILE))
    return raw


def wording_for(program_id: str) -> Wording:
    """Defaults merged with the program's overrides (``titles`` and ``form_numbers`` key by key)."""
    raw = _wording_file()
    merged: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw["defaults"].items()}
    override = (raw.get("programs") or {}).get(program_id) or {}
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    try:
        wording = Wording.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise CatalogueError(
            f"{WORDING_FILE}: {program_id}: {where}: {err['msg']}", file=str(WORDING_FILE)
        ) from exc
    unknown = set(wording.titles) - set(NOTICE_KINDS)
    if unknown:
        raise CatalogueError(f"{WORDING_FILE}: unknown notice kinds in titles: {sorted(unknown)}")
    return wording


def template_path(kind: str, program_id: str) -> Path:
    """The program's own template for ``kind`` if it has one, else the shared one."""
    if kind not in NOTICE_KINDS:
        raise UnknownForm(f"unknown notice kind {kind!r} (known: {', '.join(NOTICE_KINDS)})", form=kind)
    for directory in (program_id, "common"):
        path = TEMPLATES_DIR / directory / f"{kind}.docx"
        if path.is_file():
            return path
    raise UnknownForm(f"program {program_id!r} has no {kind} template", form=kind, program=program_id)


def kinds_for(program_id: str, settings: ProgramSettings | None = None) -> tuple[str, ...]:
    """The notice kinds a program issues: those its settings list that have a template."""
    settings = settings or get_program(program_id)
    wanted = settings.notices or NOTICE_KINDS
    found = []
    for kind in wanted:
        try:
            template_path(kind, program_id)
        except UnknownForm:
            continue
        found.append(kind)
    return tuple(found)


# --- records ---------------------------------------------------------------------------------

# The one contract for records in (extract --json, golden {form, fields}, plain values) lives in
# generate/records.py; these names stay importable from here.
from generate.records import record_from_json, records_from_json  # noqa: E402


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}


def _get(record: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = record.get(key)
        if not _is_blank(value):
            return value
    return None


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _text(value: Any) -> str:
    """A value as printed text: lists joined with 、, control characters removed."""
    if _is_blank(value):
        return ""
    if isinstance(value, (list, tuple)):
        return "、".join(_text(v) for v in value if not _is_blank(v))
    if isinstance(value, date):
        return format_wareki(value)
    if isinstance(value, bool):
        return "あり" if value else "なし"
    return _CONTROL.sub("", str(value)).strip()


def _int(value: Any, what: str) -> int | None:
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        raise InvalidRecord(f"{what}: not an amount: {value!r}")
    if isinstance(value, int):
        return value
    text = unicodedata.normalize("NFKC", str(value)).replace(",", "").replace("円", "").strip()
    try:
        return int(Decimal(text))
    except (InvalidOperation, ValueError):
        raise InvalidRecord(f"{what}: not an amount: {value!r}") from None


def _yen(value: Any, what: str) -> str:
    amount = _int(value, what)
    return f"{amount:,}" if amount is not None else _BLANK


def _date(value: Any, what: str) -> date | None:
    try:
        return to_date(value)
    except ValueError:
        raise InvalidRecord(f"{what}: not a date: {value!r}") from None


def _wareki(value: Any, what: str) -> str:
    day = _date(value, what)
    return format_wareki(day) if day else blank_wareki()


def _lines(value: Any) -> list[str]:
    """Conditions, reasons: a list, or text with one item a line."""
    if _is_blank(value):
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).splitlines()
    return [t for t in (_text(v) for v in items) if t]


# --- computations ------------------------------------------------------------------------------


def value_added_percent(procurement_cost: int, outside_cost: int) -> Decimal:
    """様式第2号 standard method: (A − B) / A × 100, truncated to one decimal (never overstated).

    A is the municipality's procurement cost of the gift, B the costs incurred outside the
    municipality. Raises InvalidRecord when A is not positive or B is negative or exceeds A.
    """
    if procurement_cost <= 0:
        raise InvalidRecord(f"A（調達費用）must be positive, not {procurement_cost}")
    if outside_cost < 0 or outside_cost > procurement_cost:
        raise InvalidRecord(f"B（区域外で生じた費用）must be between 0 and A, not {outside_cost}")
    share = Decimal(procurement_cost - outside_cost) * 100 / Decimal(procurement_cost)
    return share.quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def format_percent(value: Decimal | float) -> str:
    """62.5 → "62.5", 60.0 → "60"."""
    dec = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    return str(dec.to_integral_value()) if dec == dec.to_integral_value() else str(dec)


@dataclass(frozen=True)
class RepaymentClaim:
    """Ehime 002 8(3)③: the amount claimed back, 2割 on top, and a late charge of 年3分."""

    amount: int
    surcharge: int
    #: The late charge runs from the day after receipt to the day of payment, both included.
    late_from: date
    late_to: date
    late_days: int
    late_charge: int

    @property
    def total(self) -> int:
        return self.amount + self.surcharge + self.late_charge


def repayment_claim(amount: int, received_on: date, paid_on: date) -> RepaymentClaim:
    """Amount + 20 % + 3 % a year (365-day year, each part rounded down to the yen).

    The arithmetic is the rule pack's (``forms.rules.ehime_voucher.fraud_repayment``), so the
    claim prints exactly what the check computed.

    >>> repayment_claim(100_000, date(2024, 4, 1), date(2024, 5, 31)).total
    120493
    """
    from forms.rules.ehime_voucher import fraud_repayment

    if amount <= 0:
        raise InvalidRecord(f"不正受給額 must be positive, not {amount}")
    if paid_on < received_on:
        raise InvalidRecord(
            f"納付の日 {paid_on.isoformat()} is before 不正受給の日 {received_on.isoformat()}"
        )
    computed = fraud_repayment(amount, received_on, paid_on)
    return RepaymentClaim(
        amount=computed.amount,
        surcharge=computed.surcharge,
        late_from=date.fromordinal(received_on.toordinal() + 1),
        late_to=paid_on,
        late_days=computed.days,
        late_charge=computed.late_charge,
    )


def clause_text(clause: str, settings: ProgramSettings, wording: Wording) -> str:
    """ "004 7(2)" → "募集要項7(2)" for the program's own seed; other references as they are."""
    clause = clause.strip()
    prefix = f"{settings.seed} "
    if clause.startswith(prefix):
        return f"{wording.reference_document}{clause[len(prefix) :].strip()}"
    return clause


_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_YEAR_MONTH = re.compile(r"(?<![\d年])(\d{4})年(\d{1,2})月(?!\d)")
_OWN_CLAUSE = re.compile(r"（([^（）]*)）$")


def wareki_in_text(text: str) -> str:
    """Dates a check wrote in ISO or 西暦 (2020-12-25, 2021年1月) as a notice prints them, in 和暦."""
    from generate.wareki import era_of

    def day(m: re.Match[str]) -> str:
        try:
            return format_wareki(date(int(m[1]), int(m[2]), int(m[3])))
        except ValueError:
            return m[0]

    def month(m: re.Match[str]) -> str:
        try:
            era, year = era_of(date(int(m[1]), int(m[2]), 1))
        except ValueError:
            return m[0]
        return f"{era.name}{'元' if year == 1 else year}年{int(m[2])}月"

    return _YEAR_MONTH.sub(month, _ISO_DATE.sub(day, text))


def _cited(message: str, citation: str) -> str:
    """The citation inside the sentence: "…超えています。" → "…超えています（募集要項7(2)）。";
    a clause the message already ends with ("…（3(9)）") gives way to the full citation."""
    body = message.rstrip()
    end = ""
    while body and body[-1] in "。．.":
        end, body = "。", body[:-1]
    own = _OWN_CLAUSE.search(body)
    if own and own[1].strip() and own[1].strip() in citation:
        body = body[: own.start()]
    return f"{body}（{citation}）{end}"


def rejection_reasons(record: Mapping[str, Any], settings: ProgramSettings, wording: Wording) -> list[str]:
    """Reasons given by the clerk, or else the failed findings' messages with their clauses."""
    given = _lines(_get(record, "rejection_reasons", "reasons"))
    if given:
        return given
    reasons: list[str] = []
    for finding in record.get("findings") or []:
        data = finding if isinstance(finding, Mapping) else getattr(finding, "__dict__", {})
        if data.get("status") != "fail":
            continue
        message = wareki_in_text(_text(data.get("message")))
        clause = _text(data.get("clause"))
        text = _cited(message, clause_text(clause, settings, wording)) if clause else message
        if text and text not in reasons:
            reasons.append(text)
    return reasons


# --- contexts ----------------------------------------------------------------------------------


@dataclass
class _Prepared:
    context: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    #: A number the record already carries (re-issue): used instead of taking a new one.
    given_number: str | int | None = None


def _require(record: Mapping[str, Any], kind: str, needs: Mapping[str, Sequence[str]]) -> None:
    missing = [label for label, keys in needs.items() if _get(record, *keys) is None]
    if missing:
        raise InvalidRecord(f"{kind}: the record has no {', '.join(missing)}", missing=missing)


_NAME_KEYS = ("applicant_name", "operator_name", "store_name", "business_name")
_REP_KEYS = ("applicant_representative", "representative")
_PRODUCT_KEYS = ("product_name", "store_name", "applicant_name")
#: What a notice about a product needs (a store's name for Ehime's registrations).
_SUBJECT_KEYS = ("product_name", "store_name")


def _addressee(record: Mapping[str, Any]) -> str:
    lines = [_text(_get(record, *_NAME_KEYS)), _text(_get(record, *_REP_KEYS))]
    lines = [ln for ln in lines if ln]
    return "\n".join(lines) + "　様"


def _contact(settings: ProgramSettings) -> str:
    lines = [f"（担当）{settings.department}"]
    tel = "　".join(
        x
        for x in (
            f"電話 {settings.phone}" if settings.phone else "",
            f"FAX {settings.fax}" if settings.fax else "",
        )
        if x
    )
    if tel:
        lines.append(tel)
    if settings.email:
        lines.append(f"電子メール {settings.email}")
    return "\n".join(lines)


def _base_context(
    kind: str, settings: ProgramSettings, wording: Wording, record: Mapping[str, Any], issue_date: date | None
) -> dict[str, Any]:
    head = wording.sender or settings.head_title + (f"　{settings.head_name}" if settings.head_name else "")
    title = wording.titles.get(kind, "").format(name=settings.name, municipality=settings.municipality)
    return {
        "form_number": wording.form_numbers.get(kind, ""),
        "doc_number": "",
        "issue_date": format_wareki(issue_date) if issue_date else blank_wareki(),
        "title": title,
        "head": head,
        "head_title": settings.head_title,
        "head_addressee": f"{settings.head_title}　様",
        "municipality": settings.municipality,
        "program_name": settings.name,
        "item": wording.item,
        "submitted": wording.submitted,
        "reference_document": wording.reference_document,
        "addressee": _addressee(record),
        "applicant_name": _text(_get(record, *_NAME_KEYS)),
        "applicant_representative": _text(_get(record, *_REP_KEYS)),
        "applicant_address": _text(_get(record, "applicant_address", "operator_address", "store_address")),
        "applicant_postal_code": _text(
            _get(record, "applicant_postal_code", "postal_code", "store_postal_code")
        ),
        "product_name": _text(_get(record, *_PRODUCT_KEYS)),
        "product_name_kana": _text(_get(record, "product_name_kana")),
        "application_date": _wareki(_get(record, "application_date"), "application_date"),
        "contact": _contact(settings),
    }


def _approval(
    record: Mapping[str, Any],
    ctx: dict[str, Any],
    issue: date | None,
    p: _Prepared,
    *,
    wording: Wording,
    **_: Any,
) -> None:
    _require(record, "approval", {"addressee (applicant_name)": _NAME_KEYS, "product_name": _SUBJECT_KEYS})
    effective = _date(_get(record, "effective_date", "start_date"), "effective_date") or issue
    ctx["effective_date"] = format_wareki(effective) if effective else blank_wareki()
    ctx["conditions"] = _lines(record.get("conditions"))
    if record.get("decision") == "approve_with_conditions" and not ctx["conditions"]:
        raise InvalidRecord("approval: decided with conditions, but the record has no conditions")
    ctx["approval_sentence"] = wording.approval_sentence.format(
        application_date=ctx["application_date"],
        effective_date=ctx["effective_date"],
        submitted=wording.submitted,
        item=wording.item,
    )
    # 様式第3号 lists both options; the one that applies is marked
    ctx["approved_as_applied"] = wording.approved_as_applied
    ctx["approved_with_conditions"] = wording.approved_with_conditions
    ctx["mark_as_applied"] = "□" if ctx["conditions"] else "■"
    ctx["mark_conditions"] = "■" if ctx["conditions"] else "□"
    ctx["approval_notes"] = list(wording.approval_notes)


def _rejection(
    record: Mapping[str, Any],
    ctx: dict[str, Any],
    issue: date | None,
    p: _Prepared,
    *,
    settings: ProgramSettings,
    wording: Wording,
) -> None:
    _require(record, "rejection", {"addressee (applicant_name)": _NAME_KEYS, "product_name": _SUBJECT_KEYS})
    ctx["reasons"] = rejection_reasons(record, settings, wording)
    if not ctx["reasons"]:
        raise InvalidRecord("rejection: no reasons (give `reasons`, or findings with status fail)")
    ctx["no_objection_note"] = wording.no_objection_note
    ctx["rejection_sentence"] = wording.rejection_sentence.format(
        application_date=ctx["application_date"], submitted=wording.submitted, item=wording.item
    )
    ctx["rejection_heading"] = wording.rejection_heading


#: Labels of 様式第1号 items, for describing changes (keys of DESIGN 4.3).
CHANGE_LABELS: dict[str, str] = {
    "product_name": "商品名",
    "product_spec": "商品規格",
    "product_description": "商品の説明・特徴",
    "donation_amount": "寄附金額",
    "gift_price_excl_tax": "返礼品の価格（税抜）",
    "gift_price_incl_tax": "返礼品の価格（税込）",
    "retail_price_excl_tax": "一般小売価格（税抜）",
    "retail_price_incl_tax": "一般小売価格（税込）",
    "supply_quantity": "提供可能数",
    "shipping_timing": "出荷タイミング",
    "best_before": "消費期限・賞味期限",
    "package_size_weight": "梱包サイズ・梱包重量",
    "subscription": "定期便",
    "ingredients_origin": "原材料（原産地）",
    "manufacturing_place": "製造場所",
    "supply_period": "提供可能期間",
    "acceptance_period": "申込受付期間",
    "carriers": "運送便",
    "temperature": "流通温度帯",
    "allergens_present": "アレルギー品目",
    "allergens": "アレルギー品目（該当品目）",
    "ingredients_origin_detail": "原材料（原産地）",
    "manufacturing_place_detail": "製造場所",
    "supply_period_detail": "提供可能期間",
    "acceptance_period_detail": "申込受付期間",
    "other_changes": "その他",
}
#: Choice keys of 様式第1号/第5号 → the group of labels in _CHOICE_LABELS, and their detail key.
_CHANGE_CHOICES: dict[str, tuple[str, str | None]] = {
    "ingredients_origin": ("origin", "ingredients_origin_detail"),
    "manufacturing_place": ("origin", "manufacturing_place_detail"),
    "supply_period": ("period", "supply_period_detail"),
    "acceptance_period": ("period", "acceptance_period_detail"),
    "carriers": ("carriers", None),
    "temperature": ("temperature", None),
}
_YEN_KEYS = {
    "donation_amount",
    "gift_price_excl_tax",
    "gift_price_incl_tax",
    "retail_price_excl_tax",
    "retail_price_incl_tax",
}


def _format_changes(value: Any) -> str:
    """Changes as printed: "寄附金額：13,000円" lines from a mapping, or the text as given."""
    if isinstance(value, Mapping):
        lines = []
        details = {d for _, d in _CHANGE_CHOICES.values() if d}
        for key, item in value.items():
            if _is_blank(item) or (key in details and not _is_blank(value.get(key[: -len("_detail")]))):
                continue  # a detail is printed with its choice
            label = CHANGE_LABELS.get(str(key), _text(key))
            if key in _YEN_KEYS:
                text = f"{_yen(item, str(key))}円"
            elif key in _CHANGE_CHOICES:
                group, detail_key = _CHANGE_CHOICES[str(key)]
                names = dict(_CHOICE_LABELS[group])
                chosen = item if isinstance(item, (list, tuple)) else [item]
                text = "、".join(names.get(str(c), _text(c)) for c in chosen)
                detail = _text(value.get(detail_key)) if detail_key else ""
                if detail:
                    text += f"（{detail}）"
            elif key == "allergens_present" and isinstance(item, bool):
                text = "あり" if item else "なし"
            else:
                text = _text(item)
            lines.append(f"{label}：{text}")
        return "\n".join(lines)
    return "\n".join(_lines(value))


def _new_values(record: Mapping[str, Any]) -> dict[str, Any]:
    """The changed items of a 変更申請書 (様式第5号 ``new_*`` keys), by 様式第1号 key."""
    return {k[4:]: v for k, v in record.items() if k.startswith("new_") and not _is_blank(v)}


def _change_notice(
    record: Mapping[str, Any], ctx: dict[str, Any], issue: date | None, p: _Prepared, **_: Any
) -> None:
    content = _get(record, "change_content", "changes") or _new_values(record) or None
    _require(
        {**record, "change_content": content},
        "change_notice",
        {
            "addressee (applicant_name)": _NAME_KEYS,
            "product_name": _SUBJECT_KEYS,
            "change_content": ("change_content",),
            "change_reason": ("change_reason",),
        },
    )
    ctx["change_content"] = _format_changes(content)
    ctx["change_reason"] = "\n".join(_lines(record.get("change_reason")))
    # set as lines (one paragraph each), never one justified paragraph stretched at its breaks
    ctx["change_lines"] = ctx["change_content"].splitlines()
    ctx["reason_lines"] = ctx["change_reason"].splitlines()
    effective = _date(_get(record, "effective_date"), "effective_date")
    ctx["effective_date"] = format_wareki(effective) + "から" if effective else ""


def _approval_reference(record: Mapping[str, Any]) -> tuple[str, str]:
    """(approval date in 和暦 or blank, approval document number or "")."""
    day = _date(_get(record, "approval_date", "original_approval_date", "decision_date"), "approval_date")
    number = _text(_get(record, "approval_number", "approval_doc_number"))
    return (format_wareki(day) if day else blank_wareki(), number)


def _withdrawal(
    record: Mapping[str, Any],
    ctx: dict[str, Any],
    issue: date | None,
    p: _Prepared,
    *,
    settings: ProgramSettings,
    wording: Wording,
) -> None:
    _require(record, "withdrawal", {"applicant_name": _NAME_KEYS, "product_name": _SUBJECT_KEYS})
    ctx["statement"] = wording.withdrawal_statement.format(
        name=settings.name, municipality=settings.municipality
    )
    ctx["withdrawal_reason"] = "\n".join(_lines(record.get("withdrawal_reason"))) or _BLANK
    day = _date(_get(record, "withdrawal_date"), "withdrawal_date")
    ctx["withdrawal_date"] = format_wareki(day) if day else blank_wareki()
    approved_on, number = _approval_reference(record)
    has_date = _get(record, "approval_date", "original_approval_date", "decision_date") is not None
    ctx["approval_ref"] = f"{approved_on}付け{number}で承認" if (has_date or number) else ""
    if day and issue and (day - issue).days < 40:
        p.warnings.append(
            f"辞退する日 {format_wareki(day)} は届出日から40日未満です（{settings.seed} 12(2): 40日前までに報告）"
        )


_CHOICE_LABELS: dict[str, tuple[tuple[str, str], ...]] = {
    "origin": (("in_city", "市内"), ("outside", "市外")),
    "period": (("year_round", "通年"), ("limited", "時期限定")),
    "carriers": (("japan_post", "ゆうパック"), ("sagawa", "佐川急便"), ("yamato", "ヤマト運輸")),
    "temperature": (("ambient", "常温"), ("chilled", "冷蔵"), ("frozen", "冷凍")),
}


def _boxes(kind: str, chosen: Any, detail: str = "") -> str:
    picked = set(chosen) if isinstance(chosen, (list, tuple, set)) else {chosen}
    parts = []
    for value, label in _CHOICE_LABELS[kind]:
        mark = "■" if value in picked or label in picked else "□"
        text = f"{mark} {label}"
        if kind == "origin" and value == "outside":
            text += f"（{detail or '　　　　'}）"
        if kind == "period" and value == "limited":
            text += f"（{detail or '　　月　　旬頃～　　月　　旬頃'}）"
        parts.append(text)
    return "　".join(parts)


def _change_rows(record: Mapping[str, Any]) -> list[dict[str, str]]:
    """Rows 2–21 of 様式第5号: the changes given (``changes`` or form 5's ``new_*`` keys) or blanks."""
    changes: dict[str, Any] = {}
    if isinstance(record.get("changes"), Mapping):
        changes.update(record["changes"])
    for key, value in _new_values(record).items():
        changes.setdefault(key, value)

    def c(key: str) -> Any:
        return changes.get(key)

    def yen_pair(excl: str, incl: str) -> str:
        a, b = _int(c(excl), excl), _int(c(incl), incl)
        return f"{f'{a:,}' if a is not None else '　　　'}円（税抜）、{f'{b:,}' if b is not None else '　　　'}円（税込）"

    def text_or(key: str, blank: str = "") -> str:
        return _text(c(key)) or blank

    allergens = c("allergens")
    present = c("allergens_present")
    if present is None and allergens:
        present = True
    allergen_text = (
        ("■ あり　□ なし" if present else "□ あり　■ なし") if present is not None else "□ あり　□ なし"
    )
    if allergens:
        allergen_text += "\n" + _text(allergens)
    quantity = text_or("supply_quantity")
    rows = [
        ("2 商品規格（ポータルサイト等に転記します）", text_or("product_spec")),
        ("3 商品の説明・特徴（ポータルサイト等に転記します）", text_or("product_description")),
        ("4 寄附金額", f"{_yen(c('donation_amount'), 'donation_amount')}円" if c("donation_amount") else ""),
        ("5 返礼品の価格", yen_pair("gift_price_excl_tax", "gift_price_incl_tax")),
        ("6 一般小売価格", yen_pair("retail_price_excl_tax", "retail_price_incl_tax")),
        (
            "7 原材料（原産地）",
            _boxes("origin", c("ingredients_origin"), text_or("ingredients_origin_detail")),
        ),
        ("8 製造場所", _boxes("origin", c("manufacturing_place"), text_or("manufacturing_place_detail"))),
        ("9 提供可能期間", _boxes("period", c("supply_period"), text_or("supply_period_detail"))),
        ("10 申込受付期間", _boxes("period", c("acceptance_period"), text_or("acceptance_period_detail"))),
        ("11 提供可能数", quantity or "年間　　　　個"),
        ("12 出荷タイミング", text_or("shipping_timing")),
        ("13 運送便", _boxes("carriers", c("carriers"))),
        ("14 流通温度帯", _boxes("temperature", c("temperature"))),
        ("15 アレルギー品目", allergen_text),
        ("16 消費期限・賞味期限", text_or("best_before", "製造・加工後　　日以内")),
        ("17 梱包サイズ・梱包重量", text_or("package_size_weight", "　　mm×　　mm×　　mm／梱包重量　　g")),
        ("18 定期便", text_or("subscription")),
        (
            "19 担当者連絡先",
            "\n".join(
                [
                    f"所属：{_text(_get(record, 'contact_department'))}",
                    f"担当者氏名：{_text(_get(record, 'contact_person'))}",
                    f"電話番号：{_text(_get(record, 'contact_phone'))}",
                    f"FAX番号：{_text(_get(record, 'contact_fax'))}",
                    f"メールアドレス：{_text(_get(record, 'contact_email'))}",
                    f"ウェブサイトURL：{_text(_get(record, 'contact_website_url'))}",
                ]
            ),
        ),
        (
            "20 商品画像",
            (
                "下記の画像データを併せて提出してください。ポータルサイト等で掲載する場合がありますので、"
                "可能な限りご提供ください。\n①返礼品　②事業所の外観　③事業所内作業場等の風景　④事業者ご自身"
            ),
        ),
        ("21 添付資料", "※原材料の原産地証明書及び一括表示の添付をお願い致します。"),
    ]
    other = _text(_get(changes, "other_changes"))
    if other:
        rows.insert(17, ("その他の変更", other))
    return [{"label": label, "value": value} for label, value in rows]


def _change_application(
    record: Mapping[str, Any], ctx: dict[str, Any], issue: date | None, p: _Prepared, **_: Any
) -> None:
    _require(record, "change_application", {"applicant_name": _NAME_KEYS, "product_name": _SUBJECT_KEYS})
    approved_on, number = _approval_reference(record)
    ctx["approval_date"] = approved_on
    ctx["approval_number"] = number
    ctx["change_rows"] = _change_rows(record)


def _form2_values(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record with the values of a 様式第2号 document (if the record holds one) on top."""
    merged = dict(record)
    for form_id, values in (record.get("forms") or {}).items():
        if str(form_id).endswith(".form2") and isinstance(values, Mapping):
            merged.update({k: v for k, v in values.items() if not _is_blank(v)})
    return merged


def _value_added_certificate(
    record: Mapping[str, Any],
    ctx: dict[str, Any],
    issue: date | None,
    p: _Prepared,
    *,
    settings: ProgramSettings,
    **_: Any,
) -> None:
    rec = _form2_values(record)
    _require(rec, "value_added_certificate", {"product_name": ("product_name",)})
    ctx["head_addressee"] = f"{settings.head_title}　殿"
    ctx["product_name"] = _text(rec.get("product_name"))
    for key in ("manufacturer_address", "manufacturer_name", "manufacturer_representative"):
        ctx[key] = _text(rec.get(key))
    a = _int(_get(rec, "procurement_cost_a", "procurement_cost"), "procurement_cost_a")
    b = _int(_get(rec, "outside_cost_b", "outside_cost"), "outside_cost_b")
    given = _get(rec, "value_added_percent", "percentage")
    percent: Decimal | None = None
    if a is not None and b is not None:
        percent = value_added_percent(a, b)
        if given is not None:
            try:
                stated = Decimal(str(unicodedata.normalize("NFKC", str(given))).rstrip("%％ "))
            except InvalidOperation:
                raise InvalidRecord(f"value_added_percent: not a number: {given!r}") from None
            if abs(stated - percent) >= Decimal("0.1"):
                p.warnings.append(
                    f"記載の割合 {format_percent(stated)}% と (A−B)/A = {format_percent(percent)}% が一致しません"
                )
    elif given is not None:
        try:
            percent = Decimal(str(unicodedata.normalize("NFKC", str(given))).rstrip("%％ "))
        except InvalidOperation:
            raise InvalidRecord(f"value_added_percent: not a number: {given!r}") from None
    method = _get(rec, "method") or (
        "standard" if a is not None else ("other" if rec.get("other_method_reason") else None)
    )
    ctx["percent"] = format_percent(percent) if percent is not None else "　　　"
    ctx["mark_standard"] = "■" if method == "standard" else "□"
    ctx["mark_other"] = "■" if method == "other" else "□"
    ctx["cost_a"] = f"{a:,}" if a is not None else _BLANK
    ctx["cost_b"] = f"{b:,}" if b is not None else _BLANK
    ctx["other_method"] = "\n".join(_lines(rec.get("other_method_reason")))
    place = _get(rec, "manufacturing_location", "manufacturing_place")
    if place == "in_city":
        place = f"{settings.prefecture}{settings.municipality}"
    elif place == "outside":
        place = _get(rec, "manufacturing_place_detail")
    ctx["manufacturing_location"] = _text(place) or _BLANK
    ctx["retail_price"] = _yen(
        _get(rec, "general_retail_price", "retail_price", "retail_price_incl_tax"), "general_retail_price"
    )
    if percent is not None and percent <= 50:
        p.warnings.append(
            f"付加価値割合 {format_percent(percent)}% は過半（50%超）に達していません（{settings.seed} 7(1)ウ(ウ)）"
        )


_REGISTRATION_TYPES = {"use_and_sales": "利用店舗・販売所", "use_only": "利用店舗"}
_YES = {"approve", "approved", "approve_with_conditions", "registered", "register", "accept", "accepted"}
_NO = {"reject", "rejected", "not_registered", "refuse", "refused"}


def _registration_result(
    record: Mapping[str, Any],
    ctx: dict[str, Any],
    issue: date | None,
    p: _Prepared,
    *,
    settings: ProgramSettings,
    wording: Wording,
) -> None:
    _require(record, "registration_result", {"store name (store_name or applicant_name)": _NAME_KEYS})
    registered = record.get("registered")
    if not isinstance(registered, bool):
        decision = str(record.get("decision") or "").lower()
        if decision in _YES:
            registered = True
        elif decision in _NO:
            registered = False
        else:
            raise InvalidRecord("registration_result: the record has no decision (`registered` true/false)")
    ctx["registered"] = registered
    ctx["product_name"] = _text(_get(record, "store_name", "applicant_name", "operator_name"))
    kind = _get(record, "registration_type")
    rows = [
        ("店舗名", ctx["product_name"]),
        ("所在地", _text(_get(record, "store_address", "applicant_address"))),
        ("登録区分", _REGISTRATION_TYPES.get(str(kind), _text(kind)) if kind else ""),
        ("登録結果", "登録" if registered else "登録不可"),
    ]
    if registered and _get(record, "registration_number"):
        rows.append(("登録番号", _text(record["registration_number"])))
    ctx["rows"] = [{"label": a, "value": b} for a, b in rows if b]
    ctx["reasons"] = rejection_reasons(record, settings, wording) if not registered else []
    if not registered and not ctx["reasons"]:
        raise InvalidRecord(
            "registration_result: not registered, but no reasons (`reasons` or failed findings)"
        )


def _fraud_repayment(
    record: Mapping[str, Any], ctx: dict[str, Any], issue: date | None, p: _Prepared, **_: Any
) -> None:
    _require(
        record,
        "fraud_repayment",
        {
            "store name (store_name or applicant_name)": _NAME_KEYS,
            "fraud_amount": ("fraud_amount", "amount"),
            "fraud_received_date": ("fraud_received_date", "fraud_date"),
            "payment_due_date": ("payment_due_date", "payment_date"),
        },
    )
    amount = _int(_get(record, "fraud_amount", "amount"), "fraud_amount")
    received = _date(_get(record, "fraud_received_date", "fraud_date"), "fraud_received_date")
    due = _date(_get(record, "payment_due_date", "payment_date"), "payment_due_date")
    assert amount is not None and received is not None and due is not None
    claim = repayment_claim(amount, received, due)
    ctx["product_name"] = _text(_get(record, "store_name", "applicant_name", "operator_name"))
    ctx["fraud_description"] = "\n".join(_lines(_get(record, "fraud_description", "reason"))) or _BLANK
    ctx["received_date"] = format_wareki(received)
    ctx["payment_due"] = format_wareki(due)
    ctx["amount"] = f"{claim.amount:,}"
    ctx["surcharge"] = f"{claim.surcharge:,}"
    ctx["late_charge"] = f"{claim.late_charge:,}"
    ctx["late_days"] = str(claim.late_days)
    ctx["late_from"] = format_wareki(claim.late_from)
    ctx["late_to"] = format_wareki(claim.late_to)
    ctx["total"] = f"{claim.total:,}"
    ctx["claim"] = claim


_BUILDERS: dict[str, Callable[..., None]] = {
    "approval": _approval,
    "rejection": _rejection,
    "change_notice": _change_notice,
    "withdrawal": _withdrawal,
    "change_application": _change_application,
    "value_added_certificate": _value_added_certificate,
    "registration_result": _registration_result,
    "fraud_repayment": _fraud_repayment,
}


def notice_context(
    kind: str, settings: ProgramSettings, record: Mapping[str, Any], *, issue_date: date | None
) -> tuple[dict[str, Any], list[str]]:
    """The values a template is filled with (without the document number), and warnings."""
    if kind not in _BUILDERS:
        raise UnknownForm(f"unknown notice kind {kind!r} (known: {', '.join(NOTICE_KINDS)})", form=kind)
    wording = wording_for(settings.id)
    if issue_date is None and kind in FILED_FORMS:
        # the date the supplier or manufacturer wrote on the form it filed, when it filed one
        issue_date = filed_date(kind, record)
    ctx = _base_context(kind, settings, wording, record, issue_date)
    prepared = _Prepared(ctx)
    _BUILDERS[kind](record, ctx, issue_date, prepared, settings=settings, wording=wording)
    return ctx, prepared.warnings


#: The forms a supplier or manufacturer files, by kind: the form's id ends with the suffix and
#: holds its date under the key (004 様式第6号, 第5号, 第2号).
FILED_FORMS: dict[str, tuple[str, str]] = {
    "withdrawal": (".form6", "application_date"),
    "change_application": (".form5", "application_date"),
    "value_added_certificate": (".form2", "certificate_date"),
}


def filed_date(kind: str, record: Mapping[str, Any]) -> date | None:
    """The date written on the filed form of ``kind`` (辞退届, 変更申請書, 様式第2号) in the
    record's documents, or None when the record holds no such form or no date on it."""
    suffix, key = FILED_FORMS[kind]
    for form_id, values in (record.get("forms") or {}).items():
        if str(form_id).endswith(suffix) and isinstance(values, Mapping) and not _is_blank(values.get(key)):
            return _date(values.get(key), f"{form_id} {key}")
    return None


# --- rendering ---------------------------------------------------------------------------------


_DROP_RELS = (
    "/metadata/thumbnail",  # python-docx's default template ships a sample thumbnail image
    "/stylesWithEffects",
    "/webSettings",
    "/customXml",
)


def slim_document(doc: DocxDocument) -> DocxDocument:
    """Keep only the styles the document uses, and drop parts a notice does not need.

    python-docx's default template carries ~160 styles and 800 kB of style XML; every
    rendered notice would repeat them, and LibreOffice would parse them once per notice.
    """
    body = doc.element.body
    used = {
        el.get(qn("w:val")) for tag in ("w:pStyle", "w:rStyle", "w:tblStyle") for el in body.iter(qn(tag))
    }
    styles = doc.styles.element
    by_id = {st.get(qn("w:styleId")): st for st in styles.findall(qn("w:style"))}
    keep = {sid for sid, st in by_id.items() if st.get(qn("w:default")) == "1"} | used
    pending = list(keep)
    while pending:  # follow basedOn / next / link chains
        st = by_id.get(pending.pop())
        if st is None:
            continue
        for tag in ("w:basedOn", "w:next", "w:link"):
            ref = st.find(qn(tag))
            if ref is not None and ref.get(qn("w:val")) not in keep:
                keep.add(ref.get(qn("w:val")))
                pending.append(ref.get(qn("w:val")))
    for sid, st in by_id.items():
        if sid not in keep:
            styles.remove(st)
    latent = styles.find(qn("w:latentStyles"))
    if latent is not None:
        styles.remove(latent)
    for part_rels in (doc.part.package.rels, doc.part.rels):
        for rid, rel in list(part_rels.items()):
            if rel.reltype.endswith(_DROP_RELS):
                del part_rels[rid]
    return doc


def _jinja_env() -> jinja2.Environment:
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def render_docx(template: Path | bytes, context: Mapping[str, Any], out: Path) -> Path:
    """Fill one docxtpl template; values are XML-escaped, newlines become line breaks."""
    data = template if isinstance(template, bytes) else template.read_bytes()
    tpl = DocxTemplate(io.BytesIO(data))
    try:
        tpl.render(dict(context), jinja_env=_jinja_env(), autoescape=True)
    except jinja2.TemplateError as exc:
        name = template.name if isinstance(template, Path) else "template"
        raise CatalogueError(f"notice template {name}: {exc}", file=str(template)) from exc
    buffer = io.BytesIO()
    tpl.save(buffer)
    out.write_bytes(buffer.getvalue())  # one write: a full disk fails here, with nothing half-open
    return out


_REL_ATTRS = (qn("r:id"), qn("r:embed"), qn("r:link"))


def merged_pdfs(docx_paths: Sequence[Path], outdir: Path, *, timeout: float = 180.0) -> list[Path] | None:
    """One PDF per DOCX through a single LibreOffice conversion of their merged bodies.

    LibreOffice spends most of its time per document loaded, not per page: merging a batch of
    notices (all filled from one template, so with the same styles and page setup) into one
    document with a section break between notices, converting that once and splitting the
    PDF at each notice's first page is several times faster than converting the files. Each
    notice's first paragraph is marked as an outline heading in the merged copy only, so the
    PDF's bookmarks give the page where each notice starts. The DOCX files are not changed.

    Returns None (the caller converts the files as they are) when the bodies refer to parts
    of their packages (images, links), use list numbering, or differ in page setup, or when
    the bookmarks do not match the notices one to one.
    """
    from docx import Document
    from docx.oxml import OxmlElement
    from pypdf import PdfReader, PdfWriter

    docs = [Document(str(p)) for p in docx_paths]
    sect_tag, p_tag = qn("w:sectPr"), qn("w:p")
    setups = set()
    for doc in docs:
        body = doc.element.body
        numbered_styles = {
            st.get(qn("w:styleId"))
            for st in doc.styles.element.findall(qn("w:style"))
            if st.find(f".//{qn('w:numPr')}") is not None
        }
        for el in body.iter():
            if any(attr in el.attrib for attr in _REL_ATTRS) or el.tag == qn("w:numPr"):
                return None
            if el.tag == qn("w:pStyle") and el.get(qn("w:val")) in numbered_styles:
                return None
        sect = body.find(sect_tag)
        if sect is None:
            return None
        setups.add(etree_bytes(sect))
    if len(setups) != 1:
        return None

    def mark_first(elements: list[Any]) -> bool:
        for el in elements:
            if el.tag == p_tag and "".join(el.itertext()).strip():
                ppr = el.get_or_add_pPr()
                level = OxmlElement("w:outlineLvl")
                level.set(qn("w:val"), "0")
                ppr.append(level)
                return True
        return False

    base = docs[0].element.body
    final_sect = base.find(sect_tag)
    if not mark_first([c for c in base if c.tag != sect_tag]):
        return None
    for doc in docs[1:]:
        last = [c for c in base if c.tag != sect_tag][-1]
        if last.tag != p_tag:
            last = OxmlElement("w:p")
            final_sect.addprevious(last)
        last.get_or_add_pPr().append(copy.deepcopy(final_sect))  # a section break: next page
        children = [copy.deepcopy(c) for c in doc.element.body if c.tag != sect_tag]
        if not mark_first(children):
            return None
        for child in children:
            final_sect.addprevious(child)

    outdir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".merge-", dir=outdir))
    try:
        merged = staging / "batch.docx"
        docs[0].save(str(merged))
        [pdf] = convert_to_pdf([merged], staging, timeout=timeout)
        reader = PdfReader(pdf)
        found = [reader.get_destination_page_number(o) for o in reader.outline if not isinstance(o, list)]
        starts = [n for n in found if n is not None]
        if (
            len(starts) != len(docs)
            or len(found) != len(starts)
            or starts[0] != 0
            or starts != sorted(set(starts))
        ):
            return None
        bounds = [*starts, len(reader.pages)]
        results = []
        for i, src in enumerate(docx_paths):
            writer = PdfWriter()
            for page in range(bounds[i], bounds[i + 1]):
                writer.add_page(reader.pages[page])
            if reader.metadata:
                writer.add_metadata(
                    {k: v for k, v in reader.metadata.items() if k in ("/Producer", "/Creator")}
                )
            part = staging / f"{src.stem}.pdf.part"
            with part.open("wb") as fh:
                writer.write(fh)
            target = outdir / f"{src.stem}.pdf"
            os.replace(part, target)
            results.append(target)
        return results
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def etree_bytes(element: Any) -> bytes:
    from lxml import etree

    data: bytes = etree.tostring(element)
    return data


def _given_number(record: Mapping[str, Any]) -> str | int | None:
    value = _get(record, "document_number", "doc_number")
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidRecord(f"document_number: {value!r}")
    if isinstance(value, int):
        return value
    text = _text(value)
    return int(text) if text.isdigit() else text


def render_notices(
    kind: str,
    program_id: str,
    records: Sequence[Mapping[str, Any]],
    outdir: Path,
    *,
    formats: Iterable[str] = FORMATS,
    numbers: NumberSequence | None = None,
    issue_date: date | None = None,
    settings: ProgramSettings | None = None,
    pdf_workers: int = 1,
    merge: bool = True,
) -> list[RenderedNotice]:
    """Render one notice per record, as DOCX and/or PDF, into ``outdir``.

    - Every record is validated before any number is taken, so a bad record in a batch wastes
      no numbers. Numbers are taken for the municipality's own notices (承認書, 不承認書, …)
      from ``numbers``; a record carrying ``document_number`` keeps it (a notice issued again).
      Without ``numbers`` the notice is a draft: the number is left blank (渋広第　　号).
    - Numbers are spent only on notices that exist: the batch is made in full (DOCX and PDF)
      in a staging directory inside ``outdir`` with the numbers after the sequence's last,
      and the numbers are taken in the transaction that moves the files into place
      (``generate.numbering.issue_numbered``). A missing LibreOffice (exit 4), a full disk or
      an unwritable ``outdir`` (``OutputNotWritable``, exit 2) leave the sequence as it was
      and no file behind.
    - ``issue_date`` (default today) is the notice's date and picks the fiscal year of its
      number. Forms the supplier files (辞退届, 変更申請書, 様式第2号) print it as their date
      when given, and leave the date blank for the supplier otherwise.
    - All DOCX are written first, then converted to PDF with one LibreOffice start: the batch
      is merged into one document, converted, and split back into one PDF per notice
      (``merged_pdfs``; about three times faster than converting the files one by one in the
      same start). With ``merge=False``, or when the documents cannot be merged safely, the
      files are converted as they are (in ``pdf_workers`` parallel starts).

    File names are ``<program>-<kind>-<fiscal year>-<number>`` for numbered notices and
    ``<program>-<kind>-<yyyymmdd>-<n>`` otherwise (a later batch of the same day replaces them).
    """
    formats = tuple(dict.fromkeys(formats))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise InvalidRecord(f"formats must be among {FORMATS}, not {formats}")
    settings = settings or get_program(program_id)
    template = template_path(kind, program_id)
    if settings.notices and kind not in settings.notices:
        raise UnknownForm(
            f"program {program_id!r} does not issue {kind} (it issues: {', '.join(settings.notices)})",
            form=kind,
            program=program_id,
        )
    numbered = kind in NUMBERED_KINDS
    today = date.today()
    issue = issue_date or today
    printed_date = issue if numbered or issue_date is not None else None
    fiscal_year = fiscal_year_of(issue, settings.fiscal_year_start_month)

    prepared: list[tuple[dict[str, Any], list[str], str | int | None]] = []
    for index, raw in enumerate(records):
        record = record_from_json(dict(raw)) if isinstance(raw, Mapping) else record_from_json(raw)
        try:
            ctx, warnings = notice_context(kind, settings, record, issue_date=printed_date)
        except InvalidRecord as exc:
            prefix = f"record {index + 1}: " if len(records) > 1 else ""
            raise InvalidRecord(prefix + exc.message, index=index, **exc.data) from exc
        prepared.append((ctx, warnings, _given_number(record) if numbered else None))

    template_bytes = template.read_bytes()
    _make_outdir(outdir)
    wanted = [i for i, (_, _, given) in enumerate(prepared) if numbered and given is None]
    if numbers is None:
        wanted = []

    def make(taken: Sequence[int]) -> _Batch:
        """Every notice of the batch, finished, in a staging directory inside ``outdir``."""
        new_numbers = dict(zip(wanted, taken))
        try:
            staging = Path(tempfile.mkdtemp(prefix=".notices-", dir=outdir))
        except OSError as exc:
            raise OutputNotWritable(f"出力先 {outdir} に書き込めません: {exc.strerror or exc}", path=str(outdir)) from None
        batch = _Batch(staging, [])
        try:
            docx_paths: list[Path] = []
            for index, (ctx, warnings, given) in enumerate(prepared):
                number: int | None = new_numbers.get(index)
                doc_number: str | None = None
                if numbered:
                    if isinstance(given, int):
                        number = given
                    elif isinstance(given, str):
                        doc_number = given
                    if number is not None:
                        doc_number = format_document_number(settings.doc_number_prefix, number)
                    ctx = {**ctx, "doc_number": doc_number or f"{settings.doc_number_prefix}第　　号"}
                if number is not None:
                    stem = f"{program_id}-{kind}-{fiscal_year}-{number:04d}"
                else:
                    stem = f"{program_id}-{kind}-{issue:%Y%m%d}-{index + 1:03d}"
                docx = render_docx(template_bytes, ctx, staging / f"{stem}.docx")
                docx_paths.append(docx)
                batch.results.append(
                    RenderedNotice(
                        kind=kind,
                        program_id=program_id,
                        index=index,
                        paths={"docx": docx},
                        issue_date=printed_date,
                        doc_number=doc_number,
                        number=number,
                        fiscal_year=fiscal_year if numbered else None,
                        warnings=tuple(warnings),
                    )
                )
            if "pdf" in formats and docx_paths:
                pdfs = merged_pdfs(docx_paths, staging) if merge and len(docx_paths) > 1 else None
                if pdfs is None:
                    pdfs = convert_to_pdf(docx_paths, staging, workers=pdf_workers)
                for result, pdf in zip(batch.results, pdfs):
                    result.paths["pdf"] = pdf
            if "docx" not in formats:
                for result in batch.results:
                    result.paths.pop("docx").unlink()
        except OSError as exc:
            discard(batch)
            raise OutputNotWritable(f"出力先 {outdir} に書き込めません: {exc.strerror or exc}", path=str(outdir)) from None
        except BaseException:
            discard(batch)
            raise
        return batch

    def finish(batch: _Batch, tx: Any = None) -> list[RenderedNotice]:
        """Put the finished notices in place (a rename within ``outdir``); undone on failure."""
        moved: list[Path] = []
        try:
            for result in batch.results:
                for fmt, path in list(result.paths.items()):
                    target = outdir / path.name
                    os.replace(path, target)
                    moved.append(target)
                    result.paths[fmt] = target
        except OSError as exc:
            for path in moved:
                path.unlink(missing_ok=True)
            raise OutputNotWritable(f"出力先 {outdir} に書き込めません: {exc.strerror or exc}", path=str(outdir)) from None
        finally:
            shutil.rmtree(batch.staging, ignore_errors=True)
        return batch.results

    def discard(batch: _Batch) -> None:
        shutil.rmtree(batch.staging, ignore_errors=True)

    if not wanted:
        return finish(make([]))
    assert numbers is not None
    if isinstance(numbers, ReservingSequence):
        count = len(wanted)
        issued: list[RenderedNotice] = issue_numbered(
            numbers,
            program_id,
            fiscal_year,
            count,
            lambda first: make(range(first, first + count)),
            finish,
            discard,
        )
        return issued
    # a sequence with only next(): numbers are taken before the notices are made (a failure
    # leaves gaps); every sequence of this project reserves and commits instead
    return finish(make([numbers.next(program_id, fiscal_year) for _ in wanted]))


@dataclass
class _Batch:
    staging: Path
    results: list[RenderedNotice]


def _make_outdir(outdir: Path) -> None:
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputNotWritable(
            f"出力先 {outdir} を作れません: {exc.strerror or exc}", path=str(outdir)
        ) from None
    if not os.access(outdir, os.W_OK | os.X_OK):
        raise OutputNotWritable(f"出力先 {outdir} に書き込めません", path=str(outdir))
