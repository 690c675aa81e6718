"""Blank official forms, generated from their declarations: DOCX and fillable PDF.

The DOCX is laid out like the printed form: 様式第N号 at the top left, the title centred and
bold, then the sections in order. ``lines`` sections are paragraphs ``label：`` with a ruled
line to write on (a date at the top prints ``令和　年　月　日``); ``text`` sections are
paragraphs; a ``table`` section is one bordered table with a row per declared row: the label
cell (number, label, note in small print), then the field cells:

- a plain field: one wide empty value cell;
- fields with sub-labels: one table line per field (sub-label cell + value cell), the row's
  label cell merged vertically across them;
- ``prefix`` / ``suffix`` (市外（ … ）, 円（税抜）): cells holding that text beside the value cell;
- a ``guide`` (（　頃～　頃）, 梱包重量　kg　サイズ): one value cell a blank, the guide's words in
  cells between them;
- choices: ``☐ 市内　☐ 市外`` in one cell (``box: after`` gives ``卵 ☐``); a ``grid_columns``
  field is a grid of cells under the row's first line, one choice per cell.

The value cells are empty: a supplier types into them in Word or LibreOffice, and
``generate.fill.fill_docx`` writes into exactly those cells.

The fillable PDF is the DOCX converted by LibreOffice, with AcroForm widgets put where the
value cells and the ☐ glyphs landed on the page (found with pdfplumber from the table rules,
the ruled lines of the ``lines`` sections and the ☐ characters): one text widget a value cell,
so a guided field has one a blank and none over the guide's printed words. Naming: see
``widget_name``.
"""

from __future__ import annotations

import io
import math
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any, Literal

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, Twips
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from forms.errors import MadoguchiError
from forms.schema import Choice, FieldDecl, FormDecl, RowDecl, SectionDecl, choice_token, widget_name
from generate.fonts import DOCX_FONT
from generate.wareki import blank_wareki

# --- page geometry (twips: 1/20 pt) ---------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = 11906, 16838  # A4
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 1134, 1021, 1021  # 20 mm, 18 mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
#: Width of the row-label column of a table.
LABEL_WIDTH = 2358
#: The value area right of the label column is divided into UNITS columns of UNIT twips.
UNIT, UNITS = 130, 56
assert LABEL_WIDTH + UNIT * UNITS == CONTENT_WIDTH
CELL_PAD_X, CELL_PAD_Y = 85, 28

BODY_PT, SMALL_PT, GRID_PT, TITLE_PT = 10.5, 8.0, 9.0, 14.0
#: Width of one full-width character at BODY_PT, in twips.
EM = int(BODY_PT * 20)

#: Indent of a multi-row ``lines`` section (the applicant's block stands on the right).
BLOCK_INDENT = 3402  # 60 mm
#: Indent of a right-aligned date line, so that its rule covers the right part only.
DATE_INDENT = CONTENT_WIDTH - 3402

LINE_HEIGHT_VALUE = 454  # 8 mm: a one-line value
LINE_HEIGHT_MULTILINE = 1247  # 22 mm: a multi-line value
LINE_HEIGHT_OTHER = 397  # 7 mm: choices, grid cells, printed text

BOX = "☐"  # U+2610 BALLOT BOX
TICKED = "☑"  # U+2611 BALLOT BOX WITH CHECK
#: What a date line prints when its label is not itself a date template.
DATE_TEMPLATE = blank_wareki()
COLON = "："

CellKind = Literal["label", "value", "sublabel", "prefix", "suffix", "guide", "choices", "grid", "text"]
#: Cells printed on the field's own line beside its value (their borders between them removed).
INLINE_KINDS = ("value", "prefix", "suffix", "guide", "choices", "text")


class LayoutError(MadoguchiError):
    """The converted PDF does not have the geometry the blank DOCX was built with."""

    code = "layout_error"


# --- naming of PDF widgets -----------------------------------------------------------------



def widget_names(form: FormDecl) -> dict[str, tuple[FieldDecl, Choice | None]]:
    """Every widget name of the form's fillable PDF, with its field and choice (reader side)."""
    names: dict[str, tuple[FieldDecl, Choice | None]] = {}
    for f in form.fields():
        if f.choices:
            for c in f.choices:
                names[widget_name(f, c)] = (f, c)
        elif f.guide:
            for part in range(f.blanks()):
                names[widget_name(f, part=part)] = (f, None)
        else:
            names[widget_name(f)] = (f, None)
    return names


def is_checkbox_field(field: FieldDecl) -> bool:
    return bool(field.choices) or field.type == "bool"


# --- the layout model ----------------------------------------------------------------------


@dataclass
class CellSpec:
    kind: CellKind
    field: FieldDecl | None = None
    #: Indexes into ``field.choices`` shown in this cell (choices and grid cells).
    choices: tuple[int, ...] = ()
    #: Which blank of the field's guide a value cell is (0 without a guide).
    part: int = 0
    text: str = ""
    #: Width in units when fixed; None for a cell that takes what is left (value, text).
    units: int | None = None
    #: Horizontal position in twips from the table's left edge (set when the line is sized).
    x0: int = 0
    x1: int = 0
    #: The DOCX cell, and the runs holding the ☐ of each choice (in ``choices`` order).
    cell: _Cell | None = None
    box_runs: list[Run] = dc_field(default_factory=list)

    @property
    def flexible(self) -> bool:
        return self.units is None


@dataclass
class LineSpec:
    """One table row (w:tr): a declared row spans one or more of them."""

    row: RowDecl
    first: bool
    cells: list[CellSpec]
    height: int = LINE_HEIGHT_OTHER
    #: The row's label cell spans the whole width (a row with nothing to fill in).
    full_label: bool = False
    #: The line has no label cell: its cells span the whole width (a choice grid).
    full_width: bool = False
    #: vMerge of the label cell when the row's label spans several lines.
    label_merge: str | None = None


@dataclass
class TableSpec:
    lines: list[LineSpec]


@dataclass
class LinesPara:
    """One paragraph of a ``lines`` section: ``label：`` and the ruled room after it."""

    row: RowDecl
    field: FieldDecl | None
    #: The paragraph prints a date template (令和　年　月　日) that the value replaces.
    template: bool
    align: str
    paragraph: Paragraph | None = None
    box_runs: list[Run] = dc_field(default_factory=list)


@dataclass
class Layout:
    form: FormDecl
    document: DocxDocument
    #: Tables and ruled lines in document order: the geometry the PDF widgets are placed from.
    blocks: list[TableSpec | LinesPara]

    def cells(self) -> Iterable[CellSpec]:
        for block in self.blocks:
            if isinstance(block, TableSpec):
                for line in block.lines:
                    yield from line.cells


def _em_width(text: str) -> float:
    """Width of ``text`` in full-width characters (half-width characters count one half)."""
    width = 0.0
    for ch in text:
        width += 1.0 if unicodedata.east_asian_width(ch) in ("F", "W", "A") else 0.5
    return width


def _natural_twips(text: str, *, size: float = BODY_PT) -> int:
    """Room ``text`` needs in a cell on one line (with the cell's padding and some slack)."""
    return math.ceil(_em_width(text) * size * 20 + 2 * CELL_PAD_X + size * 10)


def _natural_units(text: str, *, limit: int = UNITS) -> int:
    return max(2, min(limit, math.ceil(_natural_twips(text) / UNIT)))


def choice_text(field: FieldDecl, choice: Choice) -> tuple[str, str]:
    """(before, after) the box of one choice: ``("", " 市内")`` or ``("卵 ", "")``."""
    if field.box == "after":
        return f"{choice.label} ", ""
    return "", f" {choice.label}"


def _choices_text(field: FieldDecl) -> str:
    if not field.choices:
        return f"{BOX} {field.label or ''}".rstrip()
    parts = []
    for c in field.choices:
        before, after = choice_text(field, c)
        parts.append(f"{before}{BOX}{after}")
    return "　".join(parts)


def _inline_cells(fields: Sequence[FieldDecl]) -> list[CellSpec]:
    cells: list[CellSpec] = []
    for f in fields:
        if is_checkbox_field(f):
            cells.append(
                CellSpec(
                    "choices",
                    f,
                    choices=tuple(range(len(f.choices))),
                    units=_natural_units(_choices_text(f), limit=UNITS - 8),
                )
            )
            continue
        if f.prefix:
            cells.append(CellSpec("prefix", f, text=f.prefix, units=_natural_units(f.prefix, limit=20)))
        words = f.guide_words()
        for part in range(f.blanks()):
            word = words[part].strip()
            if word:  # the guide's words before this blank (梱包重量, 頃～)
                cells.append(CellSpec("guide", f, text=word, units=_natural_units(word, limit=20)))
            cells.append(CellSpec("value", f, part=part))
        if words[-1].strip():
            cells.append(CellSpec("guide", f, text=words[-1].strip(), units=_natural_units(words[-1].strip(), limit=20)))
        if f.suffix:
            cells.append(CellSpec("suffix", f, text=f.suffix, units=_natural_units(f.suffix, limit=20)))
    return cells


def _size_line(cells: list[CellSpec], start: int, total: int) -> None:
    """Give every cell its x0/x1 (twips from the table's left) within ``total`` units."""
    fixed = sum(c.units or 0 for c in cells)
    flex = [c for c in cells if c.flexible]
    if flex:
        minimum = 6 * len(flex)
        if fixed > total - minimum:  # squeeze the widest fixed cells (their text wraps)
            _squeeze([c for c in cells if not c.flexible], fixed - (total - minimum))
            fixed = sum(c.units or 0 for c in cells)
        share, extra = divmod(total - fixed, len(flex))
        for i, c in enumerate(flex):
            c.units = share + (1 if i < extra else 0)
    else:
        if fixed > total:
            _squeeze(cells, fixed - total)
        elif fixed < total:
            cells[-1].units = (cells[-1].units or 0) + total - fixed
    x = LABEL_WIDTH + start * UNIT
    for c in cells:
        c.x0 = x
        x += (c.units or 0) * UNIT
        c.x1 = x


def _squeeze(cells: list[CellSpec], excess: int) -> None:
    while excess > 0:
        widest = max(cells, key=lambda c: c.units or 0)
        if (widest.units or 0) <= 3:
            break
        widest.units = (widest.units or 0) - 1
        excess -= 1


def _row_lines(row: RowDecl) -> list[LineSpec]:
    """The table lines of one declared row (cells sized, DOCX objects not yet made)."""
    fields = list(row.fields)
    sublabels = [f.label for f in fields if f.label and not f.grid_columns]
    sub_units = 0
    if sublabels:
        sub_units = max(8, min(24, max(_natural_units(s) for s in sublabels)))

    groups: list[tuple[str, list[FieldDecl]]] = []  # ("inline" | "sub" | "grid", fields)
    pending: list[FieldDecl] = []

    def flush() -> None:
        if pending:
            groups.append(("inline", list(pending)))
            pending.clear()

    for f in fields:
        if f.grid_columns:
            flush()
            groups.append(("grid", [f]))
        elif f.label:
            flush()
            groups.append(("sub", [f]))
        elif f.below:
            flush()
            groups.append(("inline", [f]))
        else:
            pending.append(f)
    flush()

    lines: list[LineSpec] = []
    grid_lines: list[LineSpec] = []
    for kind, group in groups:
        if kind == "grid":
            grid_lines.extend(_grid_lines(row, group[0]))
            continue
        if kind == "sub" and grid_lines:
            # a field declared after the grid is printed under it, across the whole width
            # (様式第1号 15: その他特記事項： under the allergen grid, as seed 004 prints it)
            f = group[0]
            label = _label_with_colon(f.label or "")
            units = max(8, min(24, _natural_units(label)))
            label_cell = CellSpec("sublabel", f, text=label, units=units, x0=0, x1=units * UNIT)
            cells = _inline_cells(group)
            x = units * UNIT
            for c in cells:
                c.x0, c.x1 = x, CONTENT_WIDTH if c.flexible else x + (c.units or 0) * UNIT
                x = c.x1
            grid_lines.append(LineSpec(row, False, [label_cell, *cells], _line_height(cells), full_width=True))
            continue
        if kind == "sub":
            f = group[0]
            label_cell = CellSpec("sublabel", f, text=f.label or "", units=sub_units)
            label_cell.x0, label_cell.x1 = LABEL_WIDTH, LABEL_WIDTH + sub_units * UNIT
            cells = _inline_cells(group)
            _size_line(cells, sub_units, UNITS - sub_units)
            lines.append(LineSpec(row, False, [label_cell, *cells], _line_height(cells)))
            continue
        cells = _inline_cells(group)
        lines.append(LineSpec(row, False, cells))

    if row.text:
        text_cell = CellSpec("text", None, text=row.text)
        first = lines[0] if lines else None
        if (
            first is not None
            and not any(c.kind in ("value", "sublabel") for c in first.cells)
            and UNITS - sum(c.units or 0 for c in first.cells) >= 20
        ):
            first.cells.append(text_cell)
        else:
            lines.append(LineSpec(row, False, [text_cell]))

    for line in lines:
        if line.cells and line.cells[0].kind != "sublabel":
            _size_line(line.cells, 0, UNITS)
            line.height = _line_height(line.cells)
    if not lines:  # nothing beside the label: it spans the whole width
        lines.append(LineSpec(row, True, [], LINE_HEIGHT_OTHER, full_label=True))
    lines[0].first = True
    labelled = len(lines)
    for n, line in enumerate(lines):
        line.label_merge = None if labelled == 1 else ("restart" if n == 0 else "continue")
    lines.extend(grid_lines)
    return lines


def _grid_lines(row: RowDecl, f: FieldDecl) -> list[LineSpec]:
    """A choice grid across the whole table width; column widths follow their longest label."""
    cols = max(1, min(f.grid_columns or 1, len(f.choices)))
    natural = [0] * cols
    for index, choice in enumerate(f.choices):
        before, after = choice_text(f, choice)
        col = index % cols
        natural[col] = max(natural[col], _natural_twips(before + BOX + after, size=GRID_PT))
    total = sum(natural)
    if total > CONTENT_WIDTH:
        widths = [n * CONTENT_WIDTH // total for n in natural]
    else:
        extra = (CONTENT_WIDTH - total) // cols
        widths = [n + extra for n in natural]
    widths[-1] += CONTENT_WIDTH - sum(widths)
    lines = []
    for start in range(0, len(f.choices), cols):
        cells = []
        x = 0
        for j in range(cols):
            index = start + j
            chosen = (index,) if index < len(f.choices) else ()
            cells.append(CellSpec("grid", f, choices=chosen, x0=x, x1=x + widths[j]))
            x += widths[j]
        lines.append(LineSpec(row, False, cells, LINE_HEIGHT_OTHER, full_width=True))
    return lines


def _line_height(cells: Sequence[CellSpec]) -> int:
    values = [c for c in cells if c.kind == "value"]
    if any(c.field is not None and c.field.multiline for c in values):
        return LINE_HEIGHT_MULTILINE
    if values:
        return LINE_HEIGHT_VALUE
    return LINE_HEIGHT_OTHER


def _is_date_template(text: str) -> bool:
    return "年" in text and "月" in text and "日" in text and not re.search(r"\d", text)


def _lines_paras(section: SectionDecl) -> list[LinesPara]:
    paras: list[LinesPara] = []
    for row in section.rows:
        fields = list(row.fields) or [None]
        for i, f in enumerate(fields):
            template = (
                i == 0
                and f is not None
                and f.type == "date"
                and (section.align == "right" or _is_date_template(row.label))
            )
            paras.append(LinesPara(row, f, template, section.align))
    return paras


def _label_with_colon(label: str) -> str:
    label = label.strip()
    if not label or label[-1] in "：:":
        return label
    if len(label) == 1 and unicodedata.category(label)[0] == "S":  # 〒
        return label + " "
    return label + COLON


# --- DOCX building -------------------------------------------------------------------------


def _w(tag: str, **attrs: object) -> OxmlElement:
    el = OxmlElement(f"w:{tag}")
    for name, value in attrs.items():
        el.set(qn(f"w:{name}"), str(value))
    return el


def _set_run_fonts(rPr: OxmlElement, size_pt: float | None = None) -> None:
    for old in rPr.findall(qn("w:rFonts")):
        rPr.remove(old)
    rPr.insert(0, _w("rFonts", ascii=DOCX_FONT, hAnsi=DOCX_FONT, eastAsia=DOCX_FONT, cs=DOCX_FONT))
    if size_pt is not None:
        for tag in ("sz", "szCs"):
            for old in rPr.findall(qn(f"w:{tag}")):
                rPr.remove(old)
            rPr.append(_w(tag, val=int(size_pt * 2)))


def _new_document(form: FormDecl) -> DocxDocument:
    doc = Document()
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault"))
    rpr = rpr_default.find(qn("w:rPr"))
    for child in list(rpr):
        rpr.remove(child)
    rpr.append(_w("rFonts", ascii=DOCX_FONT, hAnsi=DOCX_FONT, eastAsia=DOCX_FONT, cs=DOCX_FONT))
    rpr.append(_w("kern", val=2))
    rpr.append(_w("sz", val=int(BODY_PT * 2)))
    rpr.append(_w("szCs", val=int(BODY_PT * 2)))
    rpr.append(_w("lang", val="en-US", eastAsia="ja-JP", bidi="ar-SA"))
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    for child in list(ppr):
        ppr.remove(child)
    ppr.append(_w("spacing", after=0, line=240, lineRule="auto"))
    normal = doc.styles["Normal"]
    _set_run_fonts(normal.element.get_or_add_rPr(), BODY_PT)
    normal.paragraph_format.space_after = Pt(0)

    section = doc.sections[0]
    section.page_width, section.page_height = Twips(PAGE_WIDTH), Twips(PAGE_HEIGHT)
    section.left_margin = section.right_margin = Twips(MARGIN_X)
    section.top_margin, section.bottom_margin = Twips(MARGIN_TOP), Twips(MARGIN_BOTTOM)
    section.header_distance = section.footer_distance = Twips(567)

    props = doc.core_properties
    props.title = form.title
    props.subject = form.form_number or ""
    props.author = "Madoguchi"
    props.last_modified_by = "Madoguchi"
    props.comments = form.description
    props.keywords = form.id
    return doc


def _run(paragraph: Paragraph, text: str, *, size: float | None = None, bold: bool = False) -> Run:
    run = paragraph.add_run(text)
    if size is not None:
        run.font.size = Pt(size)
    if bold:
        run.font.bold = True
    return run


def _add_box_runs(
    paragraph: Paragraph,
    field: FieldDecl,
    indexes: Sequence[int],
    *,
    size: float | None = None,
    width: int | None = None,
) -> list[Run]:
    """Write the choices with their boxes; returns the runs holding each ☐.

    Given the cell's ``width`` (twips), a choice that would not fit on the current line starts
    a new one, so that no choice is broken in two.
    """
    runs: list[Run] = []
    if not field.choices:
        runs.append(_run(paragraph, BOX, size=size))
        if field.label:
            _run(paragraph, f" {field.label}", size=size)
        return runs
    twips_per_em = (size or BODY_PT) * 20
    room = (width - 2 * CELL_PAD_X - 60) if width else None
    used = 0.0
    for n, index in enumerate(indexes):
        choice = field.choices[index]
        before, after = choice_text(field, choice)
        piece = _em_width(before + BOX + after) * twips_per_em
        if n and room is not None and used + twips_per_em + piece > room:
            _run(paragraph, "", size=size).add_break()
            used = 0.0
        elif n:
            _run(paragraph, "　", size=size)
            used += twips_per_em
        used += piece
        if before:
            _run(paragraph, before, size=size)
        runs.append(_run(paragraph, BOX, size=size))
        if after:
            _run(paragraph, after, size=size)
    return runs


class _Builder:
    def __init__(self, form: FormDecl) -> None:
        self.form = form
        self.doc = _new_document(form)
        self.blocks: list[TableSpec | LinesPara] = []

    def build(self) -> Layout:
        form = self.form
        body = self.doc.paragraphs[0] if self.doc.paragraphs else None
        if body is not None and not body.text:  # the template's empty first paragraph
            body._p.getparent().remove(body._p)
        if form.form_number:
            self._para(form.form_number)
        title = self._para("", align=WD_ALIGN_PARAGRAPH.CENTER, before=6, after=12)
        _run(title, form.title, size=TITLE_PT, bold=True)
        sections = form.sections
        for i, section in enumerate(sections):
            following = sections[i + 1] if i + 1 < len(sections) else None
            if section.layout == "text":
                self._text_section(section, following)
            elif section.layout == "lines":
                self._lines_section(section)
            else:
                self._table_section(section)
        return Layout(form, self.doc, self.blocks)

    def _para(
        self,
        text: str,
        *,
        align: WD_ALIGN_PARAGRAPH | None = None,
        before: float = 0,
        after: float = 0,
        indent: int = 0,
        first_line: int = 0,
    ) -> Paragraph:
        p = self.doc.add_paragraph()
        if text:
            _run(p, text)
        fmt = p.paragraph_format
        if align is not None:
            fmt.alignment = align
        fmt.space_before, fmt.space_after = Pt(before), Pt(after)
        if indent:
            fmt.left_indent = Twips(indent)
        if first_line:
            fmt.first_line_indent = Twips(first_line)
        return p

    def _text_section(self, section: SectionDecl, following: SectionDecl | None) -> None:
        align = _ALIGN[section.align]
        for n, text in enumerate(section.paragraphs):
            last = n == len(section.paragraphs) - 1
            if text.strip() == "記":  # the 記 of a Japanese letter stands centred
                self._para(text, align=WD_ALIGN_PARAGRAPH.CENTER, before=6, after=6)
            elif last and following is not None and _heads_block(text, following):
                self._para(text, indent=BLOCK_INDENT, before=6)
            elif _em_width(text) > 30 and section.align == "left":
                self._para(text, before=3, first_line=EM)
            else:
                self._para(text, align=align, before=3)

    def _lines_section(self, section: SectionDecl) -> None:
        indent = BLOCK_INDENT if _is_block(section) else 0
        for n, para in enumerate(_lines_paras(section)):
            if para.template:
                label = para.row.label if _is_date_template(para.row.label) else DATE_TEMPLATE
                p = self._para(
                    label, align=_ALIGN[section.align], before=6, indent=DATE_INDENT
                )
            else:
                text = para.row.label if para.field is None or para.field is para.row.fields[0] else (
                    para.field.label or ""
                )
                p = self._para(_label_with_colon(text), align=_ALIGN[section.align], before=8, indent=indent)
                # neighbours differ by 1 twip of right indent, so that each has its own rule
                # (Word and LibreOffice join paragraphs with equal borders and indents)
                p.paragraph_format.right_indent = Twips(n % 2)
                if para.field is not None and is_checkbox_field(para.field):
                    para.box_runs = _add_box_runs(p, para.field, range(len(para.field.choices)))
            _rule_below(p)
            para.paragraph = p
            self.blocks.append(para)
        # ends the group of ruled paragraphs, and keeps the last rule off a following table
        spacer = self._para("", after=4)
        spacer.paragraph_format.line_spacing = Pt(2)

    def _table_section(self, section: SectionDecl) -> None:
        lines = [line for row in section.rows for line in _row_lines(row)]
        if not lines:
            return
        spec = TableSpec(lines)
        table = self.doc.add_table(rows=0, cols=1)
        tbl = table._tbl
        bounds = sorted(
            {0, CONTENT_WIDTH}
            | {x for line in lines for c in line.cells for x in (c.x0, c.x1)}
            | {LABEL_WIDTH for line in lines if not (line.full_label or line.full_width)}
        )
        bounds = [b for b in bounds if 0 <= b <= CONTENT_WIDTH]
        _table_properties(tbl)
        grid = tbl.tblGrid
        for old in list(grid):
            grid.remove(old)
        for a, b in zip(bounds, bounds[1:]):
            grid.append(_w("gridCol", w=b - a))

        def span(x0: int, x1: int) -> int:
            return bounds.index(x1) - bounds.index(x0)

        for n, line in enumerate(lines):
            keep_with_next = n + 1 < len(lines) and not lines[n + 1].first
            tr = _w("tr")
            trPr = _w("trPr")
            trPr.append(_w("cantSplit"))
            trPr.append(_w("trHeight", val=line.height, hRule="atLeast"))
            tr.append(trPr)
            tbl.append(tr)
            if not line.full_width:  # the row label (merged over the lines of one row)
                label_x1 = CONTENT_WIDTH if line.full_label else LABEL_WIDTH
                label_tc = _tc(label_x1, span(0, label_x1), vmerge=line.label_merge)
                tr.append(label_tc)
                if line.first:
                    cell = _Cell(label_tc, table)
                    p = cell.paragraphs[0]
                    number = f"{line.row.number} " if line.row.number is not None else ""
                    _run(p, f"{number}{line.row.label}")
                    if line.row.note:
                        note = cell.add_paragraph()
                        _run(note, line.row.note, size=SMALL_PT)
            inline = [c for c in line.cells if c.kind in INLINE_KINDS]
            for c in line.cells:
                borders = {}
                if c.kind in INLINE_KINDS and len(inline) > 1:
                    if c is not inline[0]:
                        borders["left"] = "nil"
                    if c is not inline[-1]:
                        borders["right"] = "nil"
                tc = _tc(c.x1 - c.x0, span(c.x0, c.x1), borders=borders)
                tr.append(tc)
                c.cell = _Cell(tc, table)
                self._fill_cell(c)
            if keep_with_next:  # the lines of one declared row stay on one page
                for tc in tr.findall(qn("w:tc")):
                    for p in _Cell(tc, table).paragraphs:
                        p.paragraph_format.keep_with_next = True
        self.blocks.append(spec)
        # a table must not touch the next one or the end of the document
        self._para("")

    def _fill_cell(self, c: CellSpec) -> None:
        assert c.cell is not None
        p = c.cell.paragraphs[0]
        if c.kind in ("sublabel", "suffix", "guide"):
            _run(p, c.text)
        elif c.kind == "prefix":
            p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _run(p, c.text)
        elif c.kind == "text":
            _run(p, c.text, size=SMALL_PT)
        elif c.kind in ("choices", "grid") and c.field is not None:
            size = GRID_PT if c.kind == "grid" else None
            c.box_runs = _add_box_runs(p, c.field, c.choices, size=size, width=c.x1 - c.x0)
        elif c.kind == "value" and c.field is not None and (c.field.type in _NUMERIC or _before_word(c)):
            p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _before_word(c: CellSpec) -> bool:
    """A blank of a guide followed by its word (4月上旬|頃～, 1.2|kg): what is written there
    stands against the word, right-aligned."""
    return c.field is not None and c.field.guide is not None and bool(c.field.guide_words()[c.part + 1].strip())


_ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
}
_NUMERIC = ("yen", "int", "percent")


def _is_block(section: SectionDecl) -> bool:
    """A left-aligned lines section of several rows: the applicant's block, set on the right."""
    return section.align == "left" and len(section.rows) >= 2


def _heads_block(text: str, following: SectionDecl) -> bool:
    """A short bracketed heading right before an applicant's block: （申込者）."""
    stripped = text.strip()
    return (
        following.layout == "lines"
        and _is_block(following)
        and len(stripped) <= 20
        and stripped[:1] in "（("
        and stripped[-1:] in "）)"
    )


def _rule_below(paragraph: Paragraph) -> None:
    """A ruled line under the paragraph to write on (its bottom border)."""
    pPr = paragraph._p.get_or_add_pPr()
    borders = _w("pBdr")
    borders.append(_w("bottom", val="single", sz=4, space=1, color="000000"))
    # pBdr comes before spacing/ind/jc in CT_PPr's sequence
    anchor = None
    for tag in ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
                "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
                "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
                "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc"):
        anchor = pPr.find(qn(tag))
        if anchor is not None:
            break
    if anchor is not None:
        anchor.addprevious(borders)
    else:
        pPr.append(borders)


def _table_properties(tbl: OxmlElement) -> None:
    tblPr = tbl.tblPr
    for child in list(tblPr):
        tblPr.remove(child)
    tblPr.append(_w("tblW", w=CONTENT_WIDTH, type="dxa"))
    tblPr.append(_w("tblInd", w=0, type="dxa"))
    borders = _w("tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(_w(side, val="single", sz=4, space=0, color="000000"))
    tblPr.append(borders)
    tblPr.append(_w("tblLayout", type="fixed"))
    margins = _w("tblCellMar")
    for side, width in (("top", CELL_PAD_Y), ("left", CELL_PAD_X), ("bottom", CELL_PAD_Y), ("right", CELL_PAD_X)):
        margins.append(_w(side, w=width, type="dxa"))
    tblPr.append(margins)
    tblPr.append(_w("tblLook", val="0000", firstRow=0, lastRow=0, firstColumn=0, lastColumn=0,
                    noHBand=1, noVBand=1))


def _tc(width: int, span: int, *, vmerge: str | None = None, borders: dict[str, str] | None = None) -> OxmlElement:
    tc = _w("tc")
    tcPr = _w("tcPr")
    tcPr.append(_w("tcW", w=width, type="dxa"))
    if span > 1:
        tcPr.append(_w("gridSpan", val=span))
    if vmerge == "restart":
        tcPr.append(_w("vMerge", val="restart"))
    elif vmerge == "continue":
        tcPr.append(_w("vMerge"))
    if borders:
        tcb = _w("tcBorders")
        for side in ("top", "left", "bottom", "right"):
            if side in borders:
                tcb.append(_w(side, val=borders[side]))
        tcPr.append(tcb)
    tcPr.append(_w("vAlign", val="top"))
    tc.append(tcPr)
    tc.append(_w("p"))
    return tc


def build_layout(form: FormDecl) -> Layout:
    """Build the blank DOCX of ``form`` and the map of where each field and choice went."""
    return _Builder(form).build()


def save_docx(document: DocxDocument) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def blank_docx(form: FormDecl) -> bytes:
    """The blank form as DOCX, for Word and LibreOffice."""
    return save_docx(build_layout(form).document)


# --- the fillable PDF ----------------------------------------------------------------------

#: Name of the Japanese font in the AcroForm's /DR, used by viewers to draw what is typed.
#: A resource name only (the font is the embedded IPAexGothic of ``_cjk_font``): PDFium
#: (Chrome's and Edge's viewer) uses a form's embedded default font for every character it
#: has only when the font's alias is one of the names it treats as a symbol set (Wingdings,
#: Webdings); under any other alias it draws only ASCII with it and looks for a system font of
#: the character's charset for the rest (kanji as Chinese, often none: 令和8年4月1日 showed as
#: 「8 4 1」). Poppler, pdf.js, Acrobat and pypdf find the font by the resource, whatever its name.
DR_FONT = "Wingdings"
TEXT_SIZE = 10.5
MULTILINE_SIZE = 9.0
FLAG_MULTILINE = 1 << 12
PRINT_FLAG = 4
CHECK_ON = "/Yes"
CHECK_OFF = "/Off"


@dataclass
class Widget:
    """One AcroForm widget to add: where it goes and what it stands for."""

    field: FieldDecl
    choice: Choice | None
    kind: Literal["text", "checkbox"]
    page: int
    #: PDF user space: (x0, y0, x1, y1), origin at the bottom left of the page.
    rect: tuple[float, float, float, float]
    #: Quadding: 0 left, 1 centred, 2 right.
    align: int = 0
    multiline: bool = False
    #: The widget lies over printed text (a date template) that a value replaces.
    cover: bool = False
    tooltip: str = ""
    #: The blank of a guided field it is (None for other fields).
    part: int | None = None
    #: The tooltip of the field the widget is one of several of (a guided field's blanks).
    group_tooltip: str = ""

    @property
    def name(self) -> str:
        return widget_name(self.field, self.choice, part=self.part)


@dataclass
class _Row:
    page: int
    top: float
    bottom: float


def _dedupe(values: Iterable[float], tolerance: float = 1.0) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tolerance:
            out.append(v)
    return out


def locate_widgets(layout: Layout, pdf_bytes: bytes) -> list[Widget]:
    """Find where the blank form's value cells, ruled lines and boxes landed in its PDF."""
    import pdfplumber

    tables = [b for b in layout.blocks if isinstance(b, TableSpec)]
    paras = [b for b in layout.blocks if isinstance(b, LinesPara)]
    fragments: list[tuple[int, float, float]] = []  # page, top, bottom
    row_bounds: dict[tuple[int, float, float], list[float]] = {}
    underlines: list[tuple[int, float, float, float]] = []  # page, y, x0, x1
    widgets: list[Widget] = []
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        heights = [float(page.height) for page in pdf.pages]
        chars_by_page = []
        table_left = MARGIN_X / 20 - CELL_PAD_X / 20
        for index, page in enumerate(pdf.pages):
            chars_by_page.append(list(page.chars))
            edges = page.edges
            vertical = [e for e in edges if e["orientation"] == "v"]
            horizontal = [e for e in edges if e["orientation"] == "h"]
            if vertical:
                left = min(float(e["x0"]) for e in vertical)
                if abs(left - table_left) > 6:
                    raise LayoutError(f"table edge at x={left:.1f}, expected {table_left:.1f}")
            page_frags: list[list[float]] = []
            for e in sorted(vertical, key=lambda e: float(e["top"])):
                if abs(float(e["x0"]) - table_left) > 2:
                    continue
                top, bottom = float(e["top"]), float(e["bottom"])
                if page_frags and top <= page_frags[-1][1] + 2:
                    page_frags[-1][1] = max(page_frags[-1][1], bottom)
                else:
                    page_frags.append([top, bottom])
            table_right = table_left + CONTENT_WIDTH / 20
            for top, bottom in page_frags:
                ys = _dedupe(
                    float(e["top"])
                    for e in horizontal
                    if top - 1.5 <= float(e["top"]) <= bottom + 1.5
                    and float(e["x1"]) > table_left + 2
                    and float(e["x0"]) < table_right - 2
                )
                fragments.append((index, top, bottom))
                row_bounds[(index, top, bottom)] = ys
            for y in _dedupe(
                float(e["top"])
                for e in horizontal
                if float(e["x1"]) - float(e["x0"]) > 20
                and not any(top - 2 <= float(e["top"]) <= bottom + 2 for top, bottom in page_frags)
            ):
                spans = [e for e in horizontal if abs(float(e["top"]) - y) <= 1.0]
                x0 = min(float(e["x0"]) for e in spans)
                x1 = max(float(e["x1"]) for e in spans)
                underlines.append((index, y, x0, x1))

        # the table lines, fragment by fragment, in document order
        rows: list[_Row] = []
        for frag in fragments:
            ys = row_bounds[frag]
            rows.extend(_Row(frag[0], a, b) for a, b in zip(ys, ys[1:]))
        expected = sum(len(t.lines) for t in tables)
        if len(rows) != expected:
            raise LayoutError(f"{layout.form.id}: found {len(rows)} table rows in the PDF, expected {expected}")
        if len(underlines) != len(paras):
            raise LayoutError(
                f"{layout.form.id}: found {len(underlines)} ruled lines in the PDF, expected {len(paras)}"
            )
        row_iter = iter(rows)
        for table in tables:
            for line in table.lines:
                row = next(row_iter)
                widgets.extend(
                    _line_widgets(line, row, table_left, heights[row.page], chars_by_page[row.page])
                )
        for para, (page_index, y, x0, x1) in zip(paras, underlines):
            widgets.extend(_para_widgets(para, page_index, y, x0, x1, heights[page_index], chars_by_page[page_index]))
    _check_complete(layout.form, widgets)
    return widgets


def _pdf_rect(x0: float, top: float, x1: float, bottom: float, height: float) -> tuple[float, float, float, float]:
    return (round(x0, 2), round(height - bottom, 2), round(x1, 2), round(height - top, 2))


def _boxes_in(chars: Sequence[dict], x0: float, top: float, x1: float, bottom: float) -> list[dict]:
    found = [
        c
        for c in chars
        if c["text"] == BOX
        and float(c["x0"]) >= x0 - 1
        and float(c["x1"]) <= x1 + 1
        and float(c["top"]) >= top - 1
        and float(c["bottom"]) <= bottom + 1
    ]
    return sorted(found, key=lambda c: (round(float(c["top"])), float(c["x0"])))


def _box_rect(char: dict, height: float) -> tuple[float, float, float, float]:
    x0, x1 = float(char["x0"]), float(char["x1"])
    top, bottom = float(char["top"]), float(char["bottom"])
    side = min(x1 - x0, bottom - top)
    cx, cy = (x0 + x1) / 2, (top + bottom) / 2
    return _pdf_rect(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2, height)


def _tooltip(row: RowDecl, f: FieldDecl, choice: Choice | None = None, part: int | None = None) -> str:
    parts = [f"{row.number} {row.label}" if row.number is not None else row.label]
    if f.label:
        parts.append(f.label)
    elif f.suffix and not f.prefix:
        parts.append(f.suffix)
    if choice is not None:
        parts.append(choice.label)
    if part is not None:  # the blank among the guide's words: ＿頃～, 梱包重量＿kg
        words = f.guide_words()
        parts.append(f"{words[part].strip()}＿{words[part + 1].strip()}")
    text = " ".join(parts)
    if f.hint and choice is None:
        text += f"（{f.hint}）"
    return text


def _checkbox_widgets(
    row: RowDecl, f: FieldDecl, indexes: Sequence[int], boxes: Sequence[dict], page: int, height: float
) -> list[Widget]:
    wanted = len(indexes) if f.choices else 1
    if len(boxes) != wanted:
        raise LayoutError(f"field {f.key}: found {len(boxes)} boxes in the PDF, expected {wanted}")
    if not f.choices:
        return [Widget(f, None, "checkbox", page, _box_rect(boxes[0], height), tooltip=_tooltip(row, f))]
    return [
        Widget(f, f.choices[i], "checkbox", page, _box_rect(box, height), tooltip=_tooltip(row, f, f.choices[i]))
        for i, box in zip(indexes, boxes)
    ]


def _line_widgets(line: LineSpec, row: _Row, table_left: float, height: float, chars: Sequence[dict]) -> list[Widget]:
    out: list[Widget] = []
    for c in line.cells:
        if c.field is None:
            continue
        x0, x1 = table_left + c.x0 / 20, table_left + c.x1 / 20
        if c.kind == "value":
            f = c.field
            part = c.part if f.guide is not None else None
            top, bottom = row.top + 1.5, row.bottom - 1.5
            if part is not None:  # a blank is the height of the guide's printed line, on it
                top, bottom = _printed_line(line, c, row, table_left, chars, top, bottom)
            out.append(
                Widget(
                    f,
                    None,
                    "text",
                    row.page,
                    _pdf_rect(x0 + 1.5, top, x1 - 1.5, bottom, height),
                    align=2 if f.type in _NUMERIC or _before_word(c) else 0,
                    multiline=f.multiline,
                    tooltip=_tooltip(line.row, f, part=part),
                    part=part,
                    group_tooltip=_tooltip(line.row, f),
                )
            )
        elif c.kind in ("choices", "grid") and (c.choices or not c.field.choices):
            boxes = _boxes_in(chars, x0, row.top, x1, row.bottom)
            out.extend(_checkbox_widgets(line.row, c.field, c.choices, boxes, row.page, height))
    return out


def _printed_line(
    line: LineSpec, blank: CellSpec, row: _Row, table_left: float, chars: Sequence[dict], top: float, bottom: float
) -> tuple[float, float]:
    """Top and bottom of the line the words around a guide's blank are printed on (what is
    typed there then stands on their line, and is read with them), within ``top``–``bottom``."""
    spans = [
        (table_left + c.x0 / 20, table_left + c.x1 / 20)
        for c in line.cells
        if c.field is blank.field and c.kind in ("guide", "prefix", "suffix")
    ]
    printed = [
        ch for ch in chars
        if ch["text"].strip()
        and row.top <= float(ch["top"]) and float(ch["bottom"]) <= row.bottom
        and any(a <= (float(ch["x0"]) + float(ch["x1"])) / 2 <= b for a, b in spans)
    ]
    if not printed:
        return top, bottom
    return (
        max(top, min(float(ch["top"]) for ch in printed) - 2),
        min(bottom, max(float(ch["bottom"]) for ch in printed) + 3),
    )


def guide_span(form: FormDecl, key: str) -> tuple[float, float]:
    """Left and right edges (PDF points) of a guided field's blanks and printed words in its
    fillable PDF: what a value not in the guide's shape is written over (``generate.fill``)."""
    cells = [
        c for c in build_layout(form).cells()
        if c.field is not None and c.field.key == key and c.kind in ("value", "guide")
    ]
    if not cells:
        raise KeyError(key)
    left = MARGIN_X / 20 - CELL_PAD_X / 20
    return left + min(c.x0 for c in cells) / 20, left + max(c.x1 for c in cells) / 20


def _para_widgets(
    para: LinesPara, page: int, y: float, x0: float, x1: float, height: float, chars: Sequence[dict]
) -> list[Widget]:
    f = para.field
    if f is None:
        return []
    above = [
        c
        for c in chars
        if y - 18 <= float(c["bottom"]) <= y + 0.5 and float(c["x0"]) >= x0 - 1 and float(c["x1"]) <= x1 + 1
    ]
    top = min((float(c["top"]) for c in above), default=y - 14) - 2
    # the value's box ends a little below the label's text, so its text sits on the same line
    bottom = min(y - 1, max((float(c["bottom"]) for c in above), default=y) + 3)
    if is_checkbox_field(f):
        boxes = sorted((c for c in above if c["text"] == BOX), key=lambda c: float(c["x0"]))
        return _checkbox_widgets(para.row, f, range(len(f.choices)), boxes, page, height)
    align = {"left": 0, "center": 1, "right": 2}[para.align]
    if para.template:
        return [
            Widget(f, None, "text", page, _pdf_rect(x0 + 1, top, x1 - 1, bottom, height),
                   align=align, cover=True, tooltip=_tooltip(para.row, f))
        ]
    start = max((float(c["x1"]) for c in above if c["text"].strip()), default=x0) + 2
    return [
        Widget(f, None, "text", page, _pdf_rect(start, top, x1 - 1, bottom, height),
               align=align, multiline=f.multiline, tooltip=_tooltip(para.row, f))
    ]


def _check_complete(form: FormDecl, widgets: Sequence[Widget]) -> None:
    names = {w.name for w in widgets}
    missing = [n for n in widget_names(form) if n not in names]
    if missing:
        raise LayoutError(f"{form.id}: no widget placed for {', '.join(missing)}")


def _appearance(writer: object, width: float, height: float, content: bytes, resources: object = None) -> object:
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, StreamObject

    stream = StreamObject()
    stream[NameObject("/Type")] = NameObject("/XObject")
    stream[NameObject("/Subtype")] = NameObject("/Form")
    stream[NameObject("/BBox")] = ArrayObject([FloatObject(0), FloatObject(0), FloatObject(width), FloatObject(height)])
    stream[NameObject("/Resources")] = resources if resources is not None else DictionaryObject()
    stream.set_data(content)
    return writer._add_object(stream)  # type: ignore[attr-defined]


def check_mark(width: float, height: float) -> bytes:
    """Content stream of the ✓ drawn in a ticked checkbox (vector: no font needed)."""
    w, h = width, height
    return (
        f"q 0 0 0 RG {max(0.8, min(w, h) * 0.12):.2f} w 1 J 1 j "
        f"{w * 0.2:.2f} {h * 0.52:.2f} m {w * 0.42:.2f} {h * 0.22:.2f} l "
        f"{w * 0.84:.2f} {h * 0.86:.2f} l S Q"
    ).encode("ascii")


def _cjk_font(writer: Any) -> object:
    """The whole Japanese TrueType font, embedded, for /DR: what a person types in any viewer
    (PDFium, poppler, pdf.js, Acrobat) or another program fills (pypdf) is drawn with glyphs
    the PDF carries. Type0 / CIDFontType2, Identity-H (CID = glyph id), a ToUnicode map of
    every character so that viewers can encode typed text and text is read back."""
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        StreamObject,
        TextStringObject,
    )

    from generate.fonts import cid_font_metrics, to_unicode_cmap

    m = cid_font_metrics()
    font_file = StreamObject()
    font_file[NameObject("/Length1")] = NumberObject(len(m.data))
    font_file.set_data(m.data)
    descriptor = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/FontDescriptor"),
            NameObject("/FontName"): NameObject(f"/{m.name}"),
            NameObject("/Flags"): NumberObject(4),
            NameObject("/FontBBox"): ArrayObject([NumberObject(v) for v in m.bbox]),
            NameObject("/ItalicAngle"): NumberObject(0),
            NameObject("/Ascent"): NumberObject(m.ascent),
            NameObject("/Descent"): NumberObject(m.descent),
            NameObject("/CapHeight"): NumberObject(m.cap_height),
            NameObject("/StemV"): NumberObject(m.stem_v),
            NameObject("/FontFile2"): writer._add_object(font_file.flate_encode()),
        }
    )
    widths = ArrayObject()
    gid = 0
    while gid < len(m.widths):  # runs of one width: c_first c_last w
        end = gid
        while end + 1 < len(m.widths) and m.widths[end + 1] == m.widths[gid]:
            end += 1
        if m.widths[gid] != 1000:
            widths.extend([NumberObject(gid), NumberObject(end), NumberObject(m.widths[gid])])
        gid = end + 1
    cid_font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/CIDFontType2"),
            NameObject("/BaseFont"): NameObject(f"/{m.name}"),
            NameObject("/CIDSystemInfo"): DictionaryObject(
                {
                    NameObject("/Registry"): TextStringObject("Adobe"),
                    NameObject("/Ordering"): TextStringObject("Japan1"),
                    NameObject("/Supplement"): NumberObject(6),
                }
            ),
            NameObject("/FontDescriptor"): writer._add_object(descriptor),
            NameObject("/CIDToGIDMap"): NameObject("/Identity"),
            NameObject("/DW"): NumberObject(1000),
            NameObject("/W"): widths,
        }
    )
    to_unicode = StreamObject()
    to_unicode.set_data(to_unicode_cmap(m.unicode_of))
    return DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type0"),
            NameObject("/BaseFont"): NameObject(f"/{m.name}"),
            NameObject("/Encoding"): NameObject("/Identity-H"),
            NameObject("/DescendantFonts"): ArrayObject([writer._add_object(cid_font)]),
            NameObject("/ToUnicode"): writer._add_object(to_unicode.flate_encode()),
        }
    )


def make_fillable(layout: Layout, pdf_bytes: bytes) -> bytes:
    """Add the AcroForm (widgets named by ``widget_name``) to the PDF of ``layout``'s DOCX."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        BooleanObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    widgets = locate_widgets(layout, pdf_bytes)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes)))
    font_ref = writer._add_object(_cjk_font(writer))
    zadb_ref = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/ZapfDingbats"),
            }
        )
    )
    fields = ArrayObject()
    parents: dict[str, tuple[DictionaryObject, object]] = {}

    def _parent(key: str, kind: str, tooltip: str) -> tuple[DictionaryObject, object]:
        """The field named by ``key`` whose kids are a field's widgets (its choices' boxes,
        its guide's blanks), made at its first widget."""
        if key not in parents:
            parent = DictionaryObject(
                {
                    NameObject("/FT"): NameObject(kind),
                    NameObject("/T"): TextStringObject(key),
                    NameObject("/Kids"): ArrayObject(),
                    NameObject("/TU"): TextStringObject(tooltip),
                }
            )
            parent_ref = writer._add_object(parent)
            parents[key] = (parent, parent_ref)
            fields.append(parent_ref)
        return parents[key]

    for w in widgets:
        page = writer.pages[w.page]
        x0, y0, x1, y1 = w.rect
        width, height = x1 - x0, y1 - y0
        annot = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/Rect"): ArrayObject([FloatObject(v) for v in w.rect]),
                NameObject("/F"): NumberObject(PRINT_FLAG),
                NameObject("/P"): page.indirect_reference,
                NameObject("/TU"): TextStringObject(w.tooltip),
            }
        )
        if w.kind == "text":
            size = MULTILINE_SIZE if w.multiline else min(TEXT_SIZE, max(6.0, height - 4))
            annot[NameObject("/FT")] = NameObject("/Tx")
            annot[NameObject("/T")] = TextStringObject(w.name)
            annot[NameObject("/DA")] = TextStringObject(f"/{DR_FONT} {size:g} Tf 0 g")
            annot[NameObject("/Q")] = NumberObject(w.align)
            annot[NameObject("/Ff")] = NumberObject(FLAG_MULTILINE if w.multiline else 0)
            mk = DictionaryObject()
            if w.cover:
                mk[NameObject("/BG")] = ArrayObject([FloatObject(1), FloatObject(1), FloatObject(1)])
            annot[NameObject("/MK")] = mk
            annot[NameObject("/AP")] = DictionaryObject({NameObject("/N"): _appearance(writer, width, height, b"")})
            if w.part is None:
                ref = writer._add_object(annot)
                fields.append(ref)
            else:  # the blanks of a guided field: fields 1, 2 … under one named by the key
                parent, parent_ref = _parent(w.field.key, "/Tx", w.group_tooltip)
                annot[NameObject("/T")] = TextStringObject(str(w.part + 1))
                annot[NameObject("/Parent")] = parent_ref
                ref = writer._add_object(annot)
                parent["/Kids"].append(ref)
        else:
            on = _appearance(writer, width, height, check_mark(width, height))
            off = _appearance(writer, width, height, b"")
            annot[NameObject("/FT")] = NameObject("/Btn")
            annot[NameObject("/DA")] = TextStringObject("/ZaDb 0 Tf 0 g")
            annot[NameObject("/MK")] = DictionaryObject({NameObject("/CA"): TextStringObject("4")})
            annot[NameObject("/AS")] = NameObject(CHECK_OFF)
            annot[NameObject("/V")] = NameObject(CHECK_OFF)
            annot[NameObject("/AP")] = DictionaryObject(
                {NameObject("/N"): DictionaryObject({NameObject(CHECK_ON): on, NameObject(CHECK_OFF): off})}
            )
            if w.choice is None:
                annot[NameObject("/T")] = TextStringObject(w.name)
                ref = writer._add_object(annot)
                fields.append(ref)
            else:
                parent, parent_ref = _parent(w.field.key, "/Btn", w.tooltip.rsplit(" ", 1)[0])
                annot[NameObject("/T")] = TextStringObject(choice_token(w.field, w.choice))
                annot[NameObject("/Parent")] = parent_ref
                ref = writer._add_object(annot)
                parent["/Kids"].append(ref)
        if "/Annots" not in page:
            page[NameObject("/Annots")] = ArrayObject()
        page["/Annots"].append(ref)

    writer._root_object[NameObject("/AcroForm")] = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Fields"): fields,
                NameObject("/DR"): DictionaryObject(
                    {
                        NameObject("/Font"): DictionaryObject(
                            {NameObject(f"/{DR_FONT}"): font_ref, NameObject("/ZaDb"): zadb_ref}
                        )
                    }
                ),
                NameObject("/DA"): TextStringObject(f"/{DR_FONT} 0 Tf 0 g"),
                # every widget has its appearance (empty: a date line shows its printed 令和　年　月　日
                # until a value is typed); viewers make the appearance of what is typed
                NameObject("/NeedAppearances"): BooleanObject(False),
            }
        )
    )
    writer.add_metadata({"/Title": layout.form.title, "/Subject": layout.form.form_number or "",
                         "/Keywords": layout.form.id, "/Creator": "Madoguchi"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


_pdf_cache: dict[FormDecl, bytes] = {}
_pdf_cache_lock = threading.Lock()


def blank_pdfs(forms: Sequence[FormDecl]) -> dict[str, bytes]:
    """Fillable PDFs of several forms, by form id; the ones not made yet in this process are
    converted together in one LibreOffice start (it costs seconds), then kept."""
    from generate.libreoffice import convert_to_pdf

    with _pdf_cache_lock:
        missing = list({form: None for form in forms if form not in _pdf_cache})
    if missing:
        layouts = [build_layout(form) for form in missing]
        with tempfile.TemporaryDirectory(prefix="madoguchi-blank-") as tmp:
            sources = []
            for layout in layouts:
                path = Path(tmp) / f"{layout.form.id}.docx"
                path.write_bytes(save_docx(layout.document))
                sources.append(path)
            converted = convert_to_pdf(sources, Path(tmp) / "pdf")
            made = {layout.form: make_fillable(layout, pdf.read_bytes()) for layout, pdf in zip(layouts, converted)}
        with _pdf_cache_lock:
            _pdf_cache.update(made)
    with _pdf_cache_lock:
        return {form.id: _pdf_cache[form] for form in forms}


def blank_pdf(form: FormDecl) -> bytes:
    """The blank form as a fillable PDF (AcroForm). Made once per process and form."""
    return blank_pdfs([form])[form.id]
