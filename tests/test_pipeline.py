"""The pipeline: mixed PDFs read page by page, several documents split out of one file, and
no page OCR'd twice."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

import extract.readers.image as image_reader
from extract.pdftoppm import render_pages
from extract.pipeline import extract_files, prepare_page

GOLDEN = Path(__file__).resolve().parents[1] / "samples" / "golden"


def _scan_of(pdf: Path, page: int, dpi: int = 200) -> bytes:
    """A page of a PDF as an image-only PDF page (what a scanner produces)."""
    [image] = render_pages(pdf, [page], dpi=dpi)
    buf = io.BytesIO()
    image.convert("L").save(buf, format="PDF", resolution=dpi)
    return buf.getvalue()


@pytest.fixture(scope="module")
def mixed_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Page 1: the tax certificate's text layer; page 2: the same certificate scanned."""
    tax = next(GOLDEN.glob("*tax*.pdf"))
    writer = PdfWriter()
    writer.append(PdfReader(tax), pages=[0])
    writer.append(PdfReader(io.BytesIO(_scan_of(tax, 1))))
    path = tmp_path_factory.mktemp("mixed") / "mixed.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def test_mixed_pdf_is_read_page_by_page_and_split_into_documents(mixed_pdf: Path) -> None:
    documents = extract_files([mixed_pdf]).documents
    assert [d.form for d in documents] == ["tax_certificate", "tax_certificate"]
    assert [d.first_page for d in documents] == [1, 2]
    text_doc, scanned_doc = documents
    assert {f.source for f in text_doc.fields.values()} == {"text"}
    assert {f.source for f in scanned_doc.fields.values()} == {"ocr"}
    # the scan says what the text layer says about the taxpayer
    assert scanned_doc.fields["taxpayer_name"].value == text_doc.fields["taxpayer_name"].value


def test_a_prepared_page_is_not_ocred_again(mixed_pdf: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MADOGUCHI_CACHE_DIR", str(tmp_path / "cache"))
    readings: list[str] = []
    real = image_reader.read_marked

    def counting(marked, *, timeout: float, lang: str):  # type: ignore[no-untyped-def]
        readings.append(lang)
        return real(marked, timeout=timeout, lang=lang)

    monkeypatch.setattr(image_reader, "read_marked", counting)
    prepare_page(mixed_pdf, 1)  # a text page: nothing to do
    prepare_page(mixed_pdf, 2)  # the scanned page: OCR'd (its values are read again at extraction)
    assert readings == ["jpn"]
    extract_files([mixed_pdf])
    # read again whole at most: the fast model missed the issuer (南房総市長) of this scan
    assert readings in (["jpn"], ["jpn", "jpn_best"])
    read = list(readings)
    extract_files([mixed_pdf])
    assert readings == read


def test_progress_is_told_after_each_page() -> None:
    seen: list[tuple[str, int, int]] = []
    extract_files([GOLDEN / "form1_wagyu.pdf"], progress=lambda name, done, total: seen.append((name, done, total)))
    assert seen == [("form1_wagyu.pdf", 1, 2), ("form1_wagyu.pdf", 2, 2)]


def test_pages_read_at_once_give_what_pages_read_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    # two pages are OCR'd on two threads; the pages, their order and the fields stay the same
    scan = Path(__file__).resolve().parents[1] / "samples" / "scans" / "form1_001_200dpi-noisy-pen.pdf"
    monkeypatch.setenv("MADOGUCHI_CACHE_DIR", "off")
    results = {}
    real = image_reader.ocr_page_image
    threads: set[str] = set()

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.add(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(image_reader, "ocr_page_image", spy)
    for workers in ("1", "2"):
        monkeypatch.setenv("MADOGUCHI_OCR_WORKERS", workers)
        threads.clear()
        results[workers] = (extract_files([scan]), len(threads))
    (one, one_threads), (two, two_threads) = results["1"], results["2"]
    assert (one_threads, two_threads) == (1, 2)
    assert one.model_dump() == two.model_dump()
    assert [d.first_page for d in two.documents] == [1] and two.documents[0].pages == 2


def test_a_prepared_form_is_not_read_whole_again_at_extraction(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # the workers read the pages; the extraction reads only some values again, all of a page's
    # in one call, from the page made again (it came from the cache)
    scan = Path(__file__).resolve().parents[1] / "samples" / "scans" / "form1_001_200dpi-noisy-pen.pdf"
    monkeypatch.setenv("MADOGUCHI_CACHE_DIR", str(tmp_path / "cache"))
    prepare_page(scan, 1)
    prepare_page(scan, 2)
    import extract.pipeline as pipeline

    pipeline._MARKED.clear()  # as in another process
    whole: list[str] = []
    regions: list[int] = []
    models: list[str] = []
    real_read, real_regions = image_reader.read_marked, image_reader.read_regions

    def reading(marked, *, timeout: float, lang: str):  # type: ignore[no-untyped-def]
        whole.append(lang)
        return real_read(marked, timeout=timeout, lang=lang)

    def reading_regions(clean, dpi, boxes, **kwargs):  # type: ignore[no-untyped-def]
        regions.append(len(boxes))
        models.append(kwargs["lang"])
        return real_regions(clean, dpi, boxes, **kwargs)

    monkeypatch.setattr(image_reader, "read_marked", reading)
    monkeypatch.setattr(image_reader, "read_regions", reading_regions)
    monkeypatch.setenv("MADOGUCHI_OCR_SECOND_OPINION", "on")  # unsure values read again by Tesseract
    fields = extract_files([scan]).documents[0].fields
    assert whole == [] and all(n >= 1 for n in regions)
    # one call a page at most: the unsure values' cells, and values with a box in them
    assert models.count("jpn") <= 4 and set(models) <= {"jpn"}
    assert fields["applicant_name"].value
    calls = len(regions)
    extract_files([scan])
    assert whole == [] and len(regions) == calls  # the regions' reading is cached too
