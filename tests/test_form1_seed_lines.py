"""様式第1号 prints every line seed 004 prints (issue 23): 時期限定（　頃～　頃） in rows 9-10,
梱包重量　kg　サイズ in row 17 and ウェブサイト ☐有 ☐無 in row 19, in the blank DOCX, the fillable
PDF and (tests/test_web_supplier.py) the web form, from the one declaration in the catalogue.

Guided fields (``FieldDecl.guide``): the value is the guide with its blanks filled in; the
blank forms print the guide's words and leave a blank (a DOCX cell, a PDF field) at each ``{}``.
"""

from __future__ import annotations

import io
import re
import subprocess
import unicodedata
from pathlib import Path

import pdfplumber
import pytest
from docx import Document
from PIL import Image
from pydantic import ValidationError
from pypdf import PdfReader

from extract.pipeline import extract_files
from forms.catalogue import get_form
from forms.schema import FieldDecl, FormDecl, guide_pattern
from generate.blank_forms import TableSpec, blank_docx, blank_pdf, build_layout, guide_span, widget_name
from generate.fill import fill_docx, fill_pdf

FORM1 = get_form("shibukawa.form1")
GUIDED = ("supply_period_detail", "acceptance_period_detail", "package_size_weight")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.fixture(scope="module")
def blank() -> bytes:
    return blank_pdf(FORM1)


def _pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def _table_rows(data: bytes) -> dict[str, list[str]]:
    """Each table row's cell texts (merged cells once) by its first cell."""
    doc = Document(io.BytesIO(data))
    rows: dict[str, list[str]] = {}
    for row in doc.tables[0].rows:
        texts = [c.text for c in row.cells]
        cells = [t for n, t in enumerate(texts) if n == 0 or row.cells[n]._tc is not row.cells[n - 1]._tc]
        rows.setdefault(cells[0] if cells[0] != "19 担当者連絡先" else f"19 {cells[1]}", cells)
    return rows


# --- the declaration -----------------------------------------------------------------------


def test_the_declaration_of_the_seeds_lines() -> None:
    f = FORM1.field
    for key in ("supply_period_detail", "acceptance_period_detail"):
        assert (f(key).prefix, f(key).guide, f(key).suffix) == ("（", "{}頃～{}頃", "）")
        assert f(key).guide_words() == ("", "頃～", "頃") and f(key).blanks() == 2
    assert f("package_size_weight").guide_words() == ("梱包重量", "kg　", "サイズ")
    website = f("contact_website_present")
    assert website.type == "bool" and website.label == "ウェブサイト"
    assert [(c.value, c.label) for c in website.choices] == [(True, "有"), (False, "無")]
    # in the seed's order: メールアドレス, ウェブサイト, ウェブサイトURL
    keys = FORM1.keys()
    assert keys.index("contact_email") + 1 == keys.index("contact_website_present") == keys.index("contact_website_url") - 1


def test_a_guided_value_is_split_into_its_blanks_and_joined_back() -> None:
    period = FORM1.field("supply_period_detail")
    assert period.split_guided("4月上旬頃～8月下旬頃") == ["4月上旬", "8月下旬"]
    assert period.split_guided("４月上旬 頃 ~ 8月下旬頃") == ["4月上旬", "8月下旬"]  # as read: NFKC, spaces
    assert period.split_guided("頃～8月下旬頃") == ["", "8月下旬"]
    assert period.split_guided("春季限定") is None and period.split_guided("4月～8月") is None
    assert period.join_guided(["4月上旬", " 8月下旬 "]) == "4月上旬頃～8月下旬頃"
    assert period.join_guided(["", ""]) == ""
    package = FORM1.field("package_size_weight")
    assert package.split_guided("梱包重量1.2 kg 60サイズ") == ["1.2", "60"]
    assert package.split_guided("60サイズ・1.2kg") is None
    assert package.join_guided(["1.2", "60"]) == "梱包重量1.2kg　60サイズ"
    plain = FORM1.field("product_name")
    assert plain.guide is None and plain.blanks() == 1 and plain.split_guided("x") == ["x"]


def test_a_value_read_with_spaces_is_tidied_to_the_guide_filled_in() -> None:
    period, package = FORM1.field("supply_period_detail"), FORM1.field("package_size_weight")
    assert period.tidy_guided("4月上旬 頃~ 8月下旬 頃") == "4月上旬頃~8月下旬頃"
    assert period.tidy_guided("4月上旬頃～8月下旬頃") == "4月上旬頃~8月下旬頃"  # NFKC, as read
    assert period.tidy_guided("春季 限定") == "春季 限定" and period.tidy_guided(None) is None
    assert package.tidy_guided("梱包重量 1.2 kg 60 サイズ") == "梱包重量1.2kg 60サイズ"
    assert FORM1.field("product_name").tidy_guided("渋川 牛") == "渋川 牛"


def test_records_take_guided_values_tidied() -> None:
    """``extract --json`` output read as a record (generate/records.py): a guided value read
    from a PDF's text is the one read from the DOCX."""
    from generate.records import record_from_json

    field = {"confidence": 1.0, "page": 1, "bbox": [0, 0, 1, 1], "source": "text", "review": False}
    extracted = {"documents": [{"form": "shibukawa.form1", "fields": {
        "acceptance_period_detail": {**field, "value": "11月上旬 頃~ 12月下旬 頃"},
        "package_size_weight": {**field, "value": "梱包重量 1.2 kg 60 サイズ"},
        "product_name": {**field, "value": "上州 和牛"},
    }, "checks": []}]}
    record = record_from_json(extracted)
    assert record["acceptance_period_detail"] == "11月上旬頃~12月下旬頃"
    assert record["package_size_weight"] == "梱包重量1.2kg 60サイズ"
    assert record["product_name"] == "上州 和牛"
    assert record["forms"]["shibukawa.form1"]["package_size_weight"] == "梱包重量1.2kg 60サイズ"
    plain = record_from_json({"form": "shibukawa.form1", "fields": {"package_size_weight": "梱包重量 1.2 kg 60 サイズ"}})
    assert plain["package_size_weight"] == "梱包重量1.2kg 60サイズ"


def test_the_guides_words_alone_are_no_value() -> None:
    """The pattern a guided field is given: a form left blank prints 頃～　頃 in the brackets,
    which is no value (group 1 empty), whatever the spaces or the wave dash read."""
    pattern = FORM1.field("supply_period_detail").pattern
    assert pattern == guide_pattern("{}頃～{}頃")
    for bare in ("頃~頃", "頃 ~ 頃", "頃〜頃", "頃ー頃"):
        assert re.search(pattern, bare).group(1) == "", bare
    for value in ("4月上旬 頃~ 8月下旬 頃", "頃~ 8月下旬 頃", "春季限定"):
        assert re.search(pattern, value).group(1) == value
    package = FORM1.field("package_size_weight").pattern
    assert re.search(package, "梱包重量 kg サイズ").group(1) == ""
    assert re.search(package, "梱包重量 1.2 kg 60 サイズ").group(1) == "梱包重量 1.2 kg 60 サイズ"
    # a pattern given in the declaration is kept
    assert FieldDecl(key="x", guide="{}頃", pattern="(.+)").pattern == "(.+)"


@pytest.mark.parametrize(
    "decl",
    [
        {"key": "x", "type": "yen", "guide": "{}円"},
        {"key": "x", "multiline": True, "guide": "{}頃"},
        {"key": "x", "guide": "頃"},
        {"key": "x", "guide": "{}{}頃"},
        {"key": "x", "guide": "{0}頃"},
    ],
)
def test_a_guide_is_refused_where_it_cannot_be_printed(decl: dict) -> None:
    with pytest.raises(ValidationError, match="guide"):
        FieldDecl(**decl)


def test_a_guide_is_printed_in_a_table_row_only() -> None:
    with pytest.raises(ValidationError, match="table row"):
        FormDecl(
            id="x.form1", title="t",
            sections=[{"layout": "lines", "rows": [{"label": "期間", "fields": [{"key": "p", "guide": "{}頃"}]}]}],
        )


# --- the blank DOCX ------------------------------------------------------------------------


def test_the_blank_docx_prints_the_seeds_lines() -> None:
    rows = _table_rows(blank_docx(FORM1))
    assert rows["9 提供可能期間"] == ["9 提供可能期間", "☐ 通年　☐ 時期限定", "（", "", "頃～", "", "頃", "）"]
    assert rows["10 申込受付期間"] == ["10 申込受付期間", "☐ 通年　☐ 時期限定", "（", "", "頃～", "", "頃", "）"]
    assert rows["17 梱包サイズ・梱包重量"] == ["17 梱包サイズ・梱包重量", "梱包重量", "", "kg", "", "サイズ"]
    assert rows["19 ウェブサイト"] == ["19 担当者連絡先", "ウェブサイト", "☐ 有　☐ 無"]
    assert rows["19 ウェブサイトURL"] == ["19 担当者連絡先", "ウェブサイトURL", ""]


def test_a_blank_is_right_aligned_against_the_word_after_it() -> None:
    """What is written in a blank stands against its 頃 / kg / サイズ, as a person writes it."""
    layout = build_layout(FORM1)
    table = next(b for b in layout.blocks if isinstance(b, TableSpec))
    blanks = [c for line in table.lines for c in line.cells if c.kind == "value" and c.field.key in GUIDED]
    assert len(blanks) == 6
    assert all(c.cell.paragraphs[0].alignment == 2 for c in blanks)


# --- the fillable PDF ----------------------------------------------------------------------


def test_the_fillable_pdf_prints_the_seeds_lines(blank: bytes) -> None:
    text = _squash(_pdf_text(blank))
    assert text.count("☐通年☐時期限定(頃~頃)") == 2
    assert "17梱包サイズ・梱包" in text and "梱包重量kgサイズ" in text
    assert "ウェブサイト☐有☐無" in text and "ウェブサイトURL" in text


def test_the_blanks_fields_lie_between_the_words_on_their_line(blank: bytes) -> None:
    """One text field a blank, none over the printed words (which test_blank_forms checks for
    every field), each the height of the words' line and on it: typed text stands beside 頃～."""
    reader = PdfReader(io.BytesIO(blank))
    fields = reader.get_fields()
    with pdfplumber.open(io.BytesIO(blank)) as pdf:
        for key, words in (("supply_period_detail", ["（", "頃～", "頃", "）"]), ("package_size_weight", ["梱包重量", "kg", "サイズ"])):
            f = FORM1.field(key)
            assert key in fields and "/Kids" in fields[key] and "/V" not in fields[key]
            rects = []
            for n in range(f.blanks()):
                name = widget_name(f, part=n)
                assert fields[name]["/FT"] == "/Tx" and not fields[name].get("/V")
                [annot] = [
                    a.get_object() for page in reader.pages for a in page.get("/Annots", [])
                    if a.get_object().get("/T") == str(n + 1) and a.get_object()["/Parent"].get_object()["/T"] == key
                ]
                assert annot["/Q"] == 2 and annot["/TU"].startswith(("9 提供可能期間", "17 梱包サイズ"))
                rects.append([float(v) for v in annot["/Rect"]])
            page = next(p for p in pdf.pages if _squash(words[0] + words[1]) in _squash(p.extract_text() or ""))
            height = float(page.height)
            found = page.extract_words()
            mid = height - (rects[0][1] + rects[0][3]) / 2  # the blanks' line, from the top
            printed = []
            for word in words:  # each word as printed on the blanks' line (row 9 or 17)
                hits = [w for w in found if w["text"] == word and float(w["top"]) <= mid <= float(w["bottom"])]
                assert len(hits) == 1, (word, hits)
                printed += hits
            top = min(float(w["top"]) for w in printed)
            bottom = max(float(w["bottom"]) for w in printed)
            for x0, y0, x1, y1 in rects:  # on the words' line (within the row's rules), not the row's height
                assert height - y1 <= top + 1.5 and bottom <= height - y0 and (y1 - y0) < 2 * (bottom - top)
            # （ | blank | 頃～ | blank | 頃 ）   and   梱包重量 | blank | kg | blank | サイズ
            edges = [float(printed[0]["x1"]), rects[0][0], rects[0][2], float(printed[1]["x0"]),
                     float(printed[1]["x1"]), rects[1][0], rects[1][2], float(printed[2]["x0"])]
            assert edges == sorted(edges), (key, edges)


def test_the_website_boxes_are_fields(blank: bytes) -> None:
    fields = PdfReader(io.BytesIO(blank)).get_fields()
    assert fields["contact_website_present.true"]["/FT"] == "/Btn"
    assert fields["contact_website_present.false"]["/V"] == "/Off"
    assert fields["contact_website_present"]["/TU"] == "19 担当者連絡先 ウェブサイト"


def test_the_blank_forms_read_as_blank(tmp_path: Path, blank: bytes) -> None:
    """A guide's printed words are no answer: the blank DOCX and PDF give no value for the
    guided fields (DESIGN 4.2: a blank is never filled with other text from the page)."""
    (tmp_path / "blank.docx").write_bytes(blank_docx(FORM1))
    (tmp_path / "blank.pdf").write_bytes(blank)
    for name in ("blank.docx", "blank.pdf"):
        [doc] = extract_files([tmp_path / name]).documents
        assert doc.form == "shibukawa.form1"
        assert not {*GUIDED, "contact_website_present"} & set(doc.fields), name
        reasons = {m.field: m.reason for m in doc.missing}
        assert all(reasons[k] == "empty" for k in (*GUIDED, "contact_website_present")), reasons


# --- filling -------------------------------------------------------------------------------

FILLED = {
    "supply_period": "limited",
    "supply_period_detail": "4月上旬頃~8月下旬頃",
    "acceptance_period": "limited",
    "acceptance_period_detail": "春季限定",  # not in the guide's shape
    "package_size_weight": "梱包重量1.2kg 60サイズ",
    "contact_website_present": False,
}


def test_fill_docx_writes_a_part_a_blank_or_the_value_over_the_guide() -> None:
    rows = _table_rows(fill_docx(FORM1, FILLED))
    assert rows["9 提供可能期間"] == ["9 提供可能期間", "☐ 通年　☑ 時期限定", "（", "4月上旬", "頃～", "8月下旬", "頃", "）"]
    # written whole: the guide's words are taken out of the row
    assert rows["10 申込受付期間"] == ["10 申込受付期間", "☐ 通年　☑ 時期限定", "（", "春季限定", "", "", "", "）"]
    assert rows["17 梱包サイズ・梱包重量"] == ["17 梱包サイズ・梱包重量", "梱包重量", "1.2", "kg", "60", "サイズ"]
    assert rows["19 ウェブサイト"] == ["19 担当者連絡先", "ウェブサイト", "☐ 有　☑ 無"]
    rows = _table_rows(fill_docx(FORM1, {"package_size_weight": "60サイズ・1.2kg"}))
    assert rows["17 梱包サイズ・梱包重量"] == ["17 梱包サイズ・梱包重量", "", "60サイズ・1.2kg", "", "", ""]


def _ink(image: Image.Image, rect: list[float], page_height: float, scale: float) -> int:
    x0, y0, x1, y1 = rect
    box = (int(x0 * scale) + 1, int((page_height - y1) * scale) + 1, int(x1 * scale) - 1, int((page_height - y0) * scale) - 1)
    return sum(image.crop(box).histogram()[:128])


def test_fill_pdf_writes_a_part_a_blank_or_the_value_over_the_guide(tmp_path: Path, blank: bytes) -> None:
    filled = fill_pdf(FORM1, FILLED, blank=blank)
    reader = PdfReader(io.BytesIO(filled))
    fields = reader.get_fields()
    period, accept = FORM1.field("supply_period_detail"), FORM1.field("acceptance_period_detail")
    assert [fields[widget_name(period, part=n)]["/V"] for n in range(2)] == ["4月上旬", "8月下旬"]
    assert [fields[widget_name(FORM1.field("package_size_weight"), part=n)]["/V"] for n in range(2)] == ["1.2", "60"]
    assert fields["contact_website_present.false"]["/V"] == "/Yes"
    # 春季限定: the first blank's field spans the guide's blanks and words, on a white ground;
    # the second is hidden
    annots = {
        (a.get_object()["/Parent"].get_object()["/T"], a.get_object()["/T"]): a.get_object()
        for page in reader.pages for a in page.get("/Annots", []) if "/Parent" in a.get_object()
    }
    first, second = annots[("acceptance_period_detail", "1")], annots[("acceptance_period_detail", "2")]
    assert first["/V"] == "春季限定" and not second.get("/V")
    assert int(second["/F"]) & 2  # hidden
    assert list(first["/MK"]["/BG"]) == [1, 1, 1] and first["/Q"] == 0
    left, right = guide_span(FORM1, "acceptance_period_detail")
    x0, _, x1, _ = (float(v) for v in first["/Rect"])
    assert (x0, x1) == pytest.approx((left + 1.5, right - 1.5), abs=0.01)
    # drawn: no ink of the printed 頃～ / 頃 is left where the value is written over them
    path = tmp_path / "filled.pdf"
    path.write_bytes(filled)
    subprocess.run(["pdftoppm", "-r", "100", "-f", "1", "-l", "1", "-gray", "-png", str(path), str(tmp_path / "p")],
                   check=True, capture_output=True, timeout=60)
    [png] = sorted(tmp_path.glob("p-*.png"))
    image = Image.open(png).convert("L")
    height = float(reader.pages[0].mediabox.height)
    with pdfplumber.open(io.BytesIO(filled)) as pdf:
        words = [w for w in pdf.pages[0].extract_words() if w["text"] in ("頃～", "頃")]
    accept_words = [w for w in words if float(w["top"]) > min(float(v["top"]) for v in words) + 5]  # row 10's
    assert len(accept_words) == 2
    value_end = x0 + 2 + 4 * 10.5  # 春季限定 at 10.5 pt from the field's left
    for w in accept_words:
        assert float(w["x0"]) > value_end
        box = [float(w["x0"]), height - float(w["bottom"]), float(w["x1"]), height - float(w["top"])]
        assert _ink(image, box, height, 100 / 72) == 0, w["text"]


def test_filled_forms_read_back(tmp_path: Path, blank: bytes) -> None:
    """The guided values in the guide's shape come back from the filled DOCX and PDF, as the
    guide filled in once tidied (the spaces a page puts around the guide's words taken out;
    tests/test_roundtrip.py for every field)."""
    values = {k: v for k, v in FILLED.items() if k != "acceptance_period"} | {"acceptance_period": "year_round"}
    values.pop("acceptance_period_detail")
    (tmp_path / "filled.docx").write_bytes(fill_docx(FORM1, values))
    (tmp_path / "filled.pdf").write_bytes(fill_pdf(FORM1, values, blank=blank))
    for name in ("filled.docx", "filled.pdf"):
        [doc] = extract_files([tmp_path / name]).documents
        got = {k: FORM1.field(k).tidy_guided(doc.fields[k].value) for k in values if k in doc.fields}
        assert got == {k: FORM1.field(k).tidy_guided(v) for k, v in values.items()}, name
