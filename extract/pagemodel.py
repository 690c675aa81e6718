"""The one page model every reader produces: pages of words with boxes.

Coordinates are PDF points (1/72 inch) from the top-left corner of the page, whatever the
input: a PDF's text layer, an AcroForm, a DOCX laid out by our own reader, or an OCR'd image.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Literal

Source = Literal["acroform", "docx", "text", "ocr"]
BBox = tuple[float, float, float, float]


def char_shares(text: str, x0: float, x1: float) -> list[tuple[str, float, float]]:
    """A word's characters with the share of its width, ``x0`` to ``x1``, each takes:
    full-width ones twice as wide as the others. Where OCR gives no place per character."""
    weights = [1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.5 for ch in text]
    unit = (x1 - x0) / max(sum(weights), 1e-6)
    out = []
    x = float(x0)
    for ch, wt in zip(text, weights):
        out.append((ch, x, x + wt * unit))
        x += wt * unit
    return out


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    #: Recognition confidence 0..1 (1.0 for digital text): the least of its characters'.
    conf: float = 1.0
    #: Per character, its recognition confidence 0..1, where the engine gives them (a word
    #: read by OCR may hold a label and its value: each is as sure as its own characters).
    char_confs: tuple[float, ...] = ()

    @property
    def bbox(self) -> BBox:
        return (self.x0, self.y0, self.x1, self.y1)

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True, slots=True)
class Rule:
    """A ruled line (table border) from the page, which separates rows and cells."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def horizontal(self) -> bool:
        return abs(self.y1 - self.y0) <= abs(self.x1 - self.x0)


@dataclass(frozen=True, slots=True)
class FormValue:
    """A value held by a form field (AcroForm widget or DOCX content control), by field name."""

    name: str
    value: str | bool | None
    bbox: BBox | None = None


@dataclass(slots=True)
class Page:
    number: int  # 1-based
    width: float
    height: float
    source: Source
    words: list[Word] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    #: Named field values when the document carries them (AcroForm); empty otherwise.
    form_values: list[FormValue] = field(default_factory=list)
    #: Path of a rendered image of the page, when one exists (OCR input, review UI).
    image_path: str | None = None
    #: Clockwise quarter turn (degrees) a scan was given to be read upright.
    turn: int = 0

    @property
    def text(self) -> str:
        from extract.layout import page_text

        return page_text(self)


def union(boxes: list[BBox]) -> BBox | None:
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
