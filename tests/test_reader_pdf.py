from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

import extract.readers.pdf as pdf_reader
from extract.ingest import Limits
from extract.pagemodel import FormValue, Page, Word
from extract.readers.pdf import page_needs_ocr, read_pdf
from forms.errors import CorruptFile, EncryptedFile, NoPages, TooManyPages

LIMITS = Limits()
JP_FONT = "HeiseiKakuGo-W5"
pdfmetrics.registerFont(UnicodeCIDFont(JP_FONT))


def _words(pages: list[Page]) -> list[str]:
    return [w.text for p in pages for w in p.words]


def _by_text(page: Page, text: str) -> Word:
    return next(w for w in page.words if w.text == text)


def _form_pdf(*, rotate: int = 0) -> bytes:
    """A one-row table 寄附金額 | [text field] with two checkboxes, in a non-embedded CJK font."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(595, 842))
    c.setFont(JP_FONT, 10.5)
    c.drawString(72, 770, "寄附金額")
    c.drawString(72, 700, "渋川市長　様")
    c.rect(60, 740, 400, 50)
    c.line(150, 740, 150, 790)
    c.rect(60, 600, 400, 0.5, stroke=0, fill=1)  # a thin filled rect drawn as a rule
    form = c.acroForm
    form.textfield(name="amount", value="12000", x=160, y=760, width=120, height=18, borderWidth=0, fontSize=10)
    form.checkbox(name="agree", x=300, y=760, size=12, checked=True)
    form.checkbox(name="deny", x=320, y=760, size=12, checked=False)
    c.showPage()
    c.save()
    data = buf.getvalue()
    if rotate:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
        writer.pages[0].rotate(rotate)
        out = io.BytesIO()
        writer.write(out)
        data = out.getvalue()
    return data


def _blank_pdf(pages: int, user_password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if user_password is not None:
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _pdf_with_objects(objects: list[str | bytes]) -> bytes:
    """Hand-craft a PDF with a correct xref table from numbered object bodies."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        raw = body.encode() if isinstance(body, str) else body
        out += f"{number} 0 obj\n".encode() + raw + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# --- the external PDFs --------------------------------------------------------------------


# The repository's copies of ../shared/external/pdf (conftest's ``external`` fixture).
EXTERNAL_PDFS = sorted(
    p.name for p in (Path(__file__).resolve().parents[1] / "samples" / "external" / "pdf").glob("*.pdf")
)


@pytest.mark.parametrize("name", EXTERNAL_PDFS)
def test_external_pdfs_read(external: Path, name: str) -> None:
    start = time.monotonic()
    pages = read_pdf((external / "pdf" / name).read_bytes(), LIMITS)
    assert time.monotonic() - start < 5
    assert pages and [p.number for p in pages] == list(range(1, len(pages) + 1))
    for page in pages:
        assert page.width > 0 and page.height > 0
        assert page.source in ("text", "acroform")
        for w in page.words:
            assert w.text.strip() and w.x0 <= w.x1 and w.y0 <= w.y1
            assert 0 <= w.cy <= page.height
    # Every one of them has some text on its first page.
    assert not page_needs_ocr(pages[0])


def test_external_pdfs_do_not_log(external: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    for name in ("simple3.pdf", "noembed-sjis.pdf", "FormTestFromOo.pdf"):  # no xref; CJK without fonts
        read_pdf((external / "pdf" / name).read_bytes(), LIMITS)
    assert not [r for r in caplog.records if r.name.split(".")[0] in ("pypdf", "pdfminer", "pdfplumber")]


def test_multilang_japanese(external: Path) -> None:
    words = _words(read_pdf((external / "pdf" / "multilang.pdf").read_bytes(), LIMITS))
    assert "こんにちは世界" in words
    assert "你好世界" in words


def test_pdf_without_xref_still_reads(external: Path) -> None:
    # simple3.pdf has no xref table and no trailer: pypdf gives up, pdfminer rebuilds it.
    words = _words(read_pdf((external / "pdf" / "simple3.pdf").read_bytes(), LIMITS))
    assert "Hello" in words and "World" in words
    assert any("あいうえお" in w for w in words)


@pytest.mark.parametrize("name", ["noembed-sjis.pdf", "noembed-eucjp.pdf", "noembed-jis7.pdf", "noembed-identity.pdf"])
def test_non_embedded_cjk_fonts(external: Path, name: str) -> None:
    text = "".join(_words(read_pdf((external / "pdf" / name).read_bytes(), LIMITS)))
    assert "あいうえお" in text


def test_text_is_kept_as_printed(external: Path) -> None:
    # The Kangxi radical ⼀ (U+2F00) stays: NFKC belongs to the normalizer.
    text = "".join(_words(read_pdf((external / "pdf" / "issue15340.pdf").read_bytes(), LIMITS)))
    assert "\u2f00" in text


def test_vertical_text_is_grouped_top_to_bottom(external: Path) -> None:
    page = read_pdf((external / "pdf" / "vertical.pdf").read_bytes(), LIMITS)[0]
    word = _by_text(page, "あいうえお")
    assert word.height > 3 * (word.x1 - word.x0)
    assert "日本語" in [w.text for w in page.words]


# --- AcroForms ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [("form_acrobatReader.pdf", "Bar"), ("form_evince.pdf", "bar")])
def test_pypdf_forms_give_foo(external: Path, name: str, value: str) -> None:
    page = read_pdf((external / "pdf" / name).read_bytes(), LIMITS)[0]
    assert page.source == "acroform"
    [fv] = page.form_values
    assert fv.name == "foo" and fv.value == value
    # The value is also a word inside the widget, for label-based location.
    word = _by_text(page, value)
    assert fv.bbox is not None
    assert fv.bbox[0] <= word.x0 < word.x1 <= fv.bbox[2] and fv.bbox[1] <= word.cy <= fv.bbox[3]


def test_empty_field_has_no_value(external: Path) -> None:
    page = read_pdf((external / "pdf" / "form.pdf").read_bytes(), LIMITS)[0]
    assert page.form_values == [FormValue(name="foo", value=None, bbox=page.form_values[0].bbox)]


def test_libreoffice_form(external: Path) -> None:
    page = read_pdf((external / "pdf" / "libreoffice-form.pdf").read_bytes(), LIMITS)[0]
    values = {fv.name: fv.value for fv in page.form_values}
    assert values["First Name"] == "Alice"
    assert values["gdpr"] is False
    assert "Alice" in [w.text for w in page.words]
    assert "☐" in [w.text for w in page.words]


def test_radio_group_marks_the_selected_button(external: Path) -> None:
    page = read_pdf((external / "pdf" / "opt_demo.pdf").read_bytes(), LIMITS)[0]
    fruit = [fv for fv in page.form_values if fv.name == "fruit"]
    assert [fv.value for fv in fruit] == [False, True, False]
    on = fruit[1].bbox
    assert on is not None
    glyphs = [w for w in page.words if w.text == "☑" and (w.x0, w.y0, w.x1, w.y1) == on]
    assert len(glyphs) == 1


def test_generated_form_fields_rules_and_labels() -> None:
    page = read_pdf(_form_pdf(), LIMITS)[0]
    values = {fv.name: fv.value for fv in page.form_values}
    assert values == {"amount": "12000", "agree": True, "deny": False}
    label, value = _by_text(page, "寄附金額"), _by_text(page, "12000")
    assert abs(label.cy - value.cy) < label.height  # same line
    assert value.x0 > label.x1
    assert [w.text for w in page.words].count("☑") == 1
    assert [w.text for w in page.words].count("☐") == 1
    # The table's box and its column line, plus a thin filled rectangle as one rule.
    horizontal = {(r.x0, r.y0, r.x1) for r in page.rules if r.horizontal}
    vertical = {(r.x0, r.y0, r.y1) for r in page.rules if not r.horizontal}
    assert {(60, 52, 460), (60, 102, 460)} <= horizontal
    assert {(60, 52, 102), (150, 52, 102), (460, 52, 102)} <= vertical
    assert any(abs(r.y0 - (842 - 600.25)) < 0.5 and r.x1 - r.x0 == 400 for r in page.rules)
    # The ideographic space separates words, as in the DOCX reader.
    assert {"渋川市長", "様"} <= {w.text for w in page.words}


def test_rotated_page_keeps_widgets_with_their_labels() -> None:
    page = read_pdf(_form_pdf(rotate=90), LIMITS)[0]
    assert (page.width, page.height) == (842, 595)
    label = next(w for w in page.words if w.text.startswith("寄"))
    [amount] = [fv for fv in page.form_values if fv.name == "amount"]
    assert amount.bbox is not None
    # Label and field sat on one line; turned 90°, they share a column.
    assert amount.bbox[0] - 5 <= (label.x0 + label.x1) / 2 <= amount.bbox[2] + 5
    assert 0 <= amount.bbox[1] < amount.bbox[3] <= page.height


# --- bad files -------------------------------------------------------------------------------


def test_truncated_pdf_is_corrupt(external: Path) -> None:
    data = (external / "pdf" / "issue16063.pdf").read_bytes()
    with pytest.raises(CorruptFile):
        read_pdf(data[: len(data) // 2], LIMITS)


def test_garbage_pdf_is_corrupt() -> None:
    data = b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n"
    with pytest.raises(CorruptFile) as err:
        read_pdf(data, LIMITS)
    assert "\n" not in str(err.value)


def test_encrypted_pdf_with_user_password() -> None:
    with pytest.raises(EncryptedFile):
        read_pdf(_blank_pdf(1, user_password="secret"), LIMITS)


def test_encrypted_pdf_with_empty_user_password_is_read() -> None:
    pages = read_pdf(_form_pdf_encrypted_open(), LIMITS)
    assert "寄附金額" in _words(pages)


def _form_pdf_encrypted_open() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_form_pdf())))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def test_pdf_with_no_pages() -> None:
    data = _pdf_with_objects(["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [] /Count 0 >>"])
    with pytest.raises(NoPages):
        read_pdf(data, LIMITS)


def test_too_many_pages() -> None:
    with pytest.raises(TooManyPages) as err:
        read_pdf(_blank_pdf(3), Limits(max_pages=2))
    assert err.value.data["pages"] == 3


# --- pages that need OCR, pathological pages ---------------------------------------------------


def test_blank_page_needs_ocr() -> None:
    [page] = read_pdf(_blank_pdf(1), LIMITS)
    assert page.words == [] and page_needs_ocr(page)


def test_field_values_alone_do_not_make_a_text_layer() -> None:
    page = Page(number=1, width=595, height=842, source="acroform")
    page.form_values = [FormValue("name", "渋川太郎", (100, 100, 300, 120))]
    page.words = [Word("渋川太郎", 102, 104, 150, 116)]
    assert page_needs_ocr(page)
    page.words.append(Word("申込書", 100, 40, 140, 52))
    assert not page_needs_ocr(page)


def test_glyphs_per_page_are_capped(external: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_reader, "MAX_CHARS_PER_PAGE", 10)
    page = read_pdf((external / "pdf" / "multilang.pdf").read_bytes(), LIMITS)[0]
    assert 0 < sum(len(w.text) for w in page.words) <= 10


def test_paths_per_page_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    import zlib

    # 30,000 separately stroked lines take pdfminer seconds; the cap stops it early.
    stream = zlib.compress(b"0 0 m 100 0 l S\n" * 30_000)
    data = _pdf_with_objects(
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + b"\nendstream",
        ]
    )
    monkeypatch.setattr(pdf_reader, "MAX_PATHS_PER_PAGE", 100)
    start = time.monotonic()
    [page] = read_pdf(data, LIMITS)
    assert time.monotonic() - start < 1
    assert len(page.rules) == 1  # the same line a hundred times, read once


def test_page_over_the_content_budget_is_left_to_ocr(external: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_reader, "MAX_CONTENT_BYTES", 100)
    page = read_pdf((external / "pdf" / "multilang.pdf").read_bytes(), LIMITS)[0]
    assert page.words == [] and page_needs_ocr(page)


def test_content_stream_bomb_is_not_inflated(monkeypatch: pytest.MonkeyPatch) -> None:
    import zlib

    stream = zlib.compress(b"0 0 m 1 1 l S\n" * (20 * 1024 * 1024 // 14), 9)  # 20 MB of path operators
    data = _pdf_with_objects(
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + b"\nendstream",
        ]
    )

    parsed: list[object] = []

    def spy(self: object) -> list[object]:
        parsed.append(self)  # pdfminer would inflate the whole stream here
        return []

    monkeypatch.setattr("pdfplumber.page.Page.chars", property(spy))
    [page] = read_pdf(data, LIMITS)
    assert parsed == []
    assert page.words == [] and page_needs_ocr(page)


# --- issue 24: pages sized before they are rendered; too many fields, too large images ------------

from extract import pdftoppm  # noqa: E402
from forms.errors import PageTooLarge, TooComplex  # noqa: E402
from tests.hostile.corpus import INK, fields_pdf, page_pdf, stream  # noqa: E402


def test_page_dpi_is_lowered_to_the_pixel_cap_and_absurd_pages_refused() -> None:
    assert pdftoppm.page_dpi((595, 842), 300) == 300  # A4: as asked
    assert pdftoppm.page_dpi((842, 1191), 300) == 300  # A3 fits in 20 Mpx
    assert pdftoppm.page_dpi((1191, 1684), 300) < 300  # A2 does not
    low = pdftoppm.page_dpi((3000, 3000), 300)
    assert (3000 * low / 72) ** 2 <= 20_000_000 and low >= 100
    for size in ((14_400, 14_400), (5000, 5000), (0.2, 842), (float("inf"), 10)):
        with pytest.raises(PageTooLarge):
            pdftoppm.page_dpi(size, 300, page=1)


def test_a_large_page_is_rendered_at_a_lower_resolution() -> None:
    (image,) = pdftoppm.render_pages(page_pdf(b"0 0 3000 3000", INK), [1], dpi=300)
    dpi = image.info["dpi"][0]
    assert dpi < 300 and image.width * image.height <= 20_000_000
    assert image.width == pytest.approx(3000 * dpi / 72, abs=2)


@pytest.mark.parametrize("box", [b"0 0 14400 14400", b"0 0 0.2 842", b"0 0 5000 5000"])
def test_an_absurd_page_is_refused_before_it_is_rendered(box: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered")

    monkeypatch.setattr(pdftoppm, "_run", never)
    with pytest.raises(PageTooLarge, match="page 1"):
        pdftoppm.render_pages(page_pdf(box, INK), [1])


def test_a_page_poppler_sizes_otherwise_is_cropped_to_the_size_expected() -> None:
    # UserUnit: pypdf's MediaBox is A4, poppler's is 75,000 times larger; the crop holds it
    (image,) = pdftoppm.render_pages(page_pdf(content=INK, page_extra=b"/UserUnit 75000"), [1], dpi=100)
    assert image.width * image.height <= 2 * (595 * 100 / 72) * (842 * 100 / 72)


def test_a_one_pixel_rendering_is_refused_before_its_pixels_are_used(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "p-1.pgm"
    Image.new("L", (1, 1), 255).save(path)
    with pytest.raises(CorruptFile, match="1×1"):
        pdftoppm._load_rendered(path, 1, True, 20_000_000, 300)


def test_blank_pages_are_found_all_at_once() -> None:
    from tests.hostile.corpus import raw_pdf

    kids = b"3 0 R 4 0 R 5 0 R"
    data = raw_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count 3 >>" % kids,
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 6 0 R >>",
        4: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 7 0 R >>",
        5: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 6 0 R >>",
        6: stream(b""),
        7: stream(INK),
    })
    assert pdftoppm.blank_pages(data, [1, 2, 3]) == {1, 3}
    assert pdftoppm.blank_pages(data, [2]) == set()


def test_a_page_of_thousands_of_fields_is_refused_before_they_are_read() -> None:
    started = time.monotonic()
    with pytest.raises(TooComplex, match="3000 annotations"):
        read_pdf(fields_pdf(3000), LIMITS)
    assert time.monotonic() - started < 10  # 10,000 fields took 35 s to read and OCR
    pages = read_pdf(fields_pdf(300), LIMITS)
    assert len(pages[0].form_values) == 300


def test_a_page_drawing_a_pixel_bomb_is_refused_before_rendering() -> None:
    from tests.hostile.corpus import flate_bomb

    data = page_pdf(content=b"q 595 0 0 842 0 0 cm /Im1 Do Q", objs={
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /XObject << /Im1 6 0 R >> >> >>",
        6: stream(flate_bomb(1 << 20), b"/Type /XObject /Subtype /Image /Width 100000 /Height 100000 /BitsPerComponent 1"
                  b" /ColorSpace /DeviceGray /Filter /FlateDecode")})
    with pytest.raises(TooComplex, match="10000 megapixels"):
        pdftoppm.render_pages(data, [1])
