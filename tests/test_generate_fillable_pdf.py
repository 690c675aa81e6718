"""The fillable 様式第1号 in real viewers (issue 23 (2)).

The blank PDF is filled the way others fill it, then drawn by poppler (pdftoppm) and PDFium
(pypdfium2, the engine of Chrome's and Edge's viewers):

- filled with pypdf (``update_page_form_field_values``, its own appearance streams), and
- typed into PDFium's form filler, as a person types in Chrome,

and each time the typed Japanese must show (ink where the glyphs are, in both renderers) and
read back equal (the appearance flattened into the page by PDFium, then its text). The blank's
date widget must leave the printed 「令和　年　月　日」 visible until a date is typed.
"""

from __future__ import annotations

import ctypes
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from forms.catalogue import get_form
from generate.blank_forms import blank_pdf
from generate.fonts import japanese_font_file

pdfium = pytest.importorskip("pypdfium2")
pdfium_c = pytest.importorskip("pypdfium2.raw")

VALUES = {
    "application_date": "令和8年4月1日",
    "applicant_name": "株式会社渋川フーズ",
    "product_name": "上州和牛すき焼きセット（髙橋牧場）",
    "applicant_address": "群馬県渋川市石原80番地",
}
SCALE = 2.0  # pixels per point


@pytest.fixture(scope="module")
def blank() -> bytes:
    return blank_pdf(get_form("shibukawa.form1"))


def _rects(pdf: bytes) -> dict[str, tuple[float, float, float, float]]:
    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(pdf)).pages[0]
    out = {}
    for ref in page.get("/Annots") or []:
        annot = ref.get_object()
        name = str(annot.get("/T", ""))
        if name in VALUES:
            x0, y0, x1, y1 = (float(v) for v in annot["/Rect"])
            out[name] = (x0, y0, x1, y1)
    assert set(out) == set(VALUES)
    return out


def _page_height(pdf: bytes) -> float:
    from pypdf import PdfReader

    return float(PdfReader(io.BytesIO(pdf)).pages[0].mediabox.height)


def _crop_ink(image: Image.Image, rect: tuple[float, float, float, float], height: float) -> int:
    """Dark pixels inside a widget's rectangle (PDF points, origin bottom left)."""
    x0, y0, x1, y1 = rect
    box = (int(x0 * SCALE) + 2, int((height - y1) * SCALE) + 2, int(x1 * SCALE) - 2, int((height - y0) * SCALE) - 2)
    gray = image.convert("L").crop(box)
    return int(sum(gray.point(lambda p: 255 if p < 128 else 0).histogram()[255:]))


def _changed(image: Image.Image, before: Image.Image, rect: tuple[float, float, float, float], height: float) -> int:
    """Pixels inside the rectangle that turned from light to dark or back since the blank."""
    from PIL import ImageChops

    x0, y0, x1, y1 = rect
    box = (int(x0 * SCALE) + 2, int((height - y1) * SCALE) + 2, int(x1 * SCALE) - 2, int((height - y0) * SCALE) - 2)
    a = image.convert("L").crop(box).point(lambda p: 255 if p < 128 else 0)
    b = before.convert("L").crop(box).point(lambda p: 255 if p < 128 else 0)
    return int(sum(ImageChops.difference(a, b).histogram()[255:]))


def _poppler(pdf: bytes, tmp: Path, name: str) -> Image.Image:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed")
    src = tmp / f"{name}.pdf"
    src.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(int(72 * SCALE)), "-png", "-f", "1", "-l", "1", "-singlefile", str(src), str(tmp / name)],
        check=True,
        timeout=60,
    )
    return Image.open(tmp / f"{name}.png")


def _pdfium(pdf: bytes, *, forms: bool = True) -> Image.Image:
    """PDFium's drawing of page 1 with its form filler on, as Chrome and Edge show a form."""
    doc = pdfium.PdfDocument(pdf)
    if forms:
        doc.init_forms()
    image: Image.Image = doc[0].render(scale=SCALE, may_draw_forms=forms).to_pil()
    return image


def _flattened_text(pdf: bytes, tmp: Path) -> dict[str, str]:
    """PDFium flattens the widgets' appearances into the page; the page's text as PDFium and
    poppler (pdftotext) read it back, spaces removed."""
    doc = pdfium.PdfDocument(pdf)
    page = doc[0]
    assert pdfium_c.FPDFPage_Flatten(page.raw, pdfium_c.FLAT_PRINT) == pdfium_c.FLATTEN_SUCCESS
    out = io.BytesIO()
    doc.save(out)
    flat = tmp / "flat.pdf"
    flat.write_bytes(out.getvalue())
    texts = {"pdfium": pdfium.PdfDocument(out.getvalue())[0].get_textpage().get_text_range()}
    if shutil.which("pdftotext"):
        texts["poppler"] = subprocess.run(
            ["pdftotext", "-f", "1", "-l", "1", str(flat), "-"], capture_output=True, check=True, timeout=60
        ).stdout.decode("utf-8")
    return {name: "".join(text.split()) for name, text in texts.items()}


def _assert_values_show(filled: bytes, blank: bytes, tmp: Path, name: str) -> None:
    rects = _rects(filled)
    height = _page_height(filled)
    renders = {
        "poppler": (_poppler(filled, tmp, name), _poppler(blank, tmp, f"{name}-blank")),
        "pdfium": (_pdfium(filled, forms=True), _pdfium(blank, forms=True)),
    }
    for renderer, (image, empty) in renders.items():
        for key, rect in rects.items():
            # glyphs drawn where the blank had none (or, on the date line, its 令和 年 月 日)
            ink, changed = _crop_ink(image, rect, height), _changed(image, empty, rect, height)
            assert ink > 30 * len(VALUES[key]) and changed > 30 * len(VALUES[key]), (renderer, key, ink, changed)
    before = _flattened_text(blank, tmp)
    for reader, text in _flattened_text(filled, tmp).items():
        for key, value in VALUES.items():
            squashed = "".join(value.split())
            assert squashed in text and squashed not in before[reader], (reader, key, text)


def test_filled_with_pypdf_shows_in_poppler_and_pdfium(blank: bytes, tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(blank)))
    writer.update_page_form_field_values(writer.pages[0], VALUES, auto_regenerate=False)
    out = io.BytesIO()
    writer.write(out)
    _assert_values_show(out.getvalue(), blank, tmp_path, "pypdf")


def _type_into(doc: Any, rects: dict[str, tuple[float, float, float, float]]) -> None:
    """Click each field and type its value with PDFium's form filler (what Chrome does)."""
    page = doc[0]
    handle = doc.formenv.raw
    for key, (x0, y0, x1, y1) in rects.items():
        x, y = (x0 + x1) / 2, (y0 + y1) / 2
        pdfium_c.FORM_OnMouseMove(handle, page.raw, 0, x, y)
        pdfium_c.FORM_OnLButtonDown(handle, page.raw, 0, x, y)
        pdfium_c.FORM_OnLButtonUp(handle, page.raw, 0, x, y)
        data = (VALUES[key] + "\0").encode("utf-16-le")
        buffer = ctypes.create_string_buffer(data, len(data))
        pdfium_c.FORM_ReplaceSelection(handle, page.raw, ctypes.cast(buffer, pdfium_c.FPDF_WIDESTRING))
        pdfium_c.FORM_ForceToKillFocus(handle)


def test_typed_in_pdfium_shows_in_pdfium_and_poppler(blank: bytes, tmp_path: Path) -> None:
    rects = _rects(blank)
    doc = pdfium.PdfDocument(blank)
    doc.init_forms()
    _type_into(doc, rects)
    # what the person sees while filling in (PDFium drawing its form)
    live = doc[0].render(scale=SCALE, may_draw_forms=True).to_pil()
    empty = _pdfium(blank, forms=True)
    height = _page_height(blank)
    for key, rect in rects.items():
        assert _crop_ink(live, rect, height) > 30 * len(VALUES[key]), key
        assert _changed(live, empty, rect, height) > 30 * len(VALUES[key]), key
    out = io.BytesIO()
    doc.save(out)
    # the saved copy, as printed or opened elsewhere, and the text read back
    _assert_values_show(out.getvalue(), blank, tmp_path, "typed")


def test_the_blank_date_line_shows_its_printed_template(blank: bytes, tmp_path: Path) -> None:
    """The date widget lies over 「令和　年　月　日」: empty, it must not hide it."""
    rect = _rects(blank)["application_date"]
    height = _page_height(blank)
    for image in (_poppler(blank, tmp_path, "blank"), _pdfium(blank)):
        assert _crop_ink(image, rect, height) > 150  # 令和 年 月 日 in ink


def test_the_field_font_is_the_whole_font_embedded(blank: bytes) -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(blank))
    font = reader.trailer["/Root"]["/AcroForm"]["/DR"]["/Font"]
    japanese = [f.get_object() for f in font.values() if f.get_object().get("/Subtype") == "/Type0"]
    assert len(japanese) == 1
    descendant = japanese[0]["/DescendantFonts"][0].get_object()
    font_file = descendant["/FontDescriptor"]["/FontFile2"].get_object()
    whole = japanese_font_file().read_bytes()
    assert font_file.get_data() == whole  # the whole font, not a subset: anything typed renders
    assert japanese[0]["/Encoding"] == "/Identity-H" and "/ToUnicode" in japanese[0]
