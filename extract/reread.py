"""Bands of a scanned page read again with another model.

The second reading (``extract.pipeline._second_reading``) does not read the whole page again:
the rows around the fields in doubt are cut out of the image Tesseract read the first time
(ruled lines and marks already whitened), stacked into one image with white gaps, and read in
one call. A band spans the page's width and a few lines above and below the field: read alone,
one line reads worse than the same line among its neighbours. The band's words then replace
the first reading's words within the band, and the fields are located again on that page.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from PIL import Image

from extract import tesseract
from extract.pagemodel import BBox, Page, Word

#: A band reaches this many times the field's height above and below it.
BAND_REACH = 5.0
#: White between stacked bands, in inches.
BAND_GAP_IN = 0.3

#: The images Tesseract read last (key → grey array, dpi), so that a second reading right
#: after the first needs no new preparation. A few pages only: each is up to 9 MB.
_RECENT: OrderedDict[str, tuple[np.ndarray, float]] = OrderedDict()
_RECENT_PAGES = 4
_LOCK = threading.Lock()
_MARKS = frozenset("☐☑")


def remember(key: str, clean: np.ndarray, dpi: float) -> None:
    """Keep the image Tesseract read for page ``key`` for a second reading."""
    with _LOCK:  # pages are read on several threads
        _RECENT[key] = (clean, dpi)
        _RECENT.move_to_end(key)
        while len(_RECENT) > _RECENT_PAGES:
            _RECENT.popitem(last=False)


def recall(key: str) -> tuple[np.ndarray, float] | None:
    return _RECENT.get(key)


def bands_around(boxes: Sequence[BBox], page_height: float, reach: float = BAND_REACH) -> list[tuple[float, float]]:
    """Vertical bands (points) around the given boxes, overlapping ones joined."""
    spans = sorted(
        (max(0.0, y0 - reach * (y1 - y0)), min(page_height, y1 + reach * (y1 - y0))) for _, y0, _, y1 in boxes
    )
    joined: list[tuple[float, float]] = []
    for top, bottom in spans:
        if joined and top <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], bottom))
        else:
            joined.append((top, bottom))
    return joined


def reread_bands(page: Page, clean: np.ndarray, dpi: float, bands: Sequence[tuple[float, float]], *, lang: str) -> Page:
    """``page`` with the words inside ``bands`` (points) read again from ``clean`` with ``lang``."""
    from extract.readers.image import drop_noise, merge_characters, restore_small_kana, tighten_boxes
    from extract.prepare import ink_mask

    to_px = dpi / 72.0
    height, width = clean.shape[:2]
    gap = int(BAND_GAP_IN * dpi)
    cuts = [(max(0, int(top * to_px)), min(height, int(bottom * to_px) + 1)) for top, bottom in bands]
    cuts = [(a, b) for a, b in cuts if b > a]
    if not cuts:
        return page
    stack = np.full((sum(b - a for a, b in cuts) + gap * (len(cuts) + 1), width), 255, dtype=np.uint8)
    placed: list[tuple[int, int, int]] = []  # (top in the stack, top on the page, height)
    y = gap
    for a, b in cuts:
        stack[y : y + b - a] = clean[a:b]
        placed.append((y, a, b - a))
        y += b - a + gap
    read = tesseract.ocr_words(Image.fromarray(stack, "L"), lang=lang, dpi=int(round(dpi)))
    read = restore_small_kana(tighten_boxes(read, ink_mask(stack)))
    on_page: list[tesseract.OcrWord] = []
    for w in read:
        middle = (w.box[1] + w.box[3]) / 2
        for top, page_top, size in placed:
            if top <= middle < top + size:
                shift = page_top - top
                on_page.append(w._replace(box=(w.box[0], w.box[1] + shift, w.box[2], w.box[3] + shift)))
                break
    verticals = [
        (round(r.x0 * to_px), round(r.y0 * to_px), round(r.x1 * to_px), round(r.y1 * to_px))
        for r in page.rules if r.x0 == r.x1
    ]
    to_pt = 1.0 / to_px
    fresh = drop_noise([
        Word(text, box[0] * to_pt, box[1] * to_pt, box[2] * to_pt, box[3] * to_pt, round(conf / 100.0, 3))
        for text, box, conf in merge_characters(on_page, verticals)
    ])
    spans = [(a * to_pt, b * to_pt) for a, b in cuts]
    # the boxes read from pixels (☐/☑ words) stay: the band's image has them whitened out
    kept = [
        w for w in page.words
        if w.text in _MARKS or not any(top <= (w.y0 + w.y1) / 2 < bottom for top, bottom in spans)
    ]
    return replace(page, words=kept + fresh)
