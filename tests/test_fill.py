"""Filling the blank forms: DOCX typed in as a person would, and the fillable PDF with
appearances that render Japanese (checked by rendering with pdftoppm)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from docx import Document
from PIL import Image
from pypdf import PdfReader

from forms.catalogue import catalogue
from forms.errors import InvalidRecord
from forms.schema import FormDecl
from generate.blank_forms import BOX, TICKED, blank_pdfs, is_checkbox_field, widget_name
from generate.fill import fill_docx, fill_pdf, format_value, is_ticked
from generate.libreoffice import convert_to_pdf

BLANK_FORMS = [form for form in catalogue().values() if form.blank]
FORM_IDS = [form.id for form in BLANK_FORMS]

_SAMPLES: dict[str, Any] = {
    "date": "2026-04-01",
    "postal_code": "377-8501",
    "phone": "0279-22-2111",
    "email": "info@example.jp",
    "url": "https://example.jp/",
    "katakana": "シブカワ",
    "percent": 65.5,
}


def sample_values(form: FormDecl) -> dict[str, Any]:
    """A value for every field: distinct short Japanese texts, amounts, the last choice …"""
    values: dict[str, Any] = {}
    for n, f in enumerate(form.fields()):
        if f.type == "multi_choice":
            values[f.key] = [f.choices[0].value, f.choices[-1].value]
        elif f.type == "choice":
            values[f.key] = f.choices[-1].value
        elif f.type == "bool":
            values[f.key] = True
        elif f.type == "yen":
            values[f.key] = 12000 + n
        elif f.type == "int":
            values[f.key] = 500 + n
        elif f.type in _SAMPLES:
            values[f.key] = _SAMPLES[f.type]
        elif f.guide:  # the guide filled in: 記入9a頃～記入9b頃
            values[f.key] = f.join_guided([f"記入{n}{chr(97 + i)}" for i in range(f.blanks())])
        else:
            values[f.key] = f"記入{n}"
    return values


def _ticked(form: FormDecl, values: dict[str, Any]) -> int:
    return sum(
        1
        for f in form.fields()
        if is_checkbox_field(f)
        for c in (f.choices or (None,))
        if is_ticked(f, c, values.get(f.key))
    )


def _static_texts(form: FormDecl) -> list[str]:
    texts = [form.title, *(p for s in form.sections for p in s.paragraphs)]
    for row in form.rows():
        texts += [row.label, row.note or "", row.text or ""]
    return texts


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.fixture(scope="module")
def fillable() -> dict[str, bytes]:
    return blank_pdfs(BLANK_FORMS)


@pytest.fixture(scope="module")
def filled_docx_pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Every blank form filled with sample values as DOCX, converted in one LibreOffice start."""
    tmp = tmp_path_factory.mktemp("filled")
    sources = []
    for form in BLANK_FORMS:
        path = tmp / f"{form.id}.docx"
        path.write_bytes(fill_docx(form, sample_values(form)))
        sources.append(path)
    pdfs = convert_to_pdf(sources, tmp / "pdf")
    return {form.id: pdf.read_bytes() for form, pdf in zip(BLANK_FORMS, pdfs)}


# --- values as written ---------------------------------------------------------------------


def test_values_are_written_as_a_person_writes_them() -> None:
    form = catalogue()["shibukawa.form1"]
    f = form.field
    assert format_value(f("donation_amount"), 12000) == "12,000"
    assert format_value(f("donation_amount"), "12000") == "12,000"
    assert format_value(f("application_date"), "2026-04-01") == "令和8年4月1日"
    assert format_value(f("application_date"), date(2019, 5, 1)) == "令和元年5月1日"
    assert format_value(f("product_name"), "渋川牛") == "渋川牛"
    assert format_value(f("product_name"), None) == ""
    carriers, present = f("carriers"), f("allergens_present")
    assert is_ticked(carriers, carriers.choices[2], ["yamato"])
    assert not is_ticked(carriers, carriers.choices[0], ["yamato"])
    assert is_ticked(present, present.choices[1], False) and not is_ticked(present, present.choices[0], False)


def test_unknown_keys_and_choices_are_refused() -> None:
    form = catalogue()["shibukawa.form1"]
    with pytest.raises(InvalidRecord, match="no field"):
        fill_docx(form, {"no_such_field": "x"})
    with pytest.raises(InvalidRecord, match="temperature"):
        fill_docx(form, {"temperature": "hot"})
    with pytest.raises(InvalidRecord, match="carriers"):
        fill_pdf(form, {"carriers": ["yamato", "pigeon"]}, blank=b"unused")


# --- DOCX ----------------------------------------------------------------------------------


def test_fill_docx_types_into_the_value_cells_of_form1() -> None:
    form = catalogue()["shibukawa.form1"]
    data = fill_docx(
        form,
        {
            "application_date": date(2026, 4, 1),
            "applicant_address": "群馬県渋川市石原80番地",
            "product_name": "渋川牛ステーキ",
            "donation_amount": 12000,
            "gift_price_incl_tax": 3564,
            "ingredients_origin": "outside",
            "ingredients_origin_detail": "前橋市",
            "allergens_present": False,
            "allergens": ["卵", "りんご"],
            "carriers": ["yamato"],
            "contact_phone": "0279-22-2111",
        },
    )
    doc = Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    assert "令和8年4月1日" in texts
    assert "所在地：群馬県渋川市石原80番地" in texts
    table = doc.tables[0]
    rows = {tuple(dict.fromkeys(c.text for c in row.cells)) for row in table.rows}
    assert ("1 商品名", "商品名", "渋川牛ステーキ") in rows
    assert ("4 寄附金額", "12,000", "円") in rows
    assert ("5 返礼品の価格", "", "円（税抜）", "3,564", "円（税込）") in rows
    assert ("7 原材料（原産地）", "☐ 市内　☑ 市外", "（", "前橋市", "）") in rows
    assert ("13 運送便", "☐ ゆうパック　☐ 佐川急便　☑ ヤマト運輸") in rows
    assert any("☐ あり　☑ なし" in row for row in rows)
    grid_cells = [c.text for row in table.rows for c in row.cells if c.text.endswith((BOX, TICKED))]
    assert "卵 ☑" in grid_cells and "りんご ☑" in grid_cells and "乳 ☐" in grid_cells
    assert ("19 担当者連絡先", "電話番号", "0279-22-2111") in rows


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_filled_docx_converts_with_every_value(form_id: str, filled_docx_pdfs: dict[str, bytes]) -> None:
    form = catalogue()[form_id]
    values = sample_values(form)
    with pdfplumber.open(io.BytesIO(filled_docx_pdfs[form_id])) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    squashed = _squash(text)
    for f in form.fields():
        if not is_checkbox_field(f):
            written = format_value(f, values[f.key])
            assert _squash(written) in squashed, (f.key, written)
    printed = sum(t.count(TICKED) for t in _static_texts(form))  # 「☑ をつけてください」
    assert text.count(TICKED) == _ticked(form, values) + printed
    assert "令和8年4月1日" in squashed or not any(f.type == "date" for f in form.fields())


# --- PDF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_fill_pdf_sets_every_value(form_id: str, fillable: dict[str, bytes]) -> None:
    form = catalogue()[form_id]
    values = sample_values(form)
    reader = PdfReader(io.BytesIO(fill_pdf(form, values, blank=fillable[form_id])))
    fields = reader.get_fields()
    assert fields is not None
    for f in form.fields():
        if is_checkbox_field(f):
            for c in f.choices or (None,):
                expected = "/Yes" if is_ticked(f, c, values[f.key]) else "/Off"
                assert fields[widget_name(f, c)]["/V"] == expected, widget_name(f, c)
        elif f.guide:  # one part a blank
            parts = [fields[widget_name(f, part=n)]["/V"] for n in range(f.blanks())]
            assert f.join_guided(parts) == format_value(f, values[f.key]) and all(parts), f.key
        else:
            assert fields[f.key]["/V"] == format_value(f, values[f.key])
    acroform = reader.trailer["/Root"]["/AcroForm"]
    assert acroform["/NeedAppearances"] == False  # noqa: E712  our appearances are authoritative
    for page in reader.pages:
        for ref in page.get("/Annots", []):
            annot = ref.get_object()
            if annot.get("/FT") == "/Tx" and annot.get("/V"):
                appearance = annot["/AP"]["/N"].get_object()
                fonts = [f.get_object() for f in appearance["/Resources"]["/Font"].values()]
                embedded = [f for f in fonts if "/FontFile2" in f.get("/FontDescriptor", {})]
                assert embedded, annot["/T"]  # the Japanese font is embedded: renders anywhere
            elif annot.get("/FT") == "/Btn":
                assert annot["/AS"] == annot["/V"]


def _render(pdf: bytes, tmp: Path, name: str, dpi: int = 72) -> list[Image.Image]:
    path = tmp / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(path), str(tmp / name)],
        check=True, capture_output=True, timeout=60,
    )
    return [Image.open(p).convert("L") for p in sorted(tmp.glob(f"{name}-*.png"))]


def _dark(image: Image.Image, rect: tuple[float, ...], page_height: float) -> int:
    x0, y0, x1, y1 = rect
    box = (int(x0) + 1, int(page_height - y1) + 1, int(x1) - 1, int(page_height - y0) - 1)
    return sum(image.crop(box).histogram()[:128])


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
@pytest.mark.parametrize("form_id", ["shibukawa.form1", "shika.form1", "tateyama.form2"])
def test_filled_pdf_renders_japanese(form_id: str, fillable: dict[str, bytes]) -> None:
    """Rendered by poppler, every filled field shows ink where the blank showed none, and every
    ticked box more ink than before; pypdf reads the Japanese values back."""
    if form_id not in catalogue():
        pytest.skip(f"{form_id} is not in the catalogue")
    form = catalogue()[form_id]
    values = sample_values(form)
    values.update({f.key: "渋川牛ステーキ詰合せ" for f in form.fields() if f.type == "text" and not f.prefix and not f.guide})
    filled = fill_pdf(form, values, blank=fillable[form_id])
    with tempfile.TemporaryDirectory() as tmp:
        blank_pages = _render(fillable[form_id], Path(tmp), "blank")
        filled_pages = _render(filled, Path(tmp), "filled")
    reader = PdfReader(io.BytesIO(filled))
    checked = 0
    for index, page in enumerate(reader.pages):
        height = float(page.mediabox.height)
        for ref in page.get("/Annots", []):
            annot = ref.get_object()
            rect = tuple(float(v) for v in annot["/Rect"])
            before = _dark(blank_pages[index], rect, height)
            after = _dark(filled_pages[index], rect, height)
            if annot.get("/FT") == "/Tx" and annot.get("/V"):
                if "/BG" in annot["/MK"]:  # the date replaces the printed template
                    assert after > 20, annot["/T"]
                else:
                    assert before == 0 and after > 20, (annot["/T"], before, after)
                checked += 1
            elif annot.get("/AS") == "/Yes":
                assert after > before + 3, (annot.get("/T"), before, after)
                checked += 1
    assert checked >= len([k for k, v in values.items() if v not in (None, "", [])])
    read_back = reader.get_fields()
    assert read_back is not None
    japanese = [f for f in form.fields() if f.type == "text" and not f.prefix and not f.guide]
    assert japanese and all(read_back[f.key]["/V"] == "渋川牛ステーキ詰合せ" for f in japanese)
    for f in (f for f in form.fields() if f.guide):  # 記入9a, 記入9b: a blank each
        assert [read_back[widget_name(f, part=n)]["/V"] for n in range(f.blanks())] == f.split_guided(values[f.key])


def test_fill_pdf_leaves_unfilled_fields_empty(fillable: dict[str, bytes]) -> None:
    form = catalogue()["shibukawa.form1"]
    reader = PdfReader(io.BytesIO(fill_pdf(form, {"product_name": "渋川牛", "temperature": None}, blank=fillable[form.id])))
    fields = reader.get_fields()
    assert fields["product_name"]["/V"] == "渋川牛"
    assert not fields["product_description"].get("/V")
    assert all(fields[widget_name(form.field("temperature"), c)]["/V"] == "/Off" for c in form.field("temperature").choices)
