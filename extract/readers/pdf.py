"""Read a PDF: its text layer as words, its ruled lines, and its AcroForm values.

pypdf opens the file (encryption, page count, AcroForm widgets); pdfplumber (pdfminer) reads
the words and lines of each page. Coordinates are points from the top-left of the page, as
pdfplumber gives them, shifted so that the MediaBox starts at (0, 0). Text is kept as printed:
NFKC (⼀ → 一, full-width digits) is the normalizer's job, not the reader's.

Whatever the file, the reader either returns pages or raises one of the InputError subclasses:
every exception of pypdf and pdfminer becomes CorruptFile, their log chatter is silenced, and
pages whose content is pathological (a decompression bomb, hundreds of thousands of glyphs)
are returned without words, for OCR to read from the rendered image.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError
from pdfminer.pdfinterp import PDFPageInterpreter
from pdfplumber.page import Page as PlumberPage
from pdfplumber.page import PDFPageAggregatorWithMarkedContent
from pdfplumber.utils import extract_words
from pypdf import PasswordType, PdfReader
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, StreamObject

from extract.ingest import Deadline, Limits
from extract.pagemodel import FormValue, Page, Rule, Word
from extract.readers import place_words, text_width, uniform
from forms.errors import CorruptFile, EncryptedFile, InputError, NoPages, TooComplex, TooManyPages

log = logging.getLogger(__name__)

# pypdf and pdfminer report every oddity of a damaged file through logging at WARNING level
# (never through warnings.warn on the paths we use). We judge files ourselves, so keep them quiet.
for _name in ("pypdf", "pdfminer", "pdfplumber"):
    logging.getLogger(_name).setLevel(logging.ERROR)

#: Glyphs and painted paths read per page at most; the rest of a pathological page is ignored
#: (pdfminer handles some ten thousand objects a second).
MAX_CHARS_PER_PAGE = 200_000
MAX_PATHS_PER_PAGE = 50_000
#: Ruled lines kept per page at most.
MAX_RULES_PER_PAGE = 20_000
#: Annotations (form fields' widgets) a page may hold: the longest form has a few hundred; a
#: page with more is refused before any is read (10,000 fields took 35 s to read and OCR).
MAX_WIDGETS_PER_PAGE = 1000
#: Decoded content (page streams and form XObjects) above which a page is not parsed for text.
MAX_CONTENT_BYTES = 16 * 1024 * 1024
#: A page with fewer visible characters than this has no usable text layer.
MIN_TEXT_CHARS = 3
#: Rectangles thinner than this (points) are drawn lines, not boxes.
THIN = 2.0
#: Share of unmapped glyphs ("(cid:123)", U+FFFD) above which the text layer is not trusted.
MAX_UNMAPPED_SHARE = 0.3

CHECKED = "☑"
UNCHECKED = "☐"

_WORD_OPTIONS: dict[str, Any] = {
    "x_tolerance": 3,
    "y_tolerance": 3,
    "keep_blank_chars": False,
    "use_text_flow": False,
}
_VERTICAL_OPTIONS: dict[str, Any] = {**_WORD_OPTIONS, "line_dir": "rtl", "char_dir": "ttb"}
_UNMAPPED = re.compile(r"^\(cid:\d+\)$|^\ufffd+$")
_DA_SIZE = re.compile(rb"([0-9]*\.?[0-9]+)\s+Tf")

# Field flags (PDF 32000-1, 12.7.4)
_FF_MULTILINE = 1 << 12
_FF_RADIO = 1 << 15
_FF_PUSHBUTTON = 1 << 16
_ANNOT_HIDDEN = 1 << 1


def read_pdf(data: bytes, limits: Limits, *, deadline: Deadline | None = None) -> list[Page]:
    """All pages of a PDF, with words, ruled lines and form values; the ``deadline`` (the
    document's budget) checked before each page."""
    _require_complete(data)
    reader = _open_pypdf(data)
    if reader is not None:
        count = _page_count(reader)
        _check_count(count, limits)
    try:
        with pdfplumber.open(io.BytesIO(data), password="") as pdf:
            plumber_pages = pdf.pages
            if reader is None:
                # pypdf could not parse it but pdfminer could (e.g. no xref table at all).
                if not plumber_pages:
                    raise _corrupt("no readable page tree")
                _check_count(len(plumber_pages), limits)
            pypdf_pages = _pypdf_pages(reader, len(plumber_pages))
            default_da = _acroform_da(reader)
            pages = []
            for index, ppage in enumerate(plumber_pages):
                if deadline is not None:
                    deadline.check(f"page {index + 1}")
                pages.append(_read_page(ppage, pypdf_pages[index], default_da))
                ppage.close()
    except InputError:
        raise
    except Exception as exc:  # pdfminer raises anything from KeyError to RecursionError
        if _is_encryption_error(exc):
            raise _encrypted() from None
        raise _corrupt(_describe(exc)) from None
    if not pages:
        raise NoPages("PDFにページがありません / The PDF has no pages")
    return pages


def page_needs_ocr(page: Page) -> bool:
    """True when the page has no usable text layer (a scan): OCR must read its image.

    Words placed by the reader for form-field values do not count: a scanned form with fields
    over it still needs its printed labels read.
    """
    boxes = [fv.bbox for fv in page.form_values if fv.bbox is not None]
    count = 0
    for word in page.words:
        if boxes and any(_inside(word, b) for b in boxes):
            continue
        count += sum(1 for ch in word.text if not ch.isspace())
        if count >= MIN_TEXT_CHARS:
            return False
    return True


# --- opening ---------------------------------------------------------------------------


def _require_complete(data: bytes) -> None:
    # Like Acrobat, look for the end-of-file marker in the last 1024 bytes; without it the
    # file was cut short, and whatever a lenient parser recovers from it is missing content.
    tail = data.rstrip(b"\x00\r\n\t\f ")[-1024:]
    if b"%%EOF" not in tail:
        raise _corrupt("no %%EOF marker: the file is truncated")


def _open_pypdf(data: bytes) -> PdfReader | None:
    """pypdf's reader, decrypted with the empty password; None when pypdf cannot parse it."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except Exception as exc:
        log.debug("pypdf cannot open the PDF (%s); trying pdfminer", _describe(exc))
        return None
    try:
        encrypted = reader.is_encrypted
    except Exception:
        return None
    if encrypted:
        try:
            if reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                raise _encrypted()
        except InputError:
            raise
        except Exception as exc:  # unsupported handler, missing crypto dependency
            raise _encrypted(_describe(exc)) from None
    return reader


def _page_count(reader: PdfReader) -> int:
    try:
        return len(reader.pages)
    except Exception as exc:
        raise _corrupt(_describe(exc)) from None


def _check_count(count: int, limits: Limits) -> None:
    if count == 0:
        raise NoPages("PDFにページがありません / The PDF has no pages")
    if count > limits.max_pages:
        raise TooManyPages(
            f"ページ数が多すぎます（{count}ページ、上限 {limits.max_pages}） / Too many pages:"
            f" {count}, the limit is {limits.max_pages}",
            pages=count,
            limit=limits.max_pages,
        )


def _pypdf_pages(reader: PdfReader | None, count: int) -> list[Any]:
    """pypdf's page objects aligned with pdfminer's, or Nones when they do not agree."""
    if reader is None:
        return [None] * count
    try:
        pages = list(reader.pages)
    except Exception:
        return [None] * count
    if len(pages) != count:
        log.info("pypdf sees %d pages, pdfminer %d: form fields are not read", len(pages), count)
        return [None] * count
    return pages


def _acroform_da(reader: PdfReader | None) -> bytes | None:
    if reader is None:
        return None
    try:
        root = reader.trailer["/Root"].get_object()
        acroform = root.get("/AcroForm") if isinstance(root, DictionaryObject) else None
        acroform = acroform.get_object() if acroform is not None else None
        if not isinstance(acroform, DictionaryObject):
            return None
        return _as_bytes(acroform.get("/DA"))
    except Exception:
        return None


def _is_encryption_error(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, PDFEncryptionError):
            return True
        cur = cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else cur.__cause__
    return False


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _corrupt(detail: str) -> CorruptFile:
    return CorruptFile(f"PDFが壊れているため読めません / The PDF is damaged and cannot be read ({detail})")


def _encrypted(detail: str = "") -> EncryptedFile:
    suffix = f" ({detail})" if detail else ""
    return EncryptedFile(
        "パスワードで保護されたPDFは読めません / The PDF is password-protected and cannot be read" + suffix
    )


# --- one page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """Maps pdfplumber's and pypdf's coordinates to the page model's."""

    width: float
    height: float
    dx: float  # pdfplumber's x of the MediaBox's left edge
    dy: float  # pdfplumber's top of the MediaBox's top edge
    ctm: tuple[float, float, float, float, float, float]  # PDF user space → rotated page space


def _read_page(ppage: PlumberPage, pypage: Any, default_da: bytes | None) -> Page:
    frame = _frame(ppage)
    number = ppage.page_number
    page = Page(number=number, width=frame.width, height=frame.height, source="text")
    if pypage is not None:
        _check_annotations(pypage, number)

    if pypage is not None and _content_over_budget(pypage):
        log.warning("page %d: content over %d bytes, not parsed for text", number, MAX_CONTENT_BYTES)
    else:
        try:
            _parse_capped(ppage)
            page.words = _words(ppage.chars, frame, number)
            page.rules = _rules(ppage, frame)
        except Exception as exc:
            # One bad page does not lose the others; OCR can still read its image.
            log.warning("page %d: text layer unreadable (%s)", number, _describe(exc))
            page.words, page.rules = [], []

    if pypage is not None:
        values, widget_words = _form_fields(pypage, frame, default_da)
        if values:
            page.form_values = values
            page.words.extend(widget_words)
            page.source = "acroform"
    return page


def _frame(ppage: PlumberPage) -> _Frame:
    mb_x0, mb_top = float(ppage.mediabox[0]), float(ppage.mediabox[1])
    # pdfminer's page (user space → device) transform, so widget rectangles land where the text is.
    x0, y0, x1, y1 = (float(v) for v in ppage.page_obj.mediabox)
    rotation = int(ppage.rotation) % 360
    ctm: tuple[float, float, float, float, float, float]
    if rotation == 90:
        ctm = (0, -1, 1, 0, -y0, x1)
    elif rotation == 180:
        ctm = (-1, 0, 0, -1, x1, y1)
    elif rotation == 270:
        ctm = (0, 1, -1, 0, y1, -x0)
    else:
        ctm = (1, 0, 0, 1, -x0, -y0)
    return _Frame(float(ppage.width), float(ppage.height), mb_x0, mb_top, ctm)


class _PageTooBusy(Exception):
    pass


class _CappedDevice(PDFPageAggregatorWithMarkedContent):
    """pdfplumber's layout device, stopping after too many glyphs or paths."""

    chars = 0
    paths = 0

    def render_char(self, *args: Any, **kwargs: Any) -> float:
        self.chars += 1
        if self.chars > MAX_CHARS_PER_PAGE:
            raise _PageTooBusy("glyphs")
        return super().render_char(*args, **kwargs)

    def paint_path(self, *args: Any, **kwargs: Any) -> None:
        self.paths += 1
        if self.paths > MAX_PATHS_PER_PAGE:
            raise _PageTooBusy("paths")
        super().paint_path(*args, **kwargs)


def _parse_capped(ppage: PlumberPage) -> None:
    """Lay the page out as pdfplumber's ``Page.layout`` would, but with a bounded cost.

    A page over the caps keeps what was read before them.
    """
    device = _CappedDevice(ppage.pdf.rsrcmgr, pageno=ppage.page_number, laparams=ppage.pdf.laparams)
    interpreter = PDFPageInterpreter(ppage.pdf.rsrcmgr, device)
    layout: Any
    try:
        interpreter.process_page(ppage.page_obj)
        layout = device.get_result()
    except _PageTooBusy as busy:
        log.warning("page %d: too many %s, the rest of the page is not read", ppage.page_number, busy)
        stack = getattr(device, "_stack", None)
        layout = stack[0] if stack else device.cur_item  # the page, not a figure being drawn
    ppage._layout = layout


def _content_over_budget(pypage: Any) -> bool:
    """Whether the page's content streams and form XObjects decode to more than the budget.

    pypdf's decoders stop at their own output limit (LimitReachedError), so a decompression bomb
    is caught here before pdfminer, which has no such limit, would inflate it. A stream pypdf
    cannot decode for another reason is left for pdfminer to try.
    """
    total = 0
    seen: set[int] = set()

    def size(obj: Any, depth: int) -> int:
        nonlocal total
        if depth > 8 or total > MAX_CONTENT_BYTES:
            return total
        obj = obj.get_object() if obj is not None else None
        if isinstance(obj, ArrayObject):
            for part in obj:
                size(part, depth + 1)
        elif isinstance(obj, StreamObject):
            if id(obj) in seen:
                return total
            seen.add(id(obj))
            try:
                total += len(obj.get_data())
            except LimitReachedError:
                raise
            except Exception as exc:  # a broken stream: pdfminer may still make sense of the rest
                log.debug("undecodable content stream: %s", _describe(exc))
            resources = obj.get("/Resources")
            if resources is not None:
                xobjects(resources, depth + 1)
        return total

    def xobjects(resources: Any, depth: int) -> None:
        resources = resources.get_object()
        xobj = resources.get("/XObject") if isinstance(resources, DictionaryObject) else None
        xobj = xobj.get_object() if xobj is not None else None
        if not isinstance(xobj, DictionaryObject):
            return
        for ref in xobj.values():
            stream = ref.get_object()
            if isinstance(stream, StreamObject) and stream.get("/Subtype") == "/Form":
                size(stream, depth)

    try:
        size(pypage.get("/Contents"), 0)
        resources = pypage.get("/Resources")
        if resources is not None:
            xobjects(resources, 1)
    except LimitReachedError:
        return True
    except Exception as exc:  # a broken resource dictionary
        log.debug("content size check failed: %s", _describe(exc))
    return total > MAX_CONTENT_BYTES


# --- words ---------------------------------------------------------------------------------


def _words(chars: list[dict[str, Any]], frame: _Frame, number: int) -> list[Word]:
    if len(chars) > MAX_CHARS_PER_PAGE:
        log.warning("page %d: %d glyphs, only the first %d are read", number, len(chars), MAX_CHARS_PER_PAGE)
        chars = chars[:MAX_CHARS_PER_PAGE]
    visible = [c for c in chars if c.get("text")]
    mapped = [c for c in visible if not _UNMAPPED.match(c["text"])]
    glyphs = sum(1 for c in visible if not c["text"].isspace())
    if glyphs and (glyphs - sum(1 for c in mapped if not c["text"].isspace())) > MAX_UNMAPPED_SHARE * glyphs:
        log.info("page %d: the text layer's glyphs have no Unicode mapping; OCR must read it", number)
        return []
    vertical = _vertical_runs(mapped)
    horizontal_chars = [c for i, c in enumerate(mapped) if not vertical[i]]
    vertical_chars = [c for i, c in enumerate(mapped) if vertical[i]]
    raw = extract_words(horizontal_chars, **_WORD_OPTIONS)
    if vertical_chars:
        raw += extract_words(vertical_chars, **_VERTICAL_OPTIONS)
    words = []
    for w in raw:
        text = w["text"].strip()
        if not text:
            continue
        word = Word(
            text=text,
            x0=float(w["x0"]) - frame.dx,
            y0=float(w["top"]) - frame.dy,
            x1=float(w["x1"]) - frame.dx,
            y1=float(w["bottom"]) - frame.dy,
        )
        if 0 <= (word.x0 + word.x1) / 2 <= frame.width and 0 <= word.cy <= frame.height:
            words.append(word)  # text placed off the page is invisible to a reader
    return words


def _vertical_runs(chars: list[dict[str, Any]]) -> list[bool]:
    """Mark characters set in vertical writing: three or more upright glyphs stacked in stream order."""
    marks = [False] * len(chars)
    i = 0
    while i < len(chars) - 1:
        j = i
        while j + 1 < len(chars) and _stacked(chars[j], chars[j + 1]):
            j += 1
        if j - i >= 2:
            for k in range(i, j + 1):
                marks[k] = True
        i = max(j, i + 1)
    return marks


def _stacked(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if not (a.get("upright", True) and b.get("upright", True)):
        return False
    s = max(float(a.get("size") or 0), float(b.get("size") or 0), 1.0)
    tol = 0.25 * s
    return abs(a["x0"] - b["x0"]) <= tol and abs(a["x1"] - b["x1"]) <= tol and -tol <= b["top"] - a["bottom"] <= tol


# --- ruled lines ---------------------------------------------------------------------------


def _rules(ppage: PlumberPage, frame: _Frame) -> list[Rule]:
    found: set[tuple[float, float, float, float]] = set()

    def add(x0: float, y0: float, x1: float, y1: float) -> None:
        if len(found) < MAX_RULES_PER_PAGE:
            r = (x0 - frame.dx, y0 - frame.dy, x1 - frame.dx, y1 - frame.dy)
            found.add(tuple(round(v, 2) for v in r))  # type: ignore[arg-type]

    for ln in ppage.lines:
        x0, top, x1, bottom = (float(ln[k]) for k in ("x0", "top", "x1", "bottom"))
        if bottom - top <= THIN:
            y = (top + bottom) / 2
            add(x0, y, x1, y)
        elif x1 - x0 <= THIN:
            x = (x0 + x1) / 2
            add(x, top, x, bottom)
        # diagonal strokes are not table borders
    for rc in ppage.rects:
        x0, top, x1, bottom = (float(rc[k]) for k in ("x0", "top", "x1", "bottom"))
        w, h = x1 - x0, bottom - top
        if w <= THIN and h <= THIN:
            continue  # a dot
        if h <= THIN:
            y = (top + bottom) / 2
            add(x0, y, x1, y)
        elif w <= THIN:
            x = (x0 + x1) / 2
            add(x, top, x, bottom)
        elif w >= 0.95 * frame.width and h >= 0.95 * frame.height:
            continue  # a page background, not a table
        else:
            add(x0, top, x1, top)
            add(x0, bottom, x1, bottom)
            add(x0, top, x0, bottom)
            add(x1, top, x1, bottom)
    return [Rule(*r) for r in sorted(found, key=lambda r: (r[1], r[0], r[3], r[2]))]


# --- AcroForm ------------------------------------------------------------------------------


def _form_fields(pypage: Any, frame: _Frame, default_da: bytes | None) -> tuple[list[FormValue], list[Word]]:
    values: list[FormValue] = []
    words: list[Word] = []
    for widget in _widgets(pypage):
        try:
            read = _read_widget(widget, frame, default_da)
        except Exception as exc:  # one broken widget does not lose the page
            log.debug("widget skipped: %s", _describe(exc))
            continue
        if read is not None:
            values.append(read[0])
            words.extend(read[1])
    return values, words


def _check_annotations(pypage: Any, number: int) -> None:
    """Refuse a page with more annotations than :data:`MAX_WIDGETS_PER_PAGE`, before any."""
    try:
        annots = pypage.get("/Annots")
        annots = annots.get_object() if annots is not None else None
        count = len(annots) if isinstance(annots, ArrayObject) else 0
    except Exception as exc:  # noqa: BLE001 - unreadable annotations are skipped when read
        log.debug("annotations uncountable: %s", _describe(exc))
        return
    if count > MAX_WIDGETS_PER_PAGE:
        raise TooComplex(
            f"フォーム項目が多すぎます / page {number} has {count} annotations (form fields), more than"
            f" any form ({MAX_WIDGETS_PER_PAGE})",
            page=number,
        )


def _widgets(pypage: Any) -> Iterator[DictionaryObject]:
    try:
        annots = pypage.get("/Annots")
        annots = annots.get_object() if annots is not None else None
        if not isinstance(annots, ArrayObject):
            return
        for ref in annots:
            annot = ref.get_object()
            if isinstance(annot, DictionaryObject) and annot.get("/Subtype") == "/Widget":
                yield annot
    except Exception as exc:
        log.debug("annotations unreadable: %s", _describe(exc))


def _read_widget(
    widget: DictionaryObject, frame: _Frame, default_da: bytes | None
) -> tuple[FormValue, list[Word]] | None:
    chain = _field_chain(widget)
    name = ".".join(t for t in (_text(d.get("/T")) for d in reversed(chain)) if t)
    if not name:
        return None
    ftype = _inherited(chain, "/FT")
    flags = int(_inherited(chain, "/Ff") or 0)
    if ftype not in ("/Tx", "/Btn", "/Ch") or (ftype == "/Btn" and flags & _FF_PUSHBUTTON):
        return None  # signatures and push buttons hold no answer
    bbox = _widget_bbox(widget, frame)
    hidden = int(widget.get("/F") or 0) & _ANNOT_HIDDEN
    drawable = bbox is not None and not hidden and bbox[2] - bbox[0] >= 1 and bbox[3] - bbox[1] >= 1

    if ftype == "/Btn":
        state = widget.get("/AS")
        on = str(state) != "/Off" if state is not None else _text(_inherited(chain, "/V")) not in ("", "/Off")
        words = [Word(CHECKED if on else UNCHECKED, *bbox)] if drawable and bbox else []
        return FormValue(name=name, value=on, bbox=bbox), words

    value = _field_value(_inherited(chain, "/V"), _inherited(chain, "/Opt"))
    words = []
    if drawable and bbox and value:
        da = _as_bytes(_inherited(chain, "/DA")) or default_da
        quad = int(_inherited(chain, "/Q") or 0)
        words = _value_words(value, bbox, _da_size(da), bool(flags & _FF_MULTILINE), quad)
    return FormValue(name=name, value=value, bbox=bbox), words


def _field_chain(widget: DictionaryObject) -> list[DictionaryObject]:
    """The widget and its ancestors in the field tree (the widget may be the field itself)."""
    chain = [widget]
    seen = {id(widget)}
    node = widget
    while len(chain) < 32:
        parent = node.get("/Parent")
        parent = parent.get_object() if parent is not None else None
        if not isinstance(parent, DictionaryObject) or id(parent) in seen:
            break
        chain.append(parent)
        seen.add(id(parent))
        node = parent
    return chain


def _inherited(chain: list[DictionaryObject], key: str) -> Any:
    for node in chain:
        if key in node:
            value = node[key]
            return value.get_object() if value is not None else None
    return None


def _field_value(raw: Any, opt: Any) -> str | None:
    if raw is None:
        return None
    options = _options(opt)
    items = list(raw) if isinstance(raw, ArrayObject) else [raw]
    texts = [options.get(t, t) for t in (_text(i.get_object()) for i in items) if t]
    return ", ".join(texts) if texts else None


def _options(opt: Any) -> dict[str, str]:
    """Export value → displayed text, for choice fields that declare both."""
    mapping: dict[str, str] = {}
    if isinstance(opt, ArrayObject):
        for item in opt:
            item = item.get_object()
            if isinstance(item, ArrayObject) and len(item) >= 2:
                mapping[_text(item[0].get_object())] = _text(item[1].get_object())
    return mapping


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        for encoding in ("utf-16" if value[:2] in (b"\xfe\xff", b"\xff\xfe") else "utf-8", "latin-1"):
            try:
                return value.decode(encoding)
            except UnicodeDecodeError:
                continue
    return str(value)


def _as_bytes(value: Any) -> bytes | None:
    if value is None:
        return None
    value = value.get_object() if hasattr(value, "get_object") else value
    if isinstance(value, bytes):
        return value
    return str(value).encode("latin-1", "replace")


def _da_size(da: bytes | None) -> float:
    """Font size of a default appearance string ("/Helv 12 Tf 0 g"); 0 means auto."""
    if not da:
        return 0.0
    found = _DA_SIZE.findall(da)
    try:
        return float(found[-1]) if found else 0.0
    except ValueError:
        return 0.0


def _widget_bbox(widget: DictionaryObject, frame: _Frame) -> tuple[float, float, float, float] | None:
    rect = widget.get("/Rect")
    rect = rect.get_object() if rect is not None else None
    if not isinstance(rect, ArrayObject) or len(rect) != 4:
        return None
    x0, y0, x1, y1 = (float(v.get_object()) for v in rect)
    a, b, c, d, e, f = frame.ctm
    pts = [(a * x + c * y + e, b * x + d * y + f) for x, y in ((x0, y0), (x1, y1))]
    xs = sorted(p[0] for p in pts)
    tops = sorted(frame.height - p[1] for p in pts)
    return (xs[0], tops[0], xs[1], tops[1])


def _value_words(
    value: str, bbox: tuple[float, float, float, float], size: float, multiline: bool, quad: int
) -> list[Word]:
    """The field's text laid out in its box, roughly as a viewer would draw it."""
    x0, top, x1, bottom = bbox
    width, height = x1 - x0, bottom - top
    lines = [ln for ln in value.splitlines() if ln.strip()] or [value]
    if not multiline:
        lines = [" ".join(lines)]
    if size <= 0:
        size = 10.0 if multiline else min(12.0, max(height * 0.7, 4.0))
    widest = max(text_width(ln, size) for ln in lines)
    if widest > width - 4 and widest > 0:
        size = max(2.0, size * (width - 4) / widest)  # what auto-size would do
    line_h = size * 1.15
    y = top + 2 if multiline else top + (height - line_h) / 2
    words: list[Word] = []
    for line in lines:
        w = text_width(line, size)
        x = x0 + 2 if quad == 0 else (x0 + (width - w) / 2 if quad == 1 else x1 - 2 - w)
        words.extend(place_words(uniform(line, size), x, y, line_h))
        y += line_h
    return words


def _inside(word: Word, box: tuple[float, float, float, float]) -> bool:
    cx = (word.x0 + word.x1) / 2
    return box[0] - 1 <= cx <= box[2] + 1 and box[1] - 1 <= word.cy <= box[3] + 1
