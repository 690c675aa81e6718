"""The structure stage: tables of cells with spans from any page's rules, words in their cells."""

from __future__ import annotations

from extract.pagemodel import Page, Rule, Word
from extract.structure import build_structure


def _page(words: list[Word], rules: list[Rule]) -> Page:
    return Page(number=1, width=595, height=842, source="text", words=words, rules=rules)


def _grid(xs: list[float], ys: list[float], skip_h: set[tuple[int, int]] = frozenset()) -> list[Rule]:  # type: ignore[assignment]
    """Rules of a grid; ``skip_h`` leaves out the horizontal segment (row line, column) so
    that cells merge across it."""
    rules = [Rule(x, ys[0], x, ys[-1]) for x in xs]
    for i, y in enumerate(ys):
        for j in range(len(xs) - 1):
            if (i, j) not in skip_h:
                rules.append(Rule(xs[j], y, xs[j + 1], y))
    return rules


def test_a_label_cell_merged_over_two_rows_spans_them() -> None:
    rules = _grid([50, 150, 250, 450], [100, 120, 140], skip_h={(1, 0)})
    words = [Word("商品名", 60, 115, 90, 125), Word("フリガナ", 160, 105, 200, 115), Word("商品名", 160, 125, 190, 135),
             Word("シブカワ", 260, 105, 300, 115), Word("りんご", 260, 125, 290, 135)]
    [table] = build_structure(_page(words, rules)).tables
    first = next(c for c in table.cells if c.text == "商品名" and c.col == 0)
    assert (first.row, first.row_span, first.col_span) == (0, 2, 1)
    assert [c.text for c in table.rows()[1]] == ["商品名", "りんご"]


def test_a_table_without_its_outer_border_still_has_cells() -> None:
    # rules only between the rows, and one wall between label and value
    rules = [Rule(50, 120, 450, 120), Rule(50, 140, 450, 140), Rule(150, 100, 150, 160)]
    words = [Word("寄附金額", 60, 125, 100, 135), Word("12,000円", 160, 125, 200, 135)]
    tables = build_structure(_page(words, rules)).tables
    assert any([c.text for c in row] == ["寄附金額", "12,000円"] for t in tables for row in t.rows())


def test_graph_paper_is_no_table_and_its_words_stay_lines() -> None:
    rules = [Rule(20, 20 + i * 6, 575, 20 + i * 6) for i in range(130)] + [Rule(20 + j * 6, 20, 20 + j * 6, 800) for j in range(93)]
    structure = build_structure(_page([Word("メモ", 30, 30, 50, 40)], rules))
    assert structure.tables == [] and [line.text for line in structure.lines] == ["メモ"]
