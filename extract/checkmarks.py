"""Checkboxes and circled options read from pixels.

OCR cannot read a checkbox: Tesseract turns ☐ into 口 or ロ, ☑ into 図, and a pen tick into
noise. So boxes are found on the page image before OCR, decided by the ink inside them, masked
out of the image Tesseract sees, and put back into the page as the synthetic words "☐" (empty)
and "☑" (ticked), where the locator reads them next to their labels as in a text layer.

- A box is a small (2.2-6.5 mm) square drawn with straight, thin walls around an open inside:
  the walls are found on the image of horizontal and vertical strokes (a pen tick or a cross,
  being diagonal, is not part of it). Thin walls, no legs below the corners and no horizontal
  strokes inside tell a box from a character such as 口, ロ, 日, 回 or 国.
- A filled square (■) is a ticked box.
- A thick pen tick through the walls can cut the open inside in pieces: boxes of the size of
  the page's other boxes are then looked for on the ink with an outline template ("like"
  boxes); those that Tesseract reads confidently as a character are dropped after the OCR.
- A box is ticked when its inside holds ink (✓, ✗, ☑, a scribble), including a tick that
  crosses its border; the confidence says how far the ink density is from the threshold.
- A hand-drawn ellipse around a label (an option circled by hand) is found by ellipses fitted
  to ring-sized outlines, kept when inked all the way round with something written inside
  apart from the ring; the box beside the label is ticked, or a ☑ is put just before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol, TypeVar

import cv2
import numpy as np

from extract.pagemodel import Word, char_shares
from extract.prepare import connected_components, speck_area

PxBox = tuple[int, int, int, int]


class OcrLike(Protocol):
    text: str
    box: PxBox
    conf: float


W = TypeVar("W", bound=OcrLike)

TICKED = "☑"
EMPTY = "☐"

#: Box sides (mm) looked for.
MIN_SIDE_MM, MAX_SIDE_MM = 2.2, 6.5
#: Share of a box's area that is open inside: a ☐ has thin walls, 口 and ロ thick strokes.
BOX_OPEN_RATIO = 0.45
#: Ink fraction inside a box under which it is empty / over which it is ticked.
EMPTY_BELOW, TICKED_ABOVE = 0.025, 0.07

#: What Tesseract makes of boxes and ticks: words made only of these, overlapping a box, go.
BOX_GARBAGE = set("口ロ□■☐☑☒図回国団四囗日目田区凶㐅×✓✔レノ〆メ乂くvVxXyY/\\|[]()（）「」『』〔〕【】-ー一_=~^'\"`・.,:;、。○●◯〇◎◉")


@dataclass(frozen=True)
class Checkbox:
    box: PxBox
    ticked: bool
    #: How clear the decision is, 0.5 (a coin toss) .. 1.
    confidence: float
    #: Ink fraction inside the box.
    density: float
    #: "box": an outline with an open inside; "filled": a solid square; "like": shaped like the
    #: page's boxes but found on the ink only (a thick tick through it), to be confirmed by OCR;
    #: "round": a printed ● (taken) or ○ (not taken)
    kind: Literal["box", "filled", "like", "round"] = "box"


@dataclass(frozen=True)
class Circle:
    """A hand-drawn ellipse around a label."""

    box: PxBox
    confidence: float


def _mm(dpi: float, mm: float) -> float:
    return dpi * mm / 25.4


def stroke_lines(ink: np.ndarray, length: int) -> np.ndarray:
    """The horizontal and vertical strokes of at least ``length`` pixels.

    The kernel's length is made odd: cv2 anchors an even one off its middle, and the opening
    then moves every stroke a pixel down (right), past its ink: a box's side walls seemed to go
    on below its bottom wall, as 口's legs do, and an empty ☐ over a wrapped label was lost."""
    length |= 1
    h = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    v = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length)))
    return cv2.bitwise_or(h, v)


def find_checkboxes(ink: np.ndarray, dpi: float) -> list[Checkbox]:
    """Square boxes on a page's ink mask (uint8 0/255), each decided empty or ticked."""
    lo, hi = _mm(dpi, MIN_SIDE_MM), _mm(dpi, MAX_SIDE_MM)
    lines = stroke_lines(ink, max(5, int(lo * 0.55)))
    contours, hierarchy = cv2.findContours(lines, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    hier = hierarchy[0]
    found: list[Checkbox] = []
    for i, contour in enumerate(contours):
        x, y, w, h = cv2.boundingRect(contour)
        if hier[i][3] == -1:
            # an outline: only filled squares (■, a box inked in) are taken from outlines
            if hier[i][2] == -1 or _largest_hole(contours, hier, i) < 0.1 * w * h:
                box = _filled_square(ink, contour, lo, hi)
                if box is not None:
                    found.append(box)
            continue
        # a hole: the open inside of a box. Its contour runs on the innermost wall pixels.
        if not (0.7 * lo <= w <= hi and 0.7 * lo <= h <= hi and 0.75 <= w / h <= 1.33):
            continue
        if cv2.contourArea(contour) < 0.6 * (w - 1) * (h - 1):
            continue  # (a check mark touching the walls dents the hole)
        inner = (x + 1, y + 1, x + w - 1, y + h - 1)
        walls = _walls(lines, inner)
        if walls is None:
            continue
        top, bottom, left, right = walls
        box = (inner[0] - left, inner[1] - top, inner[2] + right, inner[3] + bottom)
        bw, bh = box[2] - box[0], box[3] - box[1]
        if not (lo <= bw <= hi and lo <= bh <= hi):
            continue
        # thin walls around a wide inside: a drawn box, not a character such as 口 or ロ
        open_ratio = (inner[2] - inner[0]) * (inner[3] - inner[1]) / float(bw * bh)
        if open_ratio < BOX_OPEN_RATIO:
            continue
        if _has_legs(lines, ink, box) or _strokes_inside(ink, inner):
            continue  # a character: 口 (legs below the corners), 日 国 回 (straight strokes inside)
        if _wall_runs_through(lines, box):
            continue  # a table rule closing a character's strokes (料 under a cell's top rule)
        found.append(_decide(box, _inside_density(ink, box)))
    found = _dedupe(found)
    return _dedupe(found + _find_like(ink, lines, found, lo, hi))


def _find_like(ink: np.ndarray, lines: np.ndarray, known: list[Checkbox], lo: float, hi: float) -> list[Checkbox]:
    """Boxes shaped like the ones already found, whose open inside a pen tick has cut.

    A tick that crosses the walls with a steep, thick stroke breaks the box's outline on the
    stroke image; the box is still there on the ink. The empty boxes of the page give the size
    and wall thickness; an outline template of that size is matched against the ink.
    """
    sizes: list[tuple[int, int, int]] = []
    for b in known:
        if b.kind != "box":
            continue
        w, h = b.box[2] - b.box[0], b.box[3] - b.box[1]
        t = max(1, int(round(min(w, h) * 0.08)))
        if not any(abs(w - sw) <= 2 and abs(h - sh) <= 2 for sw, sh, _ in sizes):
            sizes.append((w, h, t))
    if not sizes:
        return []
    ink01 = (ink > 0).astype(np.float32)
    taken = [b.box for b in known]
    out: list[Checkbox] = []
    for w, h, t in sizes:
        tpl = np.zeros((h, w), np.float32)
        cv2.rectangle(tpl, (0, 0), (w - 1, h - 1), 1.0, t + 1)
        score = cv2.matchTemplate(ink01, tpl, cv2.TM_CCORR) / float(tpl.sum())
        ys, xs = _peaks(score, score >= 0.7)
        order = np.argsort(-score[ys, xs])
        for k in order[:5000]:
            x, y = int(xs[k]), int(ys[k])
            box = (x, y, x + w, y + h)
            if any(_overlaps(box, other) for other in taken):
                continue
            # (no test for legs here: a ☑ glyph's walls run a pixel or two past its bottom, as
            # 口's do, but 口 is empty inside and these boxes have a mark in them)
            if not _straight_walls(lines, box) or not _clear_around(ink, box, t):
                continue
            inner = (x + t + 1, y + t + 1, x + w - t - 1, y + h - t - 1)
            if _strokes_inside(ink, inner):
                continue
            density = _inside_density(ink, box)
            if density < EMPTY_BELOW:
                continue  # an empty box would have been found already: this is something else
            decided = _decide(box, density)
            out.append(Checkbox(decided.box, decided.ticked, decided.confidence, decided.density, "like"))
            taken.append(box)
    # boxes come in rows of choices and columns of grids: keep those on a row or a column with
    # a box found already, or with one kept so (a row of boxes all ticked with a thick pen)
    anchors = [k for k in known if k.kind == "box"]
    kept: list[Checkbox] = []
    pending = out
    while True:
        now = [c for c in pending if _aligned(c.box, anchors)]
        if not now:
            return kept
        kept += now
        anchors += now
        pending = [c for c in pending if c not in now]


#: Gap, in box sides, up to which ink beside a box is the next character of running text.
CHARACTER_GAP = 0.3


def among_characters(boxes: Sequence[Checkbox], ink: np.ndarray) -> list[Checkbox]:
    """Boxes with a character close on each side, as a kanji in running text has (園 in a
    gothic face is a square with strokes inside), left to the OCR to confirm (``like``).

    ``ink``: the page's ink off its ruled lines. A box typed in a form stands after a space or
    a cell's wall on one side at least; ink touching a box is its tick's, not a neighbour's.
    """
    out = []
    for b in boxes:
        if b.kind in ("box", "filled"):  # 園 blurred at 200 dpi passes for a filled box
            if _between_characters(ink, b.box):
                b = replace(b, kind="like")
        out.append(b)
    return out


def _between_characters(ink: np.ndarray, box: PxBox, *, gap: float = CHARACTER_GAP, band: int = 5, min_area: int = 1) -> bool:
    """Ink within ``gap`` box sides on both sides of the box (not touching it: a tick's ink
    does), in its rows less a ``band``-th at the top and the bottom, in pieces of ``min_area``
    pixels or more (a scan's speck is no character): the box stands in running text."""
    left = _gap(ink, box, -1, band=band, min_area=min_area)
    right = _gap(ink, box, 1, band=band, min_area=min_area)
    return 0 < left <= gap and 0 < right <= gap


def _gap(ink: np.ndarray, box: PxBox, direction: int, *, band: int = 5, min_area: int = 1) -> float:
    """Distance, in box sides, from the box's left (-1) or right (1) wall to the nearest ink in
    its rows less a ``band``-th at the top and the bottom, in pieces of ``min_area`` pixels or
    more; 0 for ink touching it, 9 for none within three sides."""
    x0, y0, x1, y1 = box
    side = min(x1 - x0, y1 - y0)
    pad = max(2, int(side * 0.08))
    rows = ink[y0 + side // band : y1 - side // band]
    width = rows.shape[1]
    start = x0 - pad if direction < 0 else x1 + pad
    if not 0 <= start < width:
        return 9.0
    xa, xb = (max(0, start - 3 * side + 1), start + 1) if direction < 0 else (start, min(width, start + 3 * side))
    strip = np.ascontiguousarray(rows[:, xa:xb])
    if min_area > 1 and strip.any():
        _, labels, stats = connected_components(strip)
        strip = np.isin(labels, np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= min_area)) & (labels > 0)
    cols = np.flatnonzero(strip.any(axis=0))
    if not len(cols):
        return 9.0
    k = (xb - 1 - xa - cols[-1]) if direction < 0 else cols[0]
    return float(k) / side


def _peaks(score: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The candidate points (rows, columns, in raster order) that no neighbour (3 × 3) tops.

    The same as ``candidates & (score >= cv2.dilate(score, 3 × 3))``, looked at on the few
    candidates only.
    """
    ys, xs = np.nonzero(candidates)
    if len(ys) == 0:
        return ys, xs
    h, w = score.shape
    values = score[ys, xs]
    keep = np.ones(len(ys), bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == 0 and dx == 0:
                continue
            ny, nx = ys + dy, xs + dx
            inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
            neighbour = score[np.clip(ny, 0, h - 1), np.clip(nx, 0, w - 1)]
            keep &= ~inside | (values >= neighbour)
    return ys[keep], xs[keep]


def _aligned(box: PxBox, known: Sequence[Checkbox]) -> bool:
    """On a row with one of the boxes already found, or in a column with one a few rows away
    (a grid's column; a character that lines up with a box far above it is no grid's)."""
    side = box[2] - box[0]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return any(
        abs((k.box[1] + k.box[3]) / 2 - cy) <= 0.3 * side
        or (abs((k.box[0] + k.box[2]) / 2 - cx) <= 0.3 * side and abs((k.box[1] + k.box[3]) / 2 - cy) <= GRID_ROWS * side)
        for k in known
    )


#: How far apart (in box sides) two boxes of one grid column may stand.
GRID_ROWS = 4


def _overlaps(a: PxBox, b: PxBox) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _clear_around(ink: np.ndarray, box: PxBox, t: int) -> bool:
    """Little ink just outside the walls (a tick leaving the box crosses that space briefly).

    A square laid over a character in a line of text has strokes of the character or of its
    neighbours right outside it.
    """
    x0, y0, x1, y1 = box
    g = max(2, t)
    hh, ww = ink.shape
    m = max(1, int(round(min(x1 - x0, y1 - y0) * 0.15)))

    def cover(ya: int, yb: int, xa: int, xb: int, axis: int) -> float:
        ya, yb, xa, xb = max(0, ya), min(hh, yb), max(0, xa), min(ww, xb)
        if yb <= ya or xb <= xa:
            return 0.0
        return float(ink[ya:yb, xa:xb].any(axis=axis).mean())

    above = cover(y0 - 1 - g, y0 - 1, x0 + m, x1 - m, 0)
    below = cover(y1 + 1, y1 + 1 + g, x0 + m, x1 - m, 0)
    left = cover(y0 + m, y1 - m, x0 - 1 - g, x0 - 1, 1)
    right = cover(y0 + m, y1 - m, x1 + 1, x1 + 1 + g, 1)
    # inside a word (ink left and right), inside a column of text (above and below), or ink
    # around three sides: not a box. A big cross or tick leaves across one or two sides.
    if (left > 0.5 and right > 0.5) or (above > 0.5 and below > 0.5):
        return False
    return sum(v > 0.5 for v in (above, below, left, right)) <= 2


def _straight_walls(lines: np.ndarray, box: PxBox) -> bool:
    """All four walls are straight strokes along (nearly) their whole length.

    ``lines`` holds only long horizontal and vertical strokes: the strokes of a character, even
    a bold or blurred one, do not run along all four sides of a square.
    """
    x0, y0, x1, y1 = box
    t = max(2, int(round(min(x1 - x0, y1 - y0) * 0.12)))
    m = max(1, int(round(min(x1 - x0, y1 - y0) * 0.1)))  # corners left out

    def band(a: np.ndarray, axis: int) -> float:
        covered = a.any(axis=axis)
        return float(covered[m:-m].mean()) if covered.size > 2 * m else 0.0

    walls = [
        band(lines[y0 : y0 + t, x0:x1], 0),
        band(lines[y1 - t : y1, x0:x1], 0),
        band(lines[y0:y1, x0 : x0 + t], 1),
        band(lines[y0:y1, x1 - t : x1], 1),
    ]
    return min(walls) >= 0.85


def _wall_runs_through(lines: np.ndarray, box: PxBox) -> bool:
    """One wall is part of a longer straight line that goes on past both its corners.

    A drawn box stands apart. Two upright strokes of a character set under a table's rule make a
    closed square with the rule, and that "wall" is a ruled line running on either side.
    """
    x0, y0, x1, y1 = box
    hh, ww = lines.shape
    side = min(x1 - x0, y1 - y0)
    t = max(2, int(round(side * 0.12)))
    reach = max(3, side // 2)

    def covered(a: np.ndarray, axis: int) -> bool:
        return a.size > 0 and a.shape[1 - axis] >= reach and float(a.any(axis=axis).mean()) >= 0.9

    for ya, yb in ((y0, y0 + t), (y1 - t, y1)):  # top and bottom walls, on to the left and right
        ya, yb = max(0, ya), min(hh, yb)
        if covered(lines[ya:yb, max(0, x0 - reach) : x0], 0) and covered(lines[ya:yb, x1 : min(ww, x1 + reach)], 0):
            return True
    for xa, xb in ((x0, x0 + t), (x1 - t, x1)):  # left and right walls, on up and down
        xa, xb = max(0, xa), min(ww, xb)
        if covered(lines[max(0, y0 - reach) : y0, xa:xb], 1) and covered(lines[y1 : min(hh, y1 + reach), xa:xb], 1):
            return True
    return False


def _largest_hole(contours: Sequence[np.ndarray], hier: np.ndarray, i: int) -> float:
    return max((cv2.contourArea(contours[k]) for k in _holes(hier, i)), default=0.0)


def _holes(hier: np.ndarray, i: int) -> Iterable[int]:
    """The holes of the outline ``i`` (its children in a RETR_CCOMP hierarchy)."""
    k = hier[i][2]
    while k != -1:
        yield k
        k = hier[k][0]


def _filled_square(ink: np.ndarray, contour: np.ndarray, lo: float, hi: float) -> Checkbox | None:
    x, y, w, h = cv2.boundingRect(contour)
    if not (lo <= w <= hi and lo <= h <= hi and 0.8 <= w / h <= 1.25):
        return None
    if cv2.contourArea(contour) < 0.9 * (w - 1) * (h - 1):
        return None
    filled = float(np.count_nonzero(ink[y : y + h, x : x + w])) / (w * h)
    if filled < 0.8:
        return None
    return Checkbox((x, y, x + w, y + h), True, round(min(1.0, 0.5 + filled * 0.5), 3), round(filled, 4), "filled")


def _walls(lines: np.ndarray, hole: PxBox) -> tuple[int, int, int, int] | None:
    """Thickness of the four walls around a hole (top, bottom, left, right), or None.

    Each wall is measured at points along the middle of its side, as the run of stroke pixels
    going outward from the hole; a wall must be there at nearly every point.
    """
    x0, y0, x1, y1 = hole
    H, W = lines.shape
    side = min(x1 - x0, y1 - y0)
    limit = max(2, int(side * 0.3))
    xs = np.linspace(x0 + (x1 - x0) * 0.15, x1 - (x1 - x0) * 0.15, 9).astype(int)
    ys = np.linspace(y0 + (y1 - y0) * 0.15, y1 - (y1 - y0) * 0.15, 9).astype(int)

    def run(values: np.ndarray) -> int:
        # pixels from the hole's edge outward, allowing one pixel of anti-aliased gap
        n = 0
        for k, v in enumerate(values[:limit]):
            if v:
                n = k + 1
            elif k > n:
                break
        return n

    def measure(samples: list[np.ndarray]) -> int | None:
        runs = [run(s) for s in samples]
        present = [r for r in runs if r > 0]
        if len(present) < 0.85 * len(runs):
            return None
        return int(np.median(present))

    top = measure([lines[max(0, y0 - limit) : y0, x][::-1] for x in xs])
    bottom = measure([lines[y1 : min(H, y1 + limit), x] for x in xs])
    left = measure([lines[y, max(0, x0 - limit) : x0][::-1] for y in ys])
    right = measure([lines[y, x1 : min(W, x1 + limit)] for y in ys])
    # (x0, y0, x1, y1) is the open inside: walls start right outside it
    if None in (top, bottom, left, right):
        return None
    return top, bottom, left, right  # type: ignore[return-value]


def _has_legs(lines: np.ndarray, ink: np.ndarray, box: PxBox) -> bool:
    """Both side walls go on straight down below the bottom wall, as the strokes of 口 or 国.

    A cross or tick drawn through a corner leaves the corner diagonally, with ink outside.
    """
    x0, y0, x1, y1 = box
    side = min(x1 - x0, y1 - y0)
    reach = max(2, int(round(side * 0.06)))
    t = max(1, int(round(side * 0.1)))
    h = lines.shape[0]
    if y1 + reach > h:
        return False

    def leg(xa: int, xb: int, outside: tuple[int, int]) -> bool:
        band = lines[y1 : y1 + reach, max(0, xa) : xb]
        beside = ink[y1 : y1 + reach, max(0, outside[0]) : outside[1]]
        return band.size > 0 and bool(band.any(axis=1).all()) and not beside.any()

    return leg(x0, x0 + t, (x0 - t, x0)) and leg(x1 - t, x1, (x1, x1 + t))


#: A printed character's strokes are thinner than this share of a box's inside; a pen's not.
PRINTED_STROKE = 0.15


def _strokes_inside(ink: np.ndarray, inner: PxBox) -> bool:
    """Horizontal strokes inside (日 国 回 田), unlike a pen tick, a cross or a check mark.

    Only horizontal strokes count: the steep stroke of a thick pen tick looks vertical.
    """
    x0, y0, x1, y1 = inner
    side = min(x1 - x0, y1 - y0)
    m = max(1, int(side * 0.1))
    crop = np.ascontiguousarray(ink[y0 + m : y1 - m, x0 + m : x1 - m])
    total = np.count_nonzero(crop)
    if crop.size == 0 or total < 0.03 * crop.size or total > 0.5 * crop.size:
        return False  # empty, or filled in
    # a pen's stroke is thick: most of it stays under a square opening that takes a printed
    # character's strokes away (the valley of a thick tick lies flat like 日's bar)
    k = max(3, int(side * PRINTED_STROKE))
    thick = np.count_nonzero(cv2.morphologyEx(crop, cv2.MORPH_OPEN, np.ones((k, k), np.uint8)))
    if thick > 0.5 * total:
        return False
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(4, int(side * 0.6)), 1))
    straight = np.count_nonzero(cv2.morphologyEx(crop, cv2.MORPH_OPEN, kernel))
    return straight > 0.35 * total


#: In a box whose inside holds little ink, a piece of it that spans less than this share of
#: the inside both ways is a speck of the scan or a wall's bump, not a mark: a pen's stroke
#: runs across the box (a tick, a cross) or along it (a circle's ring drawn through a wall).
SPECK_SPAN, SPECK_DENSITY = 0.4, 0.15


def _inside_density(ink: np.ndarray, box: PxBox) -> float:
    """Ink fraction of the box's inside, walls left out, specks left out (:data:`SPECK_SPAN`:
    a dot of 9 pixels in an empty box at 200 dpi read as a tick at 0.05)."""
    x0, y0, x1, y1 = box
    side = min(x1 - x0, y1 - y0)
    m = max(2, int(round(side * 0.18)))
    inner = _without_wall_slivers(ink[y0 + m - 1 : y1 - m + 1, x0 + m - 1 : x1 - m + 1])
    if inner.size == 0:
        return 0.0
    density = float(np.count_nonzero(inner)) / inner.size
    if 0 < density < SPECK_DENSITY:
        _, _, stats = connected_components(np.ascontiguousarray(inner))
        h, w = inner.shape
        marks = sum(int(area) for _, _, sw, sh, area in stats[1:] if sw >= SPECK_SPAN * w or sh >= SPECK_SPAN * h)
        return marks / inner.size
    return density


#: An edge row (column) of a box's inside inked over this share of its length is a wall's.
WALL_SLIVER = 0.6


def _without_wall_slivers(framed: np.ndarray) -> np.ndarray:
    """A box's inside (``framed``: with one pixel more on each side) without the rows and
    columns at its edges that are a wall's, inked along the edge and on beyond it: a box found
    a pixel or two larger than its walls (21 px tall for 19 wide at 200 dpi) holds a sliver of
    its top wall, which read as a tick in every such box of a grid. A stroke along the edge
    with white between it and the wall (a circle's ring drawn down inside it) stays."""

    def wall(line: np.ndarray, beyond: np.ndarray) -> bool:
        return np.count_nonzero(line) >= WALL_SLIVER * line.size and np.count_nonzero(beyond) >= WALL_SLIVER * beyond.size

    for _ in range(4):
        h, w = framed.shape
        if h < 5 or w < 5:
            break
        if wall(framed[1, 1:-1], framed[0, 1:-1]):
            framed = framed[1:]
        elif wall(framed[-2, 1:-1], framed[-1, 1:-1]):
            framed = framed[:-1]
        elif wall(framed[1:-1, 1], framed[1:-1, 0]):
            framed = framed[:, 1:]
        elif wall(framed[1:-1, -2], framed[1:-1, -1]):
            framed = framed[:, :-1]
        else:
            break
    return framed[1:-1, 1:-1]


def _decide(box: PxBox, density: float) -> Checkbox:
    mid = (EMPTY_BELOW + TICKED_ABOVE) / 2
    ticked = density >= mid
    if ticked:
        clarity = min(1.0, (density - mid) / (TICKED_ABOVE - mid))
    else:
        clarity = min(1.0, (mid - density) / (mid - EMPTY_BELOW))
    return Checkbox(box, ticked, round(0.5 + 0.5 * max(0.0, clarity), 3), round(density, 4))


def _dedupe(boxes: list[Checkbox]) -> list[Checkbox]:
    """Drop boxes nested in another (a box's inner outline)."""
    boxes = sorted(boxes, key=lambda b: -(b.box[2] - b.box[0]) * (b.box[3] - b.box[1]))
    kept: list[Checkbox] = []
    for b in boxes:
        if any(_inside(b.box, k.box) for k in kept):
            continue
        kept.append(b)
    return sorted(kept, key=lambda b: (b.box[1], b.box[0]))


def _inside(a: PxBox, b: PxBox, slack: int = 2) -> bool:
    return a[0] >= b[0] - slack and a[1] >= b[1] - slack and a[2] <= b[2] + slack and a[3] <= b[3] + slack


# --- round marks (● ○) -------------------------------------------------------------------

#: Diameters (mm) of printed round marks looked for: ● and ○ are 0.84 em, 2.4–4.1 mm from 8
#: to 14 pt. (A Latin o is half an em: 2.1 mm at 11.5 pt; the o of .co.jp at 10.5 pt is 1.9.)
ROUND_MIN_MM, ROUND_MAX_MM = 2.3, 4.8
#: How far from round a mark's box may be (|w - h| over the larger): ● and ○ are round to a
#: pixel; a Latin O or Ｏ is 0.87–0.93 as wide as tall, 0 and D narrower still.
ROUND_ASPECT = 0.07
#: A round mark's outline fills this share of the ellipse in its box, at least and at most (a
#: square box fills 4/π of it: 1.27).
ROUND_FILL = (0.84, 1.08)
#: A ring's hole is at least this share of the area inside its outline (○ 0.77–0.89 in the
#: IPA faces); a ● has no hole and its outline is this share ink at least.
ROUND_HOLE, ROUND_SOLID = 0.5, 0.9
#: Ink inside a ring's hole, as a share of the hole, under which it is empty (a scan's speck).
ROUND_EMPTY_BELOW = 0.04


def find_round_marks(ink: np.ndarray, dpi: float, *, avoid: Sequence[PxBox] = ()) -> list[Checkbox]:
    """Printed round marks on a page's ink (uint8 0/255, ruled lines taken out): ● as a choice
    taken, ○ as one not taken, found from their pixels (the recognizer often reads a line
    without them). Marks overlapping ``avoid`` (boxes, hand-drawn rings) are not looked for,
    nor marks between characters of running text (に○を付けて; the O of ORDER)."""
    lo, hi = _mm(dpi, ROUND_MIN_MM), _mm(dpi, ROUND_MAX_MM)
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        return []
    hier = hierarchy[0]
    found: list[Checkbox] = []
    for i, contour in enumerate(contours):
        if hier[i][3] != -1:
            continue  # a hole, looked at from its outline
        x, y, w, h = cv2.boundingRect(contour)
        if not (lo <= w <= hi and lo <= h <= hi) or abs(w - h) > ROUND_ASPECT * max(w, h):
            continue
        box = (x, y, x + w, y + h)
        if any(_overlaps(box, a) for a in avoid):
            continue
        area = cv2.contourArea(contour)
        if not ROUND_FILL[0] <= area / (np.pi / 4 * w * h) <= ROUND_FILL[1] or not _round_outline(contour, box):
            continue
        # running text (該当するものに○を付けて), its neighbours' ink at all the mark's height
        # but a tenth (に's right side is two short bars near its top and bottom), specks not
        if _between_characters(ink, box, gap=ROUND_TEXT_GAP, band=10, min_area=3 * speck_area(dpi)):
            continue
        mark = _round_mark(ink, contours, hier, i, box, area)
        if mark is not None:
            found.append(mark)
    return found


#: How far (a share of the radius) a round mark's outline may stray from the circle in its
#: box, for all but a tenth of its points (a scan's speck on the ring): a blurred bold kanji
#: inked solid (量) fills its box as roundly as a ● but has corners and straight sides (0.24–
#: 0.28 of the radius at that share of its points; a ○ with a speck on it, 0.035).
ROUND_OUTLINE = 0.08


#: Gap, in a round mark's diameters, up to which ink beside it is the next character of
#: running text (に○を: 0.3 in a Mincho face; a choice's mark has a space on one side).
ROUND_TEXT_GAP = 0.5


def _round_outline(contour: np.ndarray, box: PxBox) -> bool:
    x0, y0, x1, y1 = box
    pts = contour.reshape(-1, 2).astype(np.float64) + 0.5
    u = (pts[:, 0] - (x0 + x1) / 2) / ((x1 - x0) / 2)
    v = (pts[:, 1] - (y0 + y1) / 2) / ((y1 - y0) / 2)
    d = np.sqrt(u * u + v * v)
    return float(np.percentile(np.abs(d - np.median(d)), 90)) <= ROUND_OUTLINE


def _round_mark(
    ink: np.ndarray, contours: Sequence[np.ndarray], hier: np.ndarray, i: int, box: PxBox, area: float
) -> Checkbox | None:
    """The round outline ``contours[i]`` as a mark: solid (●), or a thin ring (○) whose hole
    is empty."""
    x0, y0, x1, y1 = box
    region = ink[y0:y1, x0:x1] > 0
    biggest = max(_holes(hier, i), key=lambda k: cv2.contourArea(contours[k]), default=-1)
    hole = cv2.contourArea(contours[biggest]) if biggest >= 0 else 0.0
    if hole < 0.05 * area:
        outline = np.zeros(region.shape, np.uint8)
        cv2.drawContours(outline, [contours[i] - (x0, y0)], -1, 1, thickness=cv2.FILLED)
        solid = float((region & (outline > 0)).sum()) / max(1, int(outline.sum()))
        return Checkbox(box, True, 0.9, solid, kind="round") if solid >= ROUND_SOLID else None
    if hole < ROUND_HOLE * area:
        return None
    # the hole, less a pixel all round (its contour runs on the ring's own inner pixels)
    inside = np.zeros(region.shape, np.uint8)
    cv2.drawContours(inside, [contours[biggest] - (x0, y0)], -1, 1, thickness=cv2.FILLED)
    inside = cv2.erode(inside, np.ones((3, 3), np.uint8))
    # what is inked in the hole: other components (RETR_CCOMP lists them apart)
    filled = float((region & (inside > 0)).sum()) / max(1, int(inside.sum()))
    # a ring with something inside is a character (①, 回) more often than a ◉
    return Checkbox(box, False, 0.9, filled, kind="round") if filled <= ROUND_EMPTY_BELOW else None


# --- circled options ---------------------------------------------------------------------


#: Gap, in mm, a circle's stroke may leave where a ruled line was taken out.
CIRCLE_BRIDGE_MM = 0.9
#: Share of a ring's perimeter that must have ink (or a ruled line taken out) close by.
RING_COVER = 0.9
#: How far (a share of the radius) a hand-drawn ring wobbles off the ellipse fitted to it.
RING_BAND = 0.08
#: How far out (in radii) a found ring's ink is whitened for OCR: its stroke and a hand's
#: wobble, not the text beyond it.
RING_MASK_OUTER = 1.25
#: Share of the inside of a ring that must hold ink not joined to the ring: what is circled.
RING_FREE_INSIDE = 0.02


@dataclass(frozen=True)
class Ellipse:
    """An ellipse as ``cv2.fitEllipse`` gives it: centre, full axes, rotation in degrees."""

    cx: float
    cy: float
    w: float
    h: float
    angle: float

    @classmethod
    def fit(cls, points: np.ndarray) -> Ellipse | None:
        if len(points) < 6:
            return None
        try:
            (cx, cy), (w, h), angle = cv2.fitEllipse(points.astype(np.float32))
        except cv2.error:
            return None
        if not all(np.isfinite(v) for v in (cx, cy, w, h)) or min(w, h) < 2:
            return None
        return cls(float(cx), float(cy), float(w), float(h), float(angle))

    def radial(self, points: np.ndarray) -> np.ndarray:
        """Each point's distance from the centre in units of the ellipse's radius that way."""
        t = np.radians(self.angle)
        dx, dy = points[:, 0] - self.cx, points[:, 1] - self.cy
        u = (dx * np.cos(t) + dy * np.sin(t)) / (self.w / 2)
        v = (-dx * np.sin(t) + dy * np.cos(t)) / (self.h / 2)
        return np.sqrt(u * u + v * v)

    def points(self, n: int = 72, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        t = np.radians(self.angle)
        a = np.linspace(-np.pi, np.pi, n, endpoint=False)
        ex, ey = scale * self.w / 2 * np.cos(a), scale * self.h / 2 * np.sin(a)
        return self.cx + ex * np.cos(t) - ey * np.sin(t), self.cy + ex * np.sin(t) + ey * np.cos(t)

    def extent(self) -> tuple[float, float, float, float]:
        t = np.radians(self.angle)
        hw = float(np.hypot(self.w / 2 * np.cos(t), self.h / 2 * np.sin(t)))
        hh = float(np.hypot(self.w / 2 * np.sin(t), self.h / 2 * np.cos(t)))
        return self.cx - hw, self.cy - hh, self.cx + hw, self.cy + hh


def _robust_fit(points: np.ndarray, tolerances: Sequence[float] = (0.3, 0.18, 0.12)) -> Ellipse | None:
    """An ellipse fitted to ``points``, refitted on the points near it: what a ring's outline
    gives even where the outline runs into the text it touches."""
    kept = points
    ellipse = None
    for tol in tolerances:
        ellipse = Ellipse.fit(kept)
        if ellipse is None:
            return None
        kept = points[np.abs(ellipse.radial(points) - 1) < tol]
    return ellipse


def _outline_points(labels: np.ndarray, members: Sequence[int], box: PxBox, mode: int) -> list[np.ndarray]:
    x0, y0, x1, y1 = box
    mask = np.isin(labels[y0:y1, x0:x1], members).astype(np.uint8)
    contours, _ = cv2.findContours(mask, mode, cv2.CHAIN_APPROX_NONE)
    return [c.reshape(-1, 2).astype(np.float64) + (x0, y0) for c in contours]


def _ring_hypotheses(labels: np.ndarray, stats: np.ndarray, th: float, bridge: int) -> list[Ellipse]:
    """Ellipses a ring may follow, from the outlines of ring-sized components: each outline
    (outer edge and holes) fitted whole, and, where a component is more than one ring or a ring
    joined to its neighbours, ellipses fitted to runs of its outlines; and from
    pairs of tall arcs facing each other across a row, a ring whose top and bottom ran along
    ruled lines taken out."""
    ws, hs = stats[:, cv2.CC_STAT_WIDTH].astype(np.float64), stats[:, cv2.CC_STAT_HEIGHT].astype(np.float64)
    out: list[Ellipse] = []
    for k in np.flatnonzero((hs[1:] >= th) & (ws[1:] >= 1.05 * th)) + 1:
        if hs[k] > 30 * th and ws[k] > 30 * th:
            continue  # a table's frame left by the line finder
        members = [int(k), *_caps(stats, int(k), bridge)]
        x0 = min(int(stats[m][0]) for m in members)
        y0 = min(int(stats[m][1]) for m in members)
        x1 = max(int(stats[m][0] + stats[m][2]) for m in members)
        y1 = max(int(stats[m][1] + stats[m][3]) for m in members)
        outlines = _outline_points(labels, members, (x0, y0, x1, y1), cv2.RETR_CCOMP)
        for pts in outlines:
            w, h = np.ptp(pts[:, 0]) + 1, np.ptp(pts[:, 1]) + 1
            if 0.8 * th <= h <= 5 * th and 0.9 * th <= w <= 16 * th and (e := _robust_fit(pts)):
                out.append(e)
        if x1 - x0 > 3 * th or y1 - y0 > 2.5 * th:
            out += _arcs_fitted(outlines, np.concatenate(outlines), th)
    out += _arc_pairs(labels, stats, th)
    out += _rings_round_words(labels, stats, th)
    return out


def _rings_round_words(labels: np.ndarray, stats: np.ndarray, th: float) -> list[Ellipse]:
    """Ellipses fitted to the ink round each run of characters, in the band a ring drawn round
    it takes: a ring that crosses a tight row's ruled lines, or runs along a cell's wall, is
    cut into pieces by the lines taken out and has no outline of its own to fit."""
    ws, hs, areas = (stats[:, i].astype(np.float64) for i in (cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT, cv2.CC_STAT_AREA))
    glyph = (hs <= 1.1 * th) & (ws <= 1.5 * th) & (hs >= 0.25 * th) & (areas >= 4)
    glyph[0] = False
    lookup = np.where(glyph, 0, 255).astype(np.uint8)
    lookup[0] = 0
    ink = lookup[labels]  # ink that is no character: rings, their pieces, lines left
    glyphs = np.where(glyph, 255, 0).astype(np.uint8)[labels]
    runs = cv2.dilate(glyphs, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(0.45 * th)) | 1, 1)))
    _, _, run_stats = connected_components(runs)
    height, width = labels.shape
    out: list[Ellipse] = []
    for x, y, w, h, _ in run_stats[1:]:
        if not (0.4 * th <= h <= 1.3 * th and 0.5 * th <= w <= 12 * th):
            continue
        # the ellipse through the run's corners, and the band round it a ring takes
        guess = Ellipse(x + w / 2, y + h / 2, w * RING_ROUND_WORD, h * RING_ROUND_WORD, 0.0)
        ex0, ey0, ex1, ey1 = (int(v) for v in guess.extent())
        pad = int(0.5 * h)
        xa, ya, xb, yb = max(0, ex0 - pad), max(0, ey0 - pad), min(width, ex1 + pad), min(height, ey1 + pad)
        ys, xs = np.nonzero(ink[ya:yb, xa:xb])
        if len(xs) < 30:
            continue
        points = np.stack([xs + xa + 0.5, ys + ya + 0.5], 1)
        band = points[np.abs(guess.radial(points) - 1) < 0.45]
        if len(band) < 30 or _sectors(band, guess) < RING_OWN_INK:
            continue  # ink on one side only: a line's remnant, a neighbour's stroke
        if (e := _robust_fit(band)) and _fits_round(e, x, y, w, h) and _inked_round(e, labels) >= RING_OWN_INK:
            out.append(e)
    return out


def _sectors(points: np.ndarray, e: Ellipse, n: int = 36) -> float:
    """The share of the n sectors round the ellipse's centre that hold any of the points."""
    angles = np.arctan2((points[:, 1] - e.cy) / e.h, (points[:, 0] - e.cx) / e.w)
    return len(np.unique(((angles + np.pi) / (2 * np.pi) * n).astype(int) % n)) / n


#: Share of its perimeter a ring round a run of characters must draw in ink of its own, not
#: where a ruled line was taken out: a cell's walls and rules go round the word in it too
#: (rings over a tight row's rules and a cell's wall: 0.75; a label in its cell: 0.32).
RING_OWN_INK = 0.5


def _inked_round(e: Ellipse, ink: np.ndarray) -> float:
    """The share of the ellipse's perimeter with ink (any non-zero pixel) within a hand's wobble."""
    height, width = ink.shape
    inked = np.zeros(72, bool)
    for scale in np.linspace(1 - RING_BAND, 1 + RING_BAND, 7):
        px, py = e.points(72, scale)
        xi, yi = np.clip(px.round().astype(int), 0, width - 1), np.clip(py.round().astype(int), 0, height - 1)
        inked |= ink[yi, xi] > 0
    return float(inked.mean())


def _fits_round(e: Ellipse, x: int, y: int, w: int, h: int) -> bool:
    """Whether ellipse ``e`` goes round the run of characters in box (x, y, w, h) as a ring drawn
    round it does: about its centre, wider than it, no more than twice as tall, all of it inside."""
    ex0, ey0, ex1, ey1 = e.extent()
    return (
        abs((ey0 + ey1) / 2 - (y + h / 2)) <= 0.3 * h
        and abs((ex0 + ex1) / 2 - (x + w / 2)) <= 0.2 * w + 0.3 * h
        and h * 1.05 <= ey1 - ey0 <= 2.0 * h
        and w <= ex1 - ex0 <= 1.8 * w + 1.5 * h
        and ex0 <= x + 0.1 * h and ex1 >= x + w - 0.1 * h
    )


#: A ring drawn round a word passes about this many times the word's width and height across
#: (a box's corners lie on the ellipse √2 times its sides).
RING_ROUND_WORD = 1.4


def _arcs_fitted(outlines: Sequence[np.ndarray], points: np.ndarray, th: float) -> list[Ellipse]:
    """Ellipses fitted to runs of an outline, each refitted on the points near it: an outline
    that goes round several rings touching each other follows one ring for a while before it
    turns onto the next."""
    out = []
    for outline in outlines:
        n = len(outline)
        if n < 4 * th:
            continue
        for length in (int(4 * th), int(6 * th)):
            for start in range(0, n, max(1, int(th))):
                run = outline[np.arange(start, start + length) % n]
                first = Ellipse.fit(run)
                if first is None or max(first.w, first.h) > 20 * th:
                    continue
                local = points[(np.abs(points[:, 0] - first.cx) < first.w) & (np.abs(points[:, 1] - first.cy) < first.h)]
                near = local[np.abs(first.radial(local) - 1) < 0.15]
                if len(near) >= 30 and (e := _robust_fit(near, (0.15, 0.1))):
                    out.append(e)
    return out


def _arc_pairs(labels: np.ndarray, stats: np.ndarray, th: float) -> list[Ellipse]:
    ws, hs = stats[:, cv2.CC_STAT_WIDTH].astype(np.float64), stats[:, cv2.CC_STAT_HEIGHT].astype(np.float64)
    arcs = [int(a) for a in np.flatnonzero((hs >= th) & (hs <= 4.5 * th) & (ws <= 0.7 * hs) & (ws >= 2)) if a > 0]
    bows = {a: _bowed(labels, stats, a) for a in arcs}
    left = [a for a in arcs if bows[a] == "left"]
    right = [a for a in arcs if bows[a] == "right"]
    mid = stats[:, 1] + stats[:, 3] / 2.0
    out = []
    for a in left:
        a_right = stats[a][0] + stats[a][2]
        facing = sorted(
            (b for b in right if a_right < stats[b][0] <= a_right + 14 * th and abs(mid[b] - mid[a]) <= 0.4 * th),
            key=lambda b: stats[b][0],
        )
        for b in facing[:3]:
            pts = [
                p
                for m in (a, b)
                for p in _outline_points(labels, [m], _stat_box(stats, m), cv2.RETR_EXTERNAL)
            ]
            if e := _robust_fit(np.concatenate(pts)):
                out.append(e)
    return out


def _bowed(labels: np.ndarray, stats: np.ndarray, k: int) -> str | None:
    """Which side a tall arc bulges to: "left" for the left end of a ring, "(" shaped, its
    middle further out than its ends; "right" for ")"; None for a straight bar (【, 】, |)."""
    x0, y0, x1, y1 = _stat_box(stats, k)
    mask = labels[y0:y1, x0:x1] == k
    h = y1 - y0
    rows = mask.any(axis=1)

    def span(lo: float, hi: float) -> tuple[int, int] | None:
        band = mask[int(lo * h) : max(int(hi * h), int(lo * h) + 1)]
        cols = np.flatnonzero(band.any(axis=0))
        return (int(cols[0]), int(cols[-1])) if len(cols) and rows.any() else None

    top, middle, bottom = span(0.1, 0.25), span(0.4, 0.6), span(0.75, 0.9)
    if top is None or middle is None or bottom is None:
        return None
    bow = 0.12 * h
    if middle[0] < min(top[0], bottom[0]) - bow:
        return "left"
    if middle[1] > max(top[1], bottom[1]) + bow:
        return "right"
    return None


def _stat_box(stats: np.ndarray, k: int) -> PxBox:
    x, y, w, h = (int(v) for v in stats[k][:4])
    return (x, y, x + w, y + h)


def _ring_around_text(e: Ellipse, ink: np.ndarray, near_ink: np.ndarray, th: float) -> bool:
    """Whether ``e`` is a hand-drawn ring round something written: of a ring's size and
    shape, inked (or crossed by a ruled line taken out) all the way round, a thin curve and
    not straight strokes, with ink inside that is not joined to it."""
    ex0, ey0, ex1, ey1 = e.extent()
    ew, eh = ex1 - ex0, ey1 - ey0
    if not (1.1 * th <= eh <= 4.5 * th and 1.1 * eh <= ew <= 14 * th):
        return False
    height, width = ink.shape
    # inked all the way round, within a band as wide as a hand's wobble (a share of the radius)
    if _inked_round(e, near_ink) < RING_COVER:
        return False
    x0, y0 = max(0, int(ex0)), max(0, int(ey0))
    x1, y1 = min(width, int(np.ceil(ex1)) + 1), min(height, int(np.ceil(ey1)) + 1)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return False
    yy, xx = np.mgrid[y0:y1, x0:x1]
    r = e.radial(np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], 1)).reshape(yy.shape)
    region = ink[y0:y1, x0:x1] > 0
    inner = r < 0.6
    # what is written inside, not counting strokes joined to the ring (a character's own
    # outline fits an ellipse too: 返 in a title)
    _, parts = cv2.connectedComponents(region.astype(np.uint8), connectivity=8)
    on_ring = np.unique(parts[(np.abs(r - 1) < 0.12) & region])
    free = region & inner & ~np.isin(parts, on_ring[on_ring > 0])
    if free.sum() < RING_FREE_INSIDE * max(1, int(inner.sum())):
        return False
    ring = ((np.abs(r - 1) < 0.2) & region).astype(np.uint8) * 255
    # straight strokes half as long as the ring is wide (across) or tall (down): a frame's
    # walls are; a flat ring's top and bottom are not, though straighter than half its height
    across = cv2.morphologyEx(ring, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(5, int(0.5 * ew)) | 1, 1)))
    down = cv2.morphologyEx(ring, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(5, int(0.5 * eh)) | 1)))
    straight = cv2.bitwise_or(across, down)
    return np.count_nonzero(straight) <= RING_STRAIGHT * max(1, np.count_nonzero(ring))


def find_circles(
    ink: np.ndarray,
    dpi: float,
    *,
    text_height: float | None = None,
    boxes: Sequence[Checkbox] = (),
    gaps: np.ndarray | None = None,
) -> list[Circle]:
    """Hand-drawn ellipses around text (ruled lines should be removed from ``ink`` first).

    Where a ruled line was taken out (``gaps``: the mask of the removed lines) it leaves a gap
    in an ellipse crossing it or running along it: short closings across the lines bridge
    those gaps, and a gap counts as ink when a ring is checked all the way round. Ellipses are
    fitted to the outlines of ring-sized ink (see ``_ring_hypotheses``) and each is kept when
    it is a ring round text (``_ring_around_text``); the outer and inner edge of one ring give
    it twice (or a part of it fits an ellipse of its own): the larger is kept.
    """
    th = text_height or _mm(dpi, 3.5)
    bridge = max(3, int(round(_mm(dpi, CIRCLE_BRIDGE_MM))))
    if boxes:  # a circle drawn around a label often touches the label's box
        ink = ink.copy()
        for b in boxes:
            ink[b.box[1] : b.box[3], b.box[0] : b.box[2]] = 0
    closed = ink
    if gaps is not None and gaps.any():
        bridged = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, bridge)))
        bridged = cv2.morphologyEx(bridged, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (bridge, 1)))
        closed = cv2.bitwise_or(ink, cv2.bitwise_and(bridged, gaps))
    near_ink = cv2.dilate(closed, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    if gaps is not None:
        near_ink = cv2.bitwise_or(near_ink, gaps)
    _, labels, stats = connected_components(closed)
    rings = [e for e in _ring_hypotheses(labels, stats, th, bridge) if _ring_around_text(e, ink, near_ink, th)]
    rings.sort(key=lambda e: -e.w * e.h)
    circles: list[Circle] = []
    for e in rings:
        x0, y0, x1, y1 = e.extent()
        # the fit runs along the middle of the outline's points: the box takes in the stroke
        box = (int(x0) - 2, int(y0) - 2, int(np.ceil(x1)) + 2, int(np.ceil(y1)) + 2)
        if not any(_share_inside(box, c.box) > 0.5 for c in circles):
            circles.append(Circle(box, confidence=0.85))
    return circles


def _share_inside(a: PxBox, b: PxBox) -> float:
    """The share of box ``a`` inside box ``b``."""
    inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    return inter / max(1, (a[2] - a[0]) * (a[3] - a[1]))


#: The share of a ring's ink that may lie in straight strokes: a circle drawn flat round a
#: long label has near-straight top and bottom (0.52 at 200 dpi, seed 504); a frame or a
#: character's strokes are straight nearly all round.
RING_STRAIGHT = 0.6


def _caps(stats: np.ndarray, k: int, bridge: int) -> list[int]:
    """Components that are the top or bottom arc of component ``k``'s ellipse, cut off where the
    ellipse ran along a ruled line taken out: flat, about as wide, just above or below it."""
    x, y, w, h = (int(v) for v in stats[k][:4])
    mx, my, mw, mh = (stats[:, i].astype(np.int64) for i in range(4))
    shaped = (mh <= 0.4 * h) & (mw >= 0.4 * w) & (mx >= x - bridge) & (mx + mw <= x + w + bridge)
    above = (my + mh >= y - 2 * bridge) & (my + mh <= y + bridge)
    below = (my >= y + h - bridge) & (my <= y + h + 2 * bridge)
    found = np.flatnonzero(shaped & (above | below))
    return [int(m) for m in found if m not in (0, k)]


# --- with the OCR ------------------------------------------------------------------------

#: Characters a pen tick on a box is also read as, confidently (7: the tick's long stroke
#: leaving the box's top right corner, with the box's top wall for its bar; 人: the same
#: stroke with the tick's short one).
_TICK_LOOKALIKES = set("ナレノメくムヌ丈才寸7人")
#: What a box, ticked or not, is read as with confidence: a "like" box read so stays a box.
_BOX_READS = set("口ロ□■☐☑☒図凶×✓✔") | _TICK_LOOKALIKES


def _garbage_or_tick(text: str) -> bool:
    return all(ch in BOX_GARBAGE or ch in _TICK_LOOKALIKES or not ch.strip() for ch in text)


def confirm_boxes(
    boxes: Sequence[Checkbox],
    words: Iterable[OcrLike],
    *,
    min_conf: float = 50.0,
    ink: np.ndarray | None = None,
    walls: Sequence[PxBox] = (),
) -> list[Checkbox]:
    """Boxes, without the "like" ones that OCR reads confidently as a character (a bold kanji).

    ``words``: Tesseract's words in pixels (text, box, conf 0..100). With the page's ``ink``, a
    box whose label's last character is left unread beside it stays: Tesseract read that
    character but put its box on the ticked box (やまいも☑ read as やまい and も on the box).
    """
    words = list(words)
    kept: list[Checkbox] = []
    read_over: list[Checkbox] = []  # like boxes a character was read over
    confident = [w for w in words if w.conf >= min_conf and w.text.strip()]
    text_height = float(np.median([w.box[3] - w.box[1] for w in confident])) if confident else 0.0
    for b in boxes:
        if b.kind != "like":
            kept.append(b)
            continue
        if _in_heading(b.box, confident, text_height):
            continue
        area = _area(b.box)  # type: ignore[arg-type]
        full = b.density >= LIKE_FULL
        # a character of running text, ink close on both sides (包 of 梱包サイズ in a bold face):
        # read there at all, it is that character, however unsure the reading
        crowded = ink is not None and _between_characters(ink, b.box)
        on_it = [
            w for w in words
            # a blurred kanji is often read poorly (梱包 as 指色 at 0.1): any reading there counts
            if (w.conf >= min_conf or full or crowded)
            and any(
                ch not in _BOX_READS and ch.strip()
                and _overlap((cx0, w.box[1], cx1, w.box[3]), b.box) >= 0.5 * area  # type: ignore[arg-type]
                # centred on the box: a neighbour's share that only reaches into it (通年☑: a
                # word box a pixel or two wider on another CPU) is not a character read there.
                # Not for a box full of ink: that is a kanji blurred at 200 dpi (重, 肩, 黒),
                # and Tesseract's boxes for such characters are often a few pixels off
                and (b.box[0] <= (cx0 + cx1) / 2 <= b.box[2] or full)
                for ch, cx0, cx1 in _char_slices(w)
            )
        ]
        if on_it and (full or crowded):
            # a blurred kanji read there: the shifted readings below are a tick's; unless it was
            # read with no confidence and opens a row of choices (a pen's cross filling
            # ゆうパック's box, read as 芝 at 0)
            if all(w.conf < min_conf for w in on_it):
                read_over.append(b)
            continue
        # a word whose characters before the box were read as one (鶏肉☑ read as 鶏 over both
        # characters and 肉 on the box) put its next character on the box: a shifted reading
        # (or read 落花生☑ as 落花, 落 over 落花, and 生 alone on the box)
        # (or えび☑ with び's box stretched from its place over the box)
        on_it = [
            w for w in on_it
            if not _merged_before(w, b.box) and not _after_merged(w, b.box, words) and not _stretched_onto(w, b.box)
        ]  # fmt: skip
        if not on_it:
            kept.append(b)
            continue
        # a character read alone on the box may be the label's last one, its box misplaced
        # (やまいも☑: も on the box) or stretched over the box (もも☑: the second も from its
        # own place to past the box); one inside a word read with confidence is the word's
        # (伊香保 in a gothic face, 香 passing for a ticked box)
        alone = all(len(w.text.strip()) == 1 for w in on_it)
        side = b.box[2] - b.box[0]
        stretched = alone and all(w.box[0] < b.box[0] - 0.5 * side for w in on_it)
        if stretched or (alone and ink is not None and _unread_ink_before(ink, b.box, words)):
            kept.append(b)
        else:
            read_over.append(b)
    # among the boxes kept, a row of choices may have its first box's mark read as a character
    kept += [b for b in read_over if _opens_a_row_of_choices(b.box, kept, walls)]
    return sorted(kept, key=boxes.index)


def _opens_a_row_of_choices(box: PxBox, boxes: Sequence[Checkbox], walls: Sequence[PxBox]) -> bool:
    """The box stands first in its cell, just right of the cell's wall (``walls``: vertical
    ruled lines, x0 == x1), on a row with two boxes more of its size (``boxes``: the boxes
    confirmed, not characters that look like boxes, 日 日 in 毎月10日・25日): the first of a row of
    choices, whose pen mark was read as a character (a cross over ゆうパック's box read as 近).
    A character at a cell's start (肩 of 肩ロース) has no row of boxes beside it; one in a row
    of choices stands after its wall's first box, not before it."""
    side = box[2] - box[0]
    cy = (box[1] + box[3]) / 2
    row = [
        o for o in boxes
        if o.box != box and abs((o.box[2] - o.box[0]) - side) <= 0.2 * side and abs((o.box[1] + o.box[3]) / 2 - cy) <= side / 3
    ]  # fmt: skip
    if len(row) < 2:
        return False
    return any(box[0] - 1.5 * side <= x0 <= box[0] and y0 <= cy <= y1 for x0, y0, x1, y1 in walls if x0 == x1)


#: Share of a "like" box's inside in ink from which it is a blurred character's, not a tick's
#: (on the benchmark's 200 and 300 dpi scans, confirmed pen ticks filled mostly 0.5–0.7).
LIKE_FULL = 0.85
#: A line whose words stand this many times as tall as a box among them, and as tall as the
#: page's text, is a heading in a larger type.
HEADING_OVER_BOX = 1.45
HEADING_OVER_TEXT = 1.25


def _in_heading(box: PxBox, confident: Sequence[OcrLike], text_height: float) -> bool:
    """The box lies in a line of text set larger than the box and than the page's text: a part
    of a character (品's 口, the right of 援 in a bold 18-pt title), not a box typed there, which
    is as tall as the text around it. The text lines are Tesseract's (``line``); words without
    one are taken as a single line, which is never taller than the page's text.
    ``confident``: the page's words read with confidence; ``text_height``: their median height."""
    lines = {getattr(w, "line", None) for w in confident if _overlaps(w.box, box)}
    if not lines:
        return False
    side = min(box[2] - box[0], box[3] - box[1])
    line_height = float(np.median([w.box[3] - w.box[1] for w in confident if getattr(w, "line", None) in lines]))
    return line_height >= HEADING_OVER_BOX * side and line_height >= HEADING_OVER_TEXT * text_height


#: A character's box this many times as wide as it is tall holds two characters or more.
MERGED_CHARACTERS = 1.6


def _merged_before(word: OcrLike, box: PxBox) -> bool:
    """Tesseract gave a character of the word, left of the box, a box two characters wide (a
    character's height, not a flat ー's)."""
    side = box[3] - box[1]
    for cx0, cy0, cx1, cy1 in getattr(word, "char_boxes", ()) or ():
        height = cy1 - cy0
        if cx1 <= box[0] + 0.3 * (box[2] - box[0]) and height >= 0.6 * side and cx1 - cx0 > MERGED_CHARACTERS * height:
            return True
    return False


def _stretched_onto(word: OcrLike, box: PxBox) -> bool:
    """Tesseract gave the word's last character a box two characters wide, from well left of
    the box to its end: that character's own place and the box, not a character on the box.
    (Not one before another character: 冷 of 冷蔵 given the whole word's width, 蔵 a sliver.)"""
    chars = getattr(word, "char_boxes", ()) or ()
    if not chars:
        return False
    side = box[2] - box[0]
    cx0, cy0, cx1, cy1 = chars[-1]
    # ending with the box: one running on over the next characters says nothing of where its
    # character is (樹 of 果樹☑園, itself the box, given a box to past 園)
    ends_with_it = box[0] + 0.5 * side < cx1 <= box[2] + 0.5 * side
    return cx0 < box[0] - 0.5 * side and ends_with_it and cx1 - cx0 > MERGED_CHARACTERS * max(1, cy1 - cy0)


def _after_merged(word: OcrLike, box: PxBox, words: Sequence[OcrLike]) -> bool:
    """A character read alone on the box right after a word with a character two wide."""
    if len(word.text.strip()) != 1:
        return False
    side = box[2] - box[0]
    return any(
        other is not word
        and box[0] - 2 * side <= other.box[2] <= box[0] + 0.3 * side
        and min(other.box[3], box[3]) - max(other.box[1], box[1]) > 0.5 * (box[3] - box[1])
        and _merged_before(other, box)
        for other in words
    )


def _unread_ink_before(ink: np.ndarray, box: PxBox, words: Sequence[OcrLike]) -> bool:
    """A character's worth of ink just left of the box that no word of the OCR covers."""
    x0, y0, x1, y1 = box
    side = min(x1 - x0, y1 - y0)
    xa, xb = max(0, x0 - 2 * side), max(0, x0 - max(2, side // 5))
    if xb <= xa:
        return False
    strip = ink[y0:y1, xa:xb] > 0
    covered = np.zeros_like(strip)
    for w in words:
        wx0, wy0, wx1, wy1 = w.box
        if wx1 <= xa or wx0 >= xb or wy1 <= y0 or wy0 >= y1:
            continue
        covered[max(0, wy0 - y0) : max(0, wy1 - y0), max(0, wx0 - xa) : max(0, wx1 - xa)] = True
    unread = strip & ~covered
    # a character's strokes: at least an eighth of the box's area, over at least half its width
    return int(unread.sum()) >= 0.12 * side * side and int(unread.any(axis=0).sum()) >= 0.5 * side


def drop_box_words(words: Sequence[W], boxes: Sequence[Checkbox]) -> list[W]:
    """Tesseract's words (pixels) without its readings of the boxes and the ticks on them.

    A word lying mostly on a box goes. A word that runs over a box (Tesseract joined a label
    and the box it misread) loses the characters on the box (by the characters' own boxes, or
    their shares of the word's width) and those on the box are cut off; only boxes on the
    word's own line take characters.
    Words must be NamedTuples with ``text``, ``box`` and ``conf`` (``tesseract.OcrWord``).
    """
    grown = []
    reach = []  # where the strokes of a tick go: above a ticked box
    for b in boxes:
        side = b.box[2] - b.box[0]
        grown.append((b.box[0] - side * 0.25, b.box[1] - side * 0.25, b.box[2] + side * 0.25, b.box[3] + side * 0.25))
        if b.ticked:
            reach.append((b.box[0] - side, b.box[1] - side * 1.5, b.box[2] + side * 1.5, b.box[1] + side * 0.3))
    out: list[W] = []
    for w in words:
        if len(w.text) <= 2 and w.conf < 50 and any(_overlap(w.box, r) > 0.5 * _area(w.box) for r in reach):  # type: ignore[arg-type]
            continue  # a stroke of the tick, read as a character
        # a box on the word's own line: one on the line above or below that its margin only
        # touches takes no character (order@… lost "de" over Webサイト's ☑ under it)
        hits = [g for g, b in zip(grown, boxes) if _overlap(w.box, g) > 0 and _same_line(w.box, b.box)]  # type: ignore[arg-type]
        if not hits:
            out.append(w)
            continue
        if any(_overlap(w.box, g) > 0.5 * _area(w.box) for g in hits) or (  # type: ignore[arg-type]
            _garbage_or_tick(w.text) and len(w.text) <= 2
        ):
            continue
        out.extend(_cut_off(w, hits))
    return out


def _same_line(word: tuple[float, float, float, float], box: PxBox) -> bool:
    """The word's line runs through the box: they share half the lower one's height."""
    shared = min(word[3], box[3]) - max(word[1], box[1])
    return shared >= 0.5 * min(word[3] - word[1], box[3] - box[1])


def _char_slices(word: OcrLike) -> list[tuple[str, float, float]]:
    """A word's characters with their spans: the recognizer's own character boxes where it
    gave one per character, else the share of the word's width each takes (full-width ones
    twice). (Shares put 日 of ☐日本郵便 on the box, where the recognizer read □.)"""
    boxes = getattr(word, "char_boxes", ()) or ()
    x0, _, x1, _ = word.box
    # a character's box stretched over its neighbours (樹 of 果樹 given a box past 園) says
    # nothing of where it is: then the shares
    # (the word's box is cut back to its ink, its characters' boxes are not: the last one may
    # run a little past it)
    slack = max(2.0, 0.3 * (word.box[3] - word.box[1]))
    plausible = all(
        x0 - slack <= b[0] and b[2] <= x1 + slack and b[2] - b[0] <= MERGED_CHARACTERS * max(1, b[3] - b[1]) for b in boxes
    )
    if boxes and len(boxes) == len(word.text) and plausible:
        return [(ch, float(max(b[0], x0)), float(min(b[2], x1))) for ch, b in zip(word.text, boxes)]
    return char_shares(word.text, x0, x1)


def _cut_off(word: W, hits: Sequence[tuple[float, float, float, float]]) -> list[W]:
    _, y0, _, y1 = word.box
    pieces: list[list[tuple[int, str, float, float]]] = [[]]
    middles = [(g[0] + g[2]) / 2 for g in hits]
    passed = 0
    for i, (ch, cx0, cx1) in enumerate(_char_slices(word)):
        on_box = any(min(cx1, g[2]) - max(cx0, g[0]) > 0.5 * (cx1 - cx0) for g in hits)
        # past a box with no character read on it (卵 ○ 乳 ○ 小麦 read as 卵乳小麦), a new word
        now = sum(1 for m in middles if m < (cx0 + cx1) / 2)
        if (on_box or now > passed) and pieces[-1]:
            pieces.append([])
        passed = now
        if not on_box:
            pieces[-1].append((i, ch, cx0, cx1))
    out: list[W] = []
    for piece in pieces:
        text = "".join(ch for _, ch, _, _ in piece)
        if not text.strip() or _garbage_or_tick(text):
            continue
        px0, px1 = piece[0][2], piece[-1][3]
        centre = (px0 + px1) / 2
        # the shares are estimates: keep what is left off the box it was cut from
        for g in hits:
            box_x0, box_x1 = g[0] + (g[2] - g[0]) * 0.2, g[2] - (g[2] - g[0]) * 0.2  # the box itself
            if centre >= box_x1:
                px0 = max(px0, box_x1 + 1)
            elif centre <= box_x0:
                px1 = min(px1, box_x0 - 1)
        if px1 <= px0:
            continue
        kept = [i for i, _, _, _ in piece]
        per_char = {
            name: tuple(values[i] for i in kept)
            for name in ("char_confs", "char_boxes", "choices")
            if len(values := getattr(word, name, ()) or ()) == len(word.text)
        }  # fmt: skip
        out.append(word._replace(text=text, box=(int(px0), y0, int(round(px1)), y1), **per_char))  # type: ignore[attr-defined]
    return out


# --- masks and words ---------------------------------------------------------------------


def mask_marks(
    grey: np.ndarray, ink: np.ndarray, boxes: Sequence[Checkbox], circles: Sequence[Circle], dpi: float
) -> np.ndarray:
    """The page with boxes, the ticks on them and hand-drawn circles whitened for OCR."""
    out = grey.copy()
    h, w = grey.shape
    for b in boxes:
        if b.kind == "like":
            continue  # not sure yet: the OCR decides
        x0, y0, x1, y1 = b.box
        side = min(x1 - x0, y1 - y0)
        pad = max(2, int(side * 0.08))
        out[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad] = 255
        if b.ticked and b.kind != "round":
            # strokes of a tick that leave the box, up to 1.5 sides beyond it: above the box
            # and just around it, not beside it where its label is written (a tick running
            # into the label must not take the label with it)
            reach = int(side * 1.5)
            ya, yb, xa, xb = max(0, y0 - reach), min(h, y1 + pad), max(0, x0 - reach), min(w, x1 + reach)
            region = ink[ya:yb, xa:xb]
            n, labels, stats, _ = cv2.connectedComponentsWithStats(region, connectivity=8)
            keep_out = np.zeros(region.shape, bool)  # beside the box, at its height
            keep_out[max(0, y0 + int(side * 0.25) - ya) :, :] = True
            keep_out[:, max(0, x0 - pad - xa) : max(0, x1 + pad - xa)] = False
            sub = out[ya:yb, xa:xb]
            for k in range(1, n):
                cx, cy, cw, ch, _ = stats[k]
                # a component touching the box walls
                if cx <= (x1 - xa) + pad and cx + cw >= (x0 - xa) - pad and cy <= (y1 - ya) + pad and cy + ch >= (y0 - ya) - pad:
                    sub[(labels == k) & ~keep_out] = 255
    for c in circles:
        x0, y0, x1, y1 = c.box
        w, h = x1 - x0, y1 - y0
        pad = max(2, int(0.08 * h))
        ya, yb, xa, xb = max(0, y0 - pad), min(out.shape[0], y1 + pad), max(0, x0 - pad), min(out.shape[1], x1 + pad)
        yy, xx = np.mgrid[ya:yb, xa:xb]
        r = ((xx + 0.5 - (x0 + x1) / 2.0) / (w / 2.0)) ** 2 + ((yy + 0.5 - (y0 + y1) / 2.0) / (h / 2.0)) ** 2
        # the ring only: the label inside stays for OCR, and so do the lines above and below
        # in the corners of the ring's box (info@… over a ring round あり lost its "in")
        sub = out[ya:yb, xa:xb]
        sub[(r >= 0.67) & (r <= RING_MASK_OUTER) & (ink[ya:yb, xa:xb] > 0)] = 255
    return out


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def _area(a: tuple[float, float, float, float]) -> float:
    return max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])


def _is_garbage(text: str) -> bool:
    return all(ch in BOX_GARBAGE or not ch.strip() for ch in text)


def under_circle(box: Checkbox, circles: Sequence[Circle]) -> Checkbox:
    """A box taken for a character's look-alike (``like``) for the ink close on both its sides,
    where that ink is a hand-drawn circle's ring through it (〇 drawn round ☐ 冷蔵): a box."""
    if box.kind == "like" and any(_overlaps(box.box, c.box) for c in circles):
        return replace(box, kind="box")
    return box


def apply_marks(
    words: Iterable[Word], boxes: Sequence[Checkbox], circles: Sequence[Circle], px_to_pt: float
) -> list[Word]:
    """Words with OCR garbage on boxes removed and a ☐/☑ word put at every box.

    A circled label gets "☑": its box, when it has one right beside it, is ticked; otherwise a
    ☑ word is put just before the label's first character.
    """

    def pt(box: PxBox) -> tuple[float, float, float, float]:
        return (box[0] * px_to_pt, box[1] * px_to_pt, box[2] * px_to_pt, box[3] * px_to_pt)

    box_pts = [pt(b.box) for b in boxes]
    kept: list[Word] = []
    for word in words:
        wb = word.bbox
        garbage = False
        for bp in box_pts:
            side = bp[2] - bp[0]
            grown = (bp[0] - side * 0.3, bp[1] - side * 0.3, bp[2] + side * 0.3, bp[3] + side * 0.3)
            ov = _overlap(wb, grown)
            if ov > 0.5 * _area(wb) or (ov > 0 and _is_garbage(word.text) and len(word.text) <= 2):
                garbage = True
                break
        if not garbage:
            kept.append(word)
    ticked = [b.ticked for b in boxes]
    confs = [b.confidence for b in boxes]
    extra: list[Word] = []
    # an engine that reads a whole line as one word (PP-OCRv6) gives no word inside a circle:
    # the words a circle's edge goes through are cut there first
    for circle in circles:
        kept = _split_at_ring(kept, pt(circle.box))
    for circle in circles:
        cb = pt(circle.box)
        inside = [w for w in kept if _within_ring(w, cb) and w.text not in (TICKED, EMPTY)]
        if not inside:
            continue
        first = min(inside, key=lambda w: (round(w.cy / max(w.height, 1)), w.x0))
        line = [w for w in inside if abs(w.cy - first.cy) <= first.height * 0.5]
        x_left = min(w.x0 for w in line)
        x_right = max(w.x1 for w in line)
        hgt = max(w.height for w in line)
        # a box beside the label (inside or just outside the circle) takes the mark
        near = [
            i
            for i, bp in enumerate(box_pts)
            if abs((bp[1] + bp[3]) / 2 - first.cy) <= hgt * 0.6
            and (x_left - 2.0 * hgt <= bp[2] <= x_left + 0.2 * hgt or x_right - 0.2 * hgt <= bp[0] <= x_right + 1.2 * hgt)
        ]
        if near:
            # the box the circle was drawn through or round first, then the nearest
            i = min(near, key=lambda i: (_overlap(box_pts[i], cb) <= 0, min(abs(box_pts[i][2] - x_left), abs(box_pts[i][0] - x_right))))
            confs[i] = max(confs[i], circle.confidence) if ticked[i] else circle.confidence
            ticked[i] = True
            continue
        # a narrow mark just before the label: a label at the very start of its cell keeps its
        # mark in the same cell
        size = hgt * 0.9
        extra.append(
            Word(TICKED, x_left - size * 0.35, first.cy - size / 2, x_left - size * 0.05, first.cy + size / 2, circle.confidence)
        )
    for bp, t, c in zip(box_pts, ticked, confs):
        kept.append(Word(TICKED if t else EMPTY, *bp, conf=c))
    return kept + extra


#: How far into a ring (a share of its radius) a character's centre must be to be circled:
#: the ring's own ends often run over the characters beside the circled word.
RING_INSIDE = 0.85


def _ring_span(ring: tuple[float, float, float, float], y: float) -> tuple[float, float] | None:
    """Where a line at height ``y`` is inside the ellipse inscribed in box ``ring``."""
    mx, my = (ring[0] + ring[2]) / 2, (ring[1] + ring[3]) / 2
    a, b = (ring[2] - ring[0]) / 2, (ring[3] - ring[1]) / 2
    dy = (y - my) / max(b, 1e-6)
    if abs(dy) >= RING_INSIDE:
        return None
    half = a * (RING_INSIDE**2 - dy * dy) ** 0.5
    return mx - half, mx + half


def ring_cuts(circle: Circle) -> list[PxBox]:
    """Vertical cuts (x, y0, x, y1) where a line through the middle of ``circle`` goes into and
    out of its inside."""
    x0, y0, x1, y1 = circle.box
    span = _ring_span((float(x0), float(y0), float(x1), float(y1)), (y0 + y1) / 2)
    assert span is not None
    return [(int(round(x)), y0, int(round(x)), y1) for x in span]


def _within_ring(word: Word, ring: tuple[float, float, float, float]) -> bool:
    span = _ring_span(ring, word.cy)
    return span is not None and span[0] <= (word.x0 + word.x1) / 2 <= span[1]


def _split_at_ring(words: Sequence[Word], ring: tuple[float, float, float, float]) -> list[Word]:
    """Words cut where they enter and leave a ring, at their own height."""
    out: list[Word] = []
    for w in words:
        span = _ring_span(ring, w.cy)
        out += split_at_boxes([w], [(span[0], w.y0, span[1], w.y1)]) if span else [w]
    return out


def split_at_boxes(words: Sequence[Word], boxes: Sequence[tuple[float, float, float, float]]) -> list[Word]:
    """Words cut where the left or right edge of one of ``boxes`` crosses them on their line,
    each piece with its characters (their places estimated by width, full-width ones twice as
    wide) and their confidences."""
    out: list[Word] = []
    for w in words:
        cuts = sorted({x for b in boxes if b[1] <= w.cy <= b[3] for x in (b[0], b[2]) if w.x0 < x < w.x1})
        if not cuts or len(w.text) < 2:
            out.append(w)
            continue
        shares = char_shares(w.text, w.x0, w.x1)
        groups: dict[int, list[int]] = {}
        for i, (_, a, b) in enumerate(shares):
            groups.setdefault(sum(1 for x in cuts if x <= (a + b) / 2), []).append(i)
        for idx in groups.values():
            text = "".join(shares[i][0] for i in idx)
            confs = tuple(w.char_confs[i] for i in idx) if len(w.char_confs) == len(w.text) else ()
            conf = min(confs) if confs else w.conf
            out.append(Word(text, shares[idx[0]][1], w.y0, shares[idx[-1]][2], w.y1, conf, confs))
    return out


def _centre_in(word: Word, box: tuple[float, float, float, float]) -> bool:
    cx = (word.x0 + word.x1) / 2
    return box[0] <= cx <= box[2] and box[1] <= word.cy <= box[3]
