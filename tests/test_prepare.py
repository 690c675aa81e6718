"""Page preparation: upright from OSD, skew removed, speckle cleaned, boxes mapped back."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from extract.prepare import Transform, despeckle, estimate_skew, prepare, rotate_quarter, to_grey

FONT = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
LINES = [
    "渋川市ふるさと応援寄附金返礼品提供申込書",
    "所在地　群馬県渋川市石原８０番地",
    "名称　株式会社しぶかわ食品",
    "代表者　代表取締役　渋川太郎",
    "申込みにあたっては、募集要項を遵守すること",
    "この申込書が事実と相違ないことを誓約します",
]


def _page(size: int = 36) -> Image.Image:
    font = ImageFont.truetype(FONT, size)
    img = Image.new("L", (size * 26, int(size * 2.2 * len(LINES) + size * 2)), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(LINES):
        draw.text((size, size + i * size * 2.2), line, font=font, fill=0)
    return img


def _diff(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean())


@pytest.mark.parametrize("turned", [90, 180])
def test_turned_page_is_made_upright(turned: int) -> None:
    page = _page()
    scanned = page.rotate(turned, expand=True)  # PIL turns counter-clockwise
    prepared = prepare(scanned, dpi=300, rotate=None, deskew=False)
    assert prepared.transform.rotation == turned
    assert prepared.image.size == page.size
    assert _diff(prepared.image, page) < 1.0


def test_quarter_turn_transform_maps_points_back() -> None:
    page = _page()
    scanned = page.rotate(90, expand=True)
    prepared = prepare(scanned, dpi=300, rotate=90, deskew=False)
    # the first character's top-left on the upright page is where it was on the scan
    x, y = 36.0, 36.0
    ox, oy = prepared.transform.to_original(x, y)
    assert (ox, oy) == pytest.approx((y, scanned.height - x), abs=1e-6)
    assert prepared.transform.to_prepared(ox, oy) == pytest.approx((x, y))


@pytest.mark.parametrize("angle", [2.0, -1.5, 0.7])
def test_skew_is_measured_and_removed(angle: float) -> None:
    page = _page()
    skewed = page.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=255)
    # PIL turns counter-clockwise: the lines then rise to the right (negative inclination)
    assert estimate_skew(np.asarray(skewed), 300) == pytest.approx(-angle, abs=0.3)
    prepared = prepare(skewed, dpi=300)
    assert prepared.transform.skew == pytest.approx(-angle, abs=0.3)
    assert abs(estimate_skew(prepared.array, 300)) <= 0.3


def test_straight_page_is_left_alone() -> None:
    page = _page()
    prepared = prepare(page, dpi=300)
    assert prepared.transform == Transform()
    assert _diff(prepared.image, page) < 0.2  # only the levels: grey anti-aliasing to paper


def test_specks_are_removed_and_text_kept() -> None:
    page = _page()
    arr = np.asarray(page).copy()
    rng = np.random.default_rng(1)
    ys = rng.integers(0, arr.shape[0], 400)
    xs = rng.integers(0, arr.shape[1], 400)
    arr[ys, xs] = 0
    cleaned, count = despeckle(arr, 300)
    assert count >= 300
    assert int((cleaned < 128).sum()) == pytest.approx(int((np.asarray(page) < 128).sum()), rel=0.02)
    prepared = prepare(Image.fromarray(arr), dpi=300)
    assert prepared.specks_removed >= 300


def test_low_resolution_is_resampled_and_modes_become_grey() -> None:
    page = _page().convert("RGBA")
    small = page.resize((page.width // 2, page.height // 2))
    prepared = prepare(small, dpi=150, deskew=False)
    assert prepared.dpi == 300 and prepared.image.mode == "L"
    assert prepared.transform.scale == pytest.approx(2.0)
    assert prepared.image.width == small.width * 2
    # 200 dpi is read as it is
    assert prepare(small, dpi=200, deskew=False).transform.scale == 1.0
    assert to_grey(Image.new("1", (4, 4), 1)).mode == "L"
    assert rotate_quarter(small, 270).size == (small.height, small.width)


def test_blurred_specks_of_a_200_dpi_scan_are_removed_and_periods_kept() -> None:
    # JPEG and blur spread a speck of a 200 dpi scan over 5-8 pixels: more than the tiny
    # blobs taken for speckle at 200 dpi (4 px), and they were read as ・ . - and M.
    page = np.full((400, 600), 255, np.uint8)
    font = ImageFont.truetype(FONT, 29)  # 10.5 pt at 200 dpi
    img = Image.fromarray(page)
    ImageDraw.Draw(img).text((20, 20), "info@shibukawa-foods.jp　10日・25日", font=font, fill=0)
    arr = np.asarray(img).copy()
    text_ink = int((arr < 128).sum())
    for y in range(130, 390, 26):
        for x in range(10, 590, 29):
            arr[y : y + 3, x : x + 2] = 0  # 6-pixel specks, away from the text
    cleaned, count = despeckle(arr, 200)
    assert count >= 200
    assert int((cleaned[120:] < 128).sum()) == 0
    # the period of ".jp" and the middle dot stay: they are bigger, or close to other ink
    assert int((cleaned[:120] < 128).sum()) == text_ink


def _random_masks(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    masks = []
    for _ in range(12):
        h, w = (int(v) for v in rng.integers(3, 300, 2))
        masks.append(((rng.random((h, w)) < rng.random() * 0.6) * 255).astype(np.uint8))
    return masks


def test_connected_components_are_cv2s_with_32_bit_labels() -> None:
    import cv2

    from extract.prepare import connected_components

    for mask in _random_masks(3):
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        n2, labels2, stats2 = connected_components(mask)
        assert n2 == n and np.array_equal(labels2, labels) and np.array_equal(stats2, stats)
    # more components than 16-bit labels can hold: 32-bit ones
    many = np.zeros((600, 600), np.uint8)
    many[::2, ::2] = 255
    n, labels, _ = connected_components(many)
    assert n == 300 * 300 + 1 and labels.dtype == np.int32


def test_ink_mask_is_the_pixels_under_the_clamped_otsu_level() -> None:
    import cv2

    from extract.prepare import ink_mask

    rng = np.random.default_rng(4)
    greys = [rng.integers(0, 256, (50, 70)), np.clip(rng.normal(200, 60, (80, 60)), 0, 255)]
    for grey in (g.astype(np.uint8) for g in greys):
        thr = min(max(cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0], 100.0), 200.0)
        assert np.array_equal(ink_mask(grey), np.where(grey < thr, 255, 0).astype(np.uint8))


def test_despeckle_count_is_the_number_of_specks_removed() -> None:
    import cv2

    rng = np.random.default_rng(5)
    grey = np.full((200, 300), 255, np.uint8)
    grey[rng.integers(0, 200, 80), rng.integers(0, 300, 80)] = 0
    grey[50:60, 20:200] = 0
    out, count = despeckle(grey, 300)
    removed = ((out == 255) & (grey == 0)).astype(np.uint8)
    assert count == cv2.connectedComponents(removed, connectivity=8)[0] - 1 > 0
    assert (out[50:60, 20:200] == 0).all()


# --- issue 24: blank pages and the pixel cap -------------------------------------------------------

from extract.prepare import is_blank  # noqa: E402


def _white_page(dpi: int = 300) -> np.ndarray:
    return np.full((int(11.69 * dpi), int(8.27 * dpi)), 255, np.uint8)


def test_a_white_or_grey_page_with_dust_is_blank() -> None:
    page = _white_page()
    assert is_blank(page, 300)
    grey = np.full_like(page, 228)  # grey paper, a few specks of dust
    for y, x in ((100, 100), (1200, 900), (3000, 2000)):
        grey[y : y + 3, x : x + 3] = 0
    assert is_blank(grey, 300)
    assert is_blank(np.zeros((2000, 1500), np.uint8), 300)  # all black: nothing to read either


def test_a_page_with_a_line_of_text_or_a_rule_is_not_blank() -> None:
    text = Image.fromarray(_white_page())
    ImageDraw.Draw(text).text((300, 400), "申込書", fill=0, font=ImageFont.truetype(FONT, 44))
    assert not is_blank(np.asarray(text), 300)
    ruled = _white_page()
    ruled[1000:1004, 200:2200] = 0
    assert not is_blank(ruled, 300)
    negative = np.zeros((2000, 1500), np.uint8)  # white on black is ink too
    negative[500:540, 200:1200] = 255
    assert not is_blank(negative, 300)


def test_prepare_never_makes_a_page_of_more_pixels_than_its_cap() -> None:
    small = Image.new("L", (3000, 3000), 255)  # a large page scanned at 100 dpi: 9 Mpx
    out = prepare(small, dpi=100, deskew=False, denoise=False, max_pixels=20_000_000)
    assert out.image.width * out.image.height <= 20_000_000  # not 81 Mpx at 300 dpi
    assert out.dpi == pytest.approx(100 * out.image.width / 3000, rel=0.01)
    big = Image.new("L", (6000, 5000), 255)
    out = prepare(big, dpi=300, deskew=False, denoise=False, max_pixels=10_000_000)
    assert out.image.width * out.image.height <= 10_000_000 and out.dpi < 300
    a4 = Image.new("L", (1654, 2339), 255)  # 200 dpi: left alone, as before
    assert prepare(a4, dpi=200, deskew=False, denoise=False).dpi == 200


def test_a_red_seal_is_taken_out_and_the_ink_under_it_kept() -> None:
    # a page with a black bar (text, a ruled line) and a vermilion seal stamped over half of it,
    # blended as ink is: each channel multiplied by the seal's
    page = np.full((60, 120, 3), 255, np.float32)
    page[28:32, 10:110] = 40  # the black bar
    seal = np.array([225, 70, 75], np.float32) / 255
    page[10:50, 60:100] *= seal
    grey = np.asarray(to_grey(Image.fromarray(page.astype(np.uint8), "RGB")))
    assert grey[15, 80] > 240  # the seal alone: paper
    assert grey[30, 80] < 80  # the bar under the seal: still ink
    assert grey[30, 20] < 80  # the bar beside it
    assert grey[5, 5] == 255
    # no red: the same grey as PIL's
    plain = Image.fromarray(np.full((8, 8, 3), (30, 90, 200), np.uint8), "RGB")
    assert np.array_equal(np.asarray(to_grey(plain)), np.asarray(plain.convert("L")))
