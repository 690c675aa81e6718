"""Builds the docxtpl notice templates (``common/*.docx``, ``<program>/*.docx``) with python-docx.

The templates are committed; run this after changing the layout or the fixed wording:

    .venv/bin/python generate/templates/build_templates.py
    # or: .venv/bin/python -m generate.templates.build_templates

Clerks may also edit a built template in Word or LibreOffice (keep each ``{{ … }}`` tag in one
run of one style); the wording that differs by program lives in ``wording.yaml``, the values in
the context built by ``generate/notices.py``. Text follows the official forms of seed 004
(様式第2号 … 様式第7号) and, for Ehime's notices, the rules of seed 002.
"""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # run as a script: make the repository importable

from generate.notices import slim_document

#: Mincho face installed with the project (fonts-ipaexfont); LibreOffice embeds it in the PDF.
FONT = "IPAexMincho"
BODY_PT = 11
TITLE_PT = 14

Container = DocxDocument | _Cell


def new_document() -> DocxDocument:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(25), Mm(20)
    section.left_margin, section.right_margin = Mm(25), Mm(25)
    # Document defaults: the Mincho face for every script, Japanese line breaking, no spacing.
    styles = doc.styles.element
    rpr_default = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = rpr_default.find(qn("w:rFonts"))
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    lang = rpr_default.find(qn("w:lang"))
    lang.set(qn("w:eastAsia"), "ja-JP")
    for tag in ("w:sz", "w:szCs"):
        rpr_default.find(qn(tag)).set(qn("w:val"), str(BODY_PT * 2))
    ppr_default = styles.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr_default.find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "300")
    # Core properties: no author or dates from the build machine.
    props = doc.core_properties
    props.author = "Madoguchi"
    props.last_modified_by = "Madoguchi"
    props.comments = ""
    props.created = props.modified = datetime(2025, 4, 1)
    props.revision = 1
    return doc


def para(
    where: Container,
    text: str = "",
    *,
    align: str | None = None,
    bold: bool = False,
    size: float | None = None,
    left_mm: float | None = None,
    hanging_mm: float | None = None,
    space_before: float | None = None,
) -> Paragraph:
    """Add a paragraph whose text is one run (so that each docxtpl tag stays within a run)."""
    p = where.add_paragraph()
    if text:
        run = p.add_run(text)
        run.bold = bold or None
        if size:
            run.font.size = Pt(size)
    fmt = p.paragraph_format
    if align:
        fmt.alignment = {
            "right": WD_ALIGN_PARAGRAPH.RIGHT,
            "center": WD_ALIGN_PARAGRAPH.CENTER,
            "left": WD_ALIGN_PARAGRAPH.LEFT,
            "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
        }[align]
    if left_mm is not None:
        fmt.left_indent = Mm(left_mm)
    if hanging_mm is not None:
        fmt.first_line_indent = -Mm(hanging_mm)
    if space_before is not None:
        fmt.space_before = Pt(space_before)
    return p


def seal(p: Paragraph) -> None:
    """The place for the seal (印) after a name: two spaces and 印."""
    p.add_run("　　印")


def blank(where: Container, n: int = 1) -> None:
    for _ in range(n):
        para(where)


def tag(where: Container, text: str) -> None:
    """A paragraph holding only a docxtpl paragraph tag ({%p … %}); docxtpl removes it."""
    para(where, text)


def grid_table(
    doc: DocxDocument, rows: Sequence[Sequence[str]], widths_mm: Sequence[float], *, borders: bool = True
) -> Table:
    table: Table = doc.add_table(rows=len(rows), cols=len(widths_mm))
    if borders:
        table.style = doc.styles["Table Grid"]
    table.autofit = False
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            cell = table.cell(r, c)
            cell.width = Mm(widths_mm[c])
            cell.paragraphs[0].add_run(text)
    for c, width in enumerate(widths_mm):
        table.columns[c].width = Mm(width)
    if borders:
        _cell_margins(table, top_mm=1.5, bottom_mm=1.5)
    return table


def merge(a: _Cell, b: _Cell) -> _Cell:
    """Merge cells, keeping only paragraphs with text (python-docx keeps every cell's paragraphs)."""
    cell: _Cell = a.merge(b)
    paragraphs = cell.paragraphs
    keep = [p for p in paragraphs if p.text] or paragraphs[:1]
    for p in paragraphs:
        if p not in keep:
            p._element.getparent().remove(p._element)
    return cell


def _cell_margins(table: Table, *, top_mm: float, bottom_mm: float) -> None:
    tbl_pr = table._tbl.tblPr
    mar = OxmlElement("w:tblCellMar")
    for side, mm in (("top", top_mm), ("bottom", bottom_mm)):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(int(mm * 56.7)))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    tbl_pr.append(mar)


def filer_block(
    doc: DocxDocument, rows: Sequence[tuple[str, str]], *, heading: str | None, seal_last: bool
) -> None:
    """The sender's block of a supplier's form (所在地, 名称, 代表者), right of centre, no borders."""
    if heading:
        para(doc, heading, left_mm=70)
    table = doc.add_table(rows=len(rows), cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.RIGHT
    table.autofit = False
    widths = (42, 68)
    for r, (label, value) in enumerate(rows):
        for c, text in enumerate((label, value)):
            cell = table.cell(r, c)
            cell.width = Mm(widths[c])
            cell.paragraphs[0].add_run(text)
        if seal_last and r == len(rows) - 1:
            seal(table.cell(r, 1).paragraphs[0])
    for c, width in enumerate(widths):
        table.columns[c].width = Mm(width)


# --- the parts every city-issued notice shares ----------------------------------------------


def letter_head(doc: DocxDocument) -> None:
    """As seed 004's 様式第3号, 第4号 and 第7号: the title first, then the document number and
    date, the addressee, and the head (or the issuing office) with the seal."""
    tag(doc, "{%p if form_number %}")
    para(doc, "{{ form_number }}")
    tag(doc, "{%p endif %}")
    blank(doc)
    para(doc, "{{ title }}", align="center", bold=True, size=TITLE_PT)
    blank(doc)
    para(doc, "{{ doc_number }}", align="right")
    para(doc, "{{ issue_date }}", align="right")
    blank(doc)
    para(doc, "{{ addressee }}")
    blank(doc)
    p = para(doc, "{{ head }}", align="right")
    seal(p)
    blank(doc)


def item_table(doc: DocxDocument) -> None:
    para(doc, "記", align="center", space_before=6)
    blank(doc)
    grid_table(doc, [["{{ item }}の名称", "{{ product_name }}"]], (45, 115))
    blank(doc)


def contact(doc: DocxDocument) -> None:
    tag(doc, "{%p if contact %}")
    para(doc, "{{ contact }}", align="right", size=9, space_before=24)
    tag(doc, "{%p endif %}")


# --- the templates --------------------------------------------------------------------------


def approval() -> DocxDocument:
    """様式第3号 承認書: both options listed, the one that applies marked (■)."""
    doc = new_document()
    letter_head(doc)
    para(doc, "　{{ approval_sentence }}", align="justify")
    item_table(doc)
    para(doc, "{{ mark_as_applied }}　1　{{ approved_as_applied }}")
    para(doc, "{{ mark_conditions }}　2　{{ approved_with_conditions }}")
    tag(doc, "{%p for c in conditions %}")
    para(doc, "（{{ loop.index }}）{{ c }}", left_mm=14, hanging_mm=8)
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p for n in approval_notes %}")
    para(doc, "※　{{ n }}", left_mm=5, hanging_mm=5, align="justify", space_before=6)
    tag(doc, "{%p endfor %}")
    contact(doc)
    return doc


def rejection() -> DocxDocument:
    """様式第4号 不承認書, with the reasons (from the failed findings, each citing its clause)."""
    doc = new_document()
    letter_head(doc)
    para(doc, "　{{ rejection_sentence }}", align="justify")
    item_table(doc)
    para(doc, "{{ rejection_heading }}")
    tag(doc, "{%p for r in reasons %}")
    para(doc, "{{ loop.index }}　{{ r }}", left_mm=10, hanging_mm=6, align="justify")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if no_objection_note %}")
    blank(doc)
    para(doc, "{{ no_objection_note }}", left_mm=5, hanging_mm=5)
    tag(doc, "{%p endif %}")
    contact(doc)
    return doc


def change_notice() -> DocxDocument:
    """様式第7号 取扱変更通知書 (変更内容, 変更理由)."""
    doc = new_document()
    letter_head(doc)
    para(doc, "　下記の{{ item }}について、次のとおり取り扱いを変更します。", align="justify")
    item_table(doc)
    para(doc, "＜変更内容＞")
    tag(doc, "{%p for line in change_lines %}")
    para(doc, "{{ line }}", left_mm=7)
    tag(doc, "{%p endfor %}")
    blank(doc)
    para(doc, "＜変更理由＞")
    tag(doc, "{%p for line in reason_lines %}")
    para(doc, "{{ line }}", left_mm=7)
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if effective_date %}")
    blank(doc)
    para(doc, "＜変更日＞")
    para(doc, "{{ effective_date }}", left_mm=7)
    tag(doc, "{%p endif %}")
    contact(doc)
    return doc


def withdrawal() -> DocxDocument:
    """様式第6号 辞退届, pre-filled for the supplier."""
    doc = new_document()
    tag(doc, "{%p if form_number %}")
    para(doc, "{{ form_number }}")
    tag(doc, "{%p endif %}")
    blank(doc)
    para(doc, "{{ title }}", align="center", bold=True, size=TITLE_PT)
    blank(doc)
    para(doc, "{{ issue_date }}", align="right")
    blank(doc)
    para(doc, "{{ head_addressee }}")
    blank(doc)
    filer_block(
        doc,
        [
            ("所　在　地", "〒{{ applicant_postal_code }}\n{{ applicant_address }}"),
            ("名　　　称", "{{ applicant_name }}"),
            ("代表者（職・氏名）", "{{ applicant_representative }}"),
        ],
        heading=None,
        seal_last=True,
    )
    blank(doc, 2)
    para(doc, "　{{ statement }}", align="justify")
    blank(doc)
    para(doc, "記", align="center")
    blank(doc)
    para(doc, "1　{{ item }}の名称")
    para(doc, "{{ product_name }}", left_mm=10)
    tag(doc, "{%p if approval_ref %}")
    para(doc, "（{{ approval_ref }}）", left_mm=10)
    tag(doc, "{%p endif %}")
    blank(doc)
    para(doc, "2　辞退理由")
    para(doc, "{{ withdrawal_reason }}", left_mm=10, align="justify")
    blank(doc)
    para(doc, "3　辞退する日（提供できなくなる日）")
    para(doc, "{{ withdrawal_date }}から", left_mm=10)
    return doc


def change_application() -> DocxDocument:
    """様式第5号 変更申請書, pre-filled for the supplier from the approved record."""
    doc = new_document()
    tag(doc, "{%p if form_number %}")
    para(doc, "{{ form_number }}")
    tag(doc, "{%p endif %}")
    para(doc, "{{ title }}", align="center", bold=True, size=TITLE_PT)
    blank(doc)
    para(doc, "{{ issue_date }}", align="right")
    para(doc, "{{ head_addressee }}")
    filer_block(
        doc,
        [
            ("〒", "{{ applicant_postal_code }}"),
            ("所在地", "{{ applicant_address }}"),
            ("名称", "{{ applicant_name }}"),
            ("代表者（職・氏名）", "{{ applicant_representative }}"),
        ],
        heading="（申込者）",
        seal_last=False,
    )
    blank(doc)
    para(
        doc,
        "　{{ approval_date }}付け{{ approval_number }}で承認された提供商品を下記のとおり変更したいので申請します。",
        align="justify",
    )
    para(
        doc,
        "　なお、提供商品の変更にあたっては、引き続き募集要項を遵守すること、この申込書が事実と相違ないこと、"
        "法令等を遵守していることを誓約します。",
        align="justify",
    )
    para(doc, "記", align="center")
    widths = (48, 22, 90)
    table = grid_table(
        doc,
        [
            ["1 商品名", "フリガナ", "{{ product_name_kana }}"],
            ["", "商品名", "{{ product_name }}"],
            ["変更後の商品（※2～18について変更箇所のみご記入ください。）", "", ""],
            ["{%tr for row in change_rows %}", "", ""],
            ["{{ row.label }}", "{{ row.value }}", ""],
            ["{%tr endfor %}", "", ""],
        ],
        widths,
    )
    merge(table.cell(0, 0), table.cell(1, 0))
    merge(table.cell(2, 0), table.cell(2, 2))
    merge(table.cell(4, 1), table.cell(4, 2))
    for row in table.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(9.5)
    return doc


def value_added_certificate() -> DocxDocument:
    """様式第2号 付加価値割合の証明書, pre-filled for the manufacturer."""
    doc = new_document()
    tag(doc, "{%p if form_number %}")
    para(doc, "{{ form_number }}")
    tag(doc, "{%p endif %}")
    para(doc, "{{ title }}", align="center", bold=True, size=TITLE_PT)
    para(doc, "{{ issue_date }}", align="right")
    para(doc, "{{ head_addressee }}")
    filer_block(
        doc,
        [
            ("所在地", "{{ manufacturer_address }}"),
            ("名称", "{{ manufacturer_name }}"),
            ("代表者（職・氏名）", "{{ manufacturer_representative }}"),
        ],
        heading="（返礼品等の製造等を行う者）",
        seal_last=True,
    )
    blank(doc)
    para(
        doc,
        "　{{ product_name }}については、{{ municipality }}の区域内における工程により、当該返礼品等の価値の"
        "{{ percent }}%が生じていることを証明します。",
        align="justify",
    )
    para(
        doc, "　上記については、以下の算出方法（該当する算出方法に■）により算出しています。", align="justify"
    )
    para(doc, "{{ mark_standard }}　総務大臣が定める標準的な算出方法", space_before=4)
    para(doc, "※標準的な算出方法における算出基礎は以下のとおり。", left_mm=7)
    para(doc, "A：当該地方団体による返礼品等の調達費用　{{ cost_a }}円", left_mm=7)
    para(
        doc,
        "B：当該返礼品等の製造・販売等のために当該地方団体の区域外で生じた費用　{{ cost_b }}円",
        left_mm=7,
    )
    para(doc, "{{ mark_other }}　その他の算出方法", space_before=4)
    para(doc, "※その他の算出方法とする理由及びその算出方法の詳細は以下のとおり。", left_mm=7)
    para(doc, "{{ other_method }}", left_mm=7, align="justify")
    para(
        doc,
        "　また、当該返礼品等の製造・加工地※1は{{ manufacturing_location }}であり、一般販売価格は"
        "{{ retail_price }}円です※2。",
        align="justify",
        space_before=4,
    )
    para(doc, "　なお、当該返礼品等を取り扱うに当たって、下記の事項に同意します。", align="justify")
    para(
        doc,
        "・当該返礼品等については、地場産品基準（平成31年総務省告示第179号第5条）第8号イ～ハの返礼品等として"
        "提出先以外の都道府県又は市区町村が取り扱う場合を除き、本証明書の提出先以外の都道府県又は市区町村の"
        "第3号の返礼品等として取り扱わないこと。",
        left_mm=4,
        hanging_mm=4,
        align="justify",
    )
    para(
        doc,
        "・当該返礼品等の付加価値の算出方法等について、地方団体の求めに応じ、必要な説明や資料提供等を行うこと。",
        left_mm=4,
        hanging_mm=4,
        align="justify",
    )
    para(doc, "記載要領", space_before=8, size=9.5)
    para(
        doc,
        "※1 返礼品等の製造・加工が行われた場所について、国内の場合は都道府県名及び市区町村名"
        "（例：〇〇県〇〇市）、国外の場合は国名を記載すること。",
        left_mm=6,
        hanging_mm=6,
        size=9.5,
        align="justify",
    )
    para(
        doc,
        "※2 当該返礼品等を一般消費者に対して販売する際の通常の価格を記載すること。なお、当該返礼品等が"
        "非売品である場合には、当該返礼品等の類似製品に係る通常の価格を記載すること。",
        left_mm=6,
        hanging_mm=6,
        size=9.5,
        align="justify",
    )
    return doc


def registration_result() -> DocxDocument:
    """Ehime (002 2(5)): the result of a store's registration, registered or not (with reasons)."""
    doc = new_document()
    letter_head(doc)
    tag(doc, "{%p if registered %}")
    para(
        doc,
        "　{{ application_date }}付けで申請のありました参加店舗の登録について、審査の結果、下記のとおり"
        "登録しましたので通知します。",
        align="justify",
    )
    tag(doc, "{%p else %}")
    para(
        doc,
        "　{{ application_date }}付けで申請のありました参加店舗の登録について、審査の結果、下記の理由により"
        "登録できませんので通知します。",
        align="justify",
    )
    tag(doc, "{%p endif %}")
    para(doc, "記", align="center", space_before=6)
    blank(doc)
    grid_table(
        doc,
        [
            ["{%tr for row in rows %}", ""],
            ["{{ row.label }}", "{{ row.value }}"],
            ["{%tr endfor %}", ""],
        ],
        (45, 115),
    )
    blank(doc)
    tag(doc, "{%p if not registered %}")
    para(doc, "（登録できない理由）")
    tag(doc, "{%p for r in reasons %}")
    para(doc, "{{ loop.index }}　{{ r }}", left_mm=10, hanging_mm=6, align="justify")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p else %}")
    para(
        doc,
        "※　参加店舗は、{{ reference_document }}の遵守事項（5）及び同意事項（6）を守ってください。",
        left_mm=5,
        hanging_mm=5,
        align="justify",
    )
    para(
        doc,
        "※　{{ reference_document }}に違反し、不正受給が判明した場合は、「不正受給額」「不正受給額の2割に"
        "相当する額」「延滞金（不正受給の日の翌日から納付まで年3分）」の合計額を請求するとともに、"
        "不正事案の公表や警察へ告発するなど必要な措置を行います。",
        left_mm=5,
        hanging_mm=5,
        align="justify",
    )
    tag(doc, "{%p endif %}")
    contact(doc)
    return doc


def fraud_repayment() -> DocxDocument:
    """Ehime (002 8(3)③): the claim for repayment of a fraudulent receipt with its computed amounts."""
    doc = new_document()
    letter_head(doc)
    para(
        doc,
        "　{{ reference_document }}8(3)③の規定に基づき、下記のとおり不正受給額等の返還を請求しますので、"
        "納付期限までに納付してください。",
        align="justify",
    )
    para(doc, "記", align="center", space_before=6)
    blank(doc)
    grid_table(
        doc,
        [
            ["1　店舗名", "{{ product_name }}"],
            ["2　不正受給の内容", "{{ fraud_description }}"],
            ["3　不正受給の日", "{{ received_date }}"],
            ["4　請求額", "{{ total }}円"],
            ["（1）不正受給額", "{{ amount }}円"],
            ["（2）不正受給額の2割に相当する額", "{{ surcharge }}円"],
            [
                "（3）延滞金（年3分）",
                "{{ late_charge }}円\n（{{ late_days }}日：{{ late_from }}～{{ late_to }}）",
            ],
            ["5　納付期限", "{{ payment_due }}"],
        ],
        (70, 90),
    )
    blank(doc)
    para(
        doc,
        "※　延滞金は、返還を求める額{{ amount }}円に対し、不正受給の日の翌日から納付の日までの"
        "{{ late_days }}日について年3分の割合で算定しています（1年を365日とする日割計算、1円未満切捨て）。",
        left_mm=5,
        hanging_mm=5,
        align="justify",
    )
    para(
        doc,
        "※　納付期限後に納付される場合は、納付の日までの延滞金を改めて算定し請求します。",
        left_mm=5,
        hanging_mm=5,
        align="justify",
    )
    contact(doc)
    return doc


#: (directory, kind) → builder. ``common`` serves every program; a program's directory
#: overrides a kind for that program or adds kinds only it issues.
TEMPLATES = {
    ("common", "approval"): approval,
    ("common", "rejection"): rejection,
    ("common", "change_notice"): change_notice,
    ("common", "withdrawal"): withdrawal,
    ("common", "change_application"): change_application,
    ("common", "value_added_certificate"): value_added_certificate,
    ("ehime-voucher", "registration_result"): registration_result,
    ("ehime-voucher", "fraud_repayment"): fraud_repayment,
}


def build(outdir: Path = HERE) -> list[Path]:
    written = []
    for (directory, kind), builder in TEMPLATES.items():
        path = outdir / directory / f"{kind}.docx"
        path.parent.mkdir(parents=True, exist_ok=True)
        slim_document(builder()).save(str(path))
        _normalise_zip(path)
        written.append(path)
    return written


def _normalise_zip(path: Path) -> None:
    """Fixed entry dates, so that building twice gives the same bytes (no churn in git)."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info.filename, zin.read(info)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            zout.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)


if __name__ == "__main__":
    for written_path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(written_path)
