"""Filling the blank forms of ``generate.blank_forms``: DOCX as a person would in Word, and the
fillable PDF with appearance streams that render Japanese everywhere.

Values are keyed by field key, as in an extraction record (DESIGN 4.2/4.3): yen and int
amounts as ints, dates as ``datetime.date`` or ISO ``YYYY-MM-DD`` strings, choice fields as the
declared choice value, multi_choice as a list of values, bool fields as True/False. Both
fillers write what a person would type: ``12,000`` for yen, ``令和8年4月1日`` for dates, and
tick the boxes (☐ → ☑ in the DOCX, checkbox on in the PDF).

A guided field (``FieldDecl.guide``: 時期限定（　頃～　頃）, 梱包重量　kg　サイズ) whose value is
the guide filled in (4月上旬頃～8月下旬頃) is written one part a blank, the printed words left as
they are. Any other value is written whole, as a person would write it over the guide: in the
DOCX the guide's words are taken out of the row; in the PDF the first blank's field is widened
over the blanks and words, on a white ground, and the other blanks' fields are hidden.

PDF appearances: the text of a filled field is drawn with a subset of IPAexGothic embedded
in the PDF (made by reportlab), so the filled PDF the supplier prints, stamps and mails
carries its own glyphs. The AcroForm's /NeedAppearances stays false (as in the blank, whose
every widget has its appearance) so that viewers show these appearances; what a person types
later is drawn by the viewer with the form's own field font, the whole IPAexGothic embedded
in the blank (``generate.blank_forms._cjk_font``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from forms.errors import InvalidRecord
from forms.schema import Choice, FieldDecl, FormDecl
from generate.blank_forms import (
    CHECK_OFF,
    CHECK_ON,
    TICKED,
    CellSpec,
    LinesPara,
    TableSpec,
    blank_pdf,
    build_layout,
    guide_span,
    is_checkbox_field,
    save_docx,
    widget_name,
)
from generate.fonts import reportlab_font
from generate.wareki import format_wareki

# --- values as a person writes them --------------------------------------------------------


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        digits = re.sub(r"[,，\s円¥￥]", "", value)
        if re.fullmatch(r"-?\d+", digits):
            return int(digits)
    return None


def format_value(field: FieldDecl, value: Any) -> str:
    """The text a person writes for ``value`` in a text-like field (not a checkbox field)."""
    if value is None:
        return ""
    if field.type == "yen":
        amount = _as_int(value)
        return f"{amount:,}" if amount is not None else str(value)
    if field.type == "int":
        number = _as_int(value)
        return str(number) if number is not None else str(value)
    if field.type == "percent" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    if field.type == "date":
        day = _as_date(value)
        return format_wareki(day) if day is not None else str(value)
    return str(value)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on", "あり", "有")
    return bool(value)


def is_ticked(field: FieldDecl, choice: Choice | None, value: Any) -> bool:
    """Whether the box of ``choice`` (None: the single box of a bool) is ticked for ``value``."""
    if value is None:
        return False
    if choice is None:
        return _truthy(value)
    if field.type == "bool":
        return choice.value is _truthy(value)
    if field.type == "multi_choice":
        items = [value] if isinstance(value, str) else list(value)
        return choice.value in items
    return choice.value == value


def _check_values(form: FormDecl, values: Mapping[str, Any]) -> dict[str, FieldDecl]:
    known = {f.key: f for f in form.fields()}
    unknown = sorted(k for k in values if k not in known)
    if unknown:
        raise InvalidRecord(f"{form.id}: no field {', '.join(unknown)}", form=form.id, keys=unknown)
    for key, value in values.items():
        f = known[key]
        if value is None or value == "" or not f.choices or f.type == "bool":
            continue
        allowed = {c.value for c in f.choices}
        items = list(value) if f.type == "multi_choice" and not isinstance(value, str) else [value]
        bad = [v for v in items if v not in allowed]
        if bad:
            raise InvalidRecord(
                f"{form.id}: {key}: {bad[0]!r} is not one of {', '.join(map(str, allowed))}",
                form=form.id,
                key=key,
            )
    return {k: known[k] for k in values}


# --- DOCX ----------------------------------------------------------------------------------


def _write_cell_text(cell: Any, text: str) -> None:
    paragraph = cell.paragraphs[0]
    run = paragraph.add_run()
    run.text = text  # python-docx turns \n into line breaks


def _guided_parts(f: FieldDecl, value: Any) -> list[str] | None:
    """What goes in each blank of a guided field, or None when the value is to be written whole."""
    return f.split_guided(format_value(f, value))


def _clear_cell(cell: Any) -> None:
    for paragraph in cell.paragraphs:
        for run in paragraph.runs:
            run.text = ""


def fill_docx(form: FormDecl, values: Mapping[str, Any]) -> bytes:
    """The blank DOCX of ``form`` with ``values`` typed in, as a person would in Word."""
    fields = _check_values(form, values)
    layout = build_layout(form)
    for block in layout.blocks:
        if isinstance(block, TableSpec):
            for line in block.lines:
                for cell in line.cells:
                    _fill_table_cell(cell, fields, values)
        else:
            _fill_para(block, fields, values)
    return save_docx(layout.document)


def _fill_table_cell(cell: CellSpec, fields: Mapping[str, FieldDecl], values: Mapping[str, Any]) -> None:
    f = cell.field
    if f is None or f.key not in fields or values[f.key] is None:
        return
    value = values[f.key]
    if cell.kind == "value":
        text = format_value(f, value)
        if f.guide is not None:
            parts = f.split_guided(text)
            text = parts[cell.part] if parts is not None else (text if cell.part == 0 else "")
        if text:
            _write_cell_text(cell.cell, text)
    elif cell.kind == "guide" and format_value(f, value) and _guided_parts(f, value) is None:
        _clear_cell(cell.cell)  # a value in its own words is written instead of the guide
    elif cell.kind in ("choices", "grid"):
        choices: Iterable[Choice | None] = [f.choices[i] for i in cell.choices] if f.choices else [None]
        for choice, run in zip(choices, cell.box_runs):
            if is_ticked(f, choice, value):
                run.text = TICKED


def _fill_para(para: LinesPara, fields: Mapping[str, FieldDecl], values: Mapping[str, Any]) -> None:
    f = para.field
    if f is None or f.key not in fields or values[f.key] is None or para.paragraph is None:
        return
    value = values[f.key]
    if is_checkbox_field(f):
        choices: Iterable[Choice | None] = list(f.choices) if f.choices else [None]
        for choice, run in zip(choices, para.box_runs):
            if is_ticked(f, choice, value):
                run.text = TICKED
        return
    text = format_value(f, value)
    if not text:
        return
    if para.template:  # the date replaces 令和　年　月　日
        runs = para.paragraph.runs
        runs[0].text = text
        for run in runs[1:]:
            run.text = ""
    else:
        para.paragraph.add_run(text)


# --- PDF -----------------------------------------------------------------------------------


@dataclass
class _TextAppearance:
    annot: Any
    text: str
    width: float
    height: float
    size: float
    align: int
    multiline: bool
    cover: bool


def _collect_widgets(fields: Iterable[Any], prefix: str = "") -> dict[str, Any]:
    """Terminal fields of the AcroForm by fully qualified name."""
    out: dict[str, Any] = {}
    for ref in fields:
        obj = ref.get_object()
        name = f"{prefix}.{obj['/T']}" if prefix and "/T" in obj else str(obj.get("/T", prefix))
        kids = obj.get("/Kids")
        if kids:
            named = [k for k in kids if "/T" in k.get_object()]
            if named:
                out.update(_collect_widgets(named, name))
                continue
        out[name] = obj
    return out


def fill_pdf(form: FormDecl, values: Mapping[str, Any], *, blank: bytes | None = None) -> bytes:
    """The fillable PDF of ``form`` with ``values`` filled in, ready to print.

    ``blank`` is the form's fillable PDF when the caller has it (``blank_pdf(form)`` otherwise,
    which starts LibreOffice once per process and form).
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import BooleanObject, NameObject, NumberObject, TextStringObject

    fields = _check_values(form, values)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(blank if blank is not None else blank_pdf(form))))
    acroform = writer._root_object["/AcroForm"].get_object()
    widgets = _collect_widgets(acroform["/Fields"])
    appearances: list[_TextAppearance] = []
    for key, f in fields.items():
        value = values[key]
        if is_checkbox_field(f):
            for choice in f.choices or (None,):
                annot = _widget(widgets, form, f, choice)
                state = NameObject(CHECK_ON if is_ticked(f, choice, value) else CHECK_OFF)
                annot[NameObject("/V")] = state
                annot[NameObject("/AS")] = state
            continue
        text = format_value(f, value)
        if f.guide is None:
            annot = _widget(widgets, form, f, None)
            annot[NameObject("/V")] = TextStringObject(text)
            if text:
                appearances.append(_appearance_of(annot, text))
            continue
        blanks = [_widget(widgets, form, f, None, part=n) for n in range(f.blanks())]
        parts = f.split_guided(text) if text else [""] * len(blanks)
        if parts is None:  # written whole over the guide's blanks and words
            _widen_over_guide(form, f, blanks[0])
            for annot in blanks[1:]:
                annot[NameObject("/F")] = NumberObject(int(annot.get("/F", 0)) | _ANNOT_HIDDEN)
            parts = [text] + [""] * (len(blanks) - 1)
        for annot, part in zip(blanks, parts):
            annot[NameObject("/V")] = TextStringObject(part)
            if part:
                appearances.append(_appearance_of(annot, part))
    _add_text_appearances(writer, appearances)
    acroform[NameObject("/NeedAppearances")] = BooleanObject(False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


_ANNOT_HIDDEN = 2


def _appearance_of(annot: Any, text: str) -> _TextAppearance:
    x0, y0, x1, y1 = (float(v) for v in annot["/Rect"])
    mk = annot.get("/MK")
    return _TextAppearance(
        annot,
        text,
        x1 - x0,
        y1 - y0,
        _da_size(str(annot.get("/DA", ""))),
        int(annot.get("/Q", 0)),
        bool(int(annot.get("/Ff", 0)) & (1 << 12)),
        bool(mk is not None and "/BG" in mk.get_object()),
    )


def _widen_over_guide(form: FormDecl, f: FieldDecl, annot: Any) -> None:
    """Make the first blank's field span the guide's blanks and words, left-aligned, on a
    white ground that hides the printed words under the value."""
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, NumberObject

    left, right = guide_span(form, f.key)
    _, y0, _, y1 = (float(v) for v in annot["/Rect"])
    annot[NameObject("/Rect")] = ArrayObject([FloatObject(round(v, 2)) for v in (left + 1.5, y0, right - 1.5, y1)])
    annot[NameObject("/Q")] = NumberObject(0)
    mk = annot.get("/MK")
    mk = mk.get_object() if mk is not None else DictionaryObject()
    mk[NameObject("/BG")] = ArrayObject([FloatObject(1), FloatObject(1), FloatObject(1)])
    annot[NameObject("/MK")] = mk


def _widget(
    widgets: Mapping[str, Any], form: FormDecl, f: FieldDecl, choice: Choice | None, *, part: int | None = None
) -> Any:
    name = widget_name(f, choice, part=part)
    try:
        return widgets[name]
    except KeyError:
        raise InvalidRecord(f"{form.id}: the PDF has no field {name}", form=form.id, key=f.key) from None


def _da_size(da: str) -> float:
    match = re.search(r"([\d.]+)\s+Tf", da)
    size = float(match.group(1)) if match else 0.0
    return size if size > 0 else 10.0


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for ch in paragraph:
            if line and stringWidth(line + ch, font, size) > width:
                lines.append(line)
                line = ""
            line += ch
        lines.append(line)
    return lines


def _draw(canvas: Any, a: _TextAppearance, font: str) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    pad = 2.0
    avail = max(1.0, a.width - 2 * pad)
    size = a.size
    if a.cover:
        canvas.setFillColorRGB(1, 1, 1)
        canvas.rect(0, 0, a.width, a.height, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    if a.multiline:
        while True:
            lines = _wrap(a.text, font, size, avail)
            if len(lines) * size * 1.2 <= a.height - pad or size <= 5:
                break
            size -= 0.5
        canvas.setFont(font, size)
        y = a.height - pad - size * 0.88
        for line in lines:
            canvas.drawString(pad, y, line)
            y -= size * 1.2
        return
    text = " ".join(a.text.splitlines())
    size = min(size, max(5.0, a.height - 2))
    while stringWidth(text, font, size) > avail and size > 5:
        size -= 0.5
    canvas.setFont(font, size)
    y = (a.height - size) / 2 + size * 0.12
    if a.align == 2:
        canvas.drawRightString(a.width - pad, y, text)
    elif a.align == 1:
        canvas.drawCentredString(a.width / 2, y, text)
    else:
        canvas.drawString(pad, y, text)


def _add_text_appearances(writer: Any, appearances: list[_TextAppearance]) -> None:
    """Draw every filled text field with reportlab (one page each), then make each page the
    normal appearance (a form XObject) of its widget; the embedded font subset is shared."""
    if not appearances:
        return
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, StreamObject
    from reportlab.pdfgen.canvas import Canvas

    font = reportlab_font()
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(appearances[0].width, appearances[0].height))
    for a in appearances:
        canvas.setPageSize((a.width, a.height))
        _draw(canvas, a, font)
        canvas.showPage()
    canvas.save()
    drawn = PdfReader(io.BytesIO(buf.getvalue()))
    for a, page in zip(appearances, drawn.pages):
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
        stream = StreamObject()
        stream[NameObject("/Type")] = NameObject("/XObject")
        stream[NameObject("/Subtype")] = NameObject("/Form")
        stream[NameObject("/BBox")] = ArrayObject(
            [FloatObject(0), FloatObject(0), FloatObject(a.width), FloatObject(a.height)]
        )
        stream[NameObject("/Resources")] = page["/Resources"].clone(writer)
        stream.set_data(b"/Tx BMC\n" + data + b"\nEMC\n")
        ref = writer._add_object(stream.flate_encode())
        a.annot[NameObject("/AP")] = DictionaryObject({NameObject("/N"): ref})
