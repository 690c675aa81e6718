"""The orchestrator: file → pages → documents → fields (→ checks), as a short script over steps."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from extract.classify import split_documents
from extract.ingest import Ingested, Limits, ingest, ingest_bytes
from extract.layout import build_lines
from extract.locate import locate_fields
from extract.normalize import nfkc
from extract.pagemodel import Page
from extract.result import DocumentResult, ExtractionResult
from forms.catalogue import catalogue


def read_pages(doc: Ingested, limits: Limits) -> list[Page]:
    """Every input becomes pages of words with boxes; scans are OCR'd (cached by content)."""
    if doc.kind == "docx":
        from extract.readers.docx import read_docx

        return read_docx(doc.data, limits)
    if doc.kind == "pdf":
        from extract.readers.pdf import read_pdf

        pages = read_pdf(doc.data, limits)
        return _ocr_where_needed(doc, pages)
    from extract.readers.image import read_image_pages

    return _cached(doc, lambda: read_image_pages(doc.data, doc.kind))


def _cached(doc: Ingested, compute):  # type: ignore[no-untyped-def]
    try:
        from extract.cache import cached_pages
    except ImportError:  # pragma: no cover - cache module is optional
        return compute()
    return cached_pages(doc.sha256, compute)


def _ocr_where_needed(doc: Ingested, pages: list[Page]) -> list[Page]:
    from extract.readers.pdf import page_needs_ocr

    todo = [p.number for p in pages if page_needs_ocr(p)]
    if not todo:
        return pages

    def compute() -> list[Page]:
        from extract.readers.image import ocr_pdf_pages

        return ocr_pdf_pages(doc.data, todo)

    ocr_pages = {p.number: p for p in _cached(doc, compute)}
    return [ocr_pages.get(p.number, p) for p in pages]


def extract_document(doc: Ingested, limits: Limits | None = None, program: str | None = None) -> list[DocumentResult]:
    limits = limits or Limits.from_env()
    pages = read_pages(doc, limits)
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


def extract_files(paths: Sequence[Path], program: str | None = None, limits: Limits | None = None) -> ExtractionResult:
    limits = limits or Limits.from_env()
    documents: list[DocumentResult] = []
    for path in paths:
        documents.extend(extract_document(ingest(path, limits), limits, program))
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
