"""Blank forms generated from the declarations: DOCX structure, LibreOffice rendering, and
the fillable PDF's AcroForm (names, kinds, placement), for every form with ``blank: true``."""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

import pdfplumber
import pytest
from docx import Document
from docx.oxml.ns import qn
from pypdf import PdfReader

from forms.catalogue import catalogue
from forms.schema import FieldDecl, FormDecl
from generate.blank_forms import (
    BOX,
    CELL_PAD_X,
    CONTENT_WIDTH,
    DATE_TEMPLATE,
    LABEL_WIDTH,
    MARGIN_X,
    CellSpec,
    LinesPara,
    TableSpec,
    blank_docx,
    blank_pdfs,
    build_layout,
    choice_text,
    is_checkbox_field,
    widget_name,
    widget_names,
)
from generate.fonts import DOCX_FONT

BLANK_FORMS = [form for form in catalogue().values() if form.blank]
FORM_IDS = [form.id for form in BLANK_FORMS]


def _form(form_id: str) -> FormDecl:
    return catalogue()[form_id]


def _docx_text(data: bytes) -> str:
    """All the text of a DOCX: body paragraphs and table cells, in document order."""
    doc = Document(io.BytesIO(data))
    return "\n".join(
        "".join(t.text or "" for t in p.iter(qn("w:t"))) for p in doc.element.body.iter(qn("w:p"))
    )


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).replace("〜", "~")


def _label_column_text(pdf: pdfplumber.PDF) -> str:
    """Text of the tables' label column (labels wrap there, beside the other cells' text)."""
    right = (MARGIN_X - CELL_PAD_X + LABEL_WIDTH) / 20
    return "".join(p.within_bbox((0, 0, right, float(p.height))).extract_text() or "" for p in pdf.pages)


def _boxes_expected(form: FormDecl) -> int:
    return sum(len(f.choices) or 1 for f in form.fields() if is_checkbox_field(f))


@pytest.fixture(scope="module")
def fillable() -> dict[str, bytes]:
    """Every blank form's fillable PDF (one LibreOffice start for all)."""
    return blank_pdfs(BLANK_FORMS)


def test_the_catalogue_has_blank_forms() -> None:
    assert "shibukawa.form1" in FORM_IDS
    assert all(catalogue()[fid].blank is False for fid in ("tax_certificate", "origin_certificate") if fid in catalogue())
    assert not {"tax_certificate", "origin_certificate"} & set(FORM_IDS)


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_docx_prints_title_labels_and_choices(form_id: str) -> None:
    form = _form(form_id)
    data = blank_docx(form)
    assert data[:2] == b"PK"
    text = _docx_text(data)
    doc = Document(io.BytesIO(data))
    # 様式第N号 first, then the title centred and bold
    paragraphs = [p for p in doc.paragraphs if p.text]
    if form.form_number:
        assert paragraphs[0].text == form.form_number
        title = paragraphs[1]
    else:
        title = paragraphs[0]
    assert title.text == form.title
    assert title.alignment == 1  # centre
    assert all(run.bold for run in title.runs)
    for row in form.rows():
        assert row.label in text or any(
            _is_date_row(row, f) for f in row.fields
        ), f"row label {row.label} missing"
        if row.note:
            assert row.note in text
        if row.text:
            assert row.text in text
        for f in row.fields:
            if f.label:
                assert f.label in text
            for piece in (f.prefix, f.suffix):
                if piece and not _in_lines_section(form, f):
                    assert piece in text
            for choice in f.choices:
                before, after = choice_text(f, choice)
                assert f"{before}{BOX}{after}" in text, f"choice {choice.label} of {f.key}"
    assert text.count(BOX) == _boxes_expected(form)
    for section in form.sections:
        for paragraph in section.paragraphs:
            assert paragraph in text


def _is_date_row(row, f: FieldDecl) -> bool:  # noqa: ANN001
    return f.type == "date"


def _in_lines_section(form: FormDecl, field: FieldDecl) -> bool:
    return any(field in row.fields for s in form.sections if s.layout == "lines" for row in s.rows)


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_docx_is_a4_japanese_and_its_tables_are_well_formed(form_id: str) -> None:
    doc = Document(io.BytesIO(blank_docx(_form(form_id))))
    section = doc.sections[0]
    assert (section.page_width.mm, section.page_height.mm) == pytest.approx((210, 297), abs=0.5)
    assert section.left_margin.mm >= 15 and section.right_margin.mm >= 15
    fonts = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == DOCX_FONT == "ＭＳ 明朝"
    assert fonts.get(qn("w:asciiTheme")) is None  # a theme font would win over ours in Word
    assert doc.tables, "a form with a table section has a table"
    for table in doc.tables:
        tbl = table._tbl
        grid = [int(c.get(qn("w:w"))) for c in tbl.tblGrid.findall(qn("w:gridCol"))]
        assert sum(grid) == CONTENT_WIDTH
        assert tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
        assert tbl.tblPr.find(qn("w:tblBorders")) is not None
        previous_merge = None
        for tr in tbl.findall(qn("w:tr")):
            spans, widths = 0, 0
            for n, tc in enumerate(tr.findall(qn("w:tc"))):
                tcPr = tc.tcPr
                span = tcPr.find(qn("w:gridSpan"))
                count = int(span.get(qn("w:val"))) if span is not None else 1
                assert sum(grid[spans : spans + count]) == int(tcPr.tcW.get(qn("w:w")))
                spans += count
                widths += int(tcPr.tcW.get(qn("w:w")))
                assert tcPr.find(qn("w:vAlign")).get(qn("w:val")) == "top"
                assert tc.findall(qn("w:p")), "a cell ends with a paragraph"
                if n == 0:
                    merge = tcPr.find(qn("w:vMerge"))
                    if merge is not None and merge.get(qn("w:val")) != "restart":
                        assert previous_merge is not None, "a continued merge follows a restart"
                    previous_merge = merge
            assert spans == len(grid) and widths == CONTENT_WIDTH


def test_form1_layout_follows_the_printed_form() -> None:
    """様式第1号 as the seed prints it: suffix cells, sub-rows, choices with 市外（ ）, the grid."""
    form = _form("shibukawa.form1")
    layout = build_layout(form)
    table = next(b for b in layout.blocks if isinstance(b, TableSpec))
    by_row: dict[int | None, list] = {}
    for line in table.lines:
        by_row.setdefault(line.row.number, []).append(line)

    [price] = by_row[5]
    assert [(c.kind, c.text) for c in price.cells] == [
        ("value", ""), ("suffix", "円（税抜）"), ("value", ""), ("suffix", "円（税込）"),
    ]
    [origin] = by_row[7]
    assert [c.kind for c in origin.cells] == ["choices", "prefix", "value", "suffix"]
    assert origin.cells[0].cell.text == "☐ 市内　☐ 市外"
    assert (origin.cells[1].text, origin.cells[3].text) == ("（", "）")

    contact = by_row[19]
    assert [line.cells[0].text for line in contact] == [
        "所属", "担当者氏名", "電話番号", "FAX番号", "メールアドレス", "ウェブサイト", "ウェブサイトURL",
    ]
    assert all(line.cells[0].kind == "sublabel" for line in contact)
    assert [line.cells[1].kind for line in contact] == ["value"] * 5 + ["choices", "value"]
    # seed 004: ウェブサイト　☐ 有　☐ 無, between the mail address and the URL
    assert contact[5].cells[1].cell.text == "☐ 有　☐ 無"
    merges = [line.label_merge for line in contact]
    assert merges == ["restart"] + ["continue"] * 6

    allergy = by_row[15]
    assert allergy[0].cells[0].cell.text == "☐ あり　☐ なし"
    assert allergy[0].cells[-1].kind == "text"
    grid = [line for line in allergy if line.full_width and line.cells[0].kind == "grid"]
    assert [len(line.cells) for line in grid] == [7, 7, 7, 7]
    # under the grid, as seed 004 prints it: その他特記事項： and the room to write it
    last = allergy[-1]
    assert last.full_width and [c.kind for c in last.cells] == ["sublabel", "value"]
    assert last.cells[0].cell.text == "その他特記事項：" and last.cells[-1].x1 == CONTENT_WIDTH
    assert grid[0].cells[0].cell.text == "卵 ☐"
    assert grid[3].cells[6].cell.text == "りんご ☐"
    assert all(line.cells[0].x0 == 0 and line.cells[-1].x1 == CONTENT_WIDTH for line in grid)

    # seed 004 rows 9-10: ☐ 通年　☐ 時期限定（　　頃～　　頃）, one blank before each 頃
    for number in (9, 10):
        [period] = by_row[number]
        assert [(c.kind, c.text, c.part) for c in period.cells] == [
            ("choices", "", 0), ("prefix", "（", 0), ("value", "", 0), ("guide", "頃～", 0),
            ("value", "", 1), ("guide", "頃", 0), ("suffix", "）", 0),
        ]
        assert period.cells[0].cell.text == "☐ 通年　☐ 時期限定"
        assert "".join(c.cell.text for c in period.cells[1:]) == "（頃～頃）"
    # row 17: 梱包重量　　kg　　サイズ
    [package] = by_row[17]
    assert [(c.kind, c.text) for c in package.cells] == [
        ("guide", "梱包重量"), ("value", ""), ("guide", "kg"), ("value", ""), ("guide", "サイズ"),
    ]
    assert package.cells[0].x0 == LABEL_WIDTH and package.cells[-1].x1 == CONTENT_WIDTH

    [kana, name] = by_row[1]
    assert kana.cells[0].x0 == LABEL_WIDTH and kana.cells[-1].x1 == CONTENT_WIDTH

    date = layout.blocks[0]
    assert isinstance(date, LinesPara) and date.template
    label = date.row.label
    printed = label if "年" in label and "日" in label else DATE_TEMPLATE
    assert date.paragraph.text == printed and date.paragraph.alignment == 2  # right
    address = next(b for b in layout.blocks if isinstance(b, LinesPara) and b.row.label == "所在地")
    assert address.paragraph.text == "所在地："


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_value_cells_are_empty(form_id: str) -> None:
    layout = build_layout(_form(form_id))
    cells: list[CellSpec] = list(layout.cells())
    values = [c for c in cells if c.kind == "value"]
    assert values or any(isinstance(b, LinesPara) for b in layout.blocks)
    for c in values:
        assert c.cell is not None and c.cell.text == ""
        assert c.x1 - c.x0 >= 6 * 130  # room to type


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_libreoffice_renders_japanese_text(form_id: str, fillable: dict[str, bytes]) -> None:
    form = _form(form_id)
    with pdfplumber.open(io.BytesIO(fillable[form_id])) as pdf:
        page = pdf.pages[0]
        assert (round(float(page.width)), round(float(page.height))) == (595, 842)  # A4
        text = "".join(p.extract_text() or "" for p in pdf.pages)
        assert _squash(form.title) in _squash(text)
        labels = _squash(text) + _squash(_label_column_text(pdf))
        for row in form.rows():
            printed = DATE_TEMPLATE if any(_is_date_row(row, f) for f in row.fields) else row.label
            assert _squash(printed) in labels, printed
        kanji = next(ch for ch in form.title if unicodedata.east_asian_width(ch) == "W")
        title_chars = [c for c in page.chars if c["text"] == kanji]
        fonts = {c["fontname"] for c in title_chars}
    assert "□" not in text.replace(BOX, "")
    # the title is drawn with a Japanese font that LibreOffice found for ＭＳ 明朝, embedded
    assert any(re.search(r"IPA|Mincho|Gothic|CJK|Takao", name) for name in fonts), fonts
    assert all("+" in name for name in fonts)  # embedded subset


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_blank_pdf_has_a_widget_for_every_field_and_choice(form_id: str, fillable: dict[str, bytes]) -> None:
    form = _form(form_id)
    reader = PdfReader(io.BytesIO(fillable[form_id]))
    fields = reader.get_fields()
    assert fields is not None
    acroform = reader.trailer["/Root"]["/AcroForm"]
    # every widget carries its (empty) appearance, so that a date line shows its printed
    # 令和　年　月　日 until a date is typed (issue 23); viewers make the appearance of typing
    assert acroform["/NeedAppearances"] == False  # noqa: E712
    fonts = acroform["/DR"]["/Font"]
    da_font = re.match(r"/(\S+) ", acroform["/DA"]).group(1)
    assert f"/{da_font}" in fonts
    assert fonts[f"/{da_font}"]["/Subtype"] == "/Type0"  # a CJK font for what users type
    descendant = fonts[f"/{da_font}"]["/DescendantFonts"][0].get_object()
    assert "/FontFile2" in descendant["/FontDescriptor"]  # embedded (tests/test_generate_fillable_pdf.py)
    for f in form.fields():
        if is_checkbox_field(f):
            for choice in f.choices or (None,):
                name = widget_name(f, choice)
                assert name in fields, name
                assert fields[name]["/FT"] == "/Btn"
                assert fields[name].get("/V") == "/Off"
        else:
            names = [widget_name(f, part=n) for n in range(f.blanks())] if f.guide else [f.key]
            for name in names:
                assert name in fields, name
                assert fields[name]["/FT"] == "/Tx"
                assert not fields[name].get("/V")
                assert bool(int(fields[name].get("/Ff", 0)) & 4096) == f.multiline
    assert set(widget_names(form)) <= set(fields)
    for page in reader.pages:
        for ref in page.get("/Annots", []):
            annot = ref.get_object()
            assert annot["/Subtype"] == "/Widget"
            assert "/N" in annot["/AP"]
            if annot.get("/FT") == "/Tx":
                assert f"/{da_font}" in annot["/DA"]
            else:
                assert set(annot["/AP"]["/N"]) == {"/Yes", "/Off"}


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_widgets_lie_on_the_empty_cells_and_the_boxes(form_id: str, fillable: dict[str, bytes]) -> None:
    """Text widgets cover no printed text (except a date template they replace); every checkbox
    widget lies on a printed ☐."""
    data = fillable[form_id]
    reader = PdfReader(io.BytesIO(data))
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page_index, page in enumerate(pdf.pages):
            height = float(page.height)
            chars = [c for c in page.chars if c["text"].strip()]
            for ref in reader.pages[page_index].get("/Annots", []):
                annot = ref.get_object()
                x0, y0, x1, y1 = (float(v) for v in annot["/Rect"])
                top, bottom = height - y1, height - y0
                assert 0 < x0 < x1 < float(page.width) and 0 < top < bottom < height
                inside = [
                    c for c in chars
                    if x0 < (float(c["x0"]) + float(c["x1"])) / 2 < x1
                    and top < (float(c["top"]) + float(c["bottom"])) / 2 < bottom
                ]
                if annot.get("/FT") == "/Tx":
                    assert x1 - x0 > 20
                    if "/BG" not in annot["/MK"]:
                        assert inside == [], (annot["/T"], "".join(c["text"] for c in inside))
                    else:  # the printed 令和　年　月　日 that the date replaces
                        assert "年" in "".join(c["text"] for c in inside)
                else:
                    assert [c["text"] for c in inside] == [BOX], annot["/T"]


def test_widget_names_are_ascii_and_unique() -> None:
    form = _form("shibukawa.form1")
    f = form.field
    assert widget_name(f("product_name")) == "product_name"
    carriers = f("carriers")
    assert [widget_name(carriers, c) for c in carriers.choices] == [
        "carriers.japan_post", "carriers.sagawa", "carriers.yamato",
    ]
    present = f("allergens_present")
    assert [widget_name(present, c) for c in present.choices] == ["allergens_present.true", "allergens_present.false"]
    allergens = f("allergens")
    assert widget_name(allergens, allergens.choices[0]) == "allergens.0"
    assert widget_name(allergens, allergens.choices[27]) == "allergens.27"
    names = widget_names(form)
    assert names["allergens.27"] == (allergens, allergens.choices[27])
    # a guided field: one widget a blank, none named by the key (none holds the whole value)
    detail = f("supply_period_detail")
    assert [widget_name(detail, part=n) for n in range(2)] == ["supply_period_detail.1", "supply_period_detail.2"]
    assert names["package_size_weight.2"] == (f("package_size_weight"), None)
    assert "supply_period_detail" not in names and "package_size_weight" not in names
    with pytest.raises(ValueError):
        widget_name(detail)
    website = f("contact_website_present")
    assert [widget_name(website, c) for c in website.choices] == [
        "contact_website_present.true", "contact_website_present.false",
    ]
    for form in BLANK_FORMS:
        names = widget_names(form)
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*(\.[A-Za-z0-9_-]+)?", n) for n in names)
        assert len(names) == sum(len(f.choices) or f.blanks() for f in form.fields())


def test_download_offers_only_forms_that_have_a_blank(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from web.cli import main

    for form_id in ("tax_certificate", "origin_certificate"):
        assert main(["forms", "download", form_id, "--format", "docx", "-o", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert "配布する様式はありません" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    out = blocker / "form1.docx"
    assert main(["forms", "download", "shibukawa.form1", "--format", "docx", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "書き込めません" in err and "Traceback" not in err and err.count("\n") == 1
    assert main(["forms", "download", "shibukawa.form1", "--format", "docx", "-o", str(tmp_path)]) == 0
    assert (tmp_path / "shibukawa.form1.docx").stat().st_size > 5000


def test_form5_prints_every_row_of_seed_004_with_the_allergen_grid() -> None:
    """様式第5号 as seed 004 prints it: rows 2-18 of 様式第1号 for the changed items, the
    allergen grid of 28 items among them (issue 23: rows 7-10 and 13-15 were missing)."""
    from forms.catalogue import get_form
    from generate.blank_forms import blank_docx

    doc = Document(io.BytesIO(blank_docx(get_form("shibukawa.form5"))))
    text = "".join(
        "".join(cell.text.split()) for table in doc.tables for row in table.rows for cell in row.cells
    )
    for label in ("7原材料（原産地）", "8製造場所", "9提供可能期間", "10申込受付期間", "13運送便", "14流通温度帯",
                  "15アレルギー品目", "16消費期限・賞味期限", "17梱包サイズ・梱包重量", "18定期便"):
        assert label in text, label
    for allergen in ("卵", "落花生", "カシューナッツ", "マカダミアナッツ", "ゼラチン", "りんご"):
        assert f"{allergen}☐" in text or f"{allergen}□" in text, allergen
