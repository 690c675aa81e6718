"""The published list of value-added certificates (004 4 ※: 証明事項は市ホームページ等で公表).

One row per accepted 様式第2号: 公表年月日, the municipality, the product, the manufacturer that
certified it, the value-added percentage, the place of manufacture and the general retail
price. Written as

- an HTML page (for the city's web site),
- CSV for Excel: UTF-8 with BOM, and Shift_JIS (cp932) for older Excel; characters cp932
  cannot encode are replaced (〓) and reported, after the lossless JIS-mapping fixes
  (〜 → ～, − → －, …) that every Japanese CSV exporter applies,
- PDF (a landscape table through DOCX and LibreOffice; the DOCX is kept too).

The CSV files carry dates as YYYY-MM-DD and numbers without separators (what spreadsheets and
open-data guidelines expect); the HTML page and the PDF print dates in 和暦 and yen with commas.
"""

from __future__ import annotations

import csv
import html
import io
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from forms.errors import InvalidRecord
from forms.programs import ProgramSettings, get_program
from generate.libreoffice import convert_to_pdf
from generate.notices import format_percent, slim_document, value_added_percent
from generate.wareki import format_wareki, to_date

COLUMNS: tuple[str, ...] = (
    "公表年月日",
    "地方団体名",
    "返礼品等の名称",
    "証明を行った製造業者",
    "付加価値割合（％）",
    "製造・加工地",
    "一般販売価格（円）",
)

FORMATS = ("html", "csv", "csv_sjis", "pdf")

#: Characters whose JIS X 0208 code cp932 maps to a different Unicode point: replaced silently,
#: since the printed character is the same.
CP932_EQUIVALENTS = str.maketrans(
    {
        "\u301c": "\uff5e",  # WAVE DASH → FULLWIDTH TILDE
        "\u2016": "\u2225",  # DOUBLE VERTICAL LINE → PARALLEL TO
        "\u2212": "\uff0d",  # MINUS SIGN → FULLWIDTH HYPHEN-MINUS
        "\u00a2": "\uffe0",  # CENT SIGN
        "\u00a3": "\uffe1",  # POUND SIGN
        "\u00ac": "\uffe2",  # NOT SIGN
        "\u2014": "\u2015",  # EM DASH → HORIZONTAL BAR
        "\u00a6": "\uffe4",  # BROKEN BAR
    }
)
GETA = "〓"


@dataclass(frozen=True)
class PublishedRow:
    published_on: date
    municipality: str
    product_name: str
    manufacturer: str
    value_added_percent: Decimal
    manufacturing_place: str
    retail_price: int | None

    def csv_cells(self) -> list[str]:
        return [
            self.published_on.isoformat(),
            self.municipality,
            self.product_name,
            self.manufacturer,
            format_percent(self.value_added_percent),
            self.manufacturing_place,
            "" if self.retail_price is None else str(self.retail_price),
        ]

    def display_cells(self) -> list[str]:
        return [
            format_wareki(self.published_on),
            self.municipality,
            self.product_name,
            self.manufacturer,
            f"{format_percent(self.value_added_percent)}%",
            self.manufacturing_place,
            "" if self.retail_price is None else f"{self.retail_price:,}円",
        ]


@dataclass(frozen=True)
class Replacement:
    """A character the Shift_JIS CSV could not carry."""

    row: int  # 1-based data row (the header is row 0)
    column: str
    char: str
    replaced_with: str

    @property
    def codepoint(self) -> str:
        return f"U+{ord(self.char):04X}"

    def __str__(self) -> str:
        return f"行{self.row}「{self.column}」: {self.char} ({self.codepoint}) → {self.replaced_with}"


@dataclass
class PublishedList(Mapping[str, Path]):
    """The written files by format; behaves as a mapping ``{"html": path, …}``."""

    paths: dict[str, Path]
    rows: list[PublishedRow]
    replacements: list[Replacement] = field(default_factory=list)

    def __getitem__(self, key: str) -> Path:
        return self.paths[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)


# --- rows --------------------------------------------------------------------------------------


def _first(values: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = values.get(key)
        if value is not None and value != "":
            return value
    return None


def _percent(value: Any, where: str) -> Decimal:
    try:
        text = unicodedata.normalize("NFKC", str(value)).strip().rstrip("%").strip()
        return Decimal(text)
    except InvalidOperation:
        raise InvalidRecord(f"{where}: the value-added percentage is not a number: {value!r}") from None


def _amount(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = unicodedata.normalize("NFKC", str(value)).replace(",", "").replace("円", "").strip()
    try:
        return int(Decimal(text))
    except InvalidOperation:
        raise InvalidRecord(f"{where}: not an amount: {value!r}") from None


def row_from_record(
    record: Mapping[str, Any], settings: ProgramSettings, published_on: date, *, where: str = "row"
) -> PublishedRow:
    """A row from a certificate's facts or a 様式第2号 record.

    The percentage is (A − B) / A when A and B are given (``procurement_cost_a``,
    ``outside_cost_b``), else the stated ``value_added_percent`` / ``percentage``.
    """
    product = _first(record, "product_name")
    manufacturer = _first(record, "manufacturer_name", "manufacturer")
    if not product or not manufacturer:
        raise InvalidRecord(f"{where}: a published row needs product_name and manufacturer_name")
    a = _first(record, "procurement_cost_a", "procurement_cost")
    b = _first(record, "outside_cost_b", "outside_cost")
    if a is not None and b is not None:
        percent = value_added_percent(_amount(a, where), _amount(b, where))
    else:
        stated = _first(record, "value_added_percent", "percentage")
        if stated is None:
            raise InvalidRecord(f"{where}: no value-added percentage (A and B, or value_added_percent)")
        percent = _percent(stated, where)
    price = _first(record, "general_retail_price", "retail_price", "retail_price_incl_tax")
    try:
        when = to_date(_first(record, "published_on", "published")) or published_on
    except ValueError:
        raise InvalidRecord(f"{where}: published_on is not a date") from None
    place = _first(record, "manufacturing_place", "manufacturing_location")
    if place == "in_city":
        place = f"{settings.prefecture}{settings.municipality}"
    return PublishedRow(
        published_on=when,
        municipality=str(_first(record, "municipality") or settings.municipality),
        product_name=str(product).strip(),
        manufacturer=str(manufacturer).strip(),
        value_added_percent=percent,
        manufacturing_place=str(place or "").strip(),
        retail_price=None if price is None else _amount(price, where),
    )


def rows_from_records(
    records: Iterable[Mapping[str, Any]], settings: ProgramSettings, published_on: date
) -> list[PublishedRow]:
    return [row_from_record(r, settings, published_on, where=f"row {i + 1}") for i, r in enumerate(records)]


# --- formats -----------------------------------------------------------------------------------


def default_title(settings: ProgramSettings) -> str:
    return f"{settings.municipality} 返礼品等の付加価値割合に関する証明事項の公表"


def to_html(rows: Sequence[PublishedRow], *, title: str, note: str = "") -> str:
    e = html.escape
    head = "".join(f'<th scope="col">{e(c)}</th>' for c in COLUMNS)
    body = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="num">{e(v)}</td>' if i in (4, 6) else f"<td>{e(v)}</td>"
            for i, v in enumerate(row.display_cells())
        )
        + "</tr>"
        for row in rows
    )
    note_html = f'<p class="note">{e(note)}</p>' if note else ""
    return f"""<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>
body {{ font-family: "IPAexGothic", "Hiragino Sans", "Yu Gothic", "Meiryo", sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #555; padding: .4em .6em; text-align: left; vertical-align: top; }}
th {{ background: #eee; }}
td.num {{ text-align: right; white-space: nowrap; }}
.note {{ font-size: .9em; }}
</style>
</head>
<body>
<h1>{e(title)}</h1>
{note_html}
<table>
<caption>{e(title)}（{len(rows)}件）</caption>
<thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody>
</table>
</body>
</html>
"""


def _csv_text(rows: Sequence[Sequence[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    return buf.getvalue()


def to_csv_utf8(rows: Sequence[PublishedRow]) -> bytes:
    """UTF-8 with BOM (Excel recognises the encoding by the BOM), CRLF line ends."""
    return _csv_text([list(COLUMNS), *(r.csv_cells() for r in rows)]).encode("utf-8-sig")


def cp932_safe(text: str, *, row: int = 0, column: str = "") -> tuple[str, list[Replacement]]:
    """``text`` with what cp932 cannot encode replaced, and the list of replacements.

    JIS-mapping equivalents (〜 U+301C → ～ …) are swapped silently; otherwise the NFKC form is
    used when cp932 has it (é is not, but e.g. compatibility forms may be), else 〓.
    """
    text = text.translate(CP932_EQUIVALENTS)
    out: list[str] = []
    replaced: list[Replacement] = []
    for ch in text:
        try:
            ch.encode("cp932")
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        alt = unicodedata.normalize("NFKC", ch).translate(CP932_EQUIVALENTS)
        try:
            alt.encode("cp932")
        except UnicodeEncodeError:
            alt = GETA
        if not alt:
            alt = GETA
        out.append(alt)
        replaced.append(Replacement(row=row, column=column, char=ch, replaced_with=alt))
    return "".join(out), replaced


def to_csv_cp932(rows: Sequence[PublishedRow]) -> tuple[bytes, list[Replacement]]:
    """Shift_JIS (Windows cp932), CRLF line ends; returns the bytes and what was replaced."""
    replacements: list[Replacement] = []
    table: list[list[str]] = [list(COLUMNS)]
    for r, row in enumerate(rows, start=1):
        cells = []
        for column, value in zip(COLUMNS, row.csv_cells()):
            safe, replaced = cp932_safe(value, row=r, column=column)
            cells.append(safe)
            replacements.extend(replaced)
        table.append(cells)
    return _csv_text(table).encode("cp932"), replacements


def to_docx(rows: Sequence[PublishedRow], path: Path, *, title: str, note: str = "") -> Path:
    """A landscape A4 table (header repeated on every page)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("top_margin", "bottom_margin", "left_margin", "right_margin"):
        setattr(section, side, Mm(15))
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts"))
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), "IPAexGothic")
    rpr.find(qn("w:lang")).set(qn("w:eastAsia"), "ja-JP")
    for tag in ("w:sz", "w:szCs"):
        rpr.find(qn(tag)).set(qn("w:val"), "18")
    heading = doc.add_paragraph()
    run = heading.add_run(title)
    run.bold = True
    run.font.size = Pt(14)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if note:
        doc.add_paragraph(note)
    widths = (28, 22, 62, 52, 22, 48, 30)
    table = doc.add_table(rows=1 + len(rows), cols=len(COLUMNS))
    table.style = doc.styles["Table Grid"]
    table.autofit = False
    header = table.rows[0]
    tr_pr = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    for c, text in enumerate(COLUMNS):
        header.cells[c].paragraphs[0].add_run(text).bold = True
    for r, row in enumerate(rows, start=1):
        for c, text in enumerate(row.display_cells()):
            p = table.cell(r, c).paragraphs[0]
            p.add_run(text)
            if c in (4, 6):
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for c, width in enumerate(widths):
        table.columns[c].width = Mm(width)
        for cell in table.columns[c].cells:
            cell.width = Mm(width)
    slim_document(doc).save(str(path))
    return path


def write_published_list(
    program_id: str,
    records: Sequence[Mapping[str, Any] | PublishedRow],
    outdir: Path,
    *,
    published: date | None = None,
    formats: Iterable[str] = FORMATS,
    basename: str | None = None,
    title: str | None = None,
    settings: ProgramSettings | None = None,
) -> PublishedList:
    """Write the list in the formats asked for; returns the paths by format and the cp932 report.

    ``records`` are certificate facts (product_name, manufacturer_name, percentage or A and B,
    manufacturing_place, retail_price) or ``PublishedRow``; ``published`` (default today) is the
    公表年月日 of rows that carry none.
    """
    formats = tuple(dict.fromkeys(formats))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise InvalidRecord(f"formats must be among {FORMATS}, not {formats}")
    settings = settings or get_program(program_id)
    published = published or date.today()
    rows = [
        r if isinstance(r, PublishedRow) else row_from_record(r, settings, published, where=f"row {i + 1}")
        for i, r in enumerate(records)
    ]
    rows.sort(key=lambda r: (r.published_on, r.product_name))
    title = title or default_title(settings)
    note = (
        "地場産品基準（平成31年総務省告示第179号第5条第3号）に基づき、返礼品等の製造業者から、"
        f"{settings.municipality}の区域内で生じた付加価値の割合について証明を受けた事項を公表します。"
    )
    stem = basename or f"{program_id}-value-added-certificates-{published:%Y%m%d}"
    outdir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    replacements: list[Replacement] = []
    if "html" in formats:
        paths["html"] = outdir / f"{stem}.html"
        paths["html"].write_text(to_html(rows, title=title, note=note), encoding="utf-8")
    if "csv" in formats:
        paths["csv"] = outdir / f"{stem}.csv"
        paths["csv"].write_bytes(to_csv_utf8(rows))
    if "csv_sjis" in formats:
        data, replacements = to_csv_cp932(rows)
        paths["csv_sjis"] = outdir / f"{stem}-sjis.csv"
        paths["csv_sjis"].write_bytes(data)
    if "pdf" in formats:
        docx = to_docx(rows, outdir / f"{stem}.docx", title=title, note=note)
        paths["docx"] = docx
        paths["pdf"] = convert_to_pdf([docx], outdir)[0]
    return PublishedList(paths=paths, rows=rows, replacements=replacements)
