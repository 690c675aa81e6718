"""The yearly filing to 総務省: the gifts approved in a period, per program, as XLSX and CSV.

New gifts go to the ministry's approval round once a year, around July (001 4). Each row is an
approved case (a standing approval decided in the period, JST): the gift, its supplier, the
donation, the procurement price, the return ratio, the 地場産品基準 category where the program
declares one (Shika's 別紙① 1–9, read from 様式第1号) and the place it is made. Where a
program's forms keep these facts is declared in its ``handling.yaml`` (``ministry``).
``madoguchi export ministry --program ID --from --to`` and the desk's button both use it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import Blueprint, abort, render_template, request, send_file
from sqlalchemy import select
from sqlalchemy.orm import Session

from forms.errors import InputError
from web import audit, services
from web.auth import role_required
from web.db_session import db_session
from web.mail_catalogue import handling
from web.models import Case, Decision, Notice, Program

JST = timezone(timedelta(hours=9), "JST")
APPROVALS = ("approve", "approve_with_conditions")

COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "番号"),
    ("product_name", "返礼品名"),
    ("supplier", "返礼品提供事業者"),
    ("donation_amount", "寄附金額（円）"),
    ("procurement_price", "調達価格（円）"),
    ("return_ratio", "返礼割合（%）"),
    ("category", "地場産品基準"),
    ("place", "製造・生産場所"),
    ("approved_on", "承認日"),
    ("approval_number", "承認番号"),
    ("case_id", "案件番号"),
)


@dataclass
class GiftRow:
    number: int
    product_name: str
    supplier: str
    donation_amount: int | None
    procurement_price: int | None
    return_ratio: float | None
    category: str
    place: str
    approved_on: date
    approval_number: str
    case_id: int

    def cells(self) -> list[Any]:
        return [getattr(self, key) for key, _ in COLUMNS]


def ratio(price: int | None, donation: int | None) -> float | None:
    """The return ratio in percent, to one decimal (half up): procurement price / donation."""
    if price is None or not donation:
        return None
    return float((Decimal(price) * 100 / Decimal(donation)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise InputError(f"期間が逆です: {start.isoformat()} 〜 {end.isoformat()}")
    lo = datetime.combine(start, time(0), tzinfo=JST).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=JST).astimezone(UTC)
    return lo, hi


def _choice_labels(program_id: str, key: str) -> dict[Any, str]:
    labels: dict[Any, str] = {}
    for form in services.program_forms(program_id):
        try:
            decl = form.field(key)
        except KeyError:
            continue
        labels.update({c.value: c.label for c in decl.choices})
    return labels


def _first(values: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((values[k] for k in keys if values.get(k) not in (None, "", [])), None)


def gift_rows(s: Session, program_id: str, start: date, end: date) -> list[GiftRow]:
    from web.notices import case_values

    lo, hi = _bounds(start, end)
    if s.get(Program, program_id) is None:
        services.get_program(program_id)  # UnknownProgram, with the known ones
        raise InputError(f"制度 {program_id} は登録されていません")
    decl = handling(program_id).ministry
    stmt = (
        select(Decision)
        .join(Case, Case.id == Decision.case_id)
        .where(Case.program_id == program_id, Case.kind == "application",
               Case.status.in_(("approved", "approved_with_conditions")),
               Decision.outcome.in_(APPROVALS), Decision.decided_at >= lo, Decision.decided_at < hi)
        .order_by(Decision.decided_at, Decision.id)
    )
    if hasattr(Decision, "undone_at"):
        stmt = stmt.where(Decision.undone_at.is_(None))
    categories = _choice_labels(program_id, decl.category_field) if decl.category_field else {}
    rows: list[GiftRow] = []
    for decision in s.scalars(stmt):
        case = decision.case
        values = case_values(case)
        price = _first(values, decl.procurement_price)
        donation = values.get("donation_amount")
        place_key = next((k for k in decl.place if values.get(k) not in (None, "", [])), None)
        place = values.get(place_key) if place_key else None
        if place_key is not None:
            place = _choice_labels(program_id, place_key).get(place, place)
        category = values.get(decl.category_field) if decl.category_field else None
        notice = next((n for n in case.notices if n.kind == "approval" and n.doc_number), None)
        rows.append(GiftRow(
            number=len(rows) + 1,
            product_name=str(values.get("product_name") or case.product_name or ""),
            supplier=str(values.get("applicant_name") or case.applicant_name or ""),
            donation_amount=donation if isinstance(donation, int) else None,
            procurement_price=price if isinstance(price, int) else None,
            return_ratio=ratio(price if isinstance(price, int) else None, donation if isinstance(donation, int) else None),
            category=str(categories.get(category, category or "")) if decl.category_field else "（該当なし）",
            place=str(place or ""),
            approved_on=decision.decided_at.replace(tzinfo=decision.decided_at.tzinfo or UTC).astimezone(JST).date(),
            approval_number=notice.doc_number if isinstance(notice, Notice) and notice.doc_number else "",
            case_id=case.id,
        ))
    return rows


def to_csv(rows: list[GiftRow]) -> bytes:
    """UTF-8 with a BOM (Excel opens it as Japanese), one header row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([name for _, name in COLUMNS])
    for row in rows:
        writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, date) else v) for v in row.cells()])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(rows: list[GiftRow], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "返礼品一覧"
    wb.properties.title = title
    ws.append([name for _, name in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row.cells())
    formats = {"donation_amount": "#,##0", "procurement_price": "#,##0", "return_ratio": "0.0", "approved_on": "yyyy-mm-dd"}
    for index, (key, name) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = max(10, min(40, len(name) * 2 + 2))
        if key in formats:
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = formats[key]
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def file_stem(program_id: str, start: date, end: date) -> str:
    return f"ministry-{program_id}-{start.isoformat()}-{end.isoformat()}"


def title_of(program_id: str, start: date, end: date) -> str:
    program = services.get_program(program_id)
    return f"{program.municipality} 返礼品等一覧（{start.isoformat()}〜{end.isoformat()} 承認分）"


# --- the desk's button ---------------------------------------------------------------------

bp = Blueprint("ministry", __name__)


def _dates() -> tuple[date, date]:
    try:
        return date.fromisoformat(request.args.get("from", "")), date.fromisoformat(request.args.get("to", ""))
    except ValueError:
        raise InputError("期間を YYYY-MM-DD で指定してください") from None


@bp.get("/")
@role_required("clerk")
def page() -> Any:
    programs = list(db_session().scalars(select(Program).where(Program.active).order_by(Program.id)))
    today = datetime.now(JST).date()
    start = date(today.year - 1, 7, 1) if today.month < 7 else date(today.year, 7, 1)
    return render_template("mail/ministry.html", programs=programs, start=start, end=today)


@bp.get("/ministry.<fmt>")
@role_required("clerk")
def download(fmt: str) -> Any:
    if fmt not in ("xlsx", "csv"):
        abort(404)
    program_id = request.args.get("program", "")
    start, end = _dates()
    rows = gift_rows(db_session(), program_id, start, end)  # bad input: 422/404 by web.errors
    audit.record("export.ministry", "program", program_id, format=fmt, count=len(rows),
                 start=start.isoformat(), end=end.isoformat())
    stem = file_stem(program_id, start, end)
    if fmt == "csv":
        data, mime = to_csv(rows), "text/csv; charset=utf-8"
    else:
        data = to_xlsx(rows, title_of(program_id, start, end))
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=f"{stem}.{fmt}")
