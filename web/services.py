"""The one place where the web layer calls the core packages (forms, extract, generate).

Views and tasks call these functions and nothing else from the core, so the web layer has a
single seam to the engine (and tests a single place to substitute it). The core raises
``MadoguchiError`` subclasses; they travel up unchanged and are turned into HTTP answers by
``web.errors`` only.
"""

from __future__ import annotations

import importlib
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from extract.result import ExtractionResult
from forms.errors import InputError, MadoguchiError
from forms.findings import Finding
from forms.schema import FormDecl


class ServiceUnavailable(MadoguchiError):
    """A part of the engine this request needs is not installed in this build."""

    http_status = 503
    code = "not_available"


def _core(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise ServiceUnavailable(f"{module} is not available in this build") from exc
        raise


# --- catalogue ------------------------------------------------------------------------


def forms() -> dict[str, FormDecl]:
    from forms.catalogue import catalogue

    return catalogue()


def get_form(form_id: str) -> FormDecl:
    from forms.catalogue import get_form as _get_form

    return _get_form(form_id)


def programs() -> dict[str, Any]:
    from forms.programs import programs as _programs

    return _programs()


def get_program(program_id: str) -> Any:
    from forms.programs import get_program as _get_program

    return _get_program(program_id)


def program_forms(program_id: str) -> list[FormDecl]:
    """The catalogue forms a program uses, in the pack's order (unknown ids skipped)."""
    settings = get_program(program_id)
    known = forms()
    found = [known[f] for f in settings.forms if f in known]
    found += [f for f in known.values() if f.program == program_id and f not in found]
    return found


# --- ingest ---------------------------------------------------------------------------

#: Media type by the kind ``sniff`` returns.
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class Sniffed:
    kind: str
    pages: int

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES.get(self.kind, "application/octet-stream")


def sniff(data: bytes, name: str, max_bytes: int, max_pages: int) -> Sniffed:
    """Judge a file by its content: its kind and page count, within the limits (raises InputError)."""
    from forms.errors import TooManyPages

    ingest = _core("extract.ingest")
    ingested = ingest.ingest_bytes(name, data, ingest.Limits(max_bytes=max_bytes, max_pages=max_pages))
    pages = _count_pages(ingested.kind, data, name)
    if pages > max_pages:
        raise TooManyPages(f"{name}: {pages} pages, at most {max_pages} are accepted", pages=pages, limit=max_pages)
    return Sniffed(kind=ingested.kind, pages=pages)


def _count_pages(kind: str, data: bytes, name: str) -> int:
    """Pages of a checked file: what the background work is split by (a DOCX counts as one)."""
    import io

    from forms.errors import CorruptFile, EncryptedFile, NoPages

    if kind == "pdf":
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise EncryptedFile(f"{name}: the PDF is encrypted")
            count = len(reader.pages)
        except (PyPdfError, ValueError, KeyError, TypeError) as exc:
            raise CorruptFile(f"{name}: the PDF cannot be read ({type(exc).__name__})") from None
        if count == 0:
            raise NoPages(f"{name}: the PDF has no pages")
        return count
    if kind == "tiff":
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return int(getattr(im, "n_frames", 1))
    return 1


# --- extraction -----------------------------------------------------------------------


def extract_file(path: Path, name: str, program: str | None = None) -> ExtractionResult:
    """Extract a stored file; ``name`` is the uploaded file name shown in the result."""
    pipeline = _core("extract.pipeline")
    result: ExtractionResult = pipeline.extract_files([path], program=program)
    for doc in result.documents:
        doc.file = name
    return result


def extract_bytes(name: str, data: bytes, program: str | None = None) -> ExtractionResult:
    pipeline = _core("extract.pipeline")
    result: ExtractionResult = pipeline.extract_bytes(name, data, program=program)
    return result


def extract_record_as(path: Path, name: str, form_id: str, first_page: int, pages: int) -> ExtractionResult:
    """Read pages ``first_page``… of a stored file again as the form ``form_id`` (the clerk
    said what the document is): one document with that form's fields and what is missing."""
    from extract.result import DocumentResult, MissingField

    pipeline = _core("extract.pipeline")
    ingest = _core("extract.ingest")
    locate = _core("extract.locate")
    limits = ingest.Limits.from_env()
    doc = ingest.ingest(path, limits)
    chosen = [p for p in pipeline.read_pages(doc, limits) if first_page <= p.number < first_page + max(pages, 1)]
    form = get_form(form_id)
    located = locate.locate_all(form, chosen)
    missing = [MissingField(field=f.key, reason=located.missing.get(f.key, "label_not_found"))  # type: ignore[arg-type]
               for f in form.fields() if f.key not in located.fields]
    result = DocumentResult(file=name, sha256=doc.sha256, form=form.id, pages=len(chosen), first_page=first_page,
                            fields=located.fields, missing=missing)
    return ExtractionResult(documents=[result])


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def extract_bytes_parallel(name: str, data: bytes, program: str | None, processes: int) -> ExtractionResult:
    """``extract_bytes`` in a pool of ``processes`` processes (0: in this thread), so that the
    web server's threads read several documents at once on several cores."""
    global _pool
    if processes <= 0:
        return extract_bytes(name, data, program)
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("forkserver"))
    return _pool.submit(_extract_in_child, name, data, program).result()


def _extract_in_child(name: str, data: bytes, program: str | None) -> ExtractionResult:
    return extract_bytes(name, data, program)


def shutdown_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(cancel_futures=True)
            _pool = None


def prepare_page(path: Path, page: int) -> None:
    """Per-page work run on any worker before the document is assembled (OCR of one page).

    Uses the pipeline's page-level function when it has one, which caches the page's words by
    content hash so that assembling the document does not read the page again.
    """
    pipeline = _core("extract.pipeline")
    fn = getattr(pipeline, "prepare_page", None)
    if fn is not None:
        fn(path, page)


def render_page_png(path: Path, page: int, out: Path, dpi: int) -> Path:
    """Render one page of a stored file to PNG for the review page, at ``dpi``.

    The image spans the page as the readers measure it (PDF points; an image's pixels at its
    own resolution), so field boxes in points overlay it at ``72 / dpi`` points per pixel.
    """
    data = path.read_bytes()
    kind = _core("extract.ingest").sniff(data)
    if kind == "pdf":
        (image,) = _core("extract.pdftoppm").render_pages(path, [page], dpi=dpi, gray=False)
    elif kind in ("png", "jpeg", "tiff"):
        # the frames counted and opened as the readers do: bounded, one at a time (iterating a
        # TIFF's frames gives one object, left at the last frame, for every page)
        images = _core("extract.readers.image")
        if not 1 <= page <= images.count_frames(data, kind):
            raise InputError(f"page {page} does not exist")
        frame = images.open_frame(data, kind, page)
        scale = dpi / images.image_dpi(frame)
        size = (max(1, round(frame.width * scale)), max(1, round(frame.height * scale)))
        image = frame.convert("RGB").resize(size)
    else:
        raise ServiceUnavailable(f"no page image for a {kind} file")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    image.save(tmp, format="PNG", dpi=(dpi, dpi))
    tmp.replace(out)
    return out


# --- checks ---------------------------------------------------------------------------


@dataclass
class CheckOutcome:
    decision: str | None
    findings: list[Finding] = field(default_factory=list)


def run_checks(program: str, documents: list[tuple[str | None, dict[str, Any]]], today: date) -> CheckOutcome:
    """Run a program's rules over a case: ``documents`` are (form id, {key: value}) pairs."""
    checks = _core("forms.checks")
    case = checks.Case(
        program=program,
        documents=[checks.CaseDocument(form=form, fields=values) for form, values in documents],
        today=today,
    )
    report = checks.run_checks(case)
    return CheckOutcome(decision=report.decision, findings=list(report.findings))


# --- notices and publications ----------------------------------------------------------


@dataclass
class RenderedFiles:
    kind: str
    files: dict[str, Path]
    doc_number: str | None = None


def render_notices(
    kind: str,
    program_id: str,
    records: list[dict[str, Any]],
    outdir: Path,
    numbers: Any | None = None,
    issue_date: date | None = None,
) -> list[RenderedFiles]:
    """Official notices (DOCX and PDF); ``numbers`` is the database's document-number sequence."""
    notices = _core("generate.notices")
    rendered = notices.render_notices(
        kind, program_id, records, outdir, formats=("docx", "pdf"), numbers=numbers, issue_date=issue_date
    )
    return [
        RenderedFiles(kind=item.kind, files=dict(item.paths), doc_number=item.doc_number) for item in rendered
    ]


def numbered_notice_kinds() -> frozenset[str]:
    """The notice kinds that carry a document number (承認書, 不承認書, …)."""
    kinds: frozenset[str] = _core("generate.notices").NUMBERED_KINDS
    return kinds


def fiscal_year(program_id: str, day: date) -> int:
    """The fiscal year ``day`` falls in, by the program's settings (its document numbers' year)."""
    numbering = _core("generate.numbering")
    year: int = numbering.fiscal_year_of(day, get_program(program_id).fiscal_year_start_month)
    return year


def document_number(program_id: str, number: int) -> str:
    """``渋広第12号``: the program's prefix and the number."""
    numbering = _core("generate.numbering")
    text: str = numbering.format_document_number(get_program(program_id).doc_number_prefix, number)
    return text


def publish_certificates(
    program_id: str, rows: list[dict[str, Any]], outdir: Path, published: date
) -> dict[str, Path]:
    """Write the published list of value-added certificates; returns paths by format."""
    module = _core("generate.published_list")
    written = module.write_published_list(program_id, rows, outdir, published=published)
    return dict(written.paths)


# --- supplier forms -------------------------------------------------------------------


def blank_form(form: FormDecl, fmt: str) -> bytes:
    """A blank form to download (made once per process: the PDF goes through LibreOffice)."""
    return _blank_form(form.id, fmt)


@lru_cache(maxsize=64)
def _blank_form(form_id: str, fmt: str) -> bytes:
    module = _core("generate.blank_forms")
    form = get_form(form_id)
    data: bytes = module.blank_docx(form) if fmt == "docx" else module.blank_pdf(form)
    return data


def filled_pdf(form: FormDecl, values: dict[str, Any]) -> bytes:
    module = _core("generate.fill")
    data: bytes = module.fill_pdf(form, values, blank=_blank_form(form.id, "pdf"))
    return data
