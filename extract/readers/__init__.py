"""Readers: turn an ingested file into pages of words with boxes (extract.pagemodel).

``pdf`` reads a PDF's text layer, ruled lines and AcroForm values; ``docx`` synthesizes a layout
for a Word document; ``image`` OCRs scans. extract.pipeline picks the reader by the sniffed kind.

The helpers here place text whose glyph widths nobody told us (a DOCX, an AcroForm value): a
full-width character is as wide as the font size, anything else half as wide.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from extract.pagemodel import Word

__all__ = ["char_width", "place_words", "text_width", "uniform"]

_ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}


#: Ballot boxes and ticks: full-width in the Japanese fonts forms are set in.
_FULL_SYMBOLS = {"☐", "☑", "☒", "✓", "✔", "✗", "✘"}


def char_width(ch: str, size: float) -> float:
    """Approximate advance of one character at ``size`` points.

    East Asian wide characters are full-width; so are the "ambiguous" symbols (■ ○ ※ ① ×) as
    Japanese fonts draw them, but not ambiguous letters and quotes (é, Ж, “), which Latin text uses.
    """
    if ch in _ZERO_WIDTH or unicodedata.combining(ch):
        return 0.0
    eaw = unicodedata.east_asian_width(ch)
    if eaw in ("W", "F") or ch in _FULL_SYMBOLS:
        return size
    if eaw == "A" and unicodedata.category(ch)[0] not in ("L", "M") and unicodedata.category(ch) not in ("Pi", "Pf"):
        return size
    return 0.5 * size


def text_width(text: str, size: float) -> float:
    return sum(char_width(ch, size) for ch in text)


def place_words(
    chars: Sequence[tuple[str, float]],
    x: float,
    line_top: float,
    line_height: float,
) -> list[Word]:
    """Words of one line of ``(character, font size)`` pairs starting at ``x``.

    Whitespace (including the ideographic space U+3000) separates words, as it does in the PDF
    reader. Every word is centred vertically in the line, so all the words of a line share the
    same vertical centre whatever their size.
    """
    words: list[Word] = []
    cy = line_top + line_height / 2
    current: list[tuple[str, float]] = []
    start = x

    def flush(end: float) -> None:
        if current:
            h = max(s for _, s in current)
            text = "".join(c for c, _ in current)
            words.append(Word(text=text, x0=start, y0=cy - h / 2, x1=max(end, start + 0.1), y1=cy + h / 2))
            current.clear()

    for ch, size in chars:
        w = char_width(ch, size)
        if ch.isspace():
            flush(x)
            x += w
            continue
        if not current:
            start = x
        current.append((ch, size))
        x += w
    flush(x)
    return words


def uniform(text: str, size: float) -> list[tuple[str, float]]:
    return [(ch, size) for ch in text]
