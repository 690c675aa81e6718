"""Words into lines (extract.layout.build_lines): a scan's line split in two by a word whose
box Tesseract made two lines tall is one line again."""

from __future__ import annotations

from extract.layout import build_lines
from extract.pagemodel import Page, Word


def _page(words: list[Word], source: str = "ocr") -> Page:
    return Page(number=1, width=595, height=842, source=source, words=words)  # type: ignore[arg-type]


def test_a_line_split_by_a_word_two_lines_tall_is_one_line() -> None:
    """Regression (200 dpi scan, city layout): 地元の…漬け込みました。 was given a box down into
    the next line; its centre fell below 焼くだけで食べられま, the end of the same line, and the
    description came out with its halves swapped."""
    words = [
        Word("商品の説明・特", 86, 416, 157, 437, 0.6),
        Word("地元の味噌蔵の味噌に上州豚を漬け込みました。", 175, 416, 399, 436, 0.5),
        Word("焼くだけで食べられま", 409, 415, 509, 426, 0.6),
        Word("(ポータルサイト等に転記し", 62, 440, 159, 450, 0.9),
        Word("す。", 175, 440, 190, 450, 0.9),
    ]
    lines = build_lines(_page(words))
    assert [[w.text for w in line.words] for line in lines] == [
        ["商品の説明・特", "地元の味噌蔵の味噌に上州豚を漬け込みました。", "焼くだけで食べられま"],
        ["(ポータルサイト等に転記し", "す。"],
    ]


def test_lines_that_only_touch_or_whose_words_stand_over_one_another_stay_apart() -> None:
    words = [
        Word("一行目", 100, 100, 160, 110, 0.9), Word("二行目", 100, 108, 160, 118, 0.9),  # touching
        Word("上の行", 300, 200, 360, 210, 0.9), Word("下まで伸びた語", 320, 201, 380, 222, 0.9),  # one over the other
        Word("基準", 500, 300, 520, 310, 0.9),
    ]
    texts = [line.text for line in build_lines(_page(words))]
    assert texts == ["一行目", "二行目", "上の行", "下まで伸びた語", "基準"]


def test_text_layers_are_not_joined() -> None:
    words = [Word("上の行", 100, 100, 160, 121, 1.0), Word("右", 300, 95, 310, 105, 1.0)]
    assert len(build_lines(_page(words, source="text"))) == 2
