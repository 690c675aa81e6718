from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from extract.ingest import Limits
from extract.pagemodel import Page, Word
from extract.readers.docx import read_docx
from forms.errors import CorruptFile, TooManyPages

LIMITS = Limits()
BuildDocx = Callable[..., bytes]


def _word(pages: list[Page], text: str) -> Word:
    return next(w for p in pages for w in p.words if w.text == text)


def _texts(pages: list[Page]) -> list[str]:
    return [w.text for p in pages for w in p.words]


def _p(text: str, ppr: str = "") -> str:
    return f'<w:p>{ppr}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


# --- the external DOCX files -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["test_file_1table_multilingual", "test_file_2pages_multilingual", "test_file_two_pages_international"],
)
def test_external_docx_read(external: Path, name: str) -> None:
    pages = read_docx((external / "docx" / f"{name}.docx").read_bytes(), LIMITS)
    assert pages and all(p.source == "docx" for p in pages)
    for page in pages:
        for w in page.words:
            assert 0 <= w.x0 < w.x1 <= page.width + 1 and 0 <= w.y0 < w.y1 <= page.height
    text = " ".join(_texts(pages))
    assert "Hello" in text or "quick" in text


def test_external_table_rows_share_a_line(external: Path) -> None:
    pages = read_docx((external / "docx" / "test_file_1table_multilingual.docx").read_bytes(), LIMITS)
    expected = (external / "docx" / "test_file_1table_multilingual.expected.md").read_text(encoding="utf-8")
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in expected.splitlines()
        if line.startswith("|") and not re.match(r"^\|\s*-", line)
    ]
    assert len(rows) >= 11
    for row in rows[1:]:  # the Markdown repeats the header row
        # The first cell names the row; each other cell starts on the same line, further right.
        anchor = _word(pages, row[0])
        line = sorted((w for p in pages for w in p.words if abs(w.cy - anchor.cy) < 0.01), key=lambda w: w.x0)
        x = anchor.x1
        for cell in row[1:]:
            first = next(w for w in line if w.x0 > x and (cell.startswith(w.text) or w.text.startswith(cell)))
            x = first.x0
    page = pages[0]
    assert any(r.horizontal for r in page.rules) and any(not r.horizontal for r in page.rules)


def test_external_page_size_from_section(external: Path) -> None:
    pages = read_docx((external / "docx" / "test_file_two_pages_international.docx").read_bytes(), LIMITS)
    assert (round(pages[0].width, 1), round(pages[0].height, 1)) == (595.3, 841.9)  # 11906 × 16838 twips
    first = pages[0].words[0]
    assert first.x0 == pytest.approx(1134 / 20)  # left margin
    assert len(pages) == 2  # overflow starts a new page


# --- a form made with python-docx --------------------------------------------------------------


def _label_value_docx() -> bytes:
    doc = docx.Document()
    doc.add_paragraph("渋川市ふるさと応援寄附金　返礼品提供申込書").alignment = WD_ALIGN_PARAGRAPH.CENTER
    date = doc.add_paragraph("令和7年4月1日")
    date.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    table = doc.add_table(rows=3, cols=2)
    table.style = "Table Grid"
    for row, (label, value) in zip(
        table.rows,
        [("商品名", "上州りんごジュース"), ("寄附金額", "12,000 円"), ("商品の説明・特徴", "長い説明 " * 30)],
        strict=True,
    ):
        row.cells[0].text = label
        row.cells[1].text = value
    doc.add_paragraph("以上").runs[0].font.size = Pt(20)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_label_and_value_on_the_same_line() -> None:
    pages = read_docx(_label_value_docx(), LIMITS)
    assert len(pages) == 1
    for label, value in [("商品名", "上州りんごジュース"), ("寄附金額", "12,000")]:
        lw, vw = _word(pages, label), _word(pages, value)
        assert lw.cy == pytest.approx(vw.cy)
        assert vw.x0 > lw.x1
    # The ruled lines of the row lie above and below the words, the column line between them.
    page = pages[0]
    lw, vw = _word(pages, "寄附金額"), _word(pages, "12,000")
    assert any(r.horizontal and r.y0 < lw.y0 and r.x0 <= lw.x0 and r.x1 >= vw.x1 for r in page.rules)
    assert any(r.horizontal and r.y0 > lw.y1 and r.x0 <= lw.x0 and r.x1 >= vw.x1 for r in page.rules)
    assert any(not r.horizontal and lw.x1 < r.x0 < vw.x0 and r.y0 < lw.y0 < lw.y1 < r.y1 for r in page.rules)


def test_long_cell_text_wraps_inside_its_cell() -> None:
    pages = read_docx(_label_value_docx(), LIMITS)
    label = _word(pages, "商品の説明・特徴")
    lines = [w for w in pages[0].words if w.text == "長い説明"]
    assert len({round(w.cy, 2) for w in lines}) > 1  # several lines
    assert min(w.cy for w in lines) == pytest.approx(label.cy)  # top-aligned with the label
    right = max(w.x1 for w in lines)
    assert right <= pages[0].width - 72 + 1
    assert min(w.x0 for w in lines) > label.x1


def test_alignment_and_run_size() -> None:
    pages = read_docx(_label_value_docx(), LIMITS)
    page = pages[0]
    date = _word(pages, "令和7年4月1日")
    assert date.x1 == pytest.approx(page.width - 90, abs=1)  # python-docx's default right margin: 1.25"
    title = page.words[0]
    assert abs((title.x0 + title.x1) / 2 - page.width / 2) < page.width / 4
    assert _word(pages, "以上").height == pytest.approx(20)


# --- hand-built WordprocessingML -------------------------------------------------------------------


def _sdt_checkbox(checked: str, glyph: str, tag: str) -> str:
    return (
        f'<w:sdt><w:sdtPr><w:tag w:val="{tag}"/><w14:checkbox><w14:checked w14:val="{checked}"/>'
        '<w14:checkedState w14:val="2612" w14:font="MS Gothic"/>'
        '<w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/>'
        f"</w14:checkbox></w:sdtPr><w:sdtContent><w:r><w:t>{glyph}</w:t></w:r></w:sdtContent></w:sdt>"
    )


def test_content_control_checkboxes(docx_from_body: BuildDocx) -> None:
    body = (
        '<w:p><w:r><w:t xml:space="preserve">流通温度帯 </w:t></w:r>'
        + _sdt_checkbox("1", "☒", "ambient")
        + '<w:r><w:t xml:space="preserve">常温 </w:t></w:r>'
        + _sdt_checkbox("0", "☒", "chilled")
        + '<w:r><w:t xml:space="preserve">冷蔵 </w:t></w:r>'
        + _sdt_checkbox("true", "□", "frozen")
        + "<w:r><w:t>冷凍</w:t></w:r></w:p>"
    )
    [page] = read_docx(docx_from_body(body), LIMITS)
    assert [w.text for w in page.words] == ["流通温度帯", "☑", "常温", "☐", "冷蔵", "☑", "冷凍"]
    assert len({round(w.cy, 3) for w in page.words}) == 1
    values = {fv.name: fv.value for fv in page.form_values}
    assert values == {"ambient": True, "chilled": False, "frozen": True}
    box = next(fv.bbox for fv in page.form_values if fv.name == "ambient")
    glyph = page.words[1]
    assert box == pytest.approx((glyph.x0, glyph.y0, glyph.x1, glyph.y1))


def test_legacy_checkbox_fields_and_typed_marks(docx_from_body: BuildDocx) -> None:
    def legacy(inner: str) -> str:
        return (
            '<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Check1"/>'
            f"<w:checkBox>{inner}</w:checkBox></w:ffData></w:fldChar></w:r>"
            '<w:r><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        )

    body = (
        "<w:p>" + legacy('<w:sizeAuto/><w:default w:val="0"/><w:checked/>') + "<w:r><w:t>あり</w:t></w:r></w:p>"
        "<w:p>" + legacy('<w:default w:val="0"/>') + "<w:r><w:t>なし</w:t></w:r></w:p>"
        "<w:p>"
        + legacy('<w:default w:val="1"/><w:checked w:val="0"/>')
        + "<w:r><w:t>不明</w:t></w:r></w:p>"
        + _p("✓ 卵　■ 乳　✔ 小麦　☒ そば")
        + '<w:p><w:r><w:sym w:font="Wingdings" w:char="F0FE"/><w:t>えび</w:t></w:r></w:p>'
    )
    pages = read_docx(docx_from_body(body), LIMITS)
    # Checkbox fields are words of their own; marks typed by the user stay as typed.
    assert _texts(pages) == [
        "☑",
        "あり",
        "☐",
        "なし",
        "☐",
        "不明",
        "✓",
        "卵",
        "■",
        "乳",
        "✔",
        "小麦",
        "☒",
        "そば",
        "☑えび",
    ]


def test_legacy_text_field_value(docx_from_body: BuildDocx) -> None:
    body = (
        '<w:p><w:r><w:t xml:space="preserve">担当者氏名 </w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="begin">'
        '<w:ffData><w:name w:val="Person"/><w:textInput/></w:ffData></w:fldChar></w:r>'
        '<w:r><w:instrText xml:space="preserve"> FORMTEXT </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        "<w:r><w:t>渋川 太郎</w:t></w:r>"
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    )
    [page] = read_docx(docx_from_body(body), LIMITS)
    assert [w.text for w in page.words] == ["担当者氏名", "渋川", "太郎"]
    [fv] = page.form_values
    assert (fv.name, fv.value) == ("Person", "渋川 太郎")
    assert fv.bbox is not None and fv.bbox[0] == pytest.approx(page.words[1].x0)


def test_content_control_text_and_placeholder(docx_from_body: BuildDocx) -> None:
    body = (
        '<w:p><w:r><w:t xml:space="preserve">名称 </w:t></w:r>'
        '<w:sdt><w:sdtPr><w:alias w:val="名称"/><w:tag w:val="applicant_name"/></w:sdtPr>'
        "<w:sdtContent><w:r><w:t>株式会社しぶかわ</w:t></w:r></w:sdtContent></w:sdt></w:p>"
        '<w:p><w:r><w:t xml:space="preserve">所在地 </w:t></w:r>'
        '<w:sdt><w:sdtPr><w:tag w:val="address"/><w:showingPlcHdr/></w:sdtPr>'
        "<w:sdtContent><w:r><w:t>ここをクリックして入力</w:t></w:r></w:sdtContent></w:sdt></w:p>"
    )
    [page] = read_docx(docx_from_body(body), LIMITS)
    assert [w.text for w in page.words] == ["名称", "株式会社しぶかわ", "所在地"]
    values = {fv.name: fv.value for fv in page.form_values}
    assert values == {"applicant_name": "株式会社しぶかわ", "address": None}


def test_text_boxes_are_read_once(docx_from_body: BuildDocx) -> None:
    textbox = (
        '<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:wsp><wps:txbx><w:txbxContent>'
        + _p("様式第1号")
        + "</w:txbxContent></wps:txbx></wps:wsp></w:drawing></mc:Choice>"
        + "<mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent>"
        + _p("様式第1号")
        + "</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    )
    body = f"<w:p>{textbox}<w:r><w:t>申込書</w:t></w:r></w:p>"
    pages = read_docx(docx_from_body(body), LIMITS)
    assert _texts(pages) == ["申込書", "様式第1号"]


def test_page_breaks_and_overflow(docx_from_body: BuildDocx) -> None:
    body = (
        _p("一枚目")
        + '<w:p><w:r><w:t>前</w:t><w:br w:type="page"/><w:t>後</w:t></w:r></w:p>'
        + _p("改ページ前", "<w:pPr><w:pageBreakBefore/></w:pPr>")
        + "".join(_p(f"行{i}") for i in range(60))
    )
    pages = read_docx(docx_from_body(body), LIMITS)
    where = {w.text: p.number for p in pages for w in p.words}
    assert where["一枚目"] == where["前"] == 1
    assert where["後"] == 2
    assert where["改ページ前"] == 3
    assert where["行59"] == 4  # 60 lines of 15.75 pt do not fit in one A4 page
    for page in pages:
        assert all(w.y1 <= page.height - 72 + 0.01 for w in page.words)
    with pytest.raises(TooManyPages):
        read_docx(docx_from_body(body), Limits(max_pages=2))


def test_section_size_and_margins(docx_from_body: BuildDocx) -> None:
    body = _p("横向き") + (
        '<w:sectPr><w:pgSz w:w="16838" w:h="11906" w:orient="landscape"/>'
        '<w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1701"/></w:sectPr>'
    )
    [page] = read_docx(docx_from_body(body), LIMITS)
    assert (page.width, page.height) == pytest.approx((841.9, 595.3))
    word = page.words[0]
    assert word.x0 == pytest.approx(1701 / 20)
    assert word.y0 > 1134 / 20


def _tc(content: str, pr: str = "") -> str:
    return f"<w:tc><w:tcPr>{pr}</w:tcPr>{content}</w:tc>"


def test_spans_merges_and_nested_tables(docx_from_body: BuildDocx) -> None:
    nested = (
        '<w:tbl><w:tblGrid><w:gridCol w:w="1500"/><w:gridCol w:w="1500"/></w:tblGrid>'
        f"<w:tr>{_tc(_p('電話番号'))}{_tc(_p('0279-22-2111'))}</w:tr></w:tbl>"
    )
    span3, restart, cont = '<w:gridSpan w:val="3"/>', '<w:vMerge w:val="restart"/>', "<w:vMerge/>"
    body = (
        '<w:tbl><w:tblGrid><w:gridCol w:w="2000"/><w:gridCol w:w="3000"/><w:gridCol w:w="3000"/></w:tblGrid>'
        f"<w:tr>{_tc(_p('見出し'), span3)}</w:tr>"
        f"<w:tr>{_tc(_p('連絡先'), restart)}{_tc(_p('所属'))}{_tc(_p('観光課'))}</w:tr>"
        f"<w:tr>{_tc(_p(''), cont)}{_tc(_p('連絡'))}{_tc(nested + _p(''))}</w:tr>"
        "</w:tbl>"
    )
    [page] = read_docx(docx_from_body(body), LIMITS)
    head, contact, dept = _word([page], "見出し"), _word([page], "連絡先"), _word([page], "観光課")
    phone_label, phone = _word([page], "電話番号"), _word([page], "0279-22-2111")
    # gridSpan: the heading's cell runs across all three columns.
    assert any(r.horizontal and r.x0 == pytest.approx(72) and r.x1 == pytest.approx(72 + 400) for r in page.rules)
    assert contact.cy == pytest.approx(dept.cy) and dept.x0 > contact.x1 and head.cy < contact.cy
    # The nested row is one line of its cell.
    assert phone_label.cy == pytest.approx(phone.cy) and phone.x0 > phone_label.x1
    # No border between the two parts of the merged 連絡先 cell.
    row3_top = min(r.y0 for r in page.rules if r.horizontal and r.y0 > contact.y1)
    assert not any(r.horizontal and r.y0 == row3_top and r.x0 == pytest.approx(72) for r in page.rules)
    assert any(r.horizontal and r.y0 == row3_top and r.x0 == pytest.approx(172) for r in page.rules)


# --- broken packages ---------------------------------------------------------------------------


def test_missing_main_document(docx_from_body: BuildDocx) -> None:
    data = docx_from_body(_p("x"))
    buf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            if item.filename != "word/document.xml":
                dst.writestr(item, src.read(item))
    with pytest.raises(CorruptFile):
        read_docx(buf.getvalue(), LIMITS)


def test_broken_xml(docx_from_body: BuildDocx) -> None:
    with pytest.raises(CorruptFile):
        read_docx(docx_from_body("", document="<w:document><w:body><w:p>"), LIMITS)


def test_external_entities_are_not_resolved(docx_from_body: BuildDocx, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET", encoding="utf-8")
    document = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        "<w:p><w:r><w:t>A&xxe;B</w:t></w:r></w:p></w:body></w:document>"
    )
    try:
        pages = read_docx(docx_from_body("", document=document), LIMITS)
    except CorruptFile:
        return
    assert "TOPSECRET" not in "".join(_texts(pages))
