"""Builds pages of words with boxes from rows of cells, to test the locator on layouts that
no reader produced: other column widths, numbering, fonts sizes and line breaks."""

from __future__ import annotations

from extract.pagemodel import Page, Rule, Word


def char_width(ch: str, size: float) -> float:
    return size * (0.5 if ch.isascii() else 1.0)


def make_page(rows: list[list[str]], *, widths: list[float] | None = None, size: float = 10.5,
              x0: float = 50.0, top: float = 60.0, leading: float = 1.6, number: int = 1,
              ruled: bool = True, conf: float = 1.0, source: str = "text") -> Page:
    """Each row is a list of cells; a cell may hold several lines separated by \\n.

    Cells are placed in columns of the given widths (default: equal 120 pt columns); words are
    split on spaces like a PDF text layer splits them."""
    words: list[Word] = []
    rules: list[Rule] = []
    y = top
    for row in rows:
        cols = widths or [120.0] * len(row)
        x = x0
        height = max(len(cell.split("\n")) for cell in row) if row else 1
        for k, cell in enumerate(row):
            w = cols[k] if k < len(cols) else 120.0
            if k == len(row) - 1 and widths and len(row) < len(widths):
                w = sum(widths[k:])  # the last cell of a short row spans the rest, as merged cells do
            for li, text in enumerate(cell.split("\n")):
                cx = x + 3
                for word in text.split(" "):
                    if word:
                        ww = sum(char_width(c, size) for c in word)
                        ly = y + li * size * leading
                        words.append(Word(word, cx, ly, cx + ww, ly + size, conf))
                        cx += ww
                    cx += char_width(" ", size)
            if ruled:
                # every cell boxed, as a word processor draws a table's grid
                bottom = y + max(height, 1) * size * leading + 1
                rules.append(Rule(x, y - 2, x, bottom))
                rules.append(Rule(x + w, y - 2, x + w, bottom))
                rules.append(Rule(x, y - 2, x + w, y - 2))
                rules.append(Rule(x, bottom, x + w, bottom))
            x += w
        y += max(height, 1) * size * leading + 4
    return Page(number=number, width=595.0, height=842.0, source=source, words=words, rules=rules)  # type: ignore[arg-type]
