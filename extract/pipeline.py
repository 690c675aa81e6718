"""The orchestrator: file → pages → documents → fields (→ checks), as a short script over steps."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from extract.classify import split_documents
from extract.ingest import Ingested, Limits, ingest, ingest_bytes
from extract.layout import build_lines
from extract.locate import locate_fields
from extract.normalize import nfkc
from extract.pagemodel import Page, Word
from extract.reread import bands_around, recall, remember, reread_bands
from extract.result import DocumentResult, ExtractedField, ExtractionResult
from forms.catalogue import catalogue
from forms.schema import FormDecl


#: The model every scanned page is read with (Tesseract's ``jpn``).
PRIMARY_MODEL = "jpn"
#: The model that reads again the fields a scan left in doubt (a form's ``second_reading``):
#: Tesseract's script model for Japanese (Debian's tesseract-ocr-script-jpan).
#: ``MADOGUCHI_OCR_SECOND_MODEL=off`` turns the second reading off.
SECOND_MODEL = "Japanese"
SECOND_MODEL_ENV = "MADOGUCHI_OCR_SECOND_MODEL"
OCR_WORKERS_ENV = "MADOGUCHI_OCR_WORKERS"

log = logging.getLogger(__name__)

#: Told after each page is read: (file name, pages done, pages in all). The CLI prints it.
Progress = Callable[[str, int, int], None]


def _noop(name: str, done: int, total: int) -> None:
    pass


def read_pages(doc: Ingested, limits: Limits, progress: Progress = _noop) -> list[Page]:
    """Every input becomes pages of words with boxes; scans are OCR'd page by page, each page
    cached by the file's content hash and its number, so no page is OCR'd twice."""
    if doc.kind == "docx":
        from extract.readers.docx import read_docx

        return read_docx(doc.data, limits)
    if doc.kind == "pdf":
        from extract.readers.pdf import page_needs_ocr, read_pdf

        pages = read_pdf(doc.data, limits)
        scans = {p.number: p for p in pages if page_needs_ocr(p)}
        read = _ocr_pages(doc, list(scans), keep=scans)
        out: list[Page] = []
        for p in pages:
            out.append(next(read) if p.number in scans else p)
            progress(doc.name, len(out), len(pages))
        return out
    from extract.readers.image import open_frames

    count = len(open_frames(doc.data, doc.kind))  # type: ignore[arg-type]
    if count > limits.max_pages:
        from forms.errors import TooManyPages

        raise TooManyPages(f"{doc.name}: {count} pages (limit {limits.max_pages})", pages=count)
    out = []
    for page in _ocr_pages(doc, list(range(1, count + 1))):
        out.append(page)
        progress(doc.name, len(out), count)
    return out


def ocr_workers() -> int:
    """Pages OCR'd at once: ``MADOGUCHI_OCR_WORKERS``, by default one per core, at most 2.

    Tesseract runs single-threaded; while it reads one page, the next is prepared (or read) on
    the other core."""
    raw = os.environ.get(OCR_WORKERS_ENV, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, min(2, os.cpu_count() or 1))


def _ocr_pages(doc: Ingested, numbers: list[int], keep: dict[int, Page] | None = None) -> Iterator[Page]:
    """The pages ``numbers`` OCR'd, in order, several at once (``ocr_workers``)."""
    keep = keep or {}
    workers = min(ocr_workers(), len(numbers))
    if workers <= 1:
        for n in numbers:
            yield _ocr_page(doc, n, keep=keep.get(n))
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr") as pool:
        yield from pool.map(lambda n: _ocr_page(doc, n, keep=keep.get(n)), numbers)


def _ocr_page(doc: Ingested, number: int, keep: Page | None = None, lang: str = PRIMARY_MODEL) -> Page:
    """One page OCR'd with the model ``lang`` (from the cache when it was read before)."""
    from extract.cache import cached_pages

    model = "" if lang == PRIMARY_MODEL else f"-{lang}"
    [page] = cached_pages(f"{_page_key(doc, number)}{model}", lambda: [_read_page(doc, number, lang)])
    if keep is not None and keep.form_values:
        # a scanned form with fields over it: keep what the fields hold beside the OCR
        page.form_values = keep.form_values
        page.words = page.words + [w for w in keep.words if _inside_form_value(w, keep)]
    return page


def _page_key(doc: Ingested, number: int) -> str:
    return f"{doc.sha256}-p{number}"


def _read_page(doc: Ingested, number: int, lang: str) -> Page:
    """OCR one page of a scan; the image Tesseract read is kept in memory for a second reading."""

    def keep(clean: np.ndarray, dpi: float) -> None:
        if lang == PRIMARY_MODEL:
            remember(_page_key(doc, number), clean, dpi)

    if doc.kind == "pdf":
        from extract.readers.image import ocr_pdf_pages

        [page] = ocr_pdf_pages(doc.data, [number], lang=lang, keep_image=keep)
        return page
    from extract.readers.image import image_dpi, ocr_page_image, open_frames

    frame = open_frames(doc.data, doc.kind)[number - 1]  # type: ignore[arg-type]
    return ocr_page_image(frame, image_dpi(frame), number, lang=lang, keep_image=keep)


def _inside_form_value(word: Word, page: Page) -> bool:
    return any(
        fv.bbox is not None and fv.bbox[0] - 1 <= word.x0 and word.x1 <= fv.bbox[2] + 1
        and fv.bbox[1] - 1 <= word.y0 and word.y1 <= fv.bbox[3] + 1
        for fv in page.form_values
    )


def prepare_page(path: Path, page: int, limits: Limits | None = None) -> None:
    """OCR one page of a file ahead of its extraction (a worker's share of a large upload).

    Pages with a real text layer need nothing; a scanned page is OCR'd and cached, so that
    extracting the whole file afterwards reads every page from the cache."""
    limits = limits or Limits.from_env()
    doc = ingest(path, limits)
    if doc.kind == "docx":
        return
    if doc.kind == "pdf":
        from extract.readers.pdf import page_needs_ocr, read_pdf

        pages = {p.number: p for p in read_pdf(doc.data, limits)}
        if page in pages and page_needs_ocr(pages[page]):
            _ocr_page(doc, page)
        return
    _ocr_page(doc, page)


def extract_document(
    doc: Ingested, limits: Limits | None = None, program: str | None = None, progress: Progress = _noop
) -> list[DocumentResult]:
    limits = limits or Limits.from_env()
    pages = read_pages(doc, limits, progress)
    forms = _forms_for(program)
    results: list[DocumentResult] = []
    for found, doc_pages in split_documents(pages, forms):
        text = nfkc("\n".join(line.text.replace("\t", " ") for p in doc_pages for line in build_lines(p)))
        fields = locate_fields(found.form, doc_pages) if found.form else {}
        if found.form:
            fields = _second_reading(doc, found.form, doc_pages, fields)
        results.append(
            DocumentResult(
                file=doc.name,
                sha256=doc.sha256,
                form=found.form.id if found.form else None,
                pages=len(doc_pages),
                first_page=doc_pages[0].number,
                fields=fields,
                text=text if found.form is None else None,
            )
        )
    return results


def second_model() -> str | None:
    """The model of the second reading, or None when it is turned off or not installed."""
    from extract import tesseract
    from forms.errors import ProgramMissing

    lang = os.environ.get(SECOND_MODEL_ENV, SECOND_MODEL).strip()
    if lang.lower() in ("", "0", "off", "none"):
        return None
    try:
        tesseract.require(lang)
    except ProgramMissing:
        if lang not in _told_missing:
            _told_missing.add(lang)
            log.warning("second OCR model %s is not installed: scans are read once", lang)
        return None
    return lang


_told_missing: set[str] = set()


def _second_reading(
    doc: Ingested, form: FormDecl, pages: list[Page], fields: dict[str, ExtractedField]
) -> dict[str, ExtractedField]:
    """The form's ``second_reading`` fields that a scan left in doubt (under review, or not
    found) read again by a second model.

    Tesseract's script model for Japanese errs on other characters than ``jpn``: ``jpn`` reads
    渋川 as 小川 or 川 where it reads 渋川 with confidence, and the reverse. Only the pages that
    hold a doubtful field are read again (the rows around it), and a second value is taken only
    when it is itself above the review threshold or, in doubt too, names a known place the first
    does not; everything else stays as first read.
    """
    ocr_pages = {p.number for p in pages if p.source == "ocr" and not p.form_values}
    doubtful = [key for key in form.second_reading if key not in fields or fields[key].review]
    if not ocr_pages or not doubtful:
        return fields
    # a field not found (or found without a place) may be on any page: those are read whole
    whole = any(key not in fields or fields[key].bbox is None or fields[key].page is None for key in doubtful)
    wanted = ocr_pages if whole else {fields[key].page for key in doubtful} & ocr_pages
    lang = second_model() if wanted else None
    if lang is None:
        return fields

    def again(page: Page) -> Page:
        if page.number not in wanted:
            return page
        if whole:
            return _reread_page(doc, page, None, lang)
        boxes = [fields[k].bbox for k in doubtful if fields[k].page == page.number]
        return _reread_page(doc, page, bands_around(boxes, page.height), lang)  # type: ignore[arg-type]

    second = locate_fields(form, [again(p) for p in pages])
    better = {key: second[key] for key in doubtful if _second_is_better(fields.get(key), second.get(key), wanted)}
    return {**fields, **better} if better else fields


def _second_is_better(first: ExtractedField | None, second: ExtractedField | None, pages: set[int]) -> bool:
    """A second value is taken when it is above the review threshold; when it is in doubt too,
    only if it names a known place (群馬県渋川市) where the first does not (群馬県省市)."""
    if second is None or second.page not in pages:
        return False
    if not second.review:
        return True
    from extract.vocabulary import names_known_place

    def place(f: ExtractedField | None) -> bool:
        return f is not None and isinstance(f.value, str) and names_known_place(f.value)

    return place(second) and not place(first)


def _reread_page(doc: Ingested, page: Page, bands: list[tuple[float, float]] | None, lang: str) -> Page:
    """``page`` with the bands (points; None: all of it) read again with the model ``lang``.

    The bands are cut from the image the first reading kept in memory; when it is gone (the
    first reading came from the cache), the page is prepared and read once more to have it."""
    from extract.cache import cached_pages

    if bands is None:
        return _ocr_page(doc, page.number, lang=lang)
    key = _page_key(doc, page.number)

    def compute() -> list[Page]:
        scan = recall(key)
        if scan is None:
            _read_page(doc, page.number, PRIMARY_MODEL)
            scan = recall(key)
        return [page if scan is None else reread_bands(page, *scan, bands, lang=lang)]

    tag = hashlib.sha256(repr([(round(a, 1), round(b, 1)) for a, b in bands]).encode()).hexdigest()[:12]
    [again] = cached_pages(f"{key}-{lang}-bands-{tag}", compute)
    return again


def _forms_for(program: str | None) -> list:  # type: ignore[type-arg]
    forms = list(catalogue().values())
    if program is None:
        return forms
    from forms.programs import get_program

    settings = get_program(program)
    # the program's own forms first; other programs' forms are still recognised
    return sorted(forms, key=lambda f: f.id not in settings.forms)


def extract_files(
    paths: Sequence[Path], program: str | None = None, limits: Limits | None = None, progress: Progress = _noop
) -> ExtractionResult:
    limits = limits or Limits.from_env()
    documents: list[DocumentResult] = []
    for path in paths:
        documents.extend(extract_document(ingest(path, limits), limits, program, progress))
    return _with_checks(ExtractionResult(documents=documents), program)


def extract_bytes(name: str, data: bytes, program: str | None = None, limits: Limits | None = None) -> ExtractionResult:
    limits = limits or Limits.from_env()
    result = ExtractionResult(documents=extract_document(ingest_bytes(name, data, limits), limits, program))
    return _with_checks(result, program)


def _with_checks(result: ExtractionResult, program: str | None) -> ExtractionResult:
    """With a program, the requirement checks of the whole case go on its application document."""
    if program is None or not result.documents:
        return result
    from forms.checks import Case, CaseDocument, run_checks

    case = Case(
        program=program,
        documents=[CaseDocument(form=d.form, fields={k: v.value for k, v in d.fields.items()}) for d in result.documents],
    )
    report = run_checks(case)
    from forms.programs import get_program

    own = get_program(program).forms
    target = next((d for d in result.documents if d.form in own), result.documents[0])
    target.checks = list(report.findings)
    return result
