"""Bands of a scanned page read again (extract/reread.py): what is replaced, what is kept, and
the image found again when the first reading came from the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

import extract.pipeline as pipeline
from extract import reread
from extract.ingest import ingest
from extract.pagemodel import Page, Word

FONT = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
SCAN = Path(__file__).resolve().parents[1] / "samples" / "scans" / "regression" / "tax_shibukawa_200dpi-noisy.jpg"


def test_bands_reach_around_the_boxes_and_overlapping_ones_are_joined() -> None:
    bands = reread.bands_around([(100, 100, 200, 110), (100, 150, 200, 160), (100, 400, 200, 410), (0, 5, 9, 15)], 800, reach=5)
    assert bands == [(0.0, 210.0), (350.0, 460.0)]
    assert reread.bands_around([(0, 790, 10, 800)], 800, reach=5) == [(740.0, 800.0)]


def _two_lines() -> tuple[np.ndarray, float]:
    dpi = 300.0
    image = Image.new("L", (1800, 900), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 60)
    draw.text((150, 200), "株式会社渋川フーズ", font=font, fill=0)
    draw.text((150, 600), "群馬県渋川市", font=font, fill=0)
    return np.asarray(image), dpi


def test_words_in_a_band_are_read_again_and_the_rest_kept() -> None:
    clean, dpi = _two_lines()
    pt = 72.0 / dpi
    page = Page(
        number=1, width=1800 * pt, height=900 * pt, source="ocr",
        words=[
            Word("株式会社小川フーズ", 150 * pt, 200 * pt, 700 * pt, 262 * pt, 0.2),
            Word("☑", 60 * pt, 205 * pt, 110 * pt, 255 * pt, 1.0),
            Word("まちがい", 150 * pt, 600 * pt, 500 * pt, 662 * pt, 0.3),
        ],
    )
    again = reread.reread_bands(page, clean, dpi, [(150 * pt, 320 * pt)], lang="Japanese")
    texts = [w.text for w in again.words]
    assert "株式会社小川フーズ" not in texts
    assert "".join(t for t in texts if t not in ("☑", "まちがい")) == "株式会社渋川フーズ"
    assert "☑" in texts and "まちがい" in texts  # a box from pixels, and a word outside the band
    read = next(w for w in again.words if w.text.startswith("株"))
    assert read.y0 == pytest.approx(200 * pt, abs=5) and read.x0 == pytest.approx(150 * pt, abs=5)
    assert page.words[0].text == "株式会社小川フーズ"  # the first reading is left as it was


def test_a_band_off_the_image_leaves_the_page() -> None:
    clean, dpi = _two_lines()
    page = Page(number=1, width=432, height=216, source="ocr", words=[Word("x", 1, 1, 2, 2, 0.5)])
    assert reread.reread_bands(page, clean, dpi, [(300.0, 400.0)], lang="Japanese") is page


def test_a_page_from_the_cache_is_prepared_again_for_its_bands(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MADOGUCHI_CACHE_DIR", str(tmp_path))
    doc = ingest(SCAN, pipeline.Limits.from_env())
    first = pipeline._ocr_page(doc, 1)
    reread._RECENT.clear()  # as in another process that found the page in the cache
    band = (first.height * 0.15, first.height * 0.25)
    again = pipeline._reread_page(doc, first, [band], "Japanese")
    assert reread.recall(pipeline._page_key(doc, 1)) is not None
    inside = lambda p: sorted(w.text for w in p.words if band[0] <= (w.y0 + w.y1) / 2 < band[1])  # noqa: E731
    outside = lambda p: sorted(w.text for w in p.words if not band[0] <= (w.y0 + w.y1) / 2 < band[1])  # noqa: E731
    assert inside(again) and outside(again) == outside(first)
    # the band's reading is cached: the same page and bands give the same words without OCR
    reread._RECENT.clear()
    monkeypatch.setattr(pipeline, "_read_page", lambda *a: pytest.fail("read again"))
    assert pipeline._reread_page(doc, first, [band], "Japanese").words == again.words
