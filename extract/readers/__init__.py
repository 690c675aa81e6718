"""Readers: turn an ingested file into pages of words with boxes (extract.pagemodel).

``pdf`` reads a PDF's text layer, ruled lines and AcroForm values; ``docx`` synthesizes a layout
for a Word document. Images have no words until OCR reads them (extract.ocr).

The helpers here place text whose glyph widths nobody told us (a DOCX, an AcroForm value): a
full-width character is as wide as the font size, anything else half as wide.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from extract.pagemodel import Word

if TYPE_CHECKING:
    from extract.ingest import Ingested, Limits
    from extract.pagemodel import Page

__all__ = ["char_width", "place_words", "read_digital", "text_width", "uniform"]

_ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}


def char_width(ch: str, size: float) -> float:
    """Approximate advance of one character at ``size`` points."""
    if ch in _ZERO_WIDTH or unicodedata.combining(ch):
        return 0.0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
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


def read_digital(doc: Ingested, limits: Limits | None = None) -> list[Page]:
    """Pages of a PDF or DOCX. Images have no digital text: they go to OCR instead."""
    from extract.ingest import Limits as _Limits

    limits = limits or _Limits.from_env()
    if doc.kind == "pdf":
        from extract.readers.pdf import read_pdf

        return read_pdf(doc.data, limits)
    if doc.kind == "docx":
        from extract.readers.docx import read_docx

        return read_docx(doc.data, limits)
    raise ValueError(f"{doc.kind} files have no digital text; OCR reads them")
