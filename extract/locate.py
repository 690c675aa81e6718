"""Locate a form's fields on its pages by their printed labels, not by coordinates.

A form printed from the city's own Word file has other column widths, fonts, spacing, line
breaks and row numbers than ours, so nothing here depends on where a label stands, only on
what it says and in which order the rows come:

1. every row label of the declaration is searched for at the start of a line segment (a cell),
   fuzzily (rapidfuzz), tolerating row numbers, spaces between characters and OCR confusions;
2. a row's region is the rest of its line and the lines below it up to the next row's label,
   restricted to the columns right of the label (so the label column's small print stays out);
3. each field is read from its row's region by its sub-label, the marker printed after it
   (円（税抜）), its choices' boxes (☑ ☐ next to the labels) or, alone in the row, the whole text;
4. the value is normalized by type; the confidence combines the OCR confidence, how well the
   text fits the type and how well the label matched.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from extract import normalize
from extract.keys import NUMBERING, PHANTOMS, ROW_LEAD, fold, is_kana
from extract.layout import Line, build_lines
from extract.normalize import BOX_GLYPHS, COLON_COMMA, nfkc
from extract.pagemodel import BBox, Page, Source, union
from extract.repairs import (
    CONFIRMED_PAIR,
    LEADING_SPECKS,
    repair_domain,
    repair_kana_reading,
    repair_mail_domain,
    repair_tax_pairs,
    snap_to_known,
    tidy_text,
)
from extract.result import ExtractedField
from extract.vocabulary import prefectures_in
from forms.schema import Choice, FieldDecl, FormDecl, Implication, RowDecl, widget_name

#: Fields under this confidence are marked for review.
REVIEW_THRESHOLD = 0.8

CHECKED = set("☑☒■✓✔✅◼⬛●◉▣☛レ図")
UNCHECKED = set("☐□口◻○")
BOXES = CHECKED | UNCHECKED

def _threshold(label: str) -> float:
    n = len(label)
    if n <= 2:
        return 100.0
    if n <= 4:
        return 74.0
    return 80.0


@dataclass(frozen=True)
class Match:
    score: float
    start: int  # offsets in the searched (unfolded) text
    end: int


def find_label(label: str, text: str, *, anywhere: bool = False) -> Match | None:
    """Best fuzzy occurrence of ``label`` in ``text``; unless ``anywhere``, at the text's start
    (after row numbering)."""
    key, _ = fold(label)
    hay, index = fold(text)
    if not key or not hay:
        return None
    # row numbering (4, (4), ４．, ④) is not part of the label
    lead = 0 if anywhere else len(hay) - len(hay.lstrip("".join(ROW_LEAD)))
    body = hay[lead:]
    if not body:
        return None
    if len(body) < len(key):
        # A long label wraps inside its cell: the first line holds only its beginning.
        score = fuzz.ratio(key, body)
        if len(body) >= min(5, len(key)):
            score = max(score, fuzz.ratio(key[: len(body)], body))
        dest_start, dest_end = lead, len(hay)
    else:
        al = fuzz.partial_ratio_alignment(key, body)
        score, dest_start = al.score, lead + al.dest_start
        dest_end = lead + _extend_match(key, body, al.dest_start, al.dest_end)
        if al.dest_start > 0 and len(key) >= 4 and body[1 : len(key)] == key[1:]:
            # the label's first character misread (EAX番号): the best window leaves it out, but
            # the label starts the cell
            score, dest_start, dest_end = fuzz.ratio(key, body[: len(key)]), lead, lead + len(key)
    if score < _threshold(key):
        return None
    if (
        not anywhere
        and any(c not in ROW_LEAD for c in hay[lead:dest_start])
        and hay[lead:dest_start] != key[:1]  # its first character read twice (アアレルギー品目)
        and not _garbled_number(text, index[dest_start], score)
    ):
        return None
    return Match(score, index[dest_start], index[dest_end - 1] + 1)


def _garbled_number(text: str, label_start: int, score: float) -> bool:
    """What stands before a label read closely is its row number garbled: one character
    standing apart (（3） read as 半 in a gothic face, two lines tall), or a number with one
    character read as a kana (（17） read as 1の, city layout) or its bracket and first digit
    read as one letter (（15） as Q5)); or a phantom (和〒377-7406, :data:`PHANTOMS`)."""
    before = text[:label_start]
    if score < 90:
        return False
    if before.strip() in PHANTOMS:
        return True
    if len(before.strip()) == 1 and before[-1:].isspace():
        return True
    # a number glued to its label, one of its characters read as a kana ((17) as 1の)
    lead = before.strip()
    odd = [c for c in lead if c not in ROW_LEAD]
    if not (2 <= len(lead) <= 4 and len(odd) == 1 and any(c.isdigit() for c in lead)):
        return False
    if lead[0] in NUMBERING and is_kana(odd[0]):
        return True
    # (15) as Q5): the bracket and the first digit read as one Latin letter, a digit after it
    return lead[0] == odd[0] and odd[0].isascii() and odd[0].isalpha() and lead[1].isdigit()


def _extend_match(key: str, body: str, start: int, end: int) -> int:
    """The end of a label's alignment, stretched over the label's last characters when a
    character OCR added inside it (ウェプブサイトURL) pushed them out of the window."""
    best, best_score = end, fuzz.ratio(key, body[start:end])
    for stretch in range(end + 1, min(len(body), end + 2) + 1):
        score = fuzz.ratio(key, body[start:stretch])
        if score > best_score:
            best, best_score = stretch, score
    return best


@dataclass
class Anchor:
    row: RowDecl
    line: int  # index into the document's lines
    start: int
    end: int
    score: float
    x_end: float
    #: Found by its place between its neighbours, its label unreadable: its fields want a look.
    positional: bool = False


@dataclass
class Region:
    """Text of a row's value area, each character pointing back into a line."""

    text: str = ""
    refs: list[tuple[Line, int] | None] = field(default_factory=list)

    def add(self, line: Line, start: int, end: int) -> None:
        if self.text:
            self.text += "\n"
            self.refs.append(None)
        self.text += line.text[start:end]
        self.refs.extend((line, i) for i in range(start, end))

    def box(self, start: int, end: int) -> tuple[int | None, BBox | None]:
        boxes: list[BBox] = []
        page: int | None = None
        for ref in self.refs[start:end]:
            if ref is None:
                continue
            line, offset = ref
            if line.owners[offset] < 0 or line.text[offset].isspace():
                continue
            page = page or line.page
            if line.page == page:
                boxes.append(line.char_box(offset))
        return page, union(boxes)

    def from_ocr(self, start: int, end: int) -> bool:
        return any(ref is not None and ref[0].ocr for ref in self.refs[start:end])

    def box_conf(self) -> float | None:
        """How sure the reading of the region's boxes is: the least sure box's (None: no box)."""
        confs = [
            ref[0].words[ref[0].owners[ref[1]]].conf
            for ch, ref in zip(self.text, self.refs)
            if ch in BOX_GLYPHS and ref is not None and ref[0].owners[ref[1]] >= 0
        ]
        return min(confs) if confs else None

    def conf(self, start: int, end: int) -> float:
        """Recognition confidence of a span: the mean over its characters, pulled towards its
        weakest word (one unreadable word in a long description should not zero it, but
        should show)."""
        confs = [
            ref[0].words[ref[0].owners[ref[1]]].conf
            for ref in self.refs[start:end]
            if ref is not None and ref[0].owners[ref[1]] >= 0
        ]
        if not confs:
            return 1.0
        mean = sum(confs) / len(confs)
        return mean - 0.25 * (mean - min(confs))


@dataclass
class Span:
    """A piece of a region read as a field's value."""

    start: int
    end: int
    label_score: float = 100.0


# --- anchors -------------------------------------------------------------------------


def _segments(line: Line, *, sentences: bool = False) -> Iterable[tuple[int, int]]:
    """A line's cells; with ``sentences``, also what follows each 。 in a cell (a certificate
    writes 未納額：27,000円 after its statement, in the same run of text)."""
    starts = line.segment_starts
    for k, s in enumerate(starts):
        e = starts[k + 1] - 1 if k + 1 < len(starts) else len(line.text)
        yield s, e
        if sentences:
            for i in range(s, e):
                if line.text[i] in "。．":
                    after = i + 1
                    while after < e and line.text[after].isspace():
                        after += 1
                    if after < e:
                        yield after, e


def _rank(m: Match, cell_length: int) -> tuple[int, float]:
    whole_cell = m.end >= cell_length
    return (m.end if m.score >= 90 or whole_cell else 0, m.score)


def _candidates(row: RowDecl, lines: list[Line], scan: bool, *, sentences: bool = False) -> list[Anchor]:
    found: list[Anchor] = []
    for li, line in enumerate(lines):
        for k, (s, e) in enumerate(_segments(line, sentences=sentences)):
            best: Match | None = None
            for label in row.all_labels():
                m = find_label(label, line.text[s:e], anywhere=scan)
                # Of the wordings that match closely, the one covering most of the cell wins
                # (a wrapped 梱包サイズ・梱包重 over the variant 梱包サイズ); a loose match
                # never wins by length, or it would eat the value (未納の税額 in 未納税額1…),
                # unless it is the whole cell (消費期限・質味期, a wrapped label misread).
                if m and (best is None or _rank(m, e - s) > _rank(best, e - s)):
                    best = m
            if best and k > 0 and not scan:
                # Row labels stand in the first column: a cell further right that merely looks
                # like a label (商品企画部 ~ 商品画像) is most likely a value.
                best = Match(best.score * 0.9, best.start, best.end)
                if best.score < _threshold(fold(row.label)[0]):
                    best = None
            if best:
                end = s + best.end
                # a label read loosely whose cell goes on for a character or three before the
                # next cell: the label's misread end (消胡期限・党味 | 製造日…), not its value
                rest = line.text[end:e]
                if best.score < 100 and e < len(line.text) and 0 < len(rest.strip()) <= LABEL_TAIL:
                    end = e
                x_end = line.char_box(end - 1)[2]
                # the value column starts where the next cell on the label's line starts
                later = [k for k in line.segment_starts if k > end]
                if later:
                    x_end = max(x_end, line.char_box(later[0])[0] - 2)
                found.append(Anchor(row, li, s + best.start, end, best.score, x_end))
    return found


def _title_lines(form: FormDecl, lines: list[Line]) -> set[int]:
    """Lines near the top that print the form's title (原産地証明書 is not the row 原産地)."""
    found: set[int] = set()
    for li, line in enumerate(lines[:12]):
        hay = fold(line.text)[0]
        for title in (form.title, *form.title_variants):
            key = fold(title)[0]
            if key and len(hay) <= 1.6 * len(key) + 6 and fuzz.partial_ratio(key, hay) >= 86:
                found.add(li)
    return found


def find_anchors(form: FormDecl, lines: list[Line]) -> list[Anchor]:
    """One anchor per row found.

    Our own forms keep their rows in the declared order, which settles look-alike labels: each
    row takes its first match after the previous row's. Documents issued by others (tax and
    origin certificates) order their items as each issuer likes: each row takes its best match.
    """
    anchors: list[Anchor] = []
    last = (-1, -1)
    used: set[tuple[int, int]] = set()
    titles = _title_lines(form, lines)
    ordered = form.blank
    for row in form.rows():
        scan = any(f.scan for f in row.fields) and len(row.fields) == sum(f.scan for f in row.fields)
        cands = [
            c for c in _candidates(row, lines, scan, sentences=not ordered)
            if (c.line, c.start) not in used and (scan or c.line not in titles)
        ]  # fmt: skip
        after = [c for c in cands if (c.line, c.start) > last] if ordered else []
        pick = min(after, key=lambda c: (c.line, c.start, -c.score)) if after else None
        if pick is None and cands:
            pick = max(cands, key=lambda c: (c.score, -c.line, -c.start))
        if pick is None:
            continue
        anchors.append(pick)
        used.add((pick.line, pick.start))
        last = max(last, (pick.line, pick.start))
    return sorted(anchors, key=lambda a: (a.line, a.start))


#: How much a garbled label cell must resemble a row's label to count for it (扶期妥・代味 is 40
#: like 消費期限・賞味期限, and as like 定期便).
RESEMBLES = 60.0
#: Most characters of a label cell left after a loose label match that are still the label's.
LABEL_TAIL = 3
#: By how much a garbled label cell must resemble one missing row more than the others to be
#: taken for it when the rows outnumber the cells.
CLEARLY_MORE = 15.0


def anchor_unlabelled_rows(form: FormDecl, lines: list[Line], anchors: list[Anchor]) -> list[Anchor]:
    """Rows of our numbered table whose label a scan garbled beyond recognition (消費期限・賞味期限
    read as 扶期妥・代味), anchored by their place: between the rows found before and after
    them, on a line with a cell in the label column and a value in the value column."""
    table = [a for a in anchors if a.row.number is not None]
    if not form.blank or not table:
        return anchors
    rows = form.rows()
    found = {_row_index(rows, a.row): a for a in anchors}
    value_x = statistics.median(a.x_end for a in table)
    taken = {a.line for a in anchors}
    added: list[Anchor] = []
    for lo, hi in _missing_runs(rows, found):
        prev, nxt = found[lo], found[hi]
        cells = [
            (li, cell) for li in range(prev.line + 1, nxt.line) if li not in taken
            for cell in [_label_cell(lines, li, value_x)] if cell is not None
        ]  # fmt: skip
        missing = rows[lo + 1 : hi]
        cells = [(li, c) for li, c in cells if not _continues(prev.row, missing, lines[li].text[c[0] : c[1]])]
        for row, (li, cell) in _assign(missing, cells, lines):
            added.append(_positional_anchor(row, li, cell, lines[li]))
    return sorted(anchors + added, key=lambda a: (a.line, a.start))


def _row_index(rows: list[RowDecl], row: RowDecl) -> int:
    return next(k for k, r in enumerate(rows) if r is row)


def _missing_runs(rows: list[RowDecl], found: dict[int, Anchor]) -> Iterable[tuple[int, int]]:
    """(previous, next) indices of found numbered rows with unfound numbered rows between."""
    ks = sorted(k for k in found if rows[k].number is not None)
    for lo, hi in zip(ks, ks[1:]):
        if hi - lo > 1 and all(r.number is not None for r in rows[lo:hi]) and found[lo].line < found[hi].line:
            yield lo, hi


def _label_cell(lines: list[Line], li: int, value_x: float) -> tuple[int, int] | None:
    """The first cell of a line when it stands in the label column and a value stands in the
    value column: the line's next cell, or a line level with it that holds only a value (a
    tall label cell whose value a skewed scan set apart). Not a grid of choices spanning both
    columns, not a speck left of the value."""
    line = lines[li]
    starts = line.segment_starts
    if len(starts) > 1 and _numbering_only(line.text[starts[0] : starts[1] - 1]):
        starts = starts[1:]  # a row number standing apart from its garbled label (6 | ☑ 間人)
    start, end = starts[0], starts[1] - 1 if len(starts) > 1 else len(line.text)
    text = line.text[start:end].strip()
    if not text or not any(ch.isalpha() for ch in text):
        return None  # a speck or a rule
    if text[-1] in BOX_GLYPHS and (len(starts) < 2 or any(c in BOX_GLYPHS for c in line.text[starts[1] :])):
        # a choice with its box after it (マカダミアナッツ ☐), unless the value beside it holds
        # no box: then the box is a label's character taken for one ((17) 梱包 read as 1の梱包 ☑)
        return None
    if sum(any(c in BOX_GLYPHS for c in cell) for cell in line.text.split("\t")) >= 3:
        return None  # a grid of choices
    h = line.height
    # a label read in pieces apart (17 押入サイズ | 本 for 梱包サイズ・梱包): the cell is all of them
    while len(starts) > 1 and line.char_box(starts[1])[0] < value_x - 2 * h:
        starts = starts[1:]
        end = starts[1] - 1 if len(starts) > 1 else len(line.text)
    left, right = line.char_box(start)[0], line.char_box(end - 1)[2]
    if left > value_x - 2 * h or right > value_x + h / 2:
        return None
    if len(starts) > 1:
        return (start, end) if line.char_box(starts[1])[0] >= value_x - 2 * h else None
    level = [lines[k] for k in (li - 1, li + 1) if 0 <= k < len(lines) and _on_row_of(lines[k], line)]
    return (start, end) if any(v.char_box(0)[0] >= value_x - 2 * h for v in level) else None


def _numbering_only(text: str) -> bool:
    """A row number, perhaps with a digit taken for a box ((17) read as 1☑), and nothing else."""
    return any(ch in ROW_LEAD for ch in text) and all(ch in ROW_LEAD or ch in BOX_GLYPHS or ch.isspace() for ch in text)


def _likeness(text: str, labels: Iterable[str]) -> float:
    hay = fold(text)[0]
    keys = [fold(label)[0] for label in labels]
    return max((fuzz.partial_ratio(k, hay) for k in keys if k and hay), default=0.0)


def _continues(prev: RowDecl, missing: list[RowDecl], cell: str) -> bool:
    """A label cell that carries on the row above (its wrapped label, its note); not one that
    opens with a missing row's number ((2) 商品, its 規格 read onto the next line, is as like
    the row above's 商品名)."""
    if (number := _row_number(cell)) is not None and any(r.number == number for r in missing):
        return False
    own = _likeness(cell, [*prev.all_labels(), *([prev.note] if prev.note else [])])
    return own >= 70 and own > max(_likeness(cell, r.all_labels()) for r in missing)


_ROW_NUMBER = re.compile(r"\s*[(（]\s*(\d{1,2})\s*[)）]")


def _row_number(cell: str) -> int | None:
    """The row number a label cell opens with, in its brackets: (2) 商品規格 → 2."""
    m = _ROW_NUMBER.match(unicodedata.normalize("NFKC", cell))
    return int(m.group(1)) if m else None


def _assign(
    missing: list[RowDecl], cells: list[tuple[int, tuple[int, int]]], lines: list[Line]
) -> list[tuple[RowDecl, tuple[int, tuple[int, int]]]]:
    """Missing rows to label cells: in order when there are as many; one row to the cell that
    resembles its label, else to the first cell (the row right under the one above). With
    fewer cells than rows (a cell garbled into box marks), each cell to the row it resembles
    clearly more than the others, in the rows' order."""
    if len(cells) == len(missing):
        return list(zip(missing, cells))
    if len(missing) == 1 and cells:
        row = missing[0]
        like = [_likeness(lines[li].text[c[0] : c[1]], row.all_labels()) for li, c in cells]
        best = max(range(len(cells)), key=lambda k: (like[k], -k))
        return [(row, cells[best] if like[best] >= RESEMBLES else cells[0])]
    if len(cells) >= len(missing):
        return []
    out: list[tuple[RowDecl, tuple[int, tuple[int, int]]]] = []
    after = -1  # rows are taken in order: a cell's row comes after the row before it
    for li, c in cells:
        like = sorted(((_likeness(lines[li].text[c[0] : c[1]], r.all_labels()), k) for k, r in enumerate(missing)), reverse=True)
        (best, k), second = like[0], like[1][0]
        if best >= RESEMBLES and best - second >= CLEARLY_MORE and k > after:
            out.append((missing[k], (li, c)))
            after = k
    return out


def _positional_anchor(row: RowDecl, li: int, cell: tuple[int, int], line: Line) -> Anchor:
    start, end = cell
    x_end = line.char_box(end - 1)[2]
    if end + 1 < len(line.text):
        x_end = max(x_end, line.char_box(end + 1)[0] - 2)
    return Anchor(row, li, start, end, 0.0, x_end, positional=True)


def _whole_document_anchor(form: FormDecl, lines: list[Line]) -> Anchor | None:
    return Anchor(form.rows()[0], 0, 0, 0, 80.0, 0.0) if lines and form.rows() else None


def header_lines(anchors: list[Anchor], lines: list[Line]) -> set[int]:
    """Lines that are a table's header: two or more labels side by side, and under them a line
    of cells holding no label (原料名 | 原産地 above こんにゃく芋 | 群馬県…)."""
    per_line: dict[int, int] = {}
    for a in anchors:
        per_line[a.line] = per_line.get(a.line, 0) + 1
    headers = set()
    for li, count in per_line.items():
        below = li + 1
        if count >= 2 and below < len(lines) and below not in per_line and len(lines[below].segment_starts) >= 2:
            if lines[below].page == lines[li].page:
                headers.add(li)
    return headers


def region_below(anchor: Anchor, lines: list[Line]) -> Region:
    """A header cell's value: the cell under it on the next line."""
    line = lines[anchor.line]
    seg_start = max((k for k in line.segment_starts if k <= anchor.start), default=0)
    left = line.char_box(seg_start)[0]
    later = [k for k in line.segment_starts if k > anchor.start]
    right = line.char_box(later[0])[0] if later else float("inf")
    below = lines[anchor.line + 1]
    inside = [
        i for i in range(len(below.text))
        if below.owners[i] >= 0 and left - line.height <= below.char_box(i)[0] < right - line.height / 2
    ]  # fmt: skip
    region = Region()
    if inside:
        region.add(below, inside[0], inside[-1] + 1)
    return region


MAX_CONTINUATION_LINES = 12


def _cy(line: Line) -> float:
    return (line.y0 + line.y1) / 2


def _on_row_of(line: Line, anchor_line: Line) -> bool:
    """A line that stands practically level with a label's line belongs to its row (a skewed
    scan puts a cell's first line a little above or below its label)."""
    return line.page == anchor_line.page and abs(_cy(anchor_line) - _cy(line)) < 0.9 * anchor_line.height


def _value_columns(cont: Line, anchor: Anchor, value_x: float | None = None) -> int:
    """Offset of the first character right of the label's column; with ``value_x``, where the
    value on the label's line starts, also past characters starting half a character or more
    left of it (a label's note wrapped under it, （ポータルサイト等に転記し, reaching past the
    label's end)."""
    start = 0
    while start < len(cont.text) and (
        cont.owners[start] < 0
        or cont.char_box(start)[2] <= anchor.x_end + 1
        or (value_x is not None and cont.char_box(start)[0] < value_x - cont.height / 2)
    ):
        start += 1
    return start


#: The value on a label's line starts at most this many line heights after the label for its
#: start to bound the value column of the lines under it (farther, it may be a speck).
VALUE_START_REACH = 4.0


def _value_start(line: Line, anchor: Anchor, end: int) -> float | None:
    """Where the value on the label's line starts, when it starts near the label."""
    k = anchor.end
    while k < end and (line.owners[k] < 0 or line.text[k].isspace() or line.text[k] in LEADING_SPECKS):
        k += 1
    if k >= end:
        return None
    x = line.char_box(k)[0]
    return x if x - anchor.x_end <= VALUE_START_REACH * line.height else None


def region_for(
    anchor: Anchor,
    nxt: Anchor | None,
    lines: list[Line],
    *,
    below: bool = False,
    columns: bool = True,
    prev: Anchor | None = None,
) -> Region:
    """The row's value area: after the label on its line (unless ``below``), then the lines
    under it up to the next row, in the columns right of the label (when ``columns``); lines
    level with the label just above it belong to it too, and lines level with the next
    row's label belong to that row."""
    region = Region()
    line = lines[anchor.line]
    if columns and not below:
        first = prev.line + 1 if prev else 0
        for li in range(first, anchor.line):
            above = lines[li]
            if _on_row_of(above, line):
                start = _value_columns(above, anchor)
                if start < len(above.text):
                    region.add(above, start, len(above.text))
    value_x = None
    if not below:
        end = nxt.start if nxt and nxt.line == anchor.line else len(line.text)
        region.add(line, anchor.end, end)
        value_x = _value_start(line, anchor, end)
    stop = nxt.line if nxt else len(lines)
    if nxt and nxt.line == anchor.line:
        return region
    height = line.height
    for li in range(anchor.line + 1, min(stop, anchor.line + 1 + MAX_CONTINUATION_LINES)):
        cont = lines[li]
        if cont.page != line.page or cont.y0 - line.y1 > 12 * height:
            break
        if nxt and columns and not below and _on_row_of(cont, lines[nxt.line]) and not _on_row_of(cont, line):
            break
        start = _value_columns(cont, anchor, value_x) if columns and not below else 0
        if start < len(cont.text):
            region.add(cont, start, len(cont.text))
    return region


# --- reading one field ---------------------------------------------------------------

_STRIP = " \t\n：:　"




def _trim(region: Region, start: int, end: int) -> Span:
    while start < end and region.text[start] in _STRIP + "".join(BOXES) + LEADING_SPECKS:
        start += 1
    while end > start and region.text[end - 1] in _STRIP:
        end -= 1
    return Span(start, end)


def _find_in_region(labels: Iterable[str], region: Region, *, from_: int = 0, at_line_start: bool = True) -> tuple[int, int, float] | None:
    """Earliest occurrence of a label in the region at or after ``from_``."""
    best: tuple[int, int, float] | None = None
    offset = 0
    for part in region.text.split("\n"):
        part_start = offset
        offset += len(part) + 1
        if part_start + len(part) < from_:
            continue
        seg_starts = [0] + [i + 1 for i, c in enumerate(part) if c == "\t"]
        for s in seg_starts:
            if part_start + s < from_:
                continue
            seg = part[s:].split("\t")[0]
            for label in labels:
                m = find_label(label, seg, anywhere=not at_line_start)
                if m:
                    hit = (part_start + s + m.start, part_start + s + m.end, m.score)
                    if best is None or hit[0] < best[0]:
                        best = hit
        if best:
            return best
    return best


def _join_lines(text: str) -> str:
    parts = [p.strip(_STRIP) for p in text.split("\n")]
    parts = [p.replace("\t", " ") for p in parts if p]
    out = ""
    for p in parts:
        if out and (out[-1].isascii() and p[0].isascii()):
            out += " "
        out += p
    return out


def _first_line(text: str) -> tuple[int, int]:
    offset = 0
    for part in text.split("\n"):
        if part.strip(_STRIP + "".join(BOXES)):
            return offset, offset + len(part)
        offset += len(part) + 1
    return 0, 0


def _core(marker: str) -> str:
    """The distinguishing part of a printed marker: 円（税抜） → 税抜, 円 → 円."""
    core = re.sub(r"[（）()\s　円％%]", "", unicodedata.normalize("NFKC", marker))
    return core or unicodedata.normalize("NFKC", marker).strip()


#: A number with its separators, a comma misread as a colon among them (13:000).
_NUMBER = re.compile(rf"[0-9０-９](?:[0-9０-９,，.．]|{COLON_COMMA})*")


@dataclass
class FieldReading:
    value: Any
    raw: str
    span: Span | None
    fit: float
    region: Region
    #: How sure the reading is where its characters' recognition does not say: boxes are read
    #: from their pixels, and how well their labels' text was recognized matters not once the
    #: labels are found. None: the characters' recognition confidence.
    sure: float | None = None


def _boxes_by_order(f: FieldDecl, region: Region) -> tuple[list[Choice], list[Span], float] | None:
    """When the labels are misread (あり → 2り), the boxes of a row that prints exactly one
    box per choice, in the declared order, say which choices are ticked."""
    text = region.text
    first = next((i for i, c in enumerate(text) if c in BOX_GLYPHS), -1)
    if first < 0:
        return None
    line_start = text.rfind("\n", 0, first) + 1
    line_end = text.find("\n", first)
    line_end = len(text) if line_end < 0 else line_end
    marks = [i for i in range(line_start, line_end) if text[i] in BOX_GLYPHS]
    if len(marks) != len(f.choices):
        return None
    ticked = [c for c, i in zip(f.choices, marks) if text[i] in CHECKED]
    spans = [Span(i, i + 1) for i in marks if text[i] in CHECKED]
    return ticked, spans, 0.85


def _grid_by_order(f: FieldDecl, region: Region, by_label: BoxReading) -> tuple[list[Choice], list[Span], float] | None:
    """A grid of choices (the 28 allergens), one cell per choice in the declared order: when
    some labels are misread (小麦 → 小, 牛肉 → 生肉, 鶏肉 taken for a box), the cells say which
    are ticked; a cell whose box is no box (そば万, 乳 口) is read by its label."""
    cells = _grid_cells(f, region)
    if cells is None:
        return None
    ticked: list[Choice] = []
    spans: list[Span] = []
    fit = 0.85
    smudged = {c.value: sp for c, sp in by_label.smudged}
    for choice, (start, end) in zip(f.choices, cells):
        state, mark = _cell_state(region.text, start, end, f.box)
        if state is None:
            fit = 0.6  # the box is unreadable: what its label says, for a person to confirm
            if choice in by_label.ticked or choice.value in smudged:
                ticked.append(choice)
                spans.append(smudged.get(choice.value, Span(start, end)))
        elif state:
            ticked.append(choice)
            spans.append(Span(mark, mark + 1))
    return ticked, spans, fit


def _grid_cells(f: FieldDecl, region: Region) -> list[tuple[int, int]] | None:
    """The cells of a grid of choices, in reading order, as offsets in the region's text:
    only lines with boxes count; ``grid_columns`` bounds the cells of a line."""
    cells: list[tuple[int, int]] = []
    offset = 0
    for line in region.text.split("\n"):
        if any(c in BOX_GLYPHS for c in line):
            row = _line_cells(line, offset, f.box)
            if f.grid_columns and len(row) > f.grid_columns:
                return None
            cells.extend(row)
        offset += len(line) + 1
    return cells if len(cells) == len(f.choices) else None


def _line_cells(line: str, offset: int, box: str) -> list[tuple[int, int]]:
    """A grid line's cells; a box standing apart from its label is one cell with it (乳 | ☐),
    and so is a label misread as a box beside its box (☑ | ☑ for 鶏肉 ☑)."""
    cells: list[tuple[int, int]] = []
    pos = 0
    for cell in line.split("\t"):
        if any(ch.isalpha() or ch in BOX_GLYPHS for ch in cell):  # not a rule (|) or a speck
            cells.append((offset + pos, offset + pos + len(cell)))
        pos += len(cell) + 1
    if box == "before":
        cells.reverse()
    merged: list[tuple[int, int]] = []
    k = 0
    while k < len(cells):
        start, end = cells[k]
        bare = _bare_box(line, offset, cells[k])
        if (bare or _lone_mark(line, offset, cells[k])) and merged and not _bare_box(line, offset, merged[-1]) and not _has_box(line, offset, merged[-1]):
            merged[-1] = (min(merged[-1][0], start), max(merged[-1][1], end))
        elif bare and k + 1 < len(cells) and _bare_box(line, offset, cells[k + 1]):
            merged.append((min(start, cells[k + 1][0]), max(end, cells[k + 1][1])))
            k += 1
        else:
            merged.append((start, end))
        k += 1
    return sorted(merged)


def _lone_mark(line: str, offset: int, cell: tuple[int, int]) -> bool:
    """A cell of one character that is no kana and no box: a box a pen mark turned into a
    character, standing apart from its label (乳 | 所 for 乳 ☒)."""
    text = line[cell[0] - offset : cell[1] - offset].strip()
    return len(text) == 1 and text not in BOX_GLYPHS and not is_kana(text)


def _has_box(line: str, offset: int, cell: tuple[int, int]) -> bool:
    return any(c in BOX_GLYPHS for c in line[cell[0] - offset : cell[1] - offset])


def _bare_box(line: str, offset: int, cell: tuple[int, int]) -> bool:
    text = line[cell[0] - offset : cell[1] - offset].strip()
    return bool(text) and all(c in BOX_GLYPHS or c.isspace() for c in text)


def _cell_state(text: str, start: int, end: int, box: str) -> tuple[bool | None, int]:
    """Whether a grid cell's box is ticked (None: the cell has no box), and where it is."""
    glyphs = [i for i in range(start, end) if text[i] in BOX_GLYPHS]
    if not glyphs:
        return None, -1
    mark = glyphs[-1] if box == "after" else glyphs[0]
    return text[mark] in CHECKED, mark


@dataclass
class BoxReading:
    """Choices read by the boxes beside their labels."""

    ticked: list[Choice] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    #: Choices whose label was read with a box beside it, ticked or not.
    seen: list[Choice] = field(default_factory=list)
    #: Choices whose box is a character a pen tick made of it (人切冷凍), with their label.
    smudged: list[tuple[Choice, Span]] = field(default_factory=list)


def _read_boxes(f: FieldDecl, region: Region) -> tuple[list[Choice], list[Span], float]:
    """Choices whose label has a ticked box beside it (by order when labels are misread)."""
    read = _read_boxes_by_label(f, region)
    if len(read.seen) < len(f.choices):
        by_order = _grid_by_order(f, region, read) if f.below else _boxes_by_order(f, region)
        if by_order is not None:
            return by_order
        read = _read_boxes_by_label(f, region, fuzzy=True)
    smudged = read.smudged
    if smudged and (f.type == "multi_choice" or (not read.ticked and len(smudged) == 1)):
        # a box a pen tick turned into a character (人切, 貢): ticked, but a person should look
        return read.ticked + [c for c, _ in smudged], read.spans + [sp for _, sp in smudged], 0.6
    if not read.ticked and f.type != "multi_choice":
        unseen = [c for c in f.choices if c not in read.seen]
        if read.seen and len(unseen) == 1:
            # every other choice read unticked, this one's label garbled (a circle or a tick
            # over it, によう for あり): most likely the one marked, for a person to confirm
            return unseen, [], 0.6
    return read.ticked, read.spans, 1.0 if read.seen else 0.0


def _read_boxes_by_label(f: FieldDecl, region: Region, *, fuzzy: bool = False) -> BoxReading:
    """Choices by the box beside their label (``fuzzy``: or beside their label one character
    off); also the labels whose box is a smudge."""
    read = BoxReading()
    taken: list[tuple[int, int]] = []
    for choice in sorted(f.choices, key=lambda c: -len(c.label)):
        state, spans = _choice_state(f, choice, region.text, taken, fuzzy=fuzzy)
        if state is not None:
            read.seen.append(choice)
        if state:
            read.ticked.append(choice)
            read.spans.extend(spans)
        if state is None:
            smudge = _smudged_box(f, choice, region.text, taken)
            if smudge is not None and (f.type == "multi_choice" or not read.ticked):
                read.smudged.append((choice, smudge))
    return read


def _choice_state(
    f: FieldDecl, choice: Choice, text: str, taken: list[tuple[int, int]], *, fuzzy: bool = False
) -> tuple[bool | None, list[Span]]:
    """Whether a choice's box is ticked (None: no label with a box beside it), by its labels as
    printed or, failing those and with ``fuzzy``, one character off (ヤマト運給)."""
    state: bool | None = None
    spans: list[Span] = []
    for off_by_one in (False, True) if fuzzy else (False,):
        for label in (choice.label, *choice.variants):
            for m in _iter_occurrences(label, text, fuzzy=off_by_one):
                if any(m[0] < e and s < m[1] for s, e in taken):
                    continue
                box = _box_state(text, m[0], m[1], f.box)
                if box is None:
                    continue
                taken.append(m)
                if box:
                    state = True
                    spans.append(Span(m[0], m[1]))
                elif state is None:
                    state = False
            if state:
                return state, spans
        if state is not None:
            break
    return state, spans


#: What can stand beside a choice's label without being its (misread) box.
_NOT_A_SMUDGE = set(" \t\n\u3000「」『』（）()[]【】:：、。・,.※|｜\"”“'’") | BOX_GLYPHS


def _smudged_box(f: FieldDecl, choice: Choice, text: str, taken: list[tuple[int, int]]) -> Span | None:
    """Where a choice's box should be, a character that is no box, on a line of boxes: the box
    read as a character because a pen tick covered it."""
    for label in (choice.label, *choice.variants):
        for m in _iter_occurrences(label, text):
            if any(m[0] < e and s < m[1] for s, e in taken):
                continue
            k = _box_place(text, m[0], m[1], f.box)
            if k is None or text[k] in _NOT_A_SMUDGE or "\u3040" <= text[k] <= "\u30ff":
                continue  # kana beside a label are a misread word, not a box
            line_start = text.rfind("\n", 0, m[0]) + 1
            line_end = text.find("\n", m[1])
            line = text[line_start : len(text) if line_end < 0 else line_end]
            if any(c in BOX_GLYPHS for c in line):
                return Span(m[0], m[1])
    return None


def _box_place(text: str, start: int, end: int, side: str) -> int | None:
    """Where a label's box stands: the character touching the label, or across a space one
    that stands alone (錠 ゆうパック), not the end of the word before (市内 市外)."""
    step = -1 if side == "before" else 1
    k = start - 1 if side == "before" else end
    if not 0 <= k < len(text):
        return None
    if text[k] not in " \t\u3000":
        return k
    while 0 <= k < len(text) and text[k] in " \t\u3000":
        k += step
    beyond = k + step
    if not 0 <= k < len(text) or (0 <= beyond < len(text) and not text[beyond].isspace()):
        return None
    return k


def _iter_occurrences(label: str, text: str, *, fuzzy: bool = False) -> Iterable[tuple[int, int]]:
    """Where a label stands in the text (compared folded); ``fuzzy``: where it stands with one
    character misread, for labels of four characters or more."""
    key, _ = fold(label)
    hay, index = fold(text)
    if fuzzy:
        if len(key) < 4:
            return
        for k in range(len(hay) - len(key) + 1):
            if sum(a != b for a, b in zip(key, hay[k : k + len(key)])) == 1:
                yield index[k], index[k + len(key) - 1] + 1
        return
    start = 0
    while key:
        k = hay.find(key, start)
        if k < 0:
            break
        yield index[k], index[k + len(key) - 1] + 1
        start = k + 1


#: What may stand between a label and its box: spaces, and quotes a scan makes of specks.
_BOX_GAP = " \t\u3000\"”“'’"


def _box_state(text: str, start: int, end: int, side: str) -> bool | None:
    """True/False when a checked/empty box stands next to the label, None when no box."""
    if side == "before":
        k = start - 1
        while k >= 0 and text[k] in _BOX_GAP:
            k -= 1
        ch = text[k] if k >= 0 else ""
    else:
        k = end
        while k < len(text) and text[k] in _BOX_GAP:
            k += 1
        ch = text[k] if k < len(text) else ""
    if ch in CHECKED:
        return True
    if ch in UNCHECKED:
        return False
    return None


def read_field(f: FieldDecl, row: RowDecl, region: Region, siblings: list[FieldDecl], document: Region) -> FieldReading | None:
    text = region.text
    if f.choices and f.read_as == "phrases":
        return _read_phrases(f, document)
    if f.choices:
        ticked, spans, seen = _read_boxes(f, region)
        if not seen:
            return None
        sure = region.box_conf()
        if f.type == "multi_choice":
            value: Any = [c.value for c in f.choices if c in ticked]
            return FieldReading(value, " ".join(c.label for c in ticked), _cover(spans), seen, region, sure)
        if not ticked:
            return None
        fit = seen if len(ticked) == 1 else 0.4  # two boxes ticked for one choice: ask a person
        return FieldReading(ticked[0].value, ticked[0].label, _cover(spans), fit, region, sure)

    start, end = 0, len(text)
    label_score = 100.0
    if f.label:
        hit = _find_in_region(f.all_labels(), region)
        if hit is None:
            return None
        start, label_score = hit[1], hit[2]
        # the value ends where the next sibling's sub-label starts
        stops = [
            h[0]
            for s in siblings
            if s.label and s.key != f.key
            for h in [_find_in_region(s.all_labels(), region, from_=start)]
            if h and h[0] >= start
        ]
        end = min(stops, default=end)
        if not f.multiline:
            nl = text.find("\n", start)
            line_end = nl if nl >= 0 else end
            if text[start:line_end].strip(_STRIP):
                end = min(end, line_end)
    if f.prefix:
        exact = _norm_span(text, f.prefix, start)
        if exact:
            start = exact[1]
        else:
            hit = _find_in_region([_core(f.prefix)], region, from_=start, at_line_start=False)
            if hit is not None:
                start = hit[1]
            else:
                cell = _cell_before_suffix(text, start, f.suffix)
                if cell is None:
                    lone = _cell_after_boxes(text, start)
                    return _finish(f, region, _trim(region, *lone), label_score) if lone else None
                start = cell
        while start < len(text) and text[start] in _STRIP + "(（":
            start += 1
        close = _core(f.suffix) if f.suffix else None
        if close:
            # the last closing mark on the line, so that brackets inside the value stay
            nl = text.find("\n", start)
            line_end = nl if nl >= 0 else len(text)
            forms_of_close = {close, unicodedata.normalize("NFKC", close), f.suffix or close}
            k = max(text.rfind(c, start, line_end) for c in forms_of_close)
            if k < 0:
                k = _norm_find(text, close, start)
            if k >= 0:
                end = k
        return _finish(f, region, _trim(region, start, end), label_score)
    if f.suffix:
        return _read_before_marker(f, region, start, end, siblings, label_score)
    if f.scan or f.pattern:
        return _read_scan(f, region, start, end, label_score)
    if not f.multiline:
        s, e = _first_line(text[start:end])
        start, end = start + s, start + e
    return _finish(f, region, _trim(region, start, end), label_score)


def _cell_before_suffix(text: str, start: int, suffix: str | None) -> int | None:
    """Where the value's own cell starts when the bracket before it was lost (a scan): the cell
    that ends at the closing mark, or the one before a cell holding only the mark."""
    if not suffix:
        return None
    nl = text.find("\n", start)
    line_end = nl if nl >= 0 else len(text)
    close = unicodedata.normalize("NFKC", suffix)
    k = max(text.rfind(c, start, line_end) for c in {suffix, close})
    if k <= start:
        return None
    head = text[start:k].rstrip(" ")
    if head.endswith("\t"):
        head = head[:-1]
    cell_start = head.rfind("\t")
    if cell_start < 0 or _choices_cell(head[cell_start:]):
        return None  # no cell of its own, or only the choices: the detail is empty
    return start + cell_start + 1


def _choices_cell(cell: str) -> bool:
    """A cell of choices (☐ 市内 ☑ 市外): one that opens with a box or holds two; not a detail
    with one character taken for a box (群馬県吾☑郡中之条町, 妻 blurred into a square)."""
    boxes = sum(c in BOX_GLYPHS for c in cell)
    return boxes >= 2 or (boxes == 1 and cell.strip()[:1] in BOX_GLYPHS)


def _cell_after_boxes(text: str, start: int) -> tuple[int, int] | None:
    """A detail whose brackets were both lost (☐ 市内 ☑ 市外 | 群馬県前橋市): the line's last
    cell, when the cell before it holds the boxes and it holds none."""
    offset = start
    for line in text[start:].split("\n"):
        cells = line.split("\t")
        if len(cells) >= 2 and any(c.isalnum() for c in cells[-1]) and any(c in BOX_GLYPHS for c in cells[-2]):
            if not _choices_cell(cells[-1]):
                return offset + len(line) - len(cells[-1]), offset + len(line)
        offset += len(line) + 1
    return None


def _norm_span(text: str, needle: str, start: int) -> tuple[int, int] | None:
    """Where ``needle`` stands in ``text`` at or after ``start``, compared after folding."""
    hay, index = fold(text)
    key, _ = fold(needle)
    if not key:
        return None
    pos = next((k for k, i in enumerate(index) if i >= start), len(hay))
    k = hay.find(key, pos)
    return (index[k], index[k + len(key) - 1] + 1) if k >= 0 else None


def _norm_find(text: str, needle: str, start: int) -> int:
    span = _norm_span(text, needle, start)
    return span[0] if span else -1


def _cover(spans: list[Span]) -> Span | None:
    if not spans:
        return None
    return Span(min(s.start for s in spans), max(s.end for s in spans))


def _read_before_marker(
    f: FieldDecl, region: Region, start: int, end: int, siblings: list[FieldDecl], label_score: float
) -> FieldReading | None:
    """The value printed just before its marker (12,000 円（税抜）)."""
    text = region.text
    # Siblings with markers in the row come in order; the value starts after the previous one.
    lower = start
    for s in siblings:
        if s.key == f.key:
            break
        if s.suffix and not s.prefix:
            k = _norm_find(text, _core(s.suffix), lower)
            if k >= 0:
                lower = k + len(_core(s.suffix))
    core = _core(f.suffix or "")
    k = _norm_find(text, core, lower)
    if k < 0 or k > end:
        k = _before_next_marker(f, text, lower, end, siblings)
    piece = text[lower:k]
    if f.type in ("yen", "int", "percent"):
        numbers = list(_NUMBER.finditer(piece))
        if not numbers:
            return None
        m = numbers[-1]
        # keep a 万 written after the number
        tail = piece[m.end() : m.end() + 2]
        span = Span(lower + m.start(), lower + m.end() + (len(tail) if "万" in tail else 0))
        return _finish(f, region, span, label_score)
    return _finish(f, region, _trim(region, lower, k), label_score)


def _before_next_marker(f: FieldDecl, text: str, lower: int, end: int, siblings: list[FieldDecl]) -> int:
    """Where a value whose own marker was misread ends (6.030 円 (税起) 6,512 円 (税込)): before
    the number of the next sibling's marker, which is that sibling's; else at ``end``."""
    later = siblings[siblings.index(f) + 1 :] if f in siblings else []
    for s in later:
        if not s.suffix or s.prefix:
            continue
        j = _norm_find(text, _core(s.suffix), lower)
        if 0 <= j <= end:
            theirs = list(_NUMBER.finditer(text, lower, j))
            return theirs[-1].start() if theirs else j
    return end


def _read_scan(f: FieldDecl, region: Region, start: int, end: int, label_score: float) -> FieldReading | None:
    """The first piece of the region that parses as the field's type (or matches its pattern)."""
    text = region.text
    if f.pattern:
        for part_start, part in _parts(text, start, end):
            m = re.search(f.pattern, unicodedata.normalize("NFKC", part))
            if m and len(unicodedata.normalize("NFKC", part)) == len(part):
                g = 1 if m.groups() else 0
                return _finish(f, region, Span(part_start + m.start(g), part_start + m.end(g)), label_score)
        return None
    for part_start, part in _parts(text, start, end):
        result = normalize.normalize_value(f.type, part)
        if result.fit > 0:
            return _finish(f, region, _trim(region, part_start, part_start + len(part)), label_score)
    return None


def _parts(text: str, start: int, end: int) -> Iterable[tuple[int, str]]:
    """Lines and cells of the region between ``start`` and ``end``."""
    offset = start
    for line in text[start:end].split("\n"):
        cell_offset = offset
        for cell in line.split("\t"):
            if cell.strip():
                yield cell_offset, cell
            cell_offset += len(cell) + 1
        if "\t" in line and line.strip():
            yield offset, line
        offset += len(line) + 1


def _read_phrases(f: FieldDecl, document: Region) -> FieldReading | None:
    """A statement anywhere in the document decides the value (滞納はありません → true)."""
    best: tuple[float, int, int, Choice] | None = None
    folded, index = fold(document.text)
    for choice in f.choices:
        for phrase in (choice.label, *choice.variants):
            key, _ = fold(phrase)
            if not key or len(folded) < len(key):
                continue
            k = _unticked_free_find(folded, index, document.text, key)
            if k >= 0:
                cand = (100.0, k, k + len(key), choice)
            elif k == -2:
                continue  # printed as a choice and left unticked
            else:
                al = fuzz.partial_ratio_alignment(key, folded)
                if al.score < _phrase_floor(key):
                    continue
                cand = (al.score, al.dest_start, al.dest_end, choice)
            if best is None or (cand[0], -cand[1]) > (best[0], -best[1]):
                best = cand
    if best is None:
        return None
    score, start, end, choice = best
    span = Span(index[start], index[end - 1] + 1)
    return FieldReading(choice.value, document.text[span.start : span.end], span, score / 100, document)


def _read_known_cell(f: FieldDecl, document: Region) -> FieldReading | None:
    """The one cell of the document that is exactly a value of the field's known list."""
    known = {fold(k)[0]: k for k in f.known}
    found: list[tuple[Span, str]] = []
    offset = 0
    for line in document.text.split("\n"):
        pos = 0
        for cell in line.split("\t"):
            value = known.get(fold(cell)[0])
            if value is not None:
                start = offset + pos + len(cell) - len(cell.lstrip())
                found.append((Span(start, start + len(cell.strip())), value))
            pos += len(cell) + 1
        offset += len(line) + 1
    if len({v for _, v in found}) != 1:
        return None  # none, or several values: not this one's to pick
    span, value = found[0]
    return FieldReading(value, document.text[span.start : span.end], span, 0.6, document)


#: A statement read with fewer characters right than this (in percent) does not count...
PHRASE_FLOOR = 88
#: ...unless only one of its characters is wrong and it is this long: 滞納はありません read as
#: 清納はありません (滞 and 清 share their water radical) is still the statement, while
#: 滞納あり and 滞納なし, two characters apart, stay too short to forgive.
PHRASE_ONE_OFF_LENGTH = 6


def _phrase_floor(key: str) -> float:
    """The least score at which a statement ``key`` counts as found."""
    if len(key) < PHRASE_ONE_OFF_LENGTH:
        return PHRASE_FLOOR
    return min(PHRASE_FLOOR, 100 * (1 - 1 / len(key)) - 0.5)


def _unticked_free_find(folded: str, index: tuple[int, ...], text: str, key: str) -> int:
    """First occurrence of a statement that is not an unticked choice (☐ 滞納があります);
    -2 when every occurrence is unticked, -1 when there is none."""
    k = folded.find(key)
    seen = False
    while k >= 0:
        seen = True
        start, end = index[k], index[k + len(key) - 1] + 1
        if _box_state(text, start, end, "before") is not False:
            return k
        k = folded.find(key, k + 1)
    return -2 if seen else -1


def _finish(f: FieldDecl, region: Region, span: Span, label_score: float) -> FieldReading | None:
    raw = region.text[span.start : span.end]
    if f.multiline:
        raw_joined = _join_lines(raw)
    else:
        raw_joined = raw.replace("\t", " ").strip(_STRIP)
    if not raw_joined:
        return None
    if f.type in ("email", "url") and region.from_ocr(span.start, span.end):
        raw_joined = repair_domain(raw_joined)
    if f.type in ("yen", "int"):
        # a scan turns 10,810 into 10,.810 (a speck beside the comma)
        raw_joined = re.sub(r"(?<=\d)[,.，．]{2,}(?=\d)", ",", raw_joined)
    norm = normalize.normalize_value(f.type, raw_joined)
    if norm.value is None or norm.value == "":
        return FieldReading(None, raw_joined, span, 0.0, region)
    fit = norm.fit * (0.75 + 0.25 * label_score / 100)
    return FieldReading(norm.value, raw_joined, span, fit, region)


# --- a whole form --------------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    #: The values found, by key.
    fields: dict[str, ExtractedField]
    #: Text found where a field's value stands that did not read as its type (an e-mail
    #: address with a character misread): value None, with the text, page and box, so that a
    #: second reading knows where to look.
    unparsed: dict[str, ExtractedField]
    #: Declared fields without a value: key → reason (label_not_found, empty, unparsed).
    missing: dict[str, str] = field(default_factory=dict)


def locate_fields(form: FormDecl, pages: list[Page]) -> dict[str, ExtractedField]:
    return locate_all(form, pages).fields


def locate_all(form: FormDecl, pages: list[Page]) -> Located:
    """The form's fields read from the structure of its pages (``extract.assign``), then the
    document-wide readings: statements anywhere (滞納はありません), the form's own fields
    (AcroForm), values implied by others."""
    from extract.assign import read_form

    structured = read_form(form, pages)
    lines = [line for page in pages for line in build_lines(page)]
    document = Region()
    for line in lines:
        document.add(line, 0, len(line.text))
    prefer = prefectures_in(nfkc(document.text))
    rows = {f.key: r for r in form.rows() for f in r.fields}
    result: dict[str, ExtractedField] = {}
    for key, found in structured.found.items():
        extracted = _from_structure(found)
        f = form.field(key)
        if f.type == "text" and isinstance(extracted.value, str):
            if extracted.source == "ocr":
                extracted = tidy_text(extracted, rows[key], prefer, key)
            extracted = snap_to_known(_known_list(extracted, f.known), f.known)
            if not extracted.value:
                continue
        result[key] = extracted
    unparsed = {k: _from_structure(v) for k, v in structured.unparsed.items()}
    # statements (滞納はありません) count wherever they stand, even without their row's label
    for f in form.fields():
        if f.key not in result and f.choices and f.read_as == "phrases" and lines:
            reading = _read_phrases(f, document)
            if reading is not None:
                result[f.key] = _to_extracted(reading, None, {p.number: p.source for p in pages}, lines)
    repair_tax_pairs(form, result)
    repair_mail_domain(form, result)
    repair_kana_reading(form, result)
    _apply_form_values(form, pages, result)
    apply_implications(form.implications, result, pages)
    missing = {k: reason for k, reason in structured.missing.items() if k not in result}
    return Located(result, {k: v for k, v in unparsed.items() if k not in result}, missing)


#: How much a label that won by a hair (a tie with another cell) lowers a value's confidence.
CLOSE_CALL = 0.85


def _from_structure(found: Any) -> ExtractedField:
    from extract.assign import bbox_of, conf_of

    reading = found.reading
    page, bbox = bbox_of(reading.parts)
    ocr_conf = reading.conf if reading.conf is not None else conf_of(reading.parts)
    label = 0.75 + 0.25 * found.label_score / 100
    if found.margin < 1.0 and found.label_score < 100:
        label *= CLOSE_CALL
    confidence = round(max(0.0, min(1.0, reading.fit * ocr_conf * label)), 3)
    return ExtractedField(
        value=reading.value,
        confidence=confidence,
        page=page or found.page,
        bbox=[round(v, 1) for v in bbox] if bbox else None,
        source=found.source,
        review=confidence < REVIEW_THRESHOLD,
        raw=reading.raw,
    )


_LIST_SEPARATORS = re.compile(r"\s*[、，,・／/]\s*")


def _known_list(extracted: ExtractedField, known: tuple[str, ...]) -> ExtractedField:
    """A list of known values (法人税、消費税及地方消費税) written with ・ between them."""
    if not known or not isinstance(extracted.value, str):
        return extracted
    parts = [p for p in _LIST_SEPARATORS.split(extracted.value) if p]
    if len(parts) < 2:
        return extracted
    return extracted.model_copy(update={"value": "・".join(parts)})


def _to_extracted(reading: FieldReading, anchor: Anchor | None, sources: dict[int, Source], lines: list[Line]) -> ExtractedField:
    page: int | None = None
    bbox: BBox | None = None
    ocr_conf = 1.0
    if reading.span is not None:
        page, bbox = reading.region.box(reading.span.start, reading.span.end)
        ocr_conf = reading.region.conf(reading.span.start, reading.span.end)
    if reading.sure is not None:
        ocr_conf = reading.sure
    if page is None:
        page = lines[anchor.line].page if anchor is not None else lines[0].page
    confidence = round(max(0.0, min(1.0, reading.fit * ocr_conf)), 3)
    return ExtractedField(
        value=reading.value,
        confidence=confidence,
        page=page,
        bbox=[round(v, 1) for v in bbox] if bbox else None,
        source=sources.get(page, "text"),
        review=confidence < REVIEW_THRESHOLD,
        raw=reading.raw,
    )


#: How much less sure a value is when its row was found by its place, not by its label.
POSITIONAL_DOUBT = 0.75


def _doubted(extracted: ExtractedField) -> ExtractedField:
    confidence = round(min(extracted.confidence * POSITIONAL_DOUBT, REVIEW_THRESHOLD - 0.01), 3)
    return extracted.model_copy(update={"confidence": confidence, "review": True})


def _apply_form_values(form: FormDecl, pages: list[Page], result: dict[str, ExtractedField]) -> None:
    """AcroForm fields named after our keys are read directly: they cannot be misplaced."""
    values = {fv.name: fv for page in pages for fv in page.form_values}
    if not values:
        return
    page_of = {fv.name: page.number for page in pages for fv in page.form_values}
    for f in form.fields():
        if f.choices:
            on: list[Any] = []
            named = False
            for c in f.choices:
                name = widget_name(f, c)
                if name in values:
                    named = True
                    if values[name].value is True:
                        on.append(c.value)
            if not named:
                continue
            if f.type == "multi_choice":
                value: Any = on
            elif len(on) == 1:
                value = on[0]
            else:
                continue
            name = next(n for n in values if n.startswith(f.key + "."))
        else:
            fv = values.get(f.key)
            if fv is None or not isinstance(fv.value, str) or not fv.value.strip():
                continue
            norm = normalize.normalize_value(f.type, fv.value)
            if norm.value is None:
                continue
            value, name = norm.value, f.key
        fv = values[name]
        result[f.key] = ExtractedField(
            value=value,
            confidence=1.0,
            page=page_of[name],
            bbox=[round(v, 1) for v in fv.bbox] if fv.bbox else None,
            source="acroform",
            raw=fv.value if isinstance(fv.value, str) else None,
        )


def apply_implications(rules: tuple[Implication, ...], result: dict[str, ExtractedField], pages: list[Page]) -> None:
    """A value a found value implies, where none was found (未納税額 0 円: no arrears); and two
    values that imply each other, read apart on a scan and agreeing, confirm each other."""
    _confirm_equivalents(rules, result)
    for imp in rules:
        if imp.then in result or imp.when not in result:
            continue
        have = result[imp.when]
        if _holds(imp, have.value):
            result[imp.then] = ExtractedField(
                value=imp.value,
                confidence=have.confidence,
                page=have.page,
                bbox=have.bbox,
                source=have.source,
                review=have.review,
                raw=have.raw,
            )


def _confirm_equivalents(rules: tuple[Implication, ...], result: dict[str, ExtractedField]) -> None:
    """Two values that imply each other both ways (未納税額 0 円 and 滞納はありません), each read
    from its own place on a scan and agreeing, are sure (:data:`CONFIRMED_PAIR`), as a
    税抜/税込 pair a tax apart is: a misread of either would not keep them agreeing. One way
    only (some allergen ticked, so あり) confirms nothing: which allergens is not implied."""
    for imp in rules:
        a, b = result.get(imp.when), result.get(imp.then)
        if a is None or b is None or "ocr" not in (a.source, b.source) or a.bbox == b.bbox:
            continue
        back = [r for r in rules if r.when == imp.then and r.then == imp.when and _holds(r, b.value) and r.value == a.value]
        if not (_holds(imp, a.value) and b.value == imp.value and back):
            continue
        for key, field in ((imp.when, a), (imp.then, b)):
            if field.confidence < CONFIRMED_PAIR:
                result[key] = field.model_copy(update={"confidence": CONFIRMED_PAIR, "review": False})


def _holds(imp: Implication, actual: Any) -> bool:
    """Whether a value meets an implication's condition; a list (the allergens ticked) is
    compared by its length (``allergens > 0``: some allergen is ticked)."""
    if imp.op == "==":
        return bool(actual == imp.equals)
    if isinstance(actual, list):
        actual = len(actual)
    if isinstance(actual, bool) or not isinstance(actual, int) or isinstance(imp.equals, (bool, str)):
        return False
    return actual > imp.equals
