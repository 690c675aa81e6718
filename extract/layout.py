"""From words with boxes to lines of text with a map back to the words.

Every reader produces words with boxes; the locator works on lines. A line is the words whose
vertical centres agree, ordered left to right; a wide gap or a ruled line between two words
starts a new segment (a table cell), written as a tab. Each character of a line's text points
back to the word it came from, so a value found in the text gets the box it was read from.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from extract.keys import is_kana
from extract.pagemodel import BBox, Page, Rule, Word, union

#: A gap wider than this many character heights starts a new segment.
SEGMENT_GAP = 2.0
#: A gap wider than this many character heights is written as a space.
SPACE_GAP = 0.25
#: OCR boxes hug the ink, and narrow kana (リ, ン, ー) leave wide gaps inside a word: between
#: two Japanese characters read by OCR a space must be wider, and wider still between kana.
OCR_CJK_SPACE_GAP = 0.75
OCR_KANA_SPACE_GAP = 1.2


@dataclass
class Line:
    page: int
    words: list[Word]
    text: str = ""
    #: Read by OCR (its text may need the repairs scans need).
    ocr: bool = False
    #: For each character of ``text``, the index of its word in ``words`` (-1 for separators).
    owners: list[int] = field(default_factory=list)
    #: Character offsets in ``text`` where segments start.
    segment_starts: list[int] = field(default_factory=list)

    @property
    def y0(self) -> float:
        return min(w.y0 for w in self.words)

    @property
    def y1(self) -> float:
        return max(w.y1 for w in self.words)

    @property
    def height(self) -> float:
        return statistics.median(w.height for w in self.words)

    def x_of(self, offset: int) -> float:
        """Left edge of the character at ``offset`` (approximate within a word)."""
        return self.char_box(offset)[0]

    def char_box(self, offset: int) -> BBox:
        owner = self.owners[offset]
        if owner < 0:
            # A separator: use the next real character, else the previous one.
            for k in list(range(offset + 1, len(self.owners))) + list(range(offset - 1, -1, -1)):
                if self.owners[k] >= 0:
                    return self.char_box(k)
            return (0.0, 0.0, 0.0, 0.0)
        word = self.words[owner]
        first = self.owners.index(owner)
        count = self.owners.count(owner)
        width = (word.x1 - word.x0) / max(count, 1)
        x0 = word.x0 + (offset - first) * width
        return (x0, word.y0, x0 + width, word.y1)

    def span_box(self, start: int, end: int) -> BBox | None:
        """Box of the characters ``text[start:end]`` (separators ignored)."""
        boxes = [self.char_box(i) for i in range(start, end) if 0 <= i < len(self.owners) and self.owners[i] >= 0]
        return union(boxes)

    def span_conf(self, start: int, end: int) -> float:
        """The least confidence of the characters ``text[start:end]``: per character where
        the words carry them, else per word."""
        confs = []
        firsts: dict[int, int] = {}
        for i in range(max(start, 0), min(end, len(self.owners))):
            o = self.owners[i]
            if o < 0:
                continue
            word = self.words[o]
            first = firsts.setdefault(o, self.owners.index(o))
            k = i - first
            confs.append(word.char_confs[k] if len(word.char_confs) == len(word.text) else word.conf)
        return min(confs) if confs else 1.0


def build_lines(page: Page) -> list[Line]:
    """Group a page's words into lines, top to bottom."""
    words = [w for w in page.words if w.text.strip()]
    if not words:
        return []
    median_h = statistics.median(w.height for w in words) or 1.0
    tolerance = max(median_h * 0.45, 1.0)
    rows: list[list[Word]] = []
    centres: list[float] = []
    for word in sorted(words, key=lambda w: (w.cy, w.x0)):
        if rows and abs(word.cy - centres[-1]) <= tolerance:
            rows[-1].append(word)
            centres[-1] = statistics.fmean(w.cy for w in rows[-1])
        else:
            rows.append([word])
            centres.append(word.cy)
    if page.source == "ocr":
        rows = _join_split_rows(rows)
    verticals = [r for r in page.rules if not r.horizontal]
    return [_make_line(page.number, sorted(row, key=lambda w: w.x0), verticals, ocr=page.source == "ocr") for row in rows]


#: Two rows of a scan whose spans overlap by this share of the lower's height are one line.
SAME_LINE_OVERLAP = 0.6


def _join_split_rows(rows: list[list[Word]]) -> list[list[Word]]:
    """Neighbouring rows of a scan that are one line split in two: their words side by side,
    not over one another, and their spans overlapping by most of a line. Tesseract gives a
    word a box two lines tall when it takes in a character of the line below, and its centre
    then falls below the rest of its line (地元の…漬け込みました。 under 焼くだけで食べられま,
    the end of the same line)."""
    out: list[list[Word]] = []
    for row in rows:
        if out and _one_line(out[-1], row):
            out[-1] = out[-1] + row
        else:
            out.append(row)
    return out


def _one_line(a: list[Word], b: list[Word]) -> bool:
    a0, a1 = min(w.y0 for w in a), max(w.y1 for w in a)
    b0, b1 = min(w.y0 for w in b), max(w.y1 for w in b)
    overlap = min(a1, b1) - max(a0, b0)
    if overlap < SAME_LINE_OVERLAP * min(a1 - a0, b1 - b0):
        return False
    return not any(min(u.x1, v.x1) > max(u.x0, v.x0) for u in a for v in b)


def _rule_between(left: Word, right: Word, verticals: list[Rule]) -> bool:
    cy = (left.cy + right.cy) / 2
    for rule in verticals:
        x = (rule.x0 + rule.x1) / 2
        if left.x1 - 0.5 <= x <= right.x0 + 0.5 and min(rule.y0, rule.y1) - 1 <= cy <= max(rule.y0, rule.y1) + 1:
            return True
    return False


def _is_cjk(ch: str) -> bool:
    return ord(ch) >= 0x3000


def _space_gap(left: str, right: str, ocr: bool) -> float:
    if not ocr or not (_is_cjk(left) and _is_cjk(right)):
        return SPACE_GAP
    return OCR_KANA_SPACE_GAP if is_kana(left) and is_kana(right) else OCR_CJK_SPACE_GAP


def _make_line(page_number: int, words: list[Word], verticals: list[Rule], *, ocr: bool = False) -> Line:
    line = Line(page=page_number, words=words, ocr=ocr)
    height = statistics.median(w.height for w in words) or 1.0
    parts: list[str] = []
    owners: list[int] = []
    starts = [0]
    for i, word in enumerate(words):
        if i > 0:
            prev = words[i - 1]
            gap = word.x0 - prev.x1
            if gap > SEGMENT_GAP * height or _rule_between(prev, word, verticals):
                parts.append("\t")
                owners.append(-1)
                starts.append(len(owners))
            elif gap > _space_gap(prev.text[-1], word.text[0], ocr) * height:
                parts.append(" ")
                owners.append(-1)
        parts.append(word.text)
        owners.extend([i] * len(word.text))
    line.text = "".join(parts)
    line.owners = owners
    line.segment_starts = starts
    return line


def page_text(page: Page) -> str:
    return "\n".join(line.text.replace("\t", " ") for line in build_lines(page))
