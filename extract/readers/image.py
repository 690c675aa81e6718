"""The image reader: scanned pages (PNG, JPEG, multi-page TIFF, image-only PDF pages) → Pages.

One page goes through small steps:

1. ``prepare``: grey, upright, deskewed, despeckled (extract.prepare);
2. ink analysis on the prepared page: ruled lines (→ ``Page.rules``), checkboxes and circled
   options (extract.checkmarks), all three whitened out of the image the OCR sees;
3. OCR by the recognizer (extract.recognize: PP-OCRv6 through rapidocr by default, or
   Tesseract ``jpn``), characters merged into words;
4. boxes put back as ☐/☑ words; pixels become PDF points (px × 72 / dpi).

When the OCR of a page reads badly (low confidence) the page may be sideways or upside down:
Tesseract's OSD is asked then, and the page read again turned upright.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import struct
import sys
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from extract import checkmarks, kana_size, recognize, tesseract
from extract.keys import CONTRACTED_SMALL, TO_LARGE
from extract.ingest import Deadline, Limits, check_page_count, tiff_frame_count
from extract.lexicon import is_kanji
from extract.pagemodel import BBox, Page, Rule, Word
from extract.prepare import Prepared, connected_components, image_is_blank, ink_mask, prepare
from forms.errors import CorruptFile, FileTooLarge, ImageTooSmall, PageTooLarge

ImageKind = Literal["png", "jpeg", "tiff"]
Orientation = Literal["auto", "osd", "none"]

#: Words closer than this many character heights are one word (Tesseract jpn splits characters).
MERGE_GAP = 0.75
#: A page with less than this share of its characters read confidently (>= 75) may be turned:
#: upright pages read 60-95% of their characters so, turned ones under 10%.
GOOD_PAGE_SHARE = 0.35
#: A word box lower than this share of its line's median height is a flat box Tesseract got wrong.
FLAT_BOX = 0.35
#: Ruled lines are at least this long (mm); shorter straight strokes belong to characters.
RULE_MIN_MM = 8.0
#: A cell's wall in a table row of one line is as short as the row (6-7 mm); no character's
#: stroke is this long.
VERTICAL_RULE_MIN_MM = 5.0
ENV_TIMEOUT = "MADOGUCHI_OCR_TIMEOUT"
#: Is given a page as Tesseract read it (``MarkedPage``), to read it or parts of it again.
KeepMarked = Callable[["MarkedPage"], None]


def _timeout() -> float:
    raw = os.environ.get(ENV_TIMEOUT, "").strip()
    try:
        return float(raw) if raw else tesseract.DEFAULT_TIMEOUT
    except ValueError:
        return tesseract.DEFAULT_TIMEOUT


def page_timeout(deadline: Deadline) -> float:
    """Seconds one page's OCR may take: ``MADOGUCHI_OCR_TIMEOUT``, or what is left of the
    document's budget when that is less."""
    return min(_timeout(), deadline.remaining())


# --- ruled lines -------------------------------------------------------------------------


def find_rules(ink: np.ndarray, dpi: float) -> tuple[list[tuple[int, int, int, int]], np.ndarray]:
    """Horizontal and vertical ruled lines of a page's ink mask.

    Returns the lines as pixel segments (x0, y0, x1, y1) and a mask of their pixels.
    """
    bridge = max(3, int(dpi * 1.0 / 25.4))
    long_px = max(10, int(dpi * RULE_MIN_MM / 25.4))
    segments: list[tuple[int, int, int, int]] = []
    mask = np.zeros_like(ink)
    across = np.zeros_like(ink)
    for horizontal in (True, False):
        length = long_px if horizontal else max(10, int(dpi * VERTICAL_RULE_MIN_MM / 25.4))
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1) if horizontal else (1, length))
        lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)
        if horizontal:
            across = lines
        # join the pieces of a broken line before naming segments
        for x, y, w, h in _line_boxes(lines, bridge, horizontal):
            if horizontal and w >= length:
                segments.append((x, y + h // 2, x + w, y + h // 2))
            elif not horizontal and h >= length:
                if h < long_px and not _meets_a_rule(across, x, y, w, h, bridge):
                    # a stroke of a large character (税 of a title), not a short cell's wall
                    lines[y : y + h, x : x + w] = 0
                    continue
                segments.append((x + w // 2, y, x + w // 2, y + h))
        mask |= lines
    return segments, mask


def _meets_a_rule(horizontals: np.ndarray, x: int, y: int, w: int, h: int, reach: int) -> bool:
    """A vertical stroke at (x, y, w, h) ends on a horizontal ruled line, as a cell's wall
    meets its row's rules."""
    x0, x1 = max(0, x - reach), x + w + reach
    return any(
        horizontals[max(0, end - reach) : end + reach + 1, x0:x1].any() for end in (y, y + h - 1)
    )


def _line_boxes(lines: np.ndarray, bridge: int, horizontal: bool) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h) of the lines of a mask of horizontal (vertical) strokes, once broken
    lines are joined by a closing ``bridge`` pixels long, in the order cv2 labels them.

    Only the rows (columns) holding strokes are worked on, gathered in a compact mask: a
    one-row kernel works on every row by itself, and runs of rows are kept apart by empty ones,
    each row keeping its parity. cv2 labels components 2 × 2 pixels at a time, in raster
    order; on the compact mask it meets the same components in the same order, and gives the
    same labels and boxes as on the whole page, in a fraction of the time.
    """
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (bridge, 1) if horizontal else (1, bridge))
    if lines.size == 0:
        return []
    used = np.flatnonzero(lines.max(axis=1 if horizontal else 0))
    if len(used) == 0:
        return []
    gaps = np.diff(used)
    steps = np.where(gaps == 1, 1, 2 + gaps % 2)
    pos = int(used[0] % 2) + np.concatenate(([0], np.cumsum(steps)))
    origin = np.zeros(int(pos[-1]) + 1, np.int64)
    origin[pos] = used
    if horizontal:
        compact = np.zeros((len(origin), lines.shape[1]), np.uint8)
        compact[pos] = lines[used]
    else:
        compact = np.zeros((lines.shape[0], len(origin)), np.uint8)
        compact[:, pos] = lines[:, used]
    joined = cv2.morphologyEx(compact, cv2.MORPH_CLOSE, kernel)
    n, _, stats = connected_components(joined)
    out = []
    for k in range(1, n):
        x, y, w, h, _ = (int(v) for v in stats[k])
        if horizontal:
            y = int(origin[y])
        else:
            x = int(origin[x])
        out.append((x, y, w, h))
    return out


#: Horizontal lines at least this long (mm) are a table's, not part of a drawn mark.
TABLE_LINE_MM = 30.0


def table_lines(rule_mask: np.ndarray, dpi: float) -> np.ndarray:
    """The ruled lines of a table: every vertical line, and horizontal ones of table length."""
    long_px = dpi * TABLE_LINE_MM / 25.4
    # each 8-connected component (the outer contour of each, with cv2's hierarchy) is kept or
    # flood-filled away: the same as labelling the components, without the labels
    out = cv2.threshold(rule_mask, 0, 255, cv2.THRESH_BINARY)[1]
    contours, hierarchy = cv2.findContours(out, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return out
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0]):
        if parent != -1:
            continue  # the outline of a hole
        _, _, w, h = cv2.boundingRect(contour)
        if not (w >= long_px or h > w):
            x, y = (int(v) for v in contour[0, 0])
            cv2.floodFill(out, None, (x, y), 0, flags=8)
    return out


def _within(segment: tuple[int, int, int, int], box: tuple[int, int, int, int]) -> bool:
    x0, y0, x1, y1 = segment
    return box[0] - 2 <= min(x0, x1) and max(x0, x1) <= box[2] + 2 and box[1] - 2 <= min(y0, y1) and max(y0, y1) <= box[3] + 2


# --- characters into words ---------------------------------------------------------------


@dataclass
class _Run:
    text: str
    box: list[int]
    confs: list[float]
    chars: list[float]


def _char_confs(word: tesseract.OcrWord) -> list[float]:
    """The word's characters' confidences (0..100), its own for each where it gave none."""
    if len(word.char_confs) == len(word.text):
        return list(word.char_confs)
    return [word.conf] * len(word.text)


def merge_characters(
    words: Sequence[tesseract.OcrWord], verticals: Sequence[tuple[int, int, int, int]] = (), *, per_character: bool = False,
) -> list[tuple]:  # type: ignore[type-arg]
    """Join the recognizer's words of one line when the gap between them is small.

    Tesseract's ``jpn`` often gives one word per character; neighbours on the same line closer
    than ``MERGE_GAP`` character heights, with no ruled line between them, become one word.
    Returns (text, pixel box, confidence 0..100 = the lowest of the parts), and with
    ``per_character`` each character's confidence too.
    """
    by_line: dict[tuple[int, int, int], list[tesseract.OcrWord]] = {}
    for w in words:
        by_line.setdefault(w.line, []).append(w)
    out: list[tuple[str, tuple[int, int, int, int], float]] = []
    for line_words in by_line.values():
        line_words = sorted(line_words, key=lambda w: w.box[0])
        em = statistics.median(w.box[3] - w.box[1] for w in line_words) or 1
        run: _Run | None = None
        for w in line_words:
            x0, y0, x1, y1 = w.box
            if run is not None:
                gap = x0 - run.box[2]
                cy_run = (run.box[1] + run.box[3]) / 2
                same_row = run.box[1] <= (y0 + y1) / 2 <= run.box[3] or y0 <= cy_run <= y1
                if gap <= MERGE_GAP * em and same_row and not _rule_between(run.box[2], x0, (y0 + y1) / 2, verticals):
                    run.text += w.text
                    run.box = [min(run.box[0], x0), min(run.box[1], y0), max(run.box[2], x1), max(run.box[3], y1)]
                    run.confs.append(w.conf)
                    run.chars += _char_confs(w)
                    continue
                out.append(_merged_run(run, per_character))
            run = _Run(w.text, [x0, y0, x1, y1], [w.conf], _char_confs(w))
        if run is not None:
            out.append(_merged_run(run, per_character))
    return out


def _merged_run(run: _Run, per_character: bool) -> tuple:  # type: ignore[type-arg]
    if per_character:
        return (run.text, tuple(run.box), min(run.confs), tuple(run.chars))
    return (run.text, tuple(run.box), min(run.confs))


def tighten_boxes(words: Sequence[tesseract.OcrWord], ink: np.ndarray) -> list[tesseract.OcrWord]:
    """Word boxes cut back to the ink they hold.

    Tesseract's ``jpn`` boxes of words of several characters often run over the next word; a
    box is first cut at the start of the next word on its line, then shrunk to its ink.
    Tesseract sometimes gives a word a flat box (a few pixels high, under its line, e.g.
    電話 at (392, 795, 542, 798) on a line at y 760-790): such a box takes the height of the
    other words of its line before it is shrunk to its ink. A box that swallows the word read
    before it (tessdata_best gave いた of しいたけ a box from before し to past た) starts where
    that word ends, so that the words stay in the order they were read.
    """
    by_line: dict[tuple[int, int, int], list[int]] = {}
    for i, w in enumerate(words):
        by_line.setdefault(w.line, []).append(i)
    words = list(words)
    for idx in by_line.values():
        for before, i in zip(idx, idx[1:]):
            (px0, _, px1, _), (x0, y0, x1, y1) = words[before].box, words[i].box
            if x0 < px0 and px1 < x1:
                words[i] = words[i]._replace(box=(px1, y0, x1, y1))
    out = list(words)
    h, w_ = ink.shape
    for idx in by_line.values():
        idx = sorted(idx, key=lambda i: words[i].box[0])
        heights = [words[i].box[3] - words[i].box[1] for i in idx]
        line_h = statistics.median(heights)
        tall = [i for i in idx if words[i].box[3] - words[i].box[1] >= FLAT_BOX * line_h]
        for k, i in enumerate(idx):
            x0, y0, x1, y1 = words[i].box
            if y1 - y0 < FLAT_BOX * line_h and tall:
                y0 = int(statistics.median(words[j].box[1] for j in tall))
                y1 = int(statistics.median(words[j].box[3] for j in tall))
            if k + 1 < len(idx):
                nx0 = words[idx[k + 1]].box[0]
                if x0 < nx0 < x1:
                    x1 = nx0
            crop = ink[max(0, y0) : min(h, y1), max(0, x0) : min(w_, x1)] > 0
            if crop.size and crop.any():
                cols = np.flatnonzero(crop.sum(axis=0) >= 2)
                # rows with a speck or two of noise are not the word's
                rows = np.flatnonzero(crop.sum(axis=1) >= max(2, 0.04 * crop.shape[1]))
                if len(cols):
                    x0, x1 = x0 + int(cols[0]), x0 + int(cols[-1]) + 1
                if len(rows):
                    y0, y1 = y0 + int(rows[0]), y0 + int(rows[-1]) + 1
            out[i] = words[i]._replace(box=(x0, y0, x1, y1))
    return out


#: The small kana of a contracted sound (きゃ, しゅ, ちょ) and the i-row kana they follow.
_SMALL_OF = {small.translate(TO_LARGE): small for small in CONTRACTED_SMALL}
_I_ROW = set("きぎしじちぢにひびぴみりキギシジチヂニヒビピミリ")
#: Tesseract's score for the small form, among its choices, from which the small form is read.
#: Small ゃ read as や scored 32-92 in our scans; a true や after an i-row kana (にや) is rare.
SMALL_KANA_SCORE = 25.0


#: Two equal kanji read where one stands: the pair and what follows start closer than this
#: many character heights. Tesseract's character boxes are rough: true pairs (村村長, 校校長,
#: 社社長, 佐佐木 in four IPA fonts at two sizes, both models) measured 1.6 to 3.2; the doubled
#: readings seen on scans 0.6 to 1.6, so only the clear ones are undone.
DOUBLED_PITCH = 1.3


def _full_width(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


#: A separator read twice between digits (37,.000): the second weighed the first this much.
DOUBLED_SEPARATOR_SCORE = 50.0


def undouble_separator(word: tesseract.OcrWord) -> tesseract.OcrWord:
    """A digits' comma read twice, as a comma and a full stop (37,.000 in a city's gothic
    face), read once: the second mark of such a pair between digits goes when the model
    weighed the first for it too. Tesseract's confidence in the word (45 for 37,.000, its
    characters all at 92 or more) then is its characters': the word's was its doubt about
    the pair."""
    text = word.text
    if len(word.choices) != len(text) or len(word.char_confs) != len(text):
        return word
    for k in range(1, len(text) - 2):
        pair = text[k : k + 2]
        if not (text[k - 1].isdigit() and text[k + 2].isdigit() and pair in (",.", ".,")):
            continue
        if not any(ch == pair[0] and score >= DOUBLED_SEPARATOR_SCORE for ch, score in word.choices[k + 1]):
            continue
        once = _only_characters(word, [i for i in range(len(text)) if i != k + 1])
        return once._replace(conf=min(once.char_confs))
    return word


def _only_characters(word: tesseract.OcrWord, keep: list[int]) -> tesseract.OcrWord:
    """The word with only the characters at ``keep``, and their choices, confidences, boxes."""

    def pick(values: tuple) -> tuple:
        return tuple(values[i] for i in keep) if len(values) == len(word.text) else values

    return word._replace(
        text="".join(word.text[i] for i in keep), choices=pick(word.choices),
        char_confs=pick(word.char_confs), char_boxes=pick(word.char_boxes),
    )


def undouble_characters(words: Sequence[tesseract.OcrWord]) -> list[tesseract.OcrWord]:
    """One kanji where Tesseract read it twice over the space of one (上州和和牛 for 上州和牛,
    伊香保町町 for 伊香保町), told by the characters' boxes: two equal kanji in a row that, with
    the character after them (or the pair's own end when none follows), start within
    :data:`DOUBLED_PITCH` character heights. Kana are left alone: narrow in proportional fonts,
    a true いい is hardly wider than one kanji. The surer of the two is kept; a word left empty
    is dropped. So is a separator read twice (:func:`undouble_separator`)."""
    words = [undouble_separator(w) for w in words]
    by_line: dict[tuple[int, int, int], list[int]] = {}
    for i, w in enumerate(words):
        by_line.setdefault(w.line, []).append(i)
    drop: dict[int, set[int]] = {}  # word index -> character indexes
    for idx in by_line.values():
        chars = [
            (i, k, w.text[k], w.char_boxes[k], w.char_confs[k] if w.char_confs else 0.0)
            for i in sorted(idx, key=lambda i: words[i].box[0])
            for w in (words[i],)
            if len(w.char_boxes) == len(w.text)
            for k in range(len(w.text))
        ]
        heights = [b[3] - b[1] for _, _, ch, b, _ in chars if _full_width(ch) and b[3] > b[1]]
        if not heights:
            continue
        em = statistics.median(heights)
        n = 0
        while n + 1 < len(chars):
            a, b = chars[n], chars[n + 1]
            if a[2] != b[2] or not is_kanji(a[2]):
                n += 1
                continue
            end = chars[n + 2][3][0] if n + 2 < len(chars) else b[3][2]
            if end - a[3][0] < DOUBLED_PITCH * em:
                lost = b if b[4] <= a[4] else a
                drop.setdefault(lost[0], set()).add(lost[1])
                n += 2
            else:
                n += 1
    if not drop:
        return list(words)
    out = []
    for i, w in enumerate(words):
        gone = drop.get(i)
        if not gone:
            out.append(w)
            continue
        keep = [k for k in range(len(w.text)) if k not in gone]
        if keep:
            out.append(_only_characters(w, keep))
    return out


def restore_small_kana(words: Sequence[tesseract.OcrWord]) -> list[tesseract.OcrWord]:
    """や/ゆ/よ after an i-row kana read small when Tesseract weighed the small form too.

    Japanese writes a contracted sound with a small kana (こんにゃく, しょうゆ); Tesseract's
    ``jpn`` often picks the large form of a small kana that is barely smaller than its
    neighbours, but keeps the small form among its choices.
    """
    by_line: dict[tuple[int, int, int], list[int]] = {}
    for i, w in enumerate(words):
        by_line.setdefault(w.line, []).append(i)
    out = list(words)
    for idx in by_line.values():
        previous = ""
        for i in sorted(idx, key=lambda i: words[i].box[0]):
            w = words[i]
            chars = list(w.text)
            for k, ch in enumerate(chars):
                small = _SMALL_OF.get(ch)
                if small and previous in _I_ROW and k < len(w.choices):
                    if any(alt == small and score >= SMALL_KANA_SCORE for alt, score in w.choices[k]):
                        chars[k] = small
                previous = ch
            if "".join(chars) != w.text:
                out[i] = w._replace(text="".join(chars))
    return out


def _rule_between(xa: float, xb: float, cy: float, verticals: Sequence[tuple[int, int, int, int]]) -> bool:
    lo, hi = min(xa, xb), max(xa, xb)
    return any(lo - 1 <= v[0] <= hi + 1 and v[1] - 2 <= cy <= v[3] + 2 for v in verticals)


_DASHES = set("ー一-_─―‐−~～")


def _symbols_only(text: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PSZ" or ch in "ー一_" for ch in text)


#: A word of one or two characters under this share of the page's character height, alone on
#: its line, is a piece of a pen stroke: a tick that crossed into the row above, read as プ,
#: ノ, チ or 4 (at 0.4-0.56 of the height on the generated scans).
FRAGMENT_HEIGHT = 0.6


#: A word read unsure whose box is under this share of the page's character height both ways
#: is a speck, whatever it was read as.
SPECK_SIZE = 0.2


def drop_noise(words: Sequence[Word], *, min_conf: float = 0.5) -> list[Word]:
    """Without what speckle, stains, pen strokes and leftovers of lines are read as: marks and
    punctuation alone in a word, read with little confidence, or much smaller than the page's
    characters; a character or two much smaller than them, alone on its line; anything read on
    a speck."""
    if not words:
        return []
    median_h = statistics.median(w.height for w in words) or 1.0
    fragments = {
        id(w) for w in words
        if len(w.text) <= 2 and w.height < FRAGMENT_HEIGHT * median_h and _alone(w, words, 3 * median_h)
    }
    return [
        w
        for w in words
        if not (_symbols_only(w.text) and (w.conf < min_conf or w.height < 0.3 * median_h))
        # no character fits in a speck's box (ま read on two pixels under a line); but a
        # character read with confidence may be given a box that small (1 at 0.8 x 0.7 pt)
        and not (w.conf < min_conf and w.height < SPECK_SIZE * median_h and w.x1 - w.x0 < SPECK_SIZE * median_h)
        and not (set(w.text) <= _DASHES and w.conf < 0.9)  # pieces of ruled lines
        and id(w) not in fragments
    ]


def _alone(word: Word, words: Sequence[Word], reach: float) -> bool:
    """No other word shares ``word``'s line within ``reach`` either side of it."""
    for other in words:
        if other is word:
            continue
        across = min(word.y1, other.y1) - max(word.y0, other.y0)
        if across > 0.5 * word.height and other.x0 < word.x1 + reach and other.x1 > word.x0 - reach:
            return False
    return True


# --- a page ------------------------------------------------------------------------------


@dataclass
class PageReading:
    """What reading one prepared page gives, before it becomes a Page."""

    prepared: Prepared
    words: list[Word]
    rules: list[Rule]
    mean_conf: float  # of the OCR characters, 0..100
    chars: int
    #: Share of the characters in words read with confidence >= 75.
    good_share: float = 0.0
    #: The page as Tesseract read it.
    marked: MarkedPage | None = None


@dataclass
class MarkedPage:
    """A prepared page with its ruled lines, boxes and circles found, and the image Tesseract
    reads (``clean``: those whitened). Any model reads the same MarkedPage."""

    prepared: Prepared
    clean: np.ndarray
    #: Ink off the ruled lines: what confirms a box after the OCR.
    box_ink: np.ndarray
    segments: list[tuple[int, int, int, int]]
    boxes: list[checkmarks.Checkbox]
    circles: list[checkmarks.Circle]


def mark_page(prepared: Prepared) -> MarkedPage:
    grey = prepared.array
    dpi = prepared.dpi
    ink = ink_mask(grey)
    segments, rule_mask = find_rules(ink, dpi)
    rule_zone = _rule_zone(rule_mask)
    off_rules = cv2.bitwise_and(ink, cv2.bitwise_not(rule_zone))
    boxes = checkmarks.among_characters(checkmarks.find_checkboxes(ink, dpi), off_rules)
    # the flat bottom of a hand-drawn ellipse passes for a short ruled line: circles are looked
    # for with only the table's long lines taken out
    table_zone = cv2.dilate(table_lines(rule_mask, dpi), np.ones((5, 5), np.uint8))
    circles = checkmarks.find_circles(cv2.bitwise_and(ink, cv2.bitwise_not(table_zone)), dpi, boxes=boxes, gaps=table_zone)
    segments = [s for s in segments if not any(_within(s, c.box) for c in circles)]
    # a box a circle is drawn through has the ring's ink beside it, not a neighbour's characters
    boxes = [checkmarks.under_circle(b, circles) for b in boxes]
    # printed ● and ○: marks of their own, found from their pixels (the recognizer reads a line
    # of choices without them as often as with them)
    boxes += checkmarks.find_round_marks(off_rules, dpi, avoid=[b.box for b in boxes] + [c.box for c in circles])
    # the image Tesseract sees: no ruled lines, no boxes, no ticks, no hand-drawn circles
    clean = grey.copy()
    clean[rule_zone > 0] = 255
    clean = checkmarks.mask_marks(clean, ink, boxes, circles, dpi)
    return MarkedPage(prepared, clean, off_rules, segments, boxes, circles)


def _recognizer(lang: str, engine: recognize.Engine | None) -> recognize.Recognizer:
    """What reads with ``lang``: the primary model (``jpn``) is the engine's (by default the
    settings'); any other model (``eng``) is one of Tesseract's own."""
    return recognize.recognizer(engine if lang == "jpn" else "tesseract")


def recognized_words(
    grey: np.ndarray, dpi: float, *, lang: str, timeout: float, verticals: Sequence[tuple[int, int, int, int]] = (),
    engine: recognize.Engine | None = None,
) -> list[tesseract.OcrWord]:
    """The words of a page image (pixels) as the recognizer reads them, with the repairs its
    engine needs: Tesseract's characters read twice, its boxes over the next word, its large
    や for ゃ; every engine's boxes cut back to their ink and its large kana the size of a
    small one made small."""
    reader = _recognizer(lang, engine)
    ocr = reader.read_page(grey, dpi, verticals=verticals, timeout=timeout, lang=lang)
    ink = ink_mask(grey)
    if reader.name == "tesseract":
        ocr = restore_small_kana(tighten_boxes(undouble_characters(ocr), ink))
    else:
        ocr = tighten_boxes(ocr, ink)
    # ッ for ツ, ゅ for ゆ: told by the glyph's size
    return kana_size.sized_kana(ocr, ink)


def read_marked(marked: MarkedPage, *, timeout: float, lang: str, engine: recognize.Engine | None = None) -> PageReading:
    dpi = marked.prepared.dpi
    to_pt = 72.0 / dpi
    clean = marked.clean
    verticals = [s for s in marked.segments if s[0] == s[2]]
    # a line is cut into words at its cell walls and at the boxes in it: a pen's cross that
    # reaches from a box to the next word (通年 ☒時期限定) is no character of that word
    cuts = verticals + [((b.box[0] + b.box[2]) // 2, b.box[1], (b.box[0] + b.box[2]) // 2, b.box[3]) for b in marked.boxes]
    # and where it goes into and out of a hand-drawn ring, so that the circled word is a word
    # of its own, cut by the characters' own boxes
    cuts += [cut for c in marked.circles for cut in checkmarks.ring_cuts(c)]
    ocr = recognized_words(clean, dpi, lang=lang, timeout=timeout, verticals=cuts, engine=engine)
    boxes = checkmarks.confirm_boxes(marked.boxes, ocr, ink=marked.box_ink, walls=verticals)
    ocr = checkmarks.drop_box_words(ocr, boxes)
    words = checkmarks.apply_marks(_page_words(ocr, verticals, to_pt), boxes, marked.circles, to_pt)
    rules = [Rule(s[0] * to_pt, s[1] * to_pt, s[2] * to_pt, s[3] * to_pt) for s in marked.segments]
    chars = sum(len(w.text) for w in ocr)
    mean_conf = sum(w.conf * len(w.text) for w in ocr) / chars if chars else 0.0
    good = sum(len(w.text) for w in ocr if w.conf >= 75)
    return PageReading(marked.prepared, words, rules, mean_conf, chars, good / chars if chars else 0.0, marked)


def _read_prepared(prepared: Prepared, *, timeout: float, lang: str, engine: recognize.Engine | None) -> PageReading:
    if engine is None:  # the settings' engine
        return read_marked(mark_page(prepared), timeout=timeout, lang=lang)
    return read_marked(mark_page(prepared), timeout=timeout, lang=lang, engine=engine)


def _require(lang: str, engine: recognize.Engine | None) -> recognize.Engine:
    """The engine that reads with ``lang`` (see :func:`_recognizer`), checked to be there."""
    name = engine or recognize.settings().engine
    if lang != "jpn" or name == "tesseract":
        tesseract.require(lang)
        return "tesseract" if lang != "jpn" else name
    recognize.recognizer(name)
    return name


def ocr_page_image(
    image: Image.Image,
    dpi: float,
    page_number: int,
    *,
    orientation: Orientation = "auto",
    lang: str = "jpn",
    timeout: float | None = None,
    image_dir: Path | None = None,
    keep_marked: KeepMarked | None = None,
    engine: recognize.Engine | None = None,
) -> Page:
    """OCR one page image into a Page (source "ocr", words in points, conf 0..1).

    ``orientation``: "auto" reads the page as it is and asks OSD only when the reading is poor;
    "osd" asks OSD first; "none" never turns the page. ``image_dir``: where to save the prepared
    page as PNG (``Page.image_path``), for review. ``keep_marked`` is given the page as
    Tesseract read it, to read it again with another model (``ocr_marked_page``) or parts of it
    (``read_regions``) without preparing it again. ``engine``: what reads (by default the
    settings' engine, extract/recognize.py); the orientation is always Tesseract's OSD.

    A page that holds no ink (:func:`extract.prepare.is_blank`) is not read at all: no OCR, no
    question of its orientation. An image the image libraries cannot work on (cv2's and PIL's
    errors) is bad input (CorruptFile), never a crash.
    """
    try:
        if image_is_blank(image, dpi):
            return _blank_page(image, dpi, page_number)
        return _ocr_page_image(
            image, dpi, page_number, orientation=orientation, lang=lang, timeout=timeout,
            image_dir=image_dir, keep_marked=keep_marked, engine=engine,
        )
    except cv2.error as exc:
        raise CorruptFile(f"ページ {page_number} の画像を処理できません / page {page_number}: the image cannot be processed ({_first_line(exc)})") from None
    except Image.DecompressionBombError:
        raise PageTooLarge(f"ページ {page_number} の画像が大きすぎます / page {page_number}: the image is too large") from None
    except MemoryError:
        raise PageTooLarge(f"ページ {page_number} の画像がメモリに収まりません / page {page_number}: the image does not fit in memory") from None
    except Exception as exc:
        # the recognizer's runtime out of memory (ONNX Runtime's std::bad_alloc) is the page's
        # cost, not a bug: said in one line like any other limit
        if _out_of_memory(exc):
            raise PageTooLarge(
                f"ページ {page_number} の読取りがメモリに収まりません / page {page_number}: reading it does not fit in memory"
            ) from None
        raise


def _out_of_memory(exc: BaseException) -> bool:
    text = str(exc)
    return "bad_alloc" in text or "Failed to allocate" in text


def _blank_page(image: Image.Image, dpi: float, page_number: int) -> Page:
    """The page of a blank image: its size, nothing on it."""
    to_pt = 72.0 / dpi
    return Page(number=page_number, width=image.width * to_pt, height=image.height * to_pt, source="ocr")


def _ocr_page_image(
    image: Image.Image,
    dpi: float,
    page_number: int,
    *,
    orientation: Orientation,
    lang: str,
    timeout: float | None,
    image_dir: Path | None,
    keep_marked: KeepMarked | None,
    engine: recognize.Engine | None,
) -> Page:
    timeout = timeout or _timeout()
    _require(lang, engine)
    rotate: int | None = None if orientation == "osd" else 0
    reading = _read_prepared(prepare(image, dpi=dpi, rotate=rotate), timeout=timeout, lang=lang, engine=engine)
    if orientation == "auto" and (reading.chars < 8 or reading.good_share < GOOD_PAGE_SHARE):
        turn = tesseract.detect_orientation(reading.prepared.image, dpi=int(reading.prepared.dpi), timeout=timeout)
        if turn:
            again = _read_prepared(prepare(image, dpi=dpi, rotate=turn), timeout=timeout, lang=lang, engine=engine)
            if again.good_share * again.chars > reading.good_share * reading.chars:
                reading = again
    if keep_marked is not None and reading.marked is not None:
        keep_marked(reading.marked)
    return _to_page(reading, page_number, image_dir)


def ocr_marked_page(
    marked: MarkedPage, page_number: int, *, lang: str, timeout: float | None = None, engine: recognize.Engine | None = None,
) -> Page:
    """A page read before (``keep_marked``) read again with the model ``lang`` (or the
    ``engine``): the same preparation, turn, lines and boxes, only the OCR again."""
    _require(lang, engine)
    return _to_page(read_marked(marked, timeout=timeout or _timeout(), lang=lang, engine=engine), page_number, None)


def _to_page(reading: PageReading, page_number: int, image_dir: Path | None) -> Page:
    prepared = reading.prepared
    to_pt = 72.0 / prepared.dpi
    path: str | None = None
    if image_dir is not None:
        image_dir.mkdir(parents=True, exist_ok=True)
        target = image_dir / f"page-{page_number:04d}.png"
        prepared.image.save(target, dpi=(prepared.dpi, prepared.dpi))
        path = str(target)
    return Page(
        number=page_number,
        width=prepared.image.width * to_pt,
        height=prepared.image.height * to_pt,
        source="ocr",
        words=reading.words,
        rules=reading.rules,
        image_path=path,
        turn=prepared.transform.rotation,
    )


# --- parts of a page read again ----------------------------------------------------------------

#: White between the parts stacked into one image, in inches.
REGION_GAP_IN = 0.25


def clean_image(frame: Image.Image, dpi: float, page: Page) -> tuple[np.ndarray, float]:
    """The image of ``page`` as Tesseract read it, made again from the scan's ``frame``: the same
    preparation (turn, deskew, despeckle) and its ruled lines whitened. Boxes and circles stay,
    which matters not for the parts read again (names, not choices)."""
    prepared = prepare(frame, dpi=dpi, rotate=page.turn)
    return without_rules(prepared.array, prepared.dpi), prepared.dpi


def _rule_zone(rule_mask: np.ndarray) -> np.ndarray:
    """The pixels whitened for a page's ruled lines: theirs and the anti-aliased fringe beside
    them, lighter than ink but still seen by Tesseract."""
    return cv2.dilate(rule_mask, np.ones((5, 5), np.uint8))


def without_rules(grey: np.ndarray, dpi: float) -> np.ndarray:
    """A copy of a prepared page with its ruled lines whitened as for its first reading: pixel
    by pixel, not along the straight segments of ``Page.rules``, which a line left slanting by
    a scan's skew leaves the ends of (a table's rule under しいたけ, read again as いたし け)."""
    clean = grey.copy()
    clean[_rule_zone(find_rules(ink_mask(grey), dpi)[1]) > 0] = 255
    return clean


def read_regions(
    clean: np.ndarray,
    dpi: float,
    regions: Sequence[BBox],
    *,
    lang: str,
    rules: Sequence[Rule] = (),
    timeout: float | None = None,
    engine: recognize.Engine | None = None,
) -> list[Word]:
    """The words of the given regions (points) of a page's clean image, read again with ``lang``
    (``jpn``: by the ``engine``, by default the settings'; another model: by Tesseract).

    The regions are cut out, stacked one under another with white between them and read in one
    call: one start of Tesseract (most of the cost of a few lines with tessdata_best), each
    region on lines of its own. Words come back in page points."""
    to_px = dpi / 72.0
    height, width = clean.shape[:2]
    cuts = []
    for x0, y0, x1, y1 in regions:
        a, b = max(0, int(x0 * to_px)), min(width, int(round(x1 * to_px)) + 1)
        c, d = max(0, int(y0 * to_px)), min(height, int(round(y1 * to_px)) + 1)
        if b > a and d > c:
            cuts.append((a, c, b, d))
    if not cuts:
        return []
    gap = int(REGION_GAP_IN * dpi)
    stack = np.full((sum(d - c for _, c, _, d in cuts) + gap * (len(cuts) + 1), max(b - a for a, _, b, _ in cuts) + 2 * gap), 255, np.uint8)
    placed: list[tuple[int, int, int, int]] = []  # (top in the stack, height, shift x, shift y)
    y = gap
    for a, c, b, d in cuts:
        stack[y : y + d - c, gap : gap + b - a] = clean[c:d, a:b]
        placed.append((y, d - c, a - gap, c - y))
        y += d - c + gap
    read = recognized_words(stack, dpi, lang=lang, timeout=timeout or _timeout(), engine=engine)
    on_page: list[tesseract.OcrWord] = []
    for w in read:
        middle = (w.box[1] + w.box[3]) / 2
        for (top, size, dx, dy), (a, _, b, _) in zip(placed, cuts):
            if top <= middle < top + size:
                box = (w.box[0] + dx, w.box[1] + dy, w.box[2] + dx, w.box[3] + dy)
                # a sliver of a character or a colon the cut went through, read as ! or :
                if not (_symbols_only(w.text) and (box[0] <= a + 2 or box[2] >= b - 2)):
                    on_page.append(w._replace(box=box))
                break
    verticals = [
        (round(r.x0 * to_px), round(r.y0 * to_px), round(r.x1 * to_px), round(r.y1 * to_px)) for r in rules if r.x0 == r.x1
    ]
    return _page_words(on_page, verticals, 1.0 / to_px)


def _page_words(ocr: Sequence[tesseract.OcrWord], verticals: Sequence[tuple[int, int, int, int]], to_pt: float) -> list[Word]:
    """Tesseract's characters (pixels) as the page's words (points, confidence 0..1): merged
    into words up to the ruled lines, specks dropped."""
    return drop_noise([
        Word(
            text, box[0] * to_pt, box[1] * to_pt, box[2] * to_pt, box[3] * to_pt, round(conf / 100.0, 3),
            char_confs=tuple(round(c / 100.0, 3) for c in chars) if len(chars) == len(text) else (),
        )
        for text, box, conf, chars in merge_characters(ocr, verticals, per_character=True)
    ])


# --- files -------------------------------------------------------------------------------


def image_dpi(image: Image.Image) -> float:
    """The image's resolution: its own when plausible, else guessed from an A4 page's size."""
    raw = image.info.get("dpi") or image.info.get("resolution")
    dpi = 0.0
    if isinstance(raw, (tuple, list)) and raw:
        try:
            dpi = float(raw[0])
        except (TypeError, ValueError):
            dpi = 0.0
    elif isinstance(raw, (int, float)):
        dpi = float(raw)
    if 150 <= dpi <= 1200:
        return float(round(dpi))  # PNG stores pixels per metre: 299.9994 is 300
    guess = max(image.size) / (297 / 25.4)
    return round(guess) if 100 <= guess <= 1200 else 300.0


#: Fewer pixels than this on a side hold no page of text (a thumbnail, an icon): refused.
MIN_PAGE_SIDE_PX = 64


def count_frames(data: bytes, kind: ImageKind, limits: Limits | None = None, name: str = "") -> int:
    """The pages of an image file, counted without decoding any (a TIFF's chain of
    directories walked), the page limit applied."""
    limits = limits or Limits()
    count = tiff_frame_count(data, limits.max_pages) if kind == "tiff" else 1
    check_page_count(name or f"the {kind} image", count, limits)
    return count


def open_frame(
    data: bytes, kind: ImageKind, number: int, *, limits: Limits | None = None, deadline: Deadline | None = None,
) -> Image.Image:
    """One frame (page, 1-based) of an image file, loaded alone: its size judged from its
    header first (too small, more pixels than ``limits.max_image_pixels``, more memory than
    the ``deadline``'s budget has left), only then its pixels decoded."""
    limits = limits or Limits()
    try:
        with warnings.catch_warnings():
            # PIL's complaints about a damaged file (a truncated read, tag data past the end,
            # corrupt EXIF) are its judgement of the file, which is ours to say: not printed
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # (opened on the bytes in memory: nothing to close, and the loaded frame is used as
            # it is, not copied)
            frame = Image.open(io.BytesIO(data))
            if number > 1:
                frame.seek(number - 1)
            width, height = frame.size
            _check_frame_size(kind, width, height, limits)
            if deadline is not None:
                deadline.allow_pixels(width * height * _bytes_per_pixel(frame.mode), f"page {number}")
            with _quiet_stderr():
                frame.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise FileTooLarge(f"the {kind} image has too many pixels to read") from exc
    except MemoryError:
        raise FileTooLarge(f"the {kind} image does not fit in memory") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error, TypeError,
            IndexError, KeyError, ZeroDivisionError) as exc:  # fmt: skip
        raise CorruptFile(f"{kind.upper()}画像を読めません / The {kind} image cannot be read: {_first_line(exc)}") from None
    return frame


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """The process's stderr (file descriptor 2) sent to /dev/null for a while: libtiff and
    libjpeg write their complaints about a damaged image there themselves, past Python, and
    the one line of a refusal must stand alone. (What is said meanwhile on stderr by another
    thread is lost with them: the readers log, they do not print.)"""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _bytes_per_pixel(mode: str) -> int:
    """What a pixel of ``mode`` costs decoded, as a share of :data:`BYTES_PER_PAGE_PIXEL`'s grey one."""
    return 1 if mode in ("1", "L", "P") else 2


def _check_frame_size(kind: str, width: int, height: int, limits: Limits) -> None:
    if min(width, height) < MIN_PAGE_SIDE_PX:
        raise ImageTooSmall(
            f"画像が小さすぎて読めません（{width}×{height} ピクセル） / The image is too small to read:"
            f" {width}×{height} pixels, at least {MIN_PAGE_SIDE_PX} on each side"
        )
    if width * height > limits.max_image_pixels:
        raise FileTooLarge(
            f"画像の画素数が多すぎます（{width}×{height}） / The {kind} image has too many pixels:"
            f" {width}×{height}, at most {limits.max_image_pixels // 1_000_000} megapixels"
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0][:160] if text else "") or type(exc).__name__


def open_frames(data: bytes, kind: ImageKind, limits: Limits | None = None) -> list[Image.Image]:
    """Every frame (page) of an image file, loaded: counted first, the page limit applied,
    then decoded one at a time."""
    return [open_frame(data, kind, n, limits=limits) for n in range(1, count_frames(data, kind, limits) + 1)]


def read_image_pages(data: bytes, kind: ImageKind, *, image_dir: Path | None = None) -> list[Page]:
    """OCR every page of a PNG, JPEG or (multi-page) TIFF."""
    _require("jpn", None)
    return [
        ocr_page_image(frame, image_dpi(frame), number, image_dir=image_dir)
        for number, frame in enumerate(open_frames(data, kind), start=1)
    ]


def scan_dpi(data: bytes, page: int) -> float | None:
    """Resolution of the largest image on a PDF page (a scan's), from its size on the page."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        pdf_page = PdfReader(io.BytesIO(data)).pages[page - 1]
        width_pt = float(pdf_page.mediabox.width)
        xobjects = pdf_page.get("/Resources", {}).get_object().get("/XObject", {}).get_object()
        best = 0.0
        for ref in xobjects.values():
            xobj = ref.get_object()
            if xobj.get("/Subtype") == "/Image" and width_pt > 0:
                best = max(best, float(xobj.get("/Width", 0)) / (width_pt / 72.0))
        return best or None
    except (PyPdfError, AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None


def render_dpi(data: bytes, page: int, default: int = 300) -> int:
    """The resolution to render a scanned PDF page at: its scan's own, between 200 and 300 dpi.

    A 200 dpi scan rendered at 300 dpi holds nothing more, and costs OCR half as much again.
    """
    found = scan_dpi(data, page)
    if found is None:
        return default
    return int(min(default, max(200, round(found))))


def ocr_pdf_pages(
    data: bytes, pages: Sequence[int], *, dpi: int | None = None, image_dir: Path | None = None, lang: str = "jpn",
) -> list[Page]:
    """OCR the given pages (1-based) of a PDF, rendered by pdftoppm at ``dpi``, by default at
    the resolution of the page's scan (200-300 dpi)."""
    from extract.pdftoppm import render_pages

    _require(lang, None)
    out: list[Page] = []
    for number in pages:
        (image,) = render_pages(data, [number], dpi=dpi or render_dpi(data, number))
        out.append(ocr_page_image(image, float(image.info["dpi"][0]), number, image_dir=image_dir, lang=lang))
    return out
