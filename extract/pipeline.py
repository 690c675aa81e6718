"""The orchestrator: file → pages → documents → fields (→ checks), as a short script over steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from extract.classify import split_documents
from extract.ingest import Ingested, Limits, ingest, ingest_bytes
from extract.layout import build_lines
from extract.locate import locate_fields
from extract.normalize import nfkc
from extract.pagemodel import Page, Word
from extract.result import DocumentResult, ExtractionResult
from forms.catalogue import catalogue


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
        out: list[Page] = []
        for p in pages:
            out.append(_ocr_page(doc, p.number, keep=p) if page_needs_ocr(p) else p)
            progress(doc.name, len(out), len(pages))
        return out
    from extract.readers.image import open_frames

    count = len(open_frames(doc.data, doc.kind))  # type: ignore[arg-type]
    if count > limits.max_pages:
        from forms.errors import TooManyPages

        raise TooManyPages(f"{doc.name}: {count} pages (limit {limits.max_pages})", pages=count)
    read: list[Page] = []
    for n in range(1, count + 1):
        read.append(_ocr_page(doc, n))
        progress(doc.name, n, count)
    return read


def _ocr_page(doc: Ingested, number: int, keep: Page | None = None) -> Page:
    """One page OCR'd (from the cache when it was read before)."""
    from extract.cache import cached_pages

    def compute() -> list[Page]:
        if doc.kind == "pdf":
            from extract.readers.image import ocr_pdf_pages

            return ocr_pdf_pages(doc.data, [number])
        from extract.readers.image import image_dpi, ocr_page_image, open_frames

        frame = open_frames(doc.data, doc.kind)[number - 1]  # type: ignore[arg-type]
        return [ocr_page_image(frame, image_dpi(frame), number)]

    [page] = cached_pages(f"{doc.sha256}-p{number}", compute)
    if keep is not None and keep.form_values:
        # a scanned form with fields over it: keep what the fields hold beside the OCR
        page.form_values = keep.form_values
        page.words = page.words + [w for w in keep.words if _inside_form_value(w, keep)]
    return page


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
