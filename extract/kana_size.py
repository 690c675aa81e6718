"""Small kana told from large ones by their ink, not by the recognizer's guess.

A small kana (ッ in マグカップ, ァ in ファーム, ゅ in まんじゅう) is its large twin drawn smaller
and lower in the line; a recognizer trained on whole lines often reads one for the other, and
no dictionary can say which a name holds. The glyph's ink can: for each large kana with a
small twin, the top of its ink, as a fraction of the height of its line's kanji (or plain
kana) below their top, is compared with where each twin sits in print (forms/vocabulary/small_kana.tsv,
measured from the IPA faces); the small one is taken when it is clearly nearer and a small kana
can stand there (ジュ, ファ, カップ: never first, never after ン). Only ever large to small: a
blurred small kana measures large.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
import unicodedata
from pathlib import Path
from typing import NamedTuple

import numpy as np

from extract import tesseract
from extract.keys import is_kana
from extract.lexicon import is_kanji

TABLE = Path(__file__).resolve().parents[1] / "forms" / "vocabulary" / "small_kana.tsv"

#: How much nearer (in fractions of the line's height) a glyph's top must be to where the small
#: twin's stands than to the large one's for it to be made small: they are 0.13 to 0.18 apart.
CLEARLY_NEARER = 0.03
#: A word whose ink is fewer pixels high than this is too small to measure a glyph in.
MIN_WORD_HEIGHT = 14
#: The line's characters are at least this share of the word's box high, else the box holds
#: something else (a mark's edge, a rule's end) and nothing is measured.
FULL_LINE = 0.8
#: The share of a character's column left out on each side when its ink is measured.
COLUMN_INSET = 0.2


class Twin(NamedTuple):
    small: str
    #: Where the top of the large kana and of its small twin stand below the line's top, as
    #: fractions of the line's ink height.
    large_top: float
    small_top: float
    #: The kana the small one can follow ("*": any kana, before one that is not a vowel).
    after: str


@lru_cache(maxsize=1)
def twins() -> dict[str, Twin]:
    """Every large kana with a small twin → the twin, where both sit and what it follows."""
    out: dict[str, Twin] = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        large, small, large_top, small_top, after = line.split("\t")
        out[large] = Twin(small, float(large_top), float(small_top), after)
    return out


#: What a small っ/ッ does not come before: a vowel, ん, ー or nothing.
_NOT_AFTER_SOKUON = set("あいうえおんアイウエオンー")


def can_be_small(text: str, k: int, twin: Twin) -> bool:
    """Whether the small twin of ``text[k]`` could stand there (ジュ, not ジュ at a word's start)."""
    if k == 0:
        return False
    before = text[k - 1]
    if twin.after != "*":
        return before in twin.after
    return is_kana(before) and before not in "んンーッっ・" and k + 1 < len(text) and text[k + 1] not in _NOT_AFTER_SOKUON


def sized_kana(words: Sequence[tesseract.OcrWord], ink: np.ndarray) -> list[tesseract.OcrWord]:
    """``words`` with each large kana whose ink is a small one's size made small.

    Needs the words' character boxes (their columns) and boxes cut back to their ink
    (readers.image.tighten_boxes): the word's ink top and height are the line's."""
    table = twins()
    out = []
    for word in words:
        if len(word.char_boxes) != len(word.text) or not any(ch in table for ch in word.text):
            out.append(word)
            continue
        text = _sized(word, ink, table)
        out.append(word._replace(text=text) if text != word.text else word)
    return out


def _sized(word: tesseract.OcrWord, ink: np.ndarray, table: dict[str, Twin]) -> str:
    x0, y0, x1, y1 = word.box
    if y1 - y0 < MIN_WORD_HEIGHT or len(word.text) < 3:
        return word.text
    crop = np.ascontiguousarray(ink[max(0, y0) : y1, max(0, x0) : x1])
    if not crop.any():
        return word.text
    # each character's ink: the rows inked in the middle of its column (the engine's columns
    # are rough at their edges, and a blurred scan joins neighbours there)
    spans: dict[int, tuple[int, int]] = {}
    for k, (cx0, _, cx1, _) in enumerate(word.char_boxes):
        inset = (cx1 - cx0) * COLUMN_INSET
        core = crop[:, max(0, int(cx0 - x0 + inset)) : max(0, int(cx1 - x0 - inset))]
        rows = np.flatnonzero(core.any(axis=1)) if core.size else []
        if len(rows):
            spans[k] = (int(rows[0]), int(rows[-1]) + 1)
    # the line's top and height are those of its kanji and its kana without a twin: brackets
    # and digits stand higher or lower, and the word's box holds them
    kanji = [spans[k] for k, ch in enumerate(word.text) if k in spans and is_kanji(ch)]
    kana = [spans[k] for k, ch in enumerate(word.text) if k in spans and _plain_kana(ch, table)]
    refs = kanji if len(kanji) >= 2 else kanji + kana
    if len(refs) < 2:
        return word.text
    top = float(np.median([t for t, _ in refs]))
    height = float(np.median([b for _, b in refs])) - top
    if height < max(MIN_WORD_HEIGHT, FULL_LINE * (y1 - y0)):
        # the word's box holds more than its characters (a mark, a rule's end): unmeasurable
        return word.text
    chars = list(word.text)
    for k, ch in enumerate(chars):
        twin = table.get(ch)
        # only ever made small, where a small kana can stand: a large kana read for a small one
        # is the engine's usual mistake; the other way round a blurred small one measures large
        if twin is None or k not in spans or not can_be_small(word.text, k, twin):
            continue
        # its top tells: a small kana's foot is on the line's, like a large one's
        measured = (spans[k][0] - top) / height
        if abs(measured - twin.small_top) + CLEARLY_NEARER < abs(measured - twin.large_top):
            chars[k] = twin.small
    return "".join(chars)


def _plain_kana(ch: str, table: dict[str, Twin]) -> bool:
    """A kana of a line's full height: not a twin, not ー or a small kana, no voicing marks
    (they stand above the line)."""
    plain = ch not in table and ch not in SHORT_KANA and ch not in SMALL
    return is_kana(ch) and plain and len(unicodedata.normalize("NFD", ch)) == 1


#: The small kana, twins or not: never a line's full height.
SMALL = set("ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ")
#: Kana that do not reach the line's top and foot, twin or not.
SHORT_KANA = set("へヘーニこコ・ヽヾゝゞ")
