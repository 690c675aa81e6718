"""Fields found by their label paths in the page structure: keys found, assigned once, values
read from cells.

The stages, each over the whole document:

1. **slots**: the document as rows of slots in reading order: a table's grid row is a row of
   cells, a line outside tables a row of its segments (``extract.structure``).
2. **keys**: a slot whose text is a catalogue label (after its printed numbering and notes) is
   a *label cell*; a slot that starts with one (``住所：…``, ``【品名】…``, ``〒377…``) an *inline
   key*. A key's value is the slots right of it up to the next key, the rest of its slot, or,
   with nothing beside it, the slot under it (a stacked layout).
3. **groups**: a key with no value of its own opens a group: the keys after it that name the
   sub-labels of its rows (フリガナ under 商品名) are its children; so are the keys right of a
   label cell that spans their rows.
4. **assign**: every (row, key) and (field, key) pair is scored (rapidfuzz over the declared
   label and its variants; numbering, order and grouping are evidence, never required) and the
   best pairs taken greedily, each key and each field at most once.
5. **values**: from the assigned key's value: the whole text (all lines), amounts by their
   qualifiers (税抜/税込), choices by the marks beside their labels, a grid of choices below.

What is not found is reported with its reason (``label_not_found``, ``empty``, ``unparsed``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from extract import normalize
from extract.layout import Line
from extract.lexicon import is_kanji, neighbours
from extract.pagemodel import BBox, Page, union
from extract.structure import Cell, PageStructure, build_structure
from forms.schema import FieldDecl, FormDecl, RowDecl

# --- settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignSettings:
    #: Least label likeness (0..100) for a slot to be a label cell, digital and OCR'd text.
    whole_digital: float = 84.0
    whole_ocr: float = 72.0
    #: Least likeness of a slot's start to a label for an inline key.
    inline_digital: float = 100.0
    inline_ocr: float = 80.0
    #: A reading of a longer label at least this like it wins an inline key over a shorter
    #: label read exactly: 荷姿 of 荷姿.（サイズ・重量) left （サイズ・重量) to the value, 代表者
    #: of 代表者（職：氏名）(88.9) left （職：氏名）.
    inline_longer: float = 85.0
    #: Added to a pair's score for evidence (a printed number, a group with children …).
    numbered_bonus: float = 4.0
    shape_bonus: float = 3.0
    child_bonus: float = 6.0
    #: Taken from a pair's score when its inline key runs on into words with no separator
    #: (OCR: 原材料の原産地証明書… is a sentence, 原材料・(原産地) the label cell).
    glued_penalty: float = 8.0
    #: The score of a row found by its place, not its label (under the review threshold).
    by_place_score: float = 40.0
    #: The first cell of a table's total row ends with one of these.
    total_words: tuple[str, ...] = ("合計", "総計", "小計", "計")


SETTINGS = AssignSettings()

CHECKED_MARKS = frozenset("☑☒■●◉✓✔✅◼⬛▣レ√")
UNCHECKED_MARKS = frozenset("☐□○〇◯◻")
MARKS = CHECKED_MARKS | UNCHECKED_MARKS

_NUMBERING = re.compile(r"^[\s\"'.,・]*(?:[(（]\s*[0-9０-９]{1,2}\s*[)）》]?|[0-9０-９]{1,2}\s*[.．、)）]?|[①-⑳])\s*")
_BRACKETS = "【】[]〔〕《》<>"
_SEPARATORS = "：:】］]〕》>)）　 \t\n・."
_PAREN = re.compile(r"[（(][^（）()]*[)）]?")
_NOTE_MIN = 6  # a parenthesised text this long is a note, not part of the label
TRUNCATED_MIN = 8
#: Types whose values hold no full stop, comma or dot of their own: such a character read
#: into one is a speck.
SPECK_FREE_TYPES = frozenset({"phone", "postal_code", "yen", "int", "date"})
#: Types whose values say what they are: one found between the rows around its row, its
#: label unread, is taken (for review).
SELF_EVIDENT_TYPES = frozenset({"postal_code", "email", "url"})  # a label's first characters, at least this many, may stand for it


def fold(text: str) -> str:
    """NFKC, no white space, brackets off: how labels compare."""
    t = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in t if not ch.isspace() and ch not in _BRACKETS)


def _without_parens(text: str) -> str:
    return _PAREN.sub("", text)


# --- slots ----------------------------------------------------------------------------------


@dataclass
class Part:
    line: Line
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.line.text[self.start : self.end]


@dataclass(eq=False)
class Slot:
    """A table cell or a segment of a line: text with boxes."""

    page: int
    bbox: BBox
    parts: list[Part]
    cell: Cell | None = None
    table: int | None = None

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.parts)

    @property
    def empty(self) -> bool:
        return not self.text.strip()

    @property
    def ocr(self) -> bool:
        return any(p.line.ocr for p in self.parts)


@dataclass(eq=False)
class Row:
    page: int
    y: float
    slots: list[Slot]
    table: int | None = None


def document_rows(structures: list[PageStructure]) -> list[Row]:
    rows: list[Row] = []
    table_id = 0
    for st in structures:
        page_rows: list[Row] = []
        for table in st.tables:
            for r, cells in enumerate(table.rows()):
                if not cells:
                    continue
                slots = [Slot(c.page, c.bbox, [Part(ln, 0, len(ln.text)) for ln in c.lines], cell=c, table=table_id) for c in cells]
                page_rows.append(Row(st.page.number, min(c.bbox[1] for c in cells), slots, table_id))
            table_id += 1
        for line in st.lines:
            slots = []
            bounds = [*line.segment_starts, len(line.text) + 1]
            for a, b in zip(bounds, bounds[1:]):
                end = min(b - 1, len(line.text)) if b <= len(line.text) else len(line.text)
                part = Part(line, a, end)
                box = line.span_box(a, end) or (line.words[0].x0, line.y0, line.words[-1].x1, line.y1)
                slots.append(Slot(line.page, box, [part]))
            page_rows.append(Row(line.page, line.y0, slots))
        page_rows.sort(key=lambda r: (r.y, r.slots[0].bbox[0]))
        rows.extend(page_rows)
    return rows


# --- labels of the catalogue ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A row (its label) or a field (its sub-label) that a key may be assigned to."""

    row: RowDecl
    field: FieldDecl | None
    labels: tuple[str, ...]  # folded

    @property
    def name(self) -> str:
        return self.field.key if self.field else f"row:{self.row.label}"


def targets_of(form: FormDecl) -> list[Target]:
    return list(_targets(form))


@lru_cache(maxsize=64)
def _targets(form: FormDecl) -> tuple[Target, ...]:
    out: list[Target] = []
    for row in form.rows():
        out.append(Target(row, None, tuple(dict.fromkeys(fold(x) for x in row.all_labels()))))
        for f in row.fields:
            if f.all_labels():
                subs = [fold(x) for x in f.all_labels()]
                joined = [fold(r) + s for r in row.all_labels() for s in subs]
                joined += [fold(r) + "(" + s + ")" for r in row.all_labels() for s in subs]
                out.append(Target(row, f, tuple(dict.fromkeys(subs + joined))))
    return tuple(out)


@lru_cache(maxsize=65536)
def likeness(text: str, labels: tuple[str, ...]) -> float:
    """How much ``text`` (folded) reads as one of ``labels`` (folded), 0..100."""
    if not text:
        return 0.0
    best = 0.0
    bare = _without_parens(text)
    note_removed = bare != text and len(text) - len(bare) >= _NOTE_MIN
    for label, bare_label in _bare_labels(labels):
        score = label_ratio(text, label)
        if best >= 100.0:
            break
        if bare != text and bare_label == label:
            # a long note in parentheses (ポータルサイト等に転記します) is no part of the label;
            # a short one may be (商品名（フリガナ）), so it costs a little
            score = max(score, fuzz.ratio(bare, label) - (0.0 if note_removed else 6.0))
        elif bare_label != label and bare == text:
            # the label printed without its own parenthesis (代表者 for 代表者（職・氏名）)
            score = max(score, fuzz.ratio(text, bare_label) - 6.0)
        if len(text) >= TRUNCATED_MIN and len(label) > len(text) + 2:
            # a long label cut where its cell wrapped it (A：当該地方団体によ / る返礼品等の…)
            score = max(score, fuzz.ratio(text, label[: len(text)]) - 100.0 * (1 - len(text) / len(label)) * 0.3)
        best = max(best, score)
    return best


#: What each kanji of a label read as its look-alike costs a label's likeness (0..100).
GLYPH_SWAP_COST = 4.0
#: Below this likeness a label read is not looked at for look-alikes.
GLYPH_NEAR = 40.0


@lru_cache(maxsize=65536)
def label_ratio(text: str, label: str) -> float:
    """``fuzz.ratio`` of a label read and a label declared, where a kanji read as its
    look-alike (税披価格 for 税抜価格) costs less than another."""
    score = fuzz.ratio(text, label)
    # (a look-alike or two make a label far from its reading no nearer than a floor's reach)
    if GLYPH_NEAR <= score < 100.0 and (projected := _glyph_projected(text, label)) is not None:
        seen, swapped = projected
        score = max(score, fuzz.ratio(seen, label) - GLYPH_SWAP_COST * swapped)
    return score


def _glyph_projected(text: str, label: str) -> tuple[str, int] | None:
    """``text`` with each kanji that stands where ``label`` has a kanji it looks like
    (forms/vocabulary/kanji_neighbours.tsv), and each character of another script that stands
    where the label has its look-alike (script_lookalikes.tsv: ふリがな), replaced by the
    label's, and how many were; None when there is none."""
    chars = list(text)
    swapped = 0
    for op in Levenshtein.editops(text, label):
        if op.tag != "replace":
            continue
        read, meant = text[op.src_pos], label[op.dest_pos]
        kanji_twins = is_kanji(read) and is_kanji(meant) and meant in neighbours(read)
        if kanji_twins or _lookalikes().get(read, ("",))[0] == meant:
            chars[op.src_pos] = meant
            swapped += 1
    return ("".join(chars), swapped) if swapped else None


@lru_cache(maxsize=256)
def _bare_labels(labels: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((label, _without_parens(label)) for label in labels)


# --- keys -----------------------------------------------------------------------------------


@dataclass(eq=False)
class Value:
    parts: list[Part]
    #: The label is there and nothing is written beside it.
    blank: bool = False

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.parts)


@dataclass(eq=False)
class Key:
    slot: Slot
    row: int  # index into the document rows
    col: int  # index of the slot in its row
    text: str  # folded label text
    numbered: bool
    whole: bool
    value: Value | None = None
    group: "Key | None" = None
    children: list["Key"] = field(default_factory=list)
    #: For an inline key: where its value starts in the slot's first part.
    value_start: int = 0
    #: Headers of a column: the key is a table header whose values stand under it.
    column: list[Slot] = field(default_factory=list)
    #: An inline key read glued to words after it, no separator between.
    glued: bool = False

    @property
    def ocr(self) -> bool:
        return self.slot.ocr


def _strip_numbering(text: str) -> tuple[str, bool]:
    m = _NUMBERING.match(text)
    if m and m.end() > 0 and any(ch.isdigit() or "①" <= ch <= "⑳" for ch in m.group(0)):
        return text[m.end() :], True
    return text, False


def _slot_label_text(slot: Slot) -> tuple[str, bool]:
    """A label cell's text as it compares: lines joined, numbering off, notes kept for
    :func:`likeness` to weigh."""
    joined = "".join(p.text for p in slot.parts)
    rest, numbered = _strip_numbering(unicodedata.normalize("NFKC", joined))
    text = fold(rest)
    if len(text) > 2 and text[0] == "(" and text[-1] == ")" and "(" not in text[1:-1]:
        text = text[1:-1]  # a sub-label printed in brackets: (税込)
    return text, numbered


def _marks_after_start(text: str) -> bool:
    """Whether a mark stands after the first character, outside notes in brackets (a hint
    such as （例：〇〇県〇〇市） is no mark)."""
    bare = _PAREN.sub("", text)
    return any(_is_mark(bare, i) for i in range(1, len(bare)))


def find_keys(rows: list[Row], targets: list[Target], settings: AssignSettings = SETTINGS, titles: tuple[str, ...] = ()) -> list[Key]:
    """The label cells and inline keys of the document; a line that is the form's title
    (産地証明書) holds none, whatever label it starts with (産地)."""
    all_labels = tuple(dict.fromkeys(lab for t in targets for lab in t.labels))
    if titles:
        rows = [_without_titles(row, titles) for row in rows]
    keys: list[Key] = []
    claimed: set[int] = set()
    by_slot: dict[int, Key] = {}
    # label cells first: a slot that is a label as a whole
    for ri, row in enumerate(rows):
        for ci, slot in enumerate(row.slots):
            text, numbered = _slot_label_text(slot)
            if not text or len(text) > 40 or _marks_after_start(text):
                continue  # a mark after a label's start is a value's (製造場所 ☑市内: inline)
            floor = settings.whole_ocr if slot.ocr else settings.whole_digital
            like = likeness(text, all_labels)
            if like >= floor:
                beside = any(not other.empty for other in row.slots[ci + 1 :])
                if like < 90 and not beside:
                    # a weak match may be a label with its value in one slot (nothing beside
                    # it to be its value): the inline pass takes it
                    inline = _inline_key(slot, ri, ci, all_labels, settings)
                    rest = inline.value.text.strip() if inline is not None and inline.value is not None else ""
                    if len(rest) >= 2 and rest[0] not in "(（" and len(inline.text) < len(text) - 1:  # type: ignore[union-attr]
                        continue
                key = Key(slot, ri, ci, text, numbered, True)
                keys.append(key)
                by_slot[id(slot)] = key
    # values beside label cells; then inline keys in the slots no label cell claimed
    for key in keys:
        row = rows[key.row]
        right: list[Slot] = []
        for slot in row.slots[key.col + 1 :]:
            if id(slot) in by_slot:
                break
            right.append(slot)
        if right:
            for s in right:
                claimed.add(id(s))
            key.value = Value([p for s in right for p in s.parts], blank=all(s.empty for s in right))
    inline: list[Key] = []
    for ri, row in enumerate(rows):
        for ci, slot in enumerate(row.slots):
            if id(slot) in by_slot or id(slot) in claimed or slot.empty:
                continue
            key = _inline_key(slot, ri, ci, all_labels, settings)
            if key is not None:
                inline.append(key)
                by_slot[id(slot)] = key
    # outside tables a line is cut into slots at its wide gaps: an inline key's value goes on
    # over the slots after it up to the next key (常温 ・ ☑冷蔵 ・ 冷凍)
    for key in inline:
        if key.slot.table is not None or key.value is None:
            continue
        more: list[Slot] = []
        for slot in rows[key.row].slots[key.col + 1 :]:
            if id(slot) in by_slot or id(slot) in claimed:
                break
            more.append(slot)
        if more:
            for s in more:
                claimed.add(id(s))
            parts = key.value.parts + [p for s in more for p in s.parts]
            key.value = Value(parts, blank=not any(p.text.strip() for p in parts))
    keys.extend(inline)
    keys.sort(key=lambda k: (k.row, k.col))
    _stacked_values(keys, rows, by_slot)
    _table_columns(keys, rows, by_slot, settings)
    return keys


def _without_titles(row: Row, titles: tuple[str, ...]) -> Row:
    slots = [s for s in row.slots if s.table is not None or likeness(fold(s.text), titles) < 90]
    return row if len(slots) == len(row.slots) else Row(row.page, row.y, slots or [Slot(row.page, row.slots[0].bbox, [])], row.table)


def _inline_key(slot: Slot, ri: int, ci: int, labels: tuple[str, ...], settings: AssignSettings) -> Key | None:
    first = slot.parts[0]
    raw = first.text
    nfkc = _nfkc_in_place(raw)
    rest, numbered = _strip_numbering(nfkc)
    if rest.lstrip().startswith(_NOTE_MARKS):
        return None  # a note (※原材料の原産地証明書を添付…) names no field, whatever it starts with
    offset = len(nfkc) - len(rest)
    lead = 0
    while lead < len(rest) and rest[lead] in "【[〔《<(（":
        lead += 1
    body = rest[lead:]
    best: tuple[float, int, int] | None = None
    best_rank: tuple[int, float, int] = (0, 0.0, 0)
    best_glued = False
    ocr = slot.ocr
    floor = settings.inline_ocr if ocr else settings.inline_digital
    compact = [(i, ch) for i, ch in enumerate(body) if not ch.isspace()]
    squeezed = "".join(ch for _, ch in compact)
    for label in labels:
        n = len(label)
        if n < 1 or len(squeezed) < n:
            continue
        if not ocr and not squeezed.startswith(label):
            continue  # typed text: the label as printed, or none
        for m in (n, n - 1, n + 1) if ocr and n >= 4 else (n,):
            if m <= 0 or m > len(squeezed):
                continue
            if squeezed[m - 1].isdigit() and not label[-1].isdigit():
                continue  # a digit after a label is its value's (返礼品価格(調達価格)13490円)
            score = label_ratio(squeezed[:m], label)
            if score < floor:
                continue
            end = compact[m - 1][0] + 1  # index in body after the label
            after = body[end:]
            sep = after[:1]
            # a label glued to its value is a label only when the value starts otherwise
            # than a word would go on (〒377…, 住所：…, 名称 …)
            # a mark for a label (〒) is glued to its value by nature
            symbol = len(label) == 1 and not label.isalnum()
            glued_ok = symbol or _starts_value(after) or (ocr and len(label) >= 2)
            if sep and sep not in _SEPARATORS and not glued_ok:
                continue
            rank = _inline_rank(score, n, m, settings)
            if best is None or rank > best_rank:
                best, best_rank = (score, m, offset + lead + end), rank
                best_glued = bool(sep) and sep not in _SEPARATORS and not symbol and not _starts_value(after)
    if best is None:
        best = _key_after_a_sentence(nfkc, labels)
    if best is None:
        return None
    if best[1] < 0:
        offset, numbered = -best[1] - 1, False
    end = best[2]
    text = fold(nfkc[offset:end])
    value_start = end
    while value_start < len(raw) and raw[value_start] in _SEPARATORS:
        value_start += 1
    parts = [Part(first.line, first.start + value_start, first.end)] + slot.parts[1:]
    parts = [p for p in parts if p.end > p.start]
    key = Key(slot, ri, ci, text, numbered, False, value_start=value_start, glued=best_glued)
    key.value = Value(parts, blank=not any(p.text.strip() for p in parts))
    return key


def _inline_rank(score: float, label_length: int, length: int, settings: AssignSettings) -> tuple[int, float, int]:
    """How an inline key's reading (``length`` characters) of a label ranks: the longest
    label read well, then the likest reading (of one label, a character more or fewer may
    read it better), then the longest."""
    return (label_length if score >= settings.inline_longer else 0, score, length)


#: What opens a note to the applicant rather than a field.
_NOTE_MARKS = ("※", "*", "＊", "注)", "(注")


def _nfkc_in_place(text: str) -> str:
    """NFKC character by character, a character whose form is longer (⑬ → 13) kept as it is:
    offsets into the result are offsets into ``text``."""
    out = []
    for ch in text:
        n = unicodedata.normalize("NFKC", ch)
        out.append(n if len(n) == 1 else ch)
    return "".join(out)


def _key_after_a_sentence(text: str, labels: tuple[str, ...]) -> tuple[float, int, int] | None:
    """``ラベル：値`` after a statement on the same line (…あります。 未納額：27,000円): the
    label's start (as ``-start - 1``) and end, the earliest such label."""
    for m in _labels_with_colon(labels).finditer(text):
        a = m.start()
        if a > 0 and (text[a - 1].isspace() or text[a - 1] in "。、"):
            return (100.0, -a - 1, a + len(m.group(1)))
    return None


@lru_cache(maxsize=64)
def _labels_with_colon(labels: tuple[str, ...]) -> re.Pattern[str]:
    names = sorted((lab for lab in labels if len(lab) >= 2), key=len, reverse=True)
    return re.compile("(" + "|".join(re.escape(n) for n in names) + r")\s*[:：]")


def _starts_value(text: str) -> bool:
    return bool(text) and (text[0].isdigit() or text[0] in MARKS or text[0] in "￥¥")


def _stacked_values(keys: list[Key], rows: list[Row], by_slot: dict[int, Key]) -> None:
    """A label with nothing beside it takes what stands under it: the slot below it in a
    table, the lines below it (indented, up to the next key) outside tables."""
    key_rows = {k.row for k in keys}
    for key in keys:
        if key.value is not None:
            continue
        nxt = key.row + 1
        if nxt >= len(rows) or nxt in key_rows:
            continue
        below = rows[nxt]
        x0, _, x1, _ = key.slot.bbox
        if key.slot.table is not None:
            if below.table != key.slot.table and not _table_goes_on(rows, key.row, nxt):
                continue
            under = [s for s in below.slots if min(s.bbox[2], x1) - max(s.bbox[0], x0) > 0.5 * (s.bbox[2] - s.bbox[0])]
            if under and all(id(s) not in by_slot for s in under):
                key.value = Value([p for s in under for p in s.parts], blank=all(s.empty for s in under))
            continue
        parts: list[Part] = []
        height = key.slot.bbox[3] - key.slot.bbox[1]
        last_y = key.slot.bbox[3]
        r = nxt
        while r < len(rows) and r not in key_rows and rows[r].table is None and rows[r].page == key.slot.page:
            s = rows[r].slots[0]
            if s.bbox[0] < x0 - 1 or s.bbox[1] - last_y > 1.5 * height:
                break
            parts.extend(p for sl in rows[r].slots for p in sl.parts)
            last_y = s.bbox[3]
            r += 1
        if parts:
            key.value = Value(parts)


def _table_goes_on(rows: list[Row], last: int, first: int) -> bool:
    """Row ``first`` starts the table that goes on, on the next page, from the table whose
    last row is ``last`` (a stacked label at a page's foot, its value on the next page)."""
    a, b = rows[last], rows[first]
    if a.table is None or b.table is None or b.page != a.page + 1:
        return False
    ends = last + 1 >= len(rows) or rows[last + 1].table != a.table
    starts = first == 0 or rows[first - 1].table != b.table
    return ends and starts


def _table_columns(keys: list[Key], rows: list[Row], by_slot: dict[int, Key], settings: AssignSettings) -> None:
    """A row of label cells over rows of values (税目 | 年度 | 未納額): each label is its
    column's header and its values are the cells under it."""
    by_row: dict[int, list[Key]] = {}
    for k in keys:
        if k.whole and k.slot.table is not None:
            by_row.setdefault(k.row, []).append(k)
    for ri, row_keys in by_row.items():
        row = rows[ri]
        below = rows[ri + 1] if ri + 1 < len(rows) else None
        if len(row_keys) < 2 or below is None or below.table != row.table:
            continue
        if any(id(s) in by_slot for s in below.slots) or len(below.slots) < len(row_keys):
            continue
        if 2 * len(row_keys) < len([s for s in row.slots if not s.empty]):
            continue  # a header row holds labels mostly
        for key in row_keys:
            x0, _, x1, _ = key.slot.bbox
            column: list[Slot] = []
            r = ri + 1
            while r < len(rows) and rows[r].table == key.slot.table:
                if any(fold(s.text).endswith(w) for s in rows[r].slots for w in settings.total_words):
                    break  # a total row is no data row
                for s in rows[r].slots:
                    overlap = min(s.bbox[2], x1) - max(s.bbox[0], x0)
                    if s.bbox[0] >= x0 - 3 and overlap >= 0.6 * (x1 - x0) and id(s) not in by_slot:
                        column.append(s)
                r += 1
            key.column = column
            key.value = None  # the labels beside a header are other headers, not its value


# --- groups ---------------------------------------------------------------------------------


def group_keys(keys: list[Key], targets: list[Target], settings: AssignSettings = SETTINGS) -> None:
    subs_of_row: dict[str, tuple[str, ...]] = {}
    row_targets = [t for t in targets if t.field is None]
    for t in targets:
        if t.field is not None:
            subs_of_row[t.row.label] = subs_of_row.get(t.row.label, ()) + t.labels
    floor = lambda k: settings.whole_ocr if k.ocr else settings.whole_digital  # noqa: E731

    def sub_labels(group: Key) -> tuple[str, ...]:
        out: tuple[str, ...] = ()
        for t in row_targets:
            if t.row.label in subs_of_row and likeness(group.text, t.labels) >= floor(group):
                out += subs_of_row[t.row.label]
        return out

    # a label cell spanning the rows of the label cells right of it
    for key in keys:
        cell = key.slot.cell
        if cell is None:
            continue
        for other in keys:
            oc = other.slot.cell
            if oc is None or other is key or other.slot.table != key.slot.table:
                continue
            if oc.col > cell.last_col and cell.row <= oc.row <= cell.last_row and (cell.row_span > 1 or oc.row == cell.row):
                if other.group is None and _adjacent(key, other):
                    other.group = key
                    key.children.append(other)
    # a label with no value of its own, and the keys after it that name its sub-labels
    open_group: Key | None = None
    subs: tuple[str, ...] = ()
    for key in keys:
        if key.group is not None:
            continue
        if open_group is not None and not key.numbered and likeness(key.text, subs) >= floor(key):
            key.group = open_group
            open_group.children.append(key)
            continue
        open_group = None
        if (key.value is None or key.value.blank) and not key.column:
            candidates = sub_labels(key)
            if candidates:
                open_group, subs = key, candidates


def _adjacent(left: Key, right: Key) -> bool:
    """No value cell between a spanning label cell and a label right of it."""
    lc, rc = left.slot.cell, right.slot.cell
    assert lc is not None and rc is not None
    return rc.col == lc.last_col + 1


# --- assignment -----------------------------------------------------------------------------


@dataclass
class Assignment:
    key: Key
    score: float
    margin: float


def assign(form: FormDecl, keys: list[Key], targets: list[Target], rows: list[Row], settings: AssignSettings = SETTINGS) -> dict[str, Assignment]:
    """The best pairs of targets (rows, then sub-labelled fields) and keys, each at most once."""
    out: dict[str, Assignment] = {}
    used: set[int] = set()
    rows_t = [t for t in targets if t.field is None]
    pairs: list[tuple[float, int, int, Target, Key]] = []
    for ti, t in enumerate(rows_t):
        for ki, k in enumerate(keys):
            base = likeness(k.text, t.labels)
            if base < (settings.whole_ocr if k.ocr else settings.whole_digital):
                continue
            score = base
            if k.numbered:
                score += settings.numbered_bonus
            if k.glued:
                score -= settings.glued_penalty
            if k.group is None:
                score += settings.shape_bonus
            multi = any(f.all_labels() for f in t.row.fields)
            if multi and k.children:
                score += settings.shape_bonus
            if not multi and (k.value is not None or k.column) and not k.children:
                score += settings.shape_bonus
            pairs.append((score, -ki, ti, t, k))
    _take(pairs, out, used)
    _rows_by_place(form, keys, rows, out, used, settings)
    # sub-labelled fields: among the children of their row's key first
    row_labels = {t.row.label: t.labels for t in rows_t}
    pairs = []
    for ti, t in enumerate(targets):
        if t.field is None:
            continue
        row_key = out.get(f"row:{t.row.label}")
        for ki, k in enumerate(keys):
            if id(k) in used and not (row_key is not None and k is row_key.key):
                continue
            base = likeness(k.text, t.labels)
            if base < (settings.whole_ocr if k.ocr else settings.whole_digital):
                continue
            if likeness(k.text, row_labels.get(t.row.label, ())) > base:
                continue  # the row's label, read again (アレルギー品目 is not アレルギー品目（その他特記事項）)
            score = base
            if row_key is not None and k.group is row_key.key:
                score += settings.child_bonus
            elif row_key is not None and k is row_key.key:
                score -= 1.0  # the row's own label read as the field's (商品名 › 商品名)
            elif k.group is not None:
                score -= settings.child_bonus
            pairs.append((score, -ki, ti, t, k))
    _take(pairs, out, used, reuse_rows=True)
    _subfields_by_place(form, keys, rows, out, used, settings)
    return out


def _subfields_by_place(form: FormDecl, keys: list[Key], rows: list[Row], out: dict[str, Assignment], used: set[int], settings: AssignSettings) -> None:
    """Sub-labelled fields whose label was not read (税込 read as 税達 under 提供価格), found by
    their place in their group outside tables: between the group's sub-labels found before and
    after them in the declared order (or the group's end, its next key that is no sub-label of
    it), as many lines without a key as fields are missing there, taken in order. Order is
    evidence here, and the values are marked for review by the low score."""
    keyed = {k.row for k in keys}
    for row in form.rows():
        row_a = out.get(f"row:{row.label}")
        subs = [f for f in row.fields if f.all_labels() and not f.below and not f.scan]
        if row_a is None or not row_a.key.children or row_a.key.slot.table is not None or len(subs) < 2:
            continue
        group = row_a.key
        end = min((k.row for k in keys if k.row > group.row and k.group is not group), default=len(rows))
        placed = [(i, out[f.key].key.row) for i, f in enumerate(subs) if f.key in out and out[f.key].key.group is group]
        bounds = [(-1, group.row), *placed, (len(subs), end)]
        if any(r2 <= r1 for (_, r1), (_, r2) in zip(bounds, bounds[1:])):
            continue  # sub-labels found out of their declared order: their places say nothing
        for (i1, r1), (i2, r2) in zip(bounds, bounds[1:]):
            missing = [f for f in subs[i1 + 1 : i2] if f.key not in out]
            lines = [ri for ri in range(r1 + 1, r2) if ri not in keyed and any(not slot.empty for slot in rows[ri].slots)]
            if not missing or len(lines) != len(missing):
                continue
            for f, ri in zip(missing, lines):
                line = rows[ri]
                key = Key(line.slots[0], ri, 0, fold(line.slots[0].text), False, True, group=group)
                key.value = Value([p for slot in line.slots for p in slot.parts])
                keys.append(key)
                out[f.key] = Assignment(key, settings.by_place_score, 0.0)
                used.add(id(key))


def _rows_by_place(form: FormDecl, keys: list[Key], rows: list[Row], out: dict[str, Assignment], used: set[int], settings: AssignSettings) -> None:
    """Rows whose label was not read, found by their place: between the rows found before and
    after them in the declared order, as many unlabelled table rows (a first cell in the label
    column with a value beside it) as rows are missing there. Order is evidence here, and the
    values are marked for review by the low score."""
    declared = [r for r in form.rows() if r.fields]
    index = {r.label: i for i, r in enumerate(declared)}
    found = sorted((index[n[4:]], a.key) for n, a in out.items() if n.startswith("row:") and n[4:] in index)
    keyed = {id(k.slot) for k in keys}
    for (i1, k1), (i2, k2) in zip(found, found[1:]):
        missing = [r for r in declared[i1 + 1 : i2] if f"row:{r.label}" not in out]
        if not missing or k1.slot.cell is None or k2.slot.cell is None or k2.row <= k1.row:
            continue
        candidates = _unlabelled_rows(k1, k2, rows, keyed)
        if len(candidates) != len(missing):
            continue
        for row, key in zip(missing, candidates):
            keys.append(key)
            out[f"row:{row.label}"] = Assignment(key, settings.by_place_score, 0.0)
            used.add(id(key))


def _unlabelled_rows(k1: Key, k2: Key, rows: list[Row], keyed: set[int]) -> list[Key]:
    c1 = k1.slot.cell
    assert c1 is not None
    label_x = (k1.slot.bbox[0], k2.slot.bbox[0])
    out: list[Key] = []
    for ri in range(k1.row + 1, k2.row):
        row = rows[ri]
        first = row.slots[0]
        if first.cell is None or len(row.slots) < 2 or id(first) in keyed:
            continue
        if row.table == k1.slot.table and first.cell.row <= c1.last_row:
            continue  # a row the label above spans
        if min(abs(first.bbox[0] - x) for x in label_x) > 6.0 or first.empty:
            continue
        values = row.slots[1:]
        if all(s.empty for s in values) or sum(any(ch in MARKS for ch in s.text) for s in row.slots) >= 2:
            continue  # nothing beside it, or a grid of choices
        text, numbered = _slot_label_text(first)
        key = Key(first, ri, 0, text, numbered, True)
        key.value = Value([p for s in values for p in s.parts])
        out.append(key)
    return out


def _take(pairs: list[tuple[float, int, int, Target, Key]], out: dict[str, Assignment], used: set[int], reuse_rows: bool = False) -> None:
    pairs.sort(key=lambda p: (p[0], p[1]), reverse=True)
    best_by_target: dict[str, list[float]] = {}
    for score, _, _, t, k in pairs:
        best_by_target.setdefault(t.name, []).append(score)
    for score, _, _, t, k in pairs:
        if t.name in out:
            continue
        if id(k) in used and not reuse_rows:
            continue
        if id(k) in used and reuse_rows and not any(a.key is k and n.startswith("row:") for n, a in out.items()):
            continue
        scores = best_by_target[t.name]
        runner = next((s for s in scores if s < score), 0.0) if scores.count(score) == 1 else score
        out[t.name] = Assignment(k, score, score - runner)
        used.add(id(k))


# --- values ---------------------------------------------------------------------------------


@dataclass
class Reading:
    value: Any
    raw: str
    parts: list[Part]
    fit: float
    #: ``empty`` / ``unparsed`` when there is no value.
    reason: str | None = None
    #: How sure the reading is where it is not the text's own confidence (the marks' for
    #: choices).
    conf: float | None = None


def _join_lines(texts: list[str]) -> str:
    out = ""
    for p in (t.replace("\t", " ").strip() for t in texts):
        if not p:
            continue
        if out and out[-1].isascii() and p[0].isascii() and out[-1].isalnum() and p[0].isalnum():
            out += " "
        out += p
    return out


def text_of(parts: list[Part]) -> str:
    return _join_lines([p.text for p in parts])


def read_value(f: FieldDecl, value: Value, siblings: list[FieldDecl]) -> Reading:
    parts = value.parts
    if value.blank or not any(p.text.strip() for p in parts):
        return Reading(None, "", parts, 0.0, "empty")
    if f.choices:
        boxes = _read_choices(f, parts)
        if f.read_as == "boxes" or boxes.value is not None:
            return boxes
        return _read_statement(f, parts)
    text = text_of(parts)
    if f.type in ("email", "url", "phone", "postal_code"):
        # an address wrapped onto the next line (…teuchi.c / o.jp) is one word; what stands
        # beside it on its own line (the next cell) is not
        text = _words_unwrapped(parts)
    if f.prefix or (f.suffix and f.type not in ("yen", "int")):
        # a detail follows the last choice of its row (市内 ☑市外（群馬県前橋市）)
        inner = _between(_after_last_choice(text, siblings) or text, f.prefix, f.suffix)
        if inner is None and f.prefix:
            inner = _after_choices(text, siblings, f.suffix)
        if inner is None:
            return Reading(None, text, parts, 0.0, "empty")
        text = inner
        parts = _narrow(parts, inner)
    elif f.type in ("yen", "int") and len([s for s in siblings if s.type in ("yen", "int")]) > 1:
        picked = _amount_for(f, siblings, re.sub(r"(?<=\d)\s*([,，])\s*(?=\d{3})", r"\1", text))
        if picked is None:
            return Reading(None, text, parts, 0.0, "unparsed")
        text = picked
        parts = _narrow(parts, re.sub(r"\s+", "", picked).split("円")[0].lstrip("¥￥"))
    if f.pattern:
        m = re.search(f.pattern, unicodedata.normalize("NFKC", text))
        if m is None:
            return Reading(None, text, parts, 0.0, "unparsed")
        text = m.group(1) if m.groups() else m.group(0)
    text = text.strip(" 　\t:：")
    if f.type not in ("text", "katakana"):
        text = text.strip(".,;・。、 ")  # specks beside a number or an address
    if f.type in ("yen", "int"):
        text = re.sub(r"(?<=\d)[,.，．]{2,}(?=\d)", ",", text)  # a comma read twice (10,.810)
        text = re.sub(r"(?<=\d)\s*([,，])\s*(?=\d{3})", r"\1", text)  # 10， 000
    if f.type in ("yen", "int") and len(parts) > 1:
        parts = [p for p in parts if any(ch.isdigit() for ch in unicodedata.normalize("NFKC", p.text))][:1] or parts
    if any(p.line.ocr for p in parts):
        text = _ocr_cleanup(f, text)
    if not text or text in ("-", "－", "―", "なし") and f.type not in ("text", "katakana"):
        return Reading(None, text, parts, 0.0, "empty")
    norm = normalize.normalize_value(f.type, text)
    if (norm.value is None or norm.value == "") and f.type in SPECK_FREE_TYPES and any(p.line.ocr for p in parts):
        # specks read into a typed value (0279-22-79.07): the value without them, for review
        bare = re.sub(r"[.,'`・:;]", "", text) if f.type != "yen" else re.sub(r"[.'`・:;]", "", text)
        again = normalize.normalize_value(f.type, bare)
        if again.value not in (None, ""):
            return Reading(again.value, text, parts, min(again.fit, 0.6))
    if norm.value is None or norm.value == "":
        return Reading(None, text, parts, 0.0, "unparsed")
    # a value written into printed wording (梱包重量　kg　サイズ) as the wording filled in,
    # without the spaces the page puts between the blanks and the words
    return Reading(f.tidy_guided(norm.value), text, parts, norm.fit)


LOOKALIKES_PATH = Path(__file__).resolve().parents[1] / "forms" / "vocabulary" / "script_lookalikes.tsv"


@lru_cache(maxsize=1)
def _lookalikes() -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for line in LOOKALIKES_PATH.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            read, meant, script = line.split("\t")
            out[read] = (meant, script.strip())
    return out


def script_of(ch: str) -> str | None:
    if "\u30a0" <= ch <= "\u30ff":
        return "katakana"
    if "\u4e00" <= ch <= "\u9fff" or ch == "々":
        return "kanji"
    if "\u3040" <= ch <= "\u309f":
        return "hiragana"
    return None


def put_right_lookalikes(text: str) -> str:
    """Look-alikes of another script put right by the characters beside them: neither of
    their script, one of the meant script (data: forms/vocabulary/script_lookalikes.tsv)."""
    table = _lookalikes()
    chars = list(text)
    for i, ch in enumerate(text):
        if ch not in table:
            continue
        meant, script = table[ch]
        beside = [script_of(c) for c in chars[max(0, i - 1) : i] + chars[i + 1 : i + 2]]
        own = script_of(ch)
        if script in beside and own not in beside:
            chars[i] = meant
    return "".join(chars)


def _words_unwrapped(parts: list[Part]) -> str:
    out = ""
    for i, p in enumerate(parts):
        piece = p.text.strip()
        if i and out and piece:
            below = p.line.y0 >= parts[i - 1].line.y1 - 0.3 * parts[i - 1].line.height
            out += "" if below else " "
        out += piece
    return out


def _narrow(parts: list[Part], needle: str) -> list[Part]:
    """The parts cut to where ``needle`` stands (one amount of several in a cell), so that
    its box is its own; all of them when it cannot be placed."""
    needle = needle.strip()
    if not needle:
        return parts
    for p in parts:
        raw = p.text
        t = unicodedata.normalize("NFKC", raw)
        k = t.find(needle)
        if k >= 0 and len(t) == len(raw):
            return [Part(p.line, p.start + k, p.start + k + len(needle))]
    return parts


def _after_last_choice(text: str, siblings: list[FieldDecl]) -> str | None:
    t = unicodedata.normalize("NFKC", text)
    end = -1
    for s in siblings:
        for c in s.choices:
            for lab in (c.label, *c.variants):
                k = t.rfind(unicodedata.normalize("NFKC", lab))
                if k >= 0:
                    end = max(end, k + len(lab))
    return t[end:] if end >= 0 else None


def _after_choices(text: str, siblings: list[FieldDecl], suffix: str | None) -> str | None:
    """A detail whose opening bracket was lost (☑ 市外 群馬県沼田市)): what follows the last
    choice label of the row, up to the closing bracket."""
    rest = _after_last_choice(text, siblings)
    if rest is None:
        return None
    if suffix:
        rest = rest.split(unicodedata.normalize("NFKC", suffix))[0]
    rest = rest.strip(" \t\n" + "".join(MARKS) + "()（）")
    return rest or None


def _ocr_cleanup(f: FieldDecl, text: str) -> str:
    """What a scan does to values of a type, undone before they are parsed: a web address's
    end (.co.jd)."""
    from extract.repairs import repair_domain

    if f.type in ("email", "url"):
        # a Latin letter read with a mark it does not have (şales@): an address has none
        bare = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
        return repair_domain(bare)
    if f.type in ("text", "katakana"):
        text = put_right_lookalikes(text)
    if f.type == "text":
        # a speck read as a full stop between or after Japanese characters (星野.美咲.), a
        # separator read twice (60サイズ・・3.2kg), a speck at the end (1.1kg.)
        text = re.sub(r"(?<=[^\x00-\x7f])\.+(?=[^\x00-\x7f])", " ", text)
        text = re.sub(r"([・、.])\1+", r"\1", text)
        text = text.rstrip(".・,'`")
        # Japanese prose has no semicolon: one between Japanese characters is a 、 (醸した;香り)
        text = re.sub(r"(?<=[^\x00-\x7f])[;；](?=[^\x00-\x7f])", "、", text)
        # a wave dash is read as 〜 whether printed ～ or 〜: as typed text gives it (NFKC ～ → ~)
        text = text.replace("〜", "~")
    return text


def _between(text: str, prefix: str | None, suffix: str | None) -> str | None:
    """The text inside ``prefix`` … ``suffix`` (市外（群馬県前橋市）): from the first prefix to
    the suffix that closes it, brackets inside kept (北海道(小豆))."""
    t = unicodedata.normalize("NFKC", text)
    p = unicodedata.normalize("NFKC", prefix) if prefix else None
    s = unicodedata.normalize("NFKC", suffix) if suffix else None
    start = 0
    if p:
        i = t.find(p)
        if i < 0:
            return None
        start = i + len(p)
    end = len(t)
    if s:
        depth = 0
        for k in range(start, len(t)):
            if p and t.startswith(p, k):
                depth += 1
            elif t.startswith(s, k):
                if depth == 0:
                    end = k
                    break
                depth -= 1
    inner = t[start:end].strip()
    return inner or None


def _amount_for(f: FieldDecl, siblings: list[FieldDecl], text: str) -> str | None:
    """The amount of ``f`` among several in one cell: by the qualifier printed with it (税抜,
    税込), else by the declared order."""
    t = unicodedata.normalize("NFKC", text)
    found = [m for m in re.finditer(r"[¥￥]?\s*\d(?:[\d,.:;]*\d)?\s*円?\s*(?:\(([^)]*)\))?", t)]
    found = [m for m in found if re.search(r"\d", m.group(0))]
    if not found:
        return None
    amounts = [s for s in siblings if s.type in ("yen", "int")]
    mine = _qualifiers(f)
    for m in found:
        q = fold(m.group(1) or "")
        if q and any(x in q for x in mine):
            return m.group(0)
    others = [q for s in amounts if s is not f for q in _qualifiers(s)]
    unqualified = [m for m in found if not any(x in fold(m.group(1) or "") for x in others)]
    idx = amounts.index(f)
    if len(found) == len(amounts):
        return found[idx].group(0)
    if len(unqualified) == 1:
        return unqualified[0].group(0)
    return None


def _qualifiers(f: FieldDecl) -> list[str]:
    out = [fold(x) for x in f.all_labels()]
    if f.suffix:
        inner = re.search(r"[（(]([^）)]*)[)）]", f.suffix)
        if inner:
            out.append(fold(inner.group(1)))
    return [x for x in out if x]


def _read_choices(f: FieldDecl, parts: list[Part]) -> Reading:
    """Choices by the marks beside their printed labels. Labels found as printed decide;
    where some are misread (OCR), the row is cut into (text, mark) items at its marks and the
    items aligned to the declared choices in order, by edit distance."""
    # wrapped lines joined: a label may be cut at the line's end (佐川 / 急便); a mark at
    # either side of the break stays apart from the next line's label
    raw, owners = _joined(parts)
    text = unicodedata.normalize("NFKC", raw)
    if len(text) != len(raw):
        text = raw
    states, mark_at = _choices_by_label(f, text)
    if len({v for v, _ in states}) < len(f.choices):
        # the choices whose label was misread, from the row's items in order
        aligned, aligned_marks = _choices_by_items(f, text)
        have = {v for v, _ in states}
        extra = [(v, m) for v, m in aligned if v not in have and m]
        if extra or not states:
            states = states + extra if states else aligned
            mark_at = mark_at + aligned_marks
    if not states:
        return Reading(None, text, parts, 0.0, "unparsed")
    if all(m is None for _, m in states):
        if f.type == "multi_choice" and len({v for v, _ in states}) == len(f.choices):
            # every choice printed and none marked (a grid ticked only where chosen)
            return Reading([], text, parts, 0.7 if any(p.line.ocr for p in parts) else 1.0)
        return Reading(None, text, parts, 0.0, "unparsed")
    chosen: list[Any] = []
    for value, mark in states:
        if mark and value not in chosen:
            chosen.append(value)
    confs = [owners[i].conf for i in mark_at if i in owners]
    conf = min(confs) if confs else None
    # some choices' labels not found: their marks are unknown, unless the row is a grid of
    # boxes (empty ones among its marks) and every ticked mark of it is one of the choices
    # found (28 allergens with one label misread and its box empty). A ring drawn round a
    # label leaves no empty mark by the others: there an unfound label may be the ringed one.
    ticks = {i for i, ch in enumerate(text) if ch in CHECKED_MARKS and _is_mark(text, i) and not _in_brackets(text, i)}
    boxed = any(text[i] in UNCHECKED_MARKS for i in mark_at)
    found_all = len({v for v, _ in states}) == len(f.choices)
    fit = 1.0 if found_all or (f.type == "multi_choice" and boxed and ticks <= set(mark_at)) else 0.7
    if f.type == "multi_choice":
        return Reading(chosen, text, parts, fit, conf=conf)
    if len(chosen) != 1:
        if not chosen:
            return Reading(None, text, parts, 0.0, "empty")
        return Reading(chosen[0], text, parts, 0.3, conf=conf)
    return Reading(chosen[0], text, parts, fit, conf=conf)


def _joined(parts: list[Part]) -> tuple[str, dict[int, Any]]:
    """The parts' text as one row of choices, and for each character the word it was read
    from."""
    raw = ""
    owners: dict[int, Any] = {}
    for p in parts:
        piece = p.text
        if raw and piece and (raw[-1] in MARKS or piece[0] in MARKS):
            raw += " "
        for i in range(p.start, p.end):
            o = p.line.owners[i] if i < len(p.line.owners) else -1
            if o >= 0:
                owners[len(raw) + i - p.start] = p.line.words[o]
        raw += piece
    return raw, owners


def _choices_by_label(f: FieldDecl, text: str) -> tuple[list[tuple[Any, bool | None]], list[int]]:
    spots: list[tuple[int, int, Any]] = []
    taken: list[tuple[int, int]] = []
    labels = sorted(
        ((unicodedata.normalize("NFKC", lab), c.value) for c in f.choices for lab in (c.label, *c.variants)),
        key=lambda x: -len(x[0]),
    )
    for lab, value in labels:
        for m in re.finditer(re.escape(lab), text):
            a, b = m.start(), m.end()
            if any(a < y and x < b for x, y in taken):
                continue
            spots.append((a, b, value))
            taken.append((a, b))
    if not spots:
        return [], []
    spots.sort()
    box_after = _marks_after(f, text, spots)
    states: list[tuple[Any, bool | None]] = []
    marks: list[int] = []
    for i, (a, b, value) in enumerate(spots):
        lo = spots[i - 1][1] if i else 0
        hi = spots[i + 1][0] if i + 1 < len(spots) else len(text)
        found = _mark_near(text, b, hi, before=False) if box_after else _mark_near(text, lo, a, before=True)
        states.append((value, None if found is None else found[0]))
        if found is not None:
            marks.append(found[1])
    if any(m is not None for _, m in states):
        # a tick printed only beside the chosen (市内 ✓): no mark means not chosen
        states = [(v, bool(m)) for v, m in states]
    return states, marks


#: Marks printed after the label they tick, when nothing else tells (市内 ✓ 市外).
TICK_MARKS = frozenset("✓✔√")


def _marks_after(f: FieldDecl, text: str, spots: list[tuple[int, int, Any]]) -> bool:
    """Whether the row's marks stand after their labels. A row that opens with a mark has
    them before (☑市内 □市外); else the reading under which more labels have a mark beside
    them (卵 □ … りんご ☑ after, whatever the free text after the grid names); else the
    marks glued to a label on one side (OCR drops spaces and some empty marks: 市内 ●市外),
    then the glyph (a tick goes after, a box or dot before), then the declaration."""
    lead = text[: spots[0][0]].strip()
    if lead and lead[-1] in MARKS:
        return False
    # the reading under which more labels have a mark beside them
    marked_after = marked_before = 0
    for i, (a, b, _) in enumerate(spots):
        lo = spots[i - 1][1] if i else 0
        hi = spots[i + 1][0] if i + 1 < len(spots) else len(text)
        marked_after += _mark_near(text, b, hi, before=False) is not None
        marked_before += _mark_near(text, lo, a, before=True) is not None
    if marked_after != marked_before:
        return marked_after > marked_before
    before = after = 0
    for i, (a, b, _) in enumerate(spots):
        if a > 0 and (text[a - 1] in MARKS or (text[a - 1] in _SPECKS and a > 1 and text[a - 2] in MARKS)):
            before += 1
        if b < len(text) and (text[b] in MARKS or (text[b] in _SPECKS and b + 1 < len(text) and text[b + 1] in MARKS)):
            after += 1
    if before != after:
        return after > before
    marks = [ch for i, ch in enumerate(text) if _is_mark(text, i)]
    if marks:
        return all(ch in TICK_MARKS for ch in marks)
    return f.box == "after"


def _in_brackets(text: str, i: int) -> bool:
    """``text[i]`` stands alone in brackets: the mark a note shows (チェック(✓)をつけて)."""
    return 0 < i < len(text) - 1 and text[i - 1] in "(（" and text[i + 1] in ")）"


def _is_mark(text: str, i: int) -> bool:
    """Whether ``text[i]`` is a mark: レ inside a katakana word (アレルギー) is a letter."""
    ch = text[i]
    if ch not in MARKS:
        return False
    if ch == "レ":
        return not (i > 0 and script_of(text[i - 1]) == "katakana")
    return True


def _choices_by_items(f: FieldDecl, text: str) -> tuple[list[tuple[Any, bool | None]], list[int]]:
    marks = [i for i in range(len(text)) if _is_mark(text, i)]
    if not marks:
        return [], []
    box_after = marks[0] > 0 and bool(text[: marks[0]].strip())
    items: list[tuple[str, bool, int]] = []
    bounds = [-1, *marks, len(text)]
    for k, m in enumerate(marks):
        if box_after:
            label = text[bounds[k] + 1 : m]
        else:
            label = text[m + 1 : bounds[k + 2]]
        items.append((fold(re.split(r"[（(※]", label)[0]), text[m] in CHECKED_MARKS, m))
    choices = [(c.value, [fold(x) for x in (c.label, *c.variants)]) for c in f.choices]
    # order-preserving alignment of items to choices, maximising label likeness
    n, m_ = len(items), len(choices)
    best = [[0.0] * (m_ + 1) for _ in range(n + 1)]
    move = [[0] * (m_ + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m_ - 1, -1, -1):
            sim = max(fuzz.ratio(items[i][0], lab) for lab in choices[j][1]) if items[i][0] else 0.0
            options = [(best[i + 1][j], 1), (best[i][j + 1], 2)]
            if sim >= 34:
                options.append((best[i + 1][j + 1] + sim, 3))
            best[i][j], move[i][j] = max(options)
    i = j = 0
    paired: dict[Any, tuple[bool, int]] = {}
    while i < n and j < m_:
        if move[i][j] == 3:
            paired[choices[j][0]] = (items[i][1], items[i][2])
            i, j = i + 1, j + 1
        elif move[i][j] == 1:
            i += 1
        else:
            j += 1
    if not paired:
        return [], []
    states = [(value, paired[value][0] if value in paired else False) for value, _ in choices]
    return states, [paired[v][1] for v in paired]


def _read_statement(f: FieldDecl, parts: list[Part]) -> Reading:
    """The choice whose statement (滞納はありません) the value's text holds."""
    text = fold("".join(p.text for p in parts))
    phrases = sorted(((fold(x), c.value) for c in f.choices for x in (c.label, *c.variants)), key=lambda p: -len(p[0]))
    for phrase, value in phrases:
        if phrase and phrase in text:
            return Reading(value, phrase, parts, 1.0)
    return Reading(None, text, parts, 0.0, "unparsed")


#: What a scan leaves between a label and its mark that is no character: a speck read as a dot.
_SPECKS = frozenset("・･.,、")


def _mark_near(text: str, lo: int, hi: int, *, before: bool) -> tuple[bool, int] | None:
    """The state and place of the mark next to a choice label: the nearest mark glyph
    between the label and its neighbour, only blanks and at most one speck between (小麦・√)."""
    order = range(hi - 1, lo - 1, -1) if before else range(lo, hi)
    specks = 0
    for i in order:
        ch = text[i]
        if ch.isspace():
            continue
        if ch in _SPECKS and specks == 0:
            specks += 1
            continue
        if ch in CHECKED_MARKS:
            return True, i
        if ch in UNCHECKED_MARKS:
            return False, i
        return None
    return None


# --- the whole form --------------------------------------------------------------------------


@dataclass
class Found:
    key: str
    reading: Reading
    label_score: float
    margin: float
    page: int
    source: str


@dataclass
class StructuredResult:
    found: dict[str, Found]
    #: Fields without a value: key → reason.
    missing: dict[str, str]
    #: Text where a field's value stands that did not read as its type.
    unparsed: dict[str, Found] = field(default_factory=dict)


def read_form(form: FormDecl, pages: list[Page], settings: AssignSettings = SETTINGS) -> StructuredResult:
    rows = document_of(pages)
    targets = targets_of(form)
    titles = tuple(fold(t) for t in (form.title, *form.title_variants))
    keys = find_keys(rows, targets, settings, titles)
    group_keys(keys, targets, settings)
    assigned = assign(form, keys, targets, rows, settings)
    sources = {p.number: p.source for p in pages}
    found: dict[str, Found] = {}
    missing: dict[str, str] = {}
    unparsed: dict[str, Found] = {}
    order = {r.label: i for i, r in enumerate(form.rows())}
    keyed_rows = {k.row for k in keys}
    for row in form.rows():
        row_a = assigned.get(f"row:{row.label}")
        own_keys = {f.key for f in row.fields if f.key in assigned and (row_a is None or assigned[f.key].key is not row_a.key)}
        for f in row.fields:
            a = assigned.get(f.key)
            own = a if f.key in own_keys else None
            chosen = own or row_a
            reading: Reading | None = None
            if f.scan:
                if row_a is not None:
                    reading = _scan_value(f, rows, max(0, row_a.key.row - 3), row_a.key.row + 5, near=row_a.key.row)
                if reading is None:
                    later = [a.key.row for n, a in assigned.items() if n.startswith("row:") and order[n[4:]] > order[row.label]]
                    reading = _scan_value(f, rows, 0, min(later, default=len(rows)))
                chosen = chosen or (Assignment(_pseudo_key(reading), SCANNED_SCORE, NO_RIVAL) if reading and reading.parts else None)
            elif f.below:
                if row_a is not None:
                    below = _below(row_a.key, rows, assigned)
                    reading = read_value(f, below, list(row.fields)) if below.parts else Reading(None, "", [], 0.0, "empty")
            elif own is not None:
                if own.key.value is not None:
                    reading = read_value(f, _with_continuation(own.key, f, rows, keyed_rows), [f])
                elif own.key.column and not f.choices:
                    reading = _read_column(f, own.key)
                else:
                    reading = Reading(None, "", [], 0.0, "empty")
            elif row_a is not None:
                shared = [s for s in row.fields if s.key not in own_keys and not s.below and not s.scan]
                if f.all_labels() and f.type not in ("yen", "int") and not _same_label(f, row) and len(shared) > 1:
                    reading = None
                elif row_a.key.value is not None:
                    value = _with_continuation(row_a.key, f, rows, keyed_rows) if len(shared) == 1 else row_a.key.value
                    reading = read_value(f, value, shared)
                elif row_a.key.column and not f.choices:
                    reading = _read_column(f, row_a.key)
                else:
                    reading = Reading(None, "", [], 0.0, "empty")
            if reading is None:
                missing[f.key] = "label_not_found"
                continue
            page = reading.parts[0].line.page if reading.parts else (chosen.key.slot.page if chosen else 1)
            score, margin = (min(chosen.score, 100.0), chosen.margin) if chosen else (70.0, 0.0)
            if reading.value is None:
                missing[f.key] = reading.reason or "unparsed"
                if missing[f.key] == "unparsed" and reading.parts:
                    unparsed[f.key] = Found(f.key, reading, score, margin, page, sources.get(page, "text"))
                continue
            found[f.key] = Found(f.key, reading, score, margin, page, sources.get(page, "text"))
    # a value of a type that tells itself (〒 lost: T377-0102) between the rows around it
    for row in form.rows():
        for f in row.fields:
            if missing.get(f.key) != "label_not_found" or f.type not in SELF_EVIDENT_TYPES:
                continue
            start, end = _neighbours(form, row, assigned, rows)
            taken = {id(p.line) for x in found.values() for p in x.reading.parts}
            reading = _scan_value(f, rows, start, end, skip=taken)
            if reading is not None:
                page = reading.parts[0].line.page if reading.parts else 1
                found[f.key] = Found(f.key, reading, settings.by_place_score, 0.0, page, sources.get(page, "text"))
                missing.pop(f.key)
    # statements (滞納はありません) count wherever they stand, even without their row's label
    for f in form.fields():
        if f.key not in found and f.choices and f.read_as == "phrases":
            reading = read_statement_anywhere(f, rows)
            if reading is not None:
                page = reading.parts[0].line.page if reading.parts else 1
                found[f.key] = Found(f.key, reading, 90.0, 10.0, page, sources.get(page, "text"))
                missing.pop(f.key, None)
    return StructuredResult(found, missing, unparsed)


#: A value found by its type where its form puts it (a date under the title), with no label
#: of its own: less sure than a label read right, but no close call either, since no other
#: cell competed for it (zoo scans: 190 such dates and issuers, none wrong).
SCANNED_SCORE = 80.0
NO_RIVAL = 100.0


def _pseudo_key(reading: Reading | None) -> Key:
    assert reading is not None and reading.parts
    part = reading.parts[0]
    slot = Slot(part.line.page, part.line.span_box(part.start, part.end) or (0, 0, 0, 0), reading.parts)
    return Key(slot, 0, 0, "", False, False)


def _neighbours(form: FormDecl, row: RowDecl, assigned: dict[str, Assignment], rows: list[Row]) -> tuple[int, int]:
    """The document rows between the keys of the declared rows found before and after ``row``."""
    order = [r.label for r in form.rows()]
    i = order.index(row.label)
    before = [assigned[f"row:{lab}"].key.row for lab in order[:i] if f"row:{lab}" in assigned]
    after = [assigned[f"row:{lab}"].key.row for lab in order[i + 1 :] if f"row:{lab}" in assigned]
    return (max(before) + 1 if before else 0), (min(after) if after else len(rows))


def _scan_value(
    f: FieldDecl, rows: list[Row], start: int, end: int, near: int | None = None, skip: set[int] | None = None
) -> Reading | None:
    """The first value of the field's type in rows ``start`` to ``end`` (a date under the
    title, the issuer's line), wherever it stands there; the rows nearest ``near`` first."""
    span = range(start, min(end, len(rows)))
    if near is not None:
        span = sorted(span, key=lambda r: (abs(r - near), r))  # type: ignore[assignment]
    for r in span:
        for slot in rows[r].slots:
            if slot.empty or (skip and any(id(p.line) in skip for p in slot.parts)):
                continue
            reading = read_value(f, Value(slot.parts), [f])
            if reading.value is not None:
                return reading
        if len(rows[r].slots) > 1:
            # a value cut into cells (a seal's frame taken for rules: 令和7年7月 | 29日)
            reading = read_value(f, Value([p for s in rows[r].slots for p in s.parts]), [f])
            if reading.value is not None:
                return reading
    return None


#: A statement read with fewer characters right than this (in percent) does not count, unless
#: it is long enough that one wrong character leaves it plain (滞納はありません read as
#: 清納はありません); 滞納あり and 滞納なし, two characters apart, stay too short to forgive.
PHRASE_FLOOR = 88.0
PHRASE_ONE_OFF_LENGTH = 6


def read_statement_anywhere(f: FieldDecl, rows: list[Row]) -> Reading | None:
    """A statement anywhere in the document that decides the field (滞納はありません → true);
    one printed as a choice and left unticked (☐ 滞納があります) does not count."""
    best: tuple[float, Any, list[Part]] | None = None
    for ri, row in enumerate(rows):
        for slot in row.slots:
            parts = list(slot.parts)
            if slot.table is None and ri + 1 < len(rows) and rows[ri + 1].table is None:
                parts += rows[ri + 1].slots[0].parts  # a statement wrapped onto the next line
            raw = "".join(p.text for p in parts)
            text = fold(raw)
            if not text:
                continue
            for c in f.choices:
                for phrase in (c.label, *c.variants):
                    key = fold(phrase)
                    if not key or len(text) < len(key):
                        continue
                    k = text.find(key)
                    if k >= 0:
                        if text[:k].rstrip()[-1:] in UNCHECKED_MARKS:
                            continue
                        score = 100.0
                    else:
                        al = fuzz.partial_ratio_alignment(key, text)
                        floor = PHRASE_FLOOR if len(key) < PHRASE_ONE_OFF_LENGTH else min(PHRASE_FLOOR, 100 * (1 - 1 / len(key)) - 0.5)
                        if al.score < floor:
                            continue
                        score = al.score
                    if best is None or score > best[0]:
                        best = (score, c.value, parts)
    if best is None:
        return None
    return Reading(best[1], "".join(p.text for p in best[2]), best[2], best[0] / 100)


def document_of(pages: list[Page]) -> list[Row]:
    return document_rows([build_structure(p) for p in pages])


def labels_found(form: FormDecl, lines: list[Line], settings: AssignSettings = SETTINGS) -> tuple[int, int]:
    """How many of the form's rows (those with fields) have their label among ``lines``, and
    of how many: how much a page looks like the form, whatever its title says."""
    lines = [line for line in lines if line.words]
    rows = document_rows([PageStructure(page=None, tables=[], lines=lines)])  # type: ignore[arg-type]
    targets = targets_of(form)
    row_targets = [t for t in targets if t.field is None and t.row.fields]
    if not row_targets or not rows:
        return 0, len(row_targets)
    keys = find_keys(rows, targets, settings)
    floor = settings.whole_ocr if any(line.ocr for line in lines) else settings.whole_digital
    found = sum(1 for t in row_targets if any(likeness(k.text, t.labels) >= floor for k in keys))
    return found, len(row_targets)


def _with_continuation(key: Key, f: FieldDecl, rows: list[Row], keyed_rows: set[int]) -> Value:
    """A text value written after its label on a line outside tables, and wrapped: the lines
    under it that start where the label or the value starts, close below, hold no label."""
    value = key.value
    assert value is not None
    if f.type != "text" or key.whole or key.slot.table is not None or value.blank:
        return value
    first = value.parts[0]
    value_x = first.line.span_box(first.start, first.end)
    if value_x is None:
        return value
    lefts = (key.slot.bbox[0], value_x[0])
    height = key.slot.bbox[3] - key.slot.bbox[1]
    last_y = key.slot.bbox[3]
    parts = list(value.parts)
    r = key.row + 1
    while r < len(rows) and r not in keyed_rows and rows[r].table is None and rows[r].page == key.slot.page:
        slot = rows[r].slots[0]
        if len(rows[r].slots) > 1 or slot.bbox[1] - last_y > 0.8 * height or min(abs(slot.bbox[0] - x) for x in lefts) > 2.0:
            break
        parts.extend(slot.parts)
        last_y = slot.bbox[3]
        r += 1
    return Value(parts)


def _same_label(f: FieldDecl, row: RowDecl) -> bool:
    rows = {fold(x) for x in row.all_labels()}
    return any(fold(x) in rows for x in f.all_labels())


def _below(key: Key, rows: list[Row], assigned: dict[str, Assignment]) -> Value:
    """The rows after ``key``'s row up to the next assigned key's row: a grid of choices."""
    taken_rows = sorted({a.key.row for a in assigned.values() if a.key.row > key.row})
    end = taken_rows[0] if taken_rows else len(rows)
    own = {id(p.line) for p in key.value.parts} if key.value is not None else set()
    parts: list[Part] = []
    for r in range(key.row + 1, end):
        if any(id(p.line) in own for s in rows[r].slots for p in s.parts):
            continue  # the row's own value, stacked under its label
        for s in rows[r].slots:
            parts.extend(s.parts)
    return Value(parts)


def _read_column(f: FieldDecl, key: Key) -> Reading:
    cells = [s for s in key.column if not s.empty]
    # a total row is no data row
    parts = [p for s in cells for p in s.parts]
    if not cells:
        return Reading(None, "", parts, 0.0, "empty")
    if f.type in ("yen", "int"):
        total = 0
        fits = []
        for s in cells:
            one = read_value(f, Value(s.parts), [f])
            if one.value is None:
                return Reading(None, text_of(s.parts), s.parts, 0.0, "unparsed")
            total += int(one.value)
            fits.append(one.fit)
        return Reading(total, "・".join(text_of(s.parts) for s in cells), parts, min(fits))
    texts = [text_of(s.parts) for s in cells]
    return Reading("・".join(dict.fromkeys(texts)), "・".join(texts), parts, 1.0)


def bbox_of(parts: list[Part]) -> tuple[int | None, BBox | None]:
    boxes = [p.line.span_box(p.start, p.end) for p in parts]
    boxes = [b for b in boxes if b is not None]
    page = parts[0].line.page if parts else None
    return page, union(boxes) if boxes else None


def conf_of(parts: list[Part]) -> float:
    confs = [p.line.span_conf(p.start, p.end) for p in parts if p.end > p.start]
    return min(confs) if confs else 1.0

