"""Small kana told from large ones by the size of their ink (extract/kana_size.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from extract.kana_size import can_be_small, sized_kana, twins
from extract.tesseract import OcrWord

FONTS = [
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf"),
]


def _word(printed: str, read: str, font: Path, size: int = 42) -> tuple[OcrWord, np.ndarray]:
    """``printed`` drawn in ``font`` and an OCR word that read it as ``read``, with each
    character's column and the word's box cut to its ink, as the engine's words come."""
    face = ImageFont.truetype(str(font), size)
    image = Image.new("L", (size * (len(printed) + 2), size * 3), 255)
    draw = ImageDraw.Draw(image)
    x, columns = float(size), []
    for ch in printed:
        draw.text((x, size), ch, font=face, fill=0)
        advance = face.getlength(ch)
        columns.append((int(x), int(x + advance)))
        x += advance
    ink = (np.asarray(image) < 128).astype(np.uint8) * 255
    rows = np.flatnonzero(ink.any(axis=1))
    y0, y1 = int(rows[0]), int(rows[-1]) + 1
    boxes = tuple((a, y0, b, y1) for a, b in columns)
    word = OcrWord(read, (columns[0][0], y0, columns[-1][1], y1), 95.0, char_boxes=boxes)
    return word, ink


@pytest.mark.parametrize("font", [f for f in FONTS if f.exists()], ids=lambda f: f.stem)
@pytest.mark.parametrize(
    ("printed", "read"),
    [
        ("伊香保焼マグカップ", "伊香保焼マグカツプ"),
        ("上州こんにゃく本舗", "上州こんにやく本舗"),
        ("湯の花まんじゅう", "湯の花まんじゆう"),
        ("赤城高原ファーム", "赤城高原フアーム"),
    ],
)
def test_a_large_kana_read_for_a_small_one_is_made_small(printed: str, read: str, font: Path) -> None:
    word, ink = _word(printed, read, font)
    assert [w.text for w in sized_kana([word], ink)] == [printed]


@pytest.mark.parametrize("font", [f for f in FONTS if f.exists()], ids=lambda f: f.stem)
@pytest.mark.parametrize(
    "printed",
    ["伊香保焼マグカツプ", "上州こんにやく本舗", "渋川市役所オレンジ", "北橘町ファーム", "カツ丼の店"],
)
def test_a_kana_printed_large_stays_large(printed: str, font: Path) -> None:
    word, ink = _word(printed, printed, font)
    assert [w.text for w in sized_kana([word], ink)] == [printed]


def test_a_small_kana_is_only_made_where_one_can_stand() -> None:
    table = twins()
    assert can_be_small("マグカツプ", 3, table["ツ"])
    assert can_be_small("こんにやく", 3, table["や"])
    assert not can_be_small("オレンジ", 0, table["オ"])  # never first
    assert not can_be_small("なや", 1, table["や"])  # ゃ follows an i-row kana
    assert not can_be_small("ンツアー", 1, table["ツ"])  # not after ン, not before a vowel
    assert not can_be_small("サイト", 1, table["イ"])


def test_a_word_without_character_boxes_is_left_as_read() -> None:
    word = OcrWord("マグカツプ", (0, 0, 100, 20), 90.0)
    assert sized_kana([word], np.zeros((30, 120), np.uint8)) == [word]
