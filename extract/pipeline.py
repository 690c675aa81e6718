"""The orchestrator: file → pages → documents → fields (→ checks), as a short script over steps."""

from __future__ import annotations

import hashlib
import logging
import os
import statistics
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from extract.classify import split_documents
from extract.ingest import Ingested, Limits, ingest, ingest_bytes
from extract.keys import PHANTOMS
from extract.layout import build_lines
from extract.locate import BOX_GLYPHS, REVIEW_THRESHOLD, apply_implications, locate_all, locate_fields
from extract.normalize import nfkc
from extract.pagemodel import Page, Word, char_shares
from extract.repairs import repair_kana_reading, repair_mail_domain, repair_tax_pairs
from extract.result import DocumentResult, ExtractedField, ExtractionResult, MissingField
from forms.catalogue import catalogue
from forms.schema import FormDecl

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from extract.readers.image import MarkedPage


#: The model every scanned page is read with: the engine's (extract/recognize.py: PP-OCRv6
#: through rapidocr, or Tesseract's ``jpn``); any other name is one of Tesseract's models.
PRIMARY_MODEL = "jpn"
OCR_WORKERS_ENV = "MADOGUCHI_OCR_WORKERS"

log = logging.getLogger(__name__)

#: A part of a page, in points: (x0, y0, x1, y1).
Region = tuple[float, float, float, float]

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

        from extract.pdftoppm import blank_pages

        pages = read_pdf(doc.data, limits, deadline=doc.deadline)
        scans = {p.number: p for p in pages if page_needs_ocr(p)}
        # a page with no ink needs no OCR: kept as its text layer read it (nothing)
        blank = blank_pages(doc.data, list(scans), timeout=doc.deadline.remaining())
        scans = {n: p for n, p in scans.items() if n not in blank}
        read = _ocr_pages(doc, list(scans), keep=scans)
        out: list[Page] = []
        for p in pages:
            out.append(next(read) if p.number in scans else p)
            progress(doc.name, len(out), len(pages))
        return out
    from extract.readers.image import count_frames

    count = count_frames(doc.data, doc.kind, limits, doc.name)  # type: ignore[arg-type]
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
    """One page OCR'd with the model ``lang`` (from the cache when it was read before): the
    primary model is the engine's of the settings (extract/recognize.py), and its readings are
    cached under the engine's name, so that one engine's pages are never served as another's."""
    from extract.cache import cached_pages
    from extract.recognize import engine_tag

    model = f"-{engine_tag()}" if lang == PRIMARY_MODEL else f"-{lang}"
    [page] = cached_pages(f"{_page_key(doc, number)}{model}", lambda: [_read_page(doc, number, lang)], expect=1)
    if keep is not None and keep.form_values:
        # a scanned form with fields over it: keep what the fields hold beside the OCR
        page.form_values = keep.form_values
        page.words = page.words + [w for w in keep.words if _inside_form_value(w, keep)]
    return page


def _page_key(doc: Ingested, number: int) -> str:
    return f"{doc.sha256}-p{number}"


def _read_page(doc: Ingested, number: int, lang: str) -> Page:
    """OCR one page of a scan with the model ``lang``: a page just read with the first model is
    read again with another as it was prepared then."""
    key = _page_key(doc, number)
    with _MARKED_LOCK:
        marked = _MARKED.get(key) if lang != PRIMARY_MODEL else None
    if marked is not None:
        from extract.readers.image import ocr_marked_page

        return ocr_marked_page(marked, number, lang=lang)

    def keep(marked: MarkedPage) -> None:
        with _MARKED_LOCK:
            _MARKED[key] = marked
            _MARKED.move_to_end(key)
            while len(_MARKED) > _MARKED_PAGES:
                _MARKED.popitem(last=False)

    from extract.readers.image import ocr_page_image, page_timeout

    from forms.errors import ProgramTimeout

    doc.deadline.check(f"page {number}")
    frame, dpi = _page_image(doc, number)
    try:
        return ocr_page_image(frame, dpi, number, lang=lang, keep_marked=keep, timeout=page_timeout(doc.deadline))
    except ProgramTimeout:
        doc.deadline.check(f"page {number}")  # cut short by the budget: say so
        raise


def _page_image(doc: Ingested, number: int) -> tuple[Image.Image, float]:
    """A scanned page's image and resolution: a PDF's page rendered at its scan's resolution,
    an image file's frame."""
    from extract.readers.image import image_dpi, open_frame, render_dpi

    if doc.kind == "pdf":
        from extract.pdftoppm import render_pages

        dpi = render_dpi(doc.data, number)
        # (rendered at less than ``dpi`` when the page is large: its image's own says)
        # in colour: a seal's red ink is taken out when the page is made grey (prepare.to_grey)
        (frame,) = render_pages(doc.data, [number], dpi=dpi, gray=False, timeout=doc.deadline.remaining())
        return frame, float(frame.info["dpi"][0])
    frame = open_frame(doc.data, doc.kind, number, deadline=doc.deadline)  # type: ignore[arg-type]
    return frame, image_dpi(frame)


#: The pages read last as Tesseract read them, by page key: a page or a field read again right
#: after is not prepared again. A few pages only: each holds three page images (9 MB each at
#: 300 dpi).
_MARKED: OrderedDict[str, MarkedPage] = OrderedDict()
_MARKED_PAGES = 3
_MARKED_LOCK = threading.Lock()  # pages are read on several threads


def _clean_image(doc: Ingested, page: Page) -> tuple[np.ndarray, float]:
    """The prepared image of ``page`` with its ruled lines whitened and its boxes left in:
    from its reading when kept, else made again (the page came from the cache). The same
    either way, so a value read again reads alike whether its page was cached or not."""
    from extract.readers.image import clean_image, without_rules

    with _MARKED_LOCK:
        kept = _MARKED.get(_page_key(doc, page.number))
    if kept is not None:
        return without_rules(kept.prepared.array, kept.prepared.dpi), kept.prepared.dpi
    return clean_image(*_page_image(doc, page.number), page)


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
            _prepare_scanned(doc, page)
        return
    _prepare_scanned(doc, page)


def _prepare_scanned(doc: Ingested, number: int) -> None:
    """A scanned page read, so that the extraction finds it in the cache. What is read again
    with a second model (a certificate's values, names) is left to the extraction: where the
    values stand is known only once all the document's pages are read."""
    _ocr_page(doc, number)


def extract_document(
    doc: Ingested, limits: Limits | None = None, program: str | None = None, progress: Progress = _noop
) -> list[DocumentResult]:
    limits = limits or Limits.from_env()
    pages = read_pages(doc, limits, progress)
    forms = _forms_for(program)
    results: list[DocumentResult] = []
    for found, doc_pages in split_documents(pages, forms):
        text = nfkc("\n".join(line.text.replace("\t", " ") for p in doc_pages for line in build_lines(p)))
        fields: dict[str, ExtractedField] = {}
        missing: list[MissingField] = []
        if found.form:
            located = locate_all(found.form, doc_pages)
            fields = _read_again(doc, found.form, doc_pages, located.fields, located.unparsed)
            fields = _agreeing(found.form, fields)
            missing = [
                MissingField(field=f.key, reason=located.missing.get(f.key, "label_not_found"))  # type: ignore[arg-type]
                for f in found.form.fields()
                if f.key not in fields
            ]
        results.append(
            DocumentResult(
                file=doc.name,
                sha256=doc.sha256,
                form=found.form.id if found.form else None,
                pages=len(doc_pages),
                first_page=doc_pages[0].number,
                fields=fields,
                missing=missing,
                text=text if found.form is None else None,
            )
        )
    return results


def _read_again(
    doc: Ingested,
    form: FormDecl,
    pages: list[Page],
    fields: dict[str, ExtractedField],
    unparsed: dict[str, ExtractedField] | None = None,
) -> dict[str, ExtractedField]:
    """The scanned values read a second time where the first reading may be wrong: text values
    with a box in them read with the boxes left in (:func:`_boxes_read_as_text`), and, with the
    second opinion on, values read unsure or not as their type read by the other engine
    (:func:`_unsure_read_again`)."""
    from extract.recognize import settings

    fields = _boxes_read_as_text(doc, form, pages, fields)
    if settings().second_opinion:
        fields = _unsure_read_again(doc, form, pages, fields, unparsed)
    return fields


def _unsure_read_again(
    doc: Ingested,
    form: FormDecl,
    pages: list[Page],
    fields: dict[str, ExtractedField],
    unparsed: dict[str, ExtractedField] | None = None,
) -> dict[str, ExtractedField]:
    """Values read unsure (marked for review) or whose text did not read as their type
    (``unparsed``) read again from their cells' images by the other engine, and the two
    readings reconciled by type and confidence (:func:`_reconciled`). Choices are not: they
    are read from the boxes' pixels, not recognized."""
    from extract.recognize import other_engine

    other = other_engine()
    if other is None or not _scanned(pages):
        return fields
    pending = unparsed or {}
    choices = {f.key for f in form.fields() if f.type in CHOICE_TYPES or f.choices}
    unsure = [k for k, v in fields.items() if v.review and k not in choices]
    unsure += [k for k in pending if k not in fields and k not in choices]
    if not unsure:
        return fields
    again = _values_read_again(
        doc, form, pages, {**pending, **fields}, dict.fromkeys(unsure, PRIMARY_MODEL), _reconciled, engine=other,
    )
    found = {k: v for k, v in again.items() if v.value is not None}
    # a value found only now tells what it implies (未納税額 0 円: no arrears)
    apply_implications(form.implications, found, pages)
    return found


def _reconciled(old: ExtractedField, new: ExtractedField) -> ExtractedField:
    """Of two engines' readings of a value, found in the same place: the one that reads as its
    type (a value the first did not parse has none), else the surer; where both read alike, the
    first, as sure as the surer (two engines agreeing)."""
    if new.value is None or not _same_place(old, new):
        return old
    if old.value is None:
        return new
    if _same_reading(old, new):
        confidence = max(old.confidence, new.confidence)
        return old.model_copy(update={"confidence": confidence, "review": confidence < REVIEW_THRESHOLD})
    if _characters_lost(old, new) or _phantom_added(old, new):
        return old
    return new if new.confidence > old.confidence else old


def _agreeing(form: FormDecl, fields: dict[str, ExtractedField]) -> dict[str, ExtractedField]:
    """The values that check one another (a 税抜/税込 pair, an e-mail's domain and the
    website's, a reading and its name) set right again once every value read again was chosen:
    each was chosen by itself (komochi-honeyi.jp read again and kept beside
    order@komochi-honey.jp)."""
    out = dict(fields)
    repair_tax_pairs(form, out)
    repair_mail_domain(form, out)
    repair_kana_reading(form, out)
    return out


#: Field types whose value is ticked boxes: a ☑ there is what was read, not a misreading.
CHOICE_TYPES = frozenset({"choice", "multi_choice", "bool"})


def _boxes_read_as_text(
    doc: Ingested, form: FormDecl, pages: list[Page], fields: dict[str, ExtractedField]
) -> dict[str, ExtractedField]:
    """Scanned text values with a box in them (年間300☑) read again with the boxes left in the
    image, and the reading without one taken.

    In a gothic face 個 and 回 at the end of a value are squares with strokes inside, found as
    ticked boxes and whitened before the page is read, so the OCR never saw them; no value of
    a field that is not a choice holds a box. Only those values' boxes are read again.
    """
    scanned = _scanned(pages)
    if not scanned:
        return fields
    texts = [
        f.key for f in form.fields()
        if f.type not in CHOICE_TYPES and f.key in fields and isinstance(fields[f.key].value, str)
    ]  # fmt: skip
    boxed = {k: PRIMARY_MODEL for k in texts if any(ch in BOX_GLYPHS for ch in fields[k].value)}  # type: ignore[union-attr]
    # a value's first character taken for a box was trimmed off with it (肩 of 肩ロース): the
    # value read again from the box on
    led: dict[str, ExtractedField] = {}
    for k in texts:
        found = fields[k]
        if k not in boxed and found.page in scanned and found.bbox is not None:
            box = _box_before(scanned[found.page], found.bbox)
            if box is not None:
                led[k] = found.model_copy(update={"bbox": [box.x0, *found.bbox[1:]]})
    if not boxed and not led:
        return fields
    wanted = {**boxed, **dict.fromkeys(led, PRIMARY_MODEL)}

    def choose(old: ExtractedField, new: ExtractedField) -> ExtractedField:
        if any(ch in BOX_GLYPHS for ch in str(old.value)):
            return _reading_without_boxes(old, new)
        return _reading_with_its_first_characters(old, new)

    again = _values_read_again(doc, form, pages, {**fields, **led}, wanted, choose)
    # a value whose reading from the box on was not taken keeps its own box
    return {k: fields[k] if k in led and v is led[k] else v for k, v in again.items()}


def _reading_without_boxes(old: ExtractedField, new: ExtractedField) -> ExtractedField:
    """The second reading when it holds no box, was found where the first was, and is not
    far less sure (a value of two lines read again as one came out 中貼の生農園, at 0.04 against
    0.86 for 市内の果☑園: one character lost, not the value). The box counts as sure in the
    first, so the second may be much less sure and right (製造日から60日 at 0.36 against 0.87)."""
    if not isinstance(new.value, str) or any(ch in BOX_GLYPHS for ch in new.value) or not _same_place(old, new):
        return old
    return new if new.confidence >= old.confidence / 4 else old


#: What a box left in the image is read as: never a value's lost first character.
_BOX_READINGS = frozenset("口ロ□図凶回目日ㅁ") | BOX_GLYPHS


def _reading_with_its_first_characters(old: ExtractedField, new: ExtractedField) -> ExtractedField:
    """The reading from the box on, when it is the first reading with characters before it,
    characters a box is not read as (肩ロース for ロース, 毎週火曜日に発送 for に発送; not
    口ロース, the box itself)."""
    if not isinstance(new.value, str) or not isinstance(old.value, str) or not _same_place(old, new):
        return old
    before, after = _no_spaces(new.value), _no_spaces(old.value)
    if len(before) <= len(after) or not before.endswith(after):
        return old
    added = before[: len(before) - len(after)]
    if added[0] in _BOX_READINGS:
        return old  # the box itself, read as a box
    if any(not unicodedata.name(ch, "").startswith(("CJK UNIFIED", "HIRAGANA", "KATAKANA")) for ch in added):
        return old
    return new


def _box_before(page: Page, bbox: Sequence[float]) -> Word | None:
    """A box read just before a value on its line, nothing else and no ruled line between; of
    several in a row (毎, 曜, 日 of 毎週火曜日に発送 taken for boxes at 200 dpi), the first."""
    x0, y0, x1, y1 = bbox
    height = _line_height(page)
    first: Word | None = None
    while True:
        # (farther between boxes: the characters between them were taken off with them)
        reach = (3 if first else 2) * height
        on_line = [w for w in page.words if y0 <= w.cy <= y1 and w.x1 <= x0 + 1 and x0 - w.x1 <= reach]
        if not on_line:
            return first
        nearest = max(on_line, key=lambda w: w.x1)
        if not nearest.text.strip() or any(ch not in BOX_GLYPHS for ch in nearest.text.strip()):
            return first
        if any(r.x0 == r.x1 and nearest.x1 - 0.5 <= r.x0 <= x0 and r.y0 <= nearest.cy <= r.y1 for r in page.rules):
            return first
        first, x0 = nearest, nearest.x0


def _line_height(page: Page) -> float:
    """The median height of the words of a page, points."""
    heights = [w.y1 - w.y0 for w in page.words if w.text.strip()]
    return statistics.median(heights) if heights else 10.0


def _values_read_again(
    doc: Ingested,
    form: FormDecl,
    pages: list[Page],
    fields: dict[str, ExtractedField],
    wanted: dict[str, str],
    choose: Callable[[ExtractedField, ExtractedField], ExtractedField],
    *,
    engine: str | None = None,
) -> dict[str, ExtractedField]:
    """The scanned values of the ``wanted`` fields (key → model) read again with their model
    (``jpn``: by the ``engine``, by default the settings'), ``choose`` deciding between the
    first reading and the second.

    Only the values' cells are read (:func:`_value_region`), all of a page's in one call: the
    cost is one reading of a small stacked image a page, not a second reading of the page;
    pages are read at once as they were first, and the form is located once with every page's
    new words. The regions' words are cached like pages, under the engine's name.
    """
    from extract.cache import cached_pages
    from extract.readers.image import read_regions
    from extract.recognize import engine_tag

    scanned = _scanned(pages)
    groups: dict[int, dict[str, list[str]]] = {}
    for key, lang in wanted.items():
        found = fields.get(key)
        if found is None or found.bbox is None or found.page not in scanned:
            continue
        if _part_of_a_word(scanned[found.page], found.bbox):
            continue
        groups.setdefault(found.page, {}).setdefault(lang, []).append(key)
    if not groups:
        return fields

    def read_page_again(number: int) -> tuple[list[Region], list[Word]]:
        page = scanned[number]
        clean: tuple[np.ndarray, float] | None = None
        regions: list[Region] = []
        words: list[Word] = []
        for lang, keys in groups[number].items():
            boxes = _merged([_value_region(page, fields[k].bbox) for k in keys])  # type: ignore[arg-type]
            digest = hashlib.sha256(repr([tuple(round(v, 1) for v in r) for r in boxes]).encode()).hexdigest()[:16]

            def read(boxes: list[Region] = boxes, lang: str = lang) -> list[Page]:
                nonlocal clean
                if clean is None:
                    clean = _clean_image(doc, page)
                found = read_regions(clean[0], clean[1], boxes, lang=lang, rules=page.rules, engine=engine)  # type: ignore[arg-type]
                return [Page(number=page.number, width=page.width, height=page.height, source="ocr", words=found)]

            reader = engine_tag(engine) if lang == PRIMARY_MODEL else lang  # type: ignore[arg-type]
            [read_again] = cached_pages(f"{_page_key(doc, number)}-{reader}-regions-{digest}", read, expect=1)
            regions += boxes
            words += read_again.words
        return regions, words

    # pages at once, as they were read first; a page's models one after the other, on one image
    numbers = sorted(groups)
    workers = min(ocr_workers(), len(numbers))
    if workers <= 1:
        readings = [read_page_again(n) for n in numbers]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reread") as pool:
            readings = list(pool.map(read_page_again, numbers))
    again = {p.number: p for p in pages}
    for number, (regions, words) in zip(numbers, readings):
        page = scanned[number]
        # the words read again go, and any left in the values' first boxes outside their
        # regions (a cell's wall read as 人 before 入金, the region stopping at the wall)
        replaced = regions + [fields[k].bbox for keys in groups[number].values() for k in keys]  # type: ignore[misc]
        kept = [w for w in page.words if not any(_centre_in(w, r) for r in replaced)]
        # a word read from the label into the value keeps its label's part (the row is found),
        # and one that ran on past the value what follows it (…ありませんので証明します。, the
        # label the issuer is found after)
        kept += [part for w in page.words for r in regions if _centre_in(w, r) for part in _parts_outside(w, r)]
        again[number] = replace(page, words=kept + words)
    located = locate_fields(form, [again[p.number] for p in pages])
    out = dict(fields)
    for number in numbers:
        for keys in groups[number].values():
            for k in keys:
                new = located.get(k)
                if new is not None:
                    out[k] = choose(out[k], new)
    return out


def _scanned(pages: list[Page]) -> dict[int, Page]:
    """The pages read by OCR (not a text layer, not a form's filled fields), by number."""
    return {p.number: p for p in pages if p.source == "ocr" and not p.form_values}


def _phantom_added(old: ExtractedField, new: ExtractedField) -> bool:
    """The second reading is the first with one phantom character (:data:`PHANTOMS`) put in."""
    if not (isinstance(old.value, str) and isinstance(new.value, str)):
        return False
    before, after = _no_spaces(old.value), _no_spaces(new.value)
    if len(after) != len(before) + 1:
        return False
    return any(after[i] in PHANTOMS and after[:i] + after[i + 1 :] == before for i in range(len(after)))


def _same_reading(a: ExtractedField, b: ExtractedField) -> bool:
    """Two readings of one value that differ at most in their spaces."""
    if isinstance(a.value, str) and isinstance(b.value, str):
        return _no_spaces(a.value) == _no_spaces(b.value)
    return a.value == b.value


def _same_place(a: ExtractedField, b: ExtractedField) -> bool:
    """Two readings of a value on the same page and line, overlapping across it."""
    if a.bbox is None or b.bbox is None or a.page != b.page:
        return False
    ax0, ay0, ax1, ay1 = a.bbox
    bx0, by0, bx1, by1 = b.bbox
    across = min(ay1, by1) - max(ay0, by0)
    return min(ax1, bx1) > max(ax0, bx0) and across >= 0.5 * min(ay1 - ay0, by1 - by0)


def _characters_lost(old: ExtractedField, new: ExtractedField) -> bool:
    """The second reading has characters fewer by a third or more over as wide a box: it read
    part of the value (高橋 for 高橋美咲 over the four characters' width), however sure of it."""
    if not (isinstance(old.value, str) and isinstance(new.value, str) and old.bbox and new.bbox):
        return False
    before, after = _no_spaces(old.value), _no_spaces(new.value)
    wide = (new.bbox[2] - new.bbox[0]) >= 0.8 * (old.bbox[2] - old.bbox[0])
    return wide and len(after) <= len(before) * 2 / 3


def _no_spaces(text: str) -> str:
    return "".join(text.split())


def _value_region(page: Page, bbox: Sequence[float]) -> Region:
    """The region around a value read again: a line's height of margin each side and a third
    of one above and below, short of the ruled lines that close its cell.

    A wall just inside the value's box closes it too: the first reading took the wall's
    stroke for part of a character (the cell's wall and 入 read as 人入), and a margin
    reaching past that wall read the label's last character (グ) into the value. Not so a
    row's rule: a word read over two rows (株式会社渋川フーズ over the rule above it) is read
    again whole."""
    x0, y0, x1, y1 = bbox
    heights = [w.y1 - w.y0 for w in page.words if _centre_in(w, bbox)]
    height = min(y1 - y0, statistics.median(heights)) if heights else y1 - y0  # of a line
    left, right = x0 - height, x1 + height
    top, bottom = y0 - height / 3, y1 + height / 3
    inside = height / 2  # how far inside the box a rule may stand and still close it
    for r in page.rules:
        if r.x0 == r.x1 and r.y0 <= (y0 + y1) / 2 <= r.y1:
            if left < r.x0 <= min(x0 + inside, (x0 + x1) / 2):
                left = r.x0 + 0.5
            if max(x1 - inside, (x0 + x1) / 2) <= r.x0 < right:
                right = r.x0 - 0.5
        elif r.y0 == r.y1 and r.x0 <= (x0 + x1) / 2 <= r.x1:
            if top < r.y0 <= y0:
                top = r.y0 + 0.5
            if y1 <= r.y0 < bottom:
                bottom = r.y0 - 0.5
    return (max(0.0, left), max(0.0, top), min(page.width, right), min(page.height, bottom))


def _merged(regions: list[Region]) -> list[Region]:
    """Regions that overlap joined into one, so that no part of the page is read twice."""
    out: list[Region] = []
    for r in regions:
        while True:
            touching = [o for o in out if r[0] < o[2] and o[0] < r[2] and r[1] < o[3] and o[1] < r[3]]
            if not touching:
                break
            for o in touching:
                out.remove(o)
                r = (min(r[0], o[0]), min(r[1], o[1]), max(r[2], o[2]), max(r[3], o[3]))
        out.append(r)
    return out


def _part_of_a_word(page: Page, bbox: Sequence[float]) -> bool:
    """The value was read as the end of a longer word (証明する税目:市県民税, label and value
    run together): its box read again would come back beside that word, which stays, and the
    value would stand twice (市県民税:市県民税). Such a value keeps its first reading."""
    x0, y0, x1, y1 = bbox
    region = _value_region(page, bbox)
    for w in page.words:
        across = min(y1, w.y1) - max(y0, w.y0)
        into = min(x1, w.x1) - max(x0, w.x0)
        if across > 0.5 * min(y1 - y0, w.height) and into > 0.5 * w.height and not _centre_in(w, region):
            return True
    return False


def _parts_outside(word: Word, region: Region) -> list[Word]:
    """The characters of a word whose middles stand left of ``region``, and those right of it,
    each run as a word of its own (its width shared out among its characters)."""
    shares = char_shares(word.text, word.x0, word.x1)
    confs = list(word.char_confs) if len(word.char_confs) == len(shares) else [word.conf] * len(shares)
    before = [(ch, a, b, c) for (ch, a, b), c in zip(shares, confs) if (a + b) / 2 <= region[0]]
    after = [(ch, a, b, c) for (ch, a, b), c in zip(shares, confs) if (a + b) / 2 >= region[2]]
    parts = []
    if "".join(ch for ch, _, _, _ in before).strip():
        parts.append(replace(
            word, text="".join(ch for ch, _, _, _ in before), x1=min(before[-1][2], region[0]),
            char_confs=tuple(c for _, _, _, c in before) if word.char_confs else (),
        ))
    if "".join(ch for ch, _, _, _ in after).strip():
        parts.append(replace(
            word, text="".join(ch for ch, _, _, _ in after), x0=max(after[0][1], region[2]),
            char_confs=tuple(c for _, _, _, c in after) if word.char_confs else (),
        ))
    return parts


def _centre_in(word: Word, region: Sequence[float]) -> bool:
    cx, cy = (word.x0 + word.x1) / 2, (word.y0 + word.y1) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


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
        documents=[
            CaseDocument(form=d.form, fields={k: v.value for k, v in d.fields.items()}, missing={m.field: m.reason for m in d.missing})
            for d in result.documents
        ],
    )
    report = run_checks(case)
    from forms.programs import get_program

    own = get_program(program).forms
    target = next((d for d in result.documents if d.form in own), result.documents[0])
    target.checks = list(report.findings)
    return result
