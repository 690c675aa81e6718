"""The page images a clerk reviews against: each page of a file its own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from web import services


def _page(mark_left: bool) -> Image.Image:
    im = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi
    x = 100 if mark_left else 900
    ImageDraw.Draw(im).rectangle([x, 200, x + 200, 400], fill=0)
    return im


def test_each_page_of_a_tiff_is_rendered_from_its_own_frame(tmp_path: Path) -> None:
    """Regression: every page of a multi-page TIFF showed the last frame (PIL's frame iterator
    gives one object, left at the last frame)."""
    tiff = tmp_path / "two.tiff"
    _page(True).save(tiff, save_all=True, append_images=[_page(False)], dpi=(150, 150))
    first = np.asarray(Image.open(services.render_page_png(tiff, 1, tmp_path / "p1.png", 50)).convert("L"))
    second = np.asarray(Image.open(services.render_page_png(tiff, 2, tmp_path / "p2.png", 50)).convert("L"))
    width = first.shape[1]
    assert first[:, : width // 3].min() < 128 and first[:, 2 * width // 3 :].min() > 128
    assert second[:, 2 * width // 3 :].min() < 128 and second[:, : width // 3].min() > 128
