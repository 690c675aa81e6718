"""The image reader: OCR of rendered Japanese into pages of words in points, with rules and boxes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from extract import tesseract
from extract.layout import build_lines
from extract.pagemodel import Page, Word
from extract.readers.image import (
    drop_noise,
    find_rules,
    image_dpi,
    merge_characters,
    ocr_page_image,
    ocr_pdf_pages,
    read_image_pages,
    render_dpi,
    restore_small_kana,
    table_lines,
    tighten_boxes,
    undouble_characters,
    without_rules,
)
from forms.errors import CorruptFile, ImageTooSmall

FONT = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DPI = 300
SIZE = 44  # 10.5 pt at 300 dpi


def _render(lines: list[tuple[int, int, str]], size: tuple[int, int] = (1400, 260)) -> Image.Image:
    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, SIZE)
    for x, y, text in lines:
        draw.text((x, y), text, font=font, fill=0)
    return img


def _png(img: Image.Image, dpi: int = DPI) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def test_reads_a_japanese_line_into_words_in_points() -> None:
    img = _render([(100, 80, "寄附金額　１２０００円")])
    (page,) = read_image_pages(_png(img), "png")
    assert page.source == "ocr" and page.number == 1
    assert page.width == pytest.approx(1400 * 72 / DPI) and page.height == pytest.approx(260 * 72 / DPI)
    texts = [w.text for w in page.words]
    # characters are merged into words; the full-width space stays a gap between two words
    assert texts[0] == "寄附金額"
    assert "".join(texts[1:]) in ("12000円", "１２０００円")
    first = page.words[0]
    assert first.x0 == pytest.approx(100 * 72 / DPI, abs=2.0)
    assert first.y0 == pytest.approx(80 * 72 / DPI + 2, abs=3.0)
    assert first.x1 == pytest.approx((100 + 4 * SIZE) * 72 / DPI, abs=3.0)
    assert all(0.5 < w.conf <= 1.0 for w in page.words)


def test_checkbox_with_a_pen_tick_becomes_a_ticked_box_word() -> None:
    img = _render([(190, 80, "市内"), (440, 80, "市外")])
    draw = ImageDraw.Draw(img)
    box_font = ImageFont.truetype(DEJAVU, SIZE)
    draw.text((140, 80), "☐", font=box_font, fill=0)
    draw.text((390, 80), "☐", font=box_font, fill=0)
    arr = np.asarray(img).copy()
    cv2.polylines(arr, [np.array([(398, 110), (408, 128), (440, 70)], np.int32)], False, 0, 4, cv2.LINE_AA)
    (page,) = read_image_pages(_png(Image.fromarray(arr)), "png")
    (line,) = build_lines(page)
    assert line.text.replace(" ", "").replace("\t", "") == "☐市内☑市外"


def test_table_rules_are_found_and_kept_out_of_the_text() -> None:
    img = _render([(60, 70, "商品名"), (460, 70, "上州牛")], size=(1400, 200))
    arr = np.asarray(img).copy()
    cv2.rectangle(arr, (30, 40), (1300, 150), 0, 3)
    cv2.line(arr, (400, 40), (400, 150), 0, 3)
    page = ocr_page_image(Image.fromarray(arr), DPI, 3)
    assert page.number == 3
    horizontal = [r for r in page.rules if r.horizontal]
    vertical = [r for r in page.rules if not r.horizontal]
    assert len(horizontal) == 2 and len(vertical) == 3
    assert {round(r.x0 * DPI / 72) for r in vertical} >= {400}
    text = "".join(w.text for w in page.words)
    assert "商品名" in text and "|" not in text and "上州" in text


def test_upside_down_page_is_read_upright() -> None:
    img = _render([(60, 40, "渋川市ふるさと応援寄附金返礼品提供申込書"), (60, 130, "申込みにあたっては募集要項を遵守します")], size=(1100, 240))
    page = ocr_page_image(img.rotate(180), DPI, 1)
    text = "".join(w.text for w in sorted(page.words, key=lambda w: (round(w.cy), w.x0)))
    assert "申込書" in text and "募集要項" in text


def test_multi_page_tiff_and_dpi() -> None:
    pages = [_render([(100, 80, "第一頁")]), _render([(100, 80, "第二頁")])]
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:], dpi=(200, 200))
    read = read_image_pages(buf.getvalue(), "tiff")
    assert [p.number for p in read] == [1, 2]
    # 200 dpi: the page is measured in points at 200 dpi
    assert read[0].width == pytest.approx(1400 * 72 / 200, abs=0.5)
    assert "".join(w.text for w in read[1].words).endswith("頁")


def test_image_dpi_guess() -> None:
    assert image_dpi(Image.new("L", (2480, 3508))) == 300
    img = Image.new("L", (1654, 2339))
    img.info["dpi"] = (72, 72)  # a default written by many programs: implausible for a scan
    assert image_dpi(img) == 200
    img.info["dpi"] = (400.0, 400.0)
    assert image_dpi(img) == 400


def test_corrupt_image() -> None:
    with pytest.raises(CorruptFile):
        read_image_pages(b"\x89PNG\r\n\x1a\nnot really", "png")


@pytest.mark.parametrize("size", [(1, 1), (2000, 40), (63, 900)])
def test_an_image_too_small_for_a_page_is_refused_with_its_size(size: tuple[int, int]) -> None:
    buf = io.BytesIO()
    Image.new("L", size, 255).save(buf, "PNG")
    with pytest.raises(ImageTooSmall, match=f"{size[0]}×{size[1]}"):
        read_image_pages(buf.getvalue(), "png")


def test_merge_characters() -> None:
    W = tesseract.OcrWord
    line = (1, 1, 1)
    words = [
        W("寄附", (100, 10, 180, 50), 95.0, line),
        W("金", (190, 10, 230, 50), 90.0, line),  # a narrow gap: same word
        W("額", (236, 10, 276, 50), 80.0, line),
        W("円", (400, 10, 440, 50), 96.0, line),  # a wide gap: a new word
        W("税", (460, 10, 500, 50), 96.0, line),  # a ruled line between: a new word
        W("次", (100, 80, 140, 120), 70.0, (1, 1, 2)),
    ]
    merged = merge_characters(words, verticals=[(450, 0, 450, 60)])
    assert merged == [
        ("寄附金額", (100, 10, 276, 50), 80.0),
        ("円", (400, 10, 440, 50), 96.0),
        ("税", (460, 10, 500, 50), 96.0),
        ("次", (100, 80, 140, 120), 70.0),
    ]


def test_flat_word_box_takes_its_lines_height() -> None:
    # Tesseract gave 電話 a box 3 px high under its line (form1_003 @200 dpi, row 19): the box
    # was shrunk to 2 px of nothing, and the word went to a line of its own.
    ink = np.zeros((120, 700), np.uint8)
    ink[60:88, 490:540] = 255  # 電話
    ink[60:88, 553:600] = 255  # 番号
    ink[60:88, 757:900] = 255
    W = tesseract.OcrWord
    line = (1, 1, 14)
    words = [
        W("電話", (392, 95, 542, 98), 44.0, line),
        W("番号", (545, 60, 600, 90), 95.0, line),
        W("0279", (757, 60, 900, 88), 90.0, line),
    ]
    tight = tighten_boxes(words, ink)
    assert tight[0].box == (490, 60, 540, 88)
    assert tight[1].box == (553, 60, 600, 88)
    # a word alone on its line is left as it is
    alone = tighten_boxes([W("円", (10, 10, 40, 12), 90.0, (1, 1, 1))], ink)
    assert alone[0].box == (10, 10, 40, 12)


def test_a_box_that_swallows_the_word_before_it_starts_after_it() -> None:
    # tessdata_best read しいたけ as し, いた, け (in that order) but gave いた a box from before
    # し to past た: sorted by their left edges the words read いたし け
    ink = np.zeros((160, 400), np.uint8)
    for x0, x1 in ((109, 150), (160, 196), (202, 238), (246, 279)):
        ink[80:125, x0:x1] = 255
    W = tesseract.OcrWord
    line = (1, 1, 1)
    words = [W("し", (109, 73, 152, 148), 88.0, line), W("いた", (76, 77, 275, 127), 93.0, line), W("け", (246, 73, 279, 148), 93.0, line)]
    tight = tighten_boxes(words, ink)
    assert [w.text for w in sorted(tight, key=lambda w: w.box[0])] == ["し", "いた", "け"]
    assert tight[1].box == (160, 80, 238, 125)


def test_find_rules() -> None:
    ink = np.zeros((400, 800), np.uint8)
    cv2.line(ink, (20, 50), (780, 50), 255, 3)
    cv2.line(ink, (20, 300), (300, 300), 255, 2)
    cv2.line(ink, (320, 300), (780, 300), 255, 2)  # a second segment, too far to join
    cv2.line(ink, (100, 20), (100, 380), 255, 2)
    cv2.line(ink, (500, 60), (500, 80), 255, 2)  # a short stroke: part of a character
    segments, mask = find_rules(ink, DPI)
    expected = [(20, 50, 780, 50), (20, 300, 300, 300), (320, 300, 780, 300), (100, 20, 100, 380)]
    assert len(segments) == len(expected)
    for got, want in zip(sorted(segments), sorted(expected)):
        assert got == pytest.approx(want, abs=4)
    assert mask[50, 400] and not mask[70, 500]


def test_without_rules_follows_a_slanting_rule_and_keeps_the_text() -> None:
    # a table's rule left slanting by a scan's skew, with its grey fringe: whitened along
    # straight segments its ends stayed, and a value read again over one came back as いたし け
    page = _render([(60, 60, "しいたけ")], size=(1400, 200))
    grey = np.array(page)
    cv2.line(grey, (20, 118), (1380, 126), 170, 4, lineType=cv2.LINE_AA)
    cv2.line(grey, (20, 118), (1380, 126), 20, 2)
    clean = without_rules(grey, DPI)
    assert clean[112:132].min() > 200  # no trace of the rule at either end
    assert (clean[60:110] < 128).sum() == (grey[60:110] < 128).sum()  # the characters untouched


SCANS = Path(__file__).resolve().parents[1] / "samples" / "scans"


def _box_states(page: Page) -> list[bool]:
    """The page's ☐/☑ words in reading order: rows top to bottom, each left to right."""
    marks = sorted((w for w in page.words if w.text in ("☐", "☑")), key=lambda w: w.cy)
    rows: list[list[Word]] = []
    for w in marks:
        if rows and abs(w.cy - rows[-1][0].cy) < w.height * 0.6:
            rows[-1].append(w)
        else:
            rows.append([w])
    return [w.text == "☑" for row in rows for w in sorted(row, key=lambda w: w.x0)]


@pytest.mark.parametrize("name", ["form1_pen_p1_300dpi.png", "form1_pen_p2_200dpi.jpg"])
def test_pen_ticked_scans_of_form1_read_every_box(name: str) -> None:
    """A regression floor on committed scans (samples/scans/generate.py --committed): every box
    of the page found and decided right, pen ticks that cross the border included."""
    path = SCANS / name
    truth = json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    kind = "png" if name.endswith(".png") else "jpeg"
    (page,) = read_image_pages(path.read_bytes(), kind)
    assert _box_states(page) == truth["boxes"]


def test_image_only_pdf_pages_are_rendered_at_their_scan_resolution() -> None:
    img = _render([(100, 80, "原産地証明書")], size=(1100, 300))
    small = img.resize((img.width * 2 // 3, img.height * 2 // 3))  # as a 200 dpi scan
    buf = io.BytesIO()
    small.save(buf, format="PDF", resolution=200.0)
    data = buf.getvalue()
    assert render_dpi(data, 1) == 200
    (page,) = ocr_pdf_pages(data, [1])
    assert page.number == 1 and page.source == "ocr"
    assert page.width == pytest.approx(1100 * 72 / 300, abs=1)
    assert "原産地証明書" in "".join(w.text for w in page.words)


def _ocr_word(text: str, x: int, choices: tuple = ()) -> tesseract.OcrWord:
    return tesseract.OcrWord(text, (x, 0, x + 30 * len(text), 30), 90.0, (1, 1, 1), choices)


def test_large_kana_after_an_i_row_kana_is_read_small_when_the_model_weighed_it() -> None:
    ya = (("や", 89.9), ("ゃ", 31.9))
    words = [_ocr_word("こんに", 0, ((("こ", 99),), (("ん", 99),), (("に", 99),))), _ocr_word("や", 95, (ya,)), _ocr_word("く", 130)]
    assert [w.text for w in restore_small_kana(words)] == ["こんに", "ゃ", "く"]
    # the small form barely weighed: a real や (しやすい) stays
    weak = (("や", 95.0), ("ゃ", 3.0))
    words = [_ocr_word("し", 0, ((("し", 99),),)), _ocr_word("や", 35, (weak,))]
    assert [w.text for w in restore_small_kana(words)] == ["し", "や"]
    # not after an i-row kana (かや): stays, whatever the model weighed
    words = [_ocr_word("か", 0), _ocr_word("や", 35, (ya,))]
    assert [w.text for w in restore_small_kana(words)] == ["か", "や"]
    # within one word, and katakana
    words = [_ocr_word("キヤベツ", 0, ((("キ", 99),), (("ヤ", 80), ("ャ", 60)), (("ベ", 99),), (("ツ", 99),)))]
    assert [w.text for w in restore_small_kana(words)] == ["キャベツ"]


def _chars(text: str, boxes: list[tuple[int, int]], confs: list[float] | None = None, high: int = 40) -> tesseract.OcrWord:
    """A word whose characters span ``boxes`` (x0, x1), ``high`` px high."""
    char_boxes = tuple((x0, 0, x1, high) for x0, x1 in boxes)
    box = (boxes[0][0], 0, boxes[-1][1], high)
    return tesseract.OcrWord(text, box, 90.0, (1, 1, 1), char_confs=tuple(confs or [95.0] * len(text)), char_boxes=char_boxes)


def test_a_character_read_twice_over_the_space_of_one_is_read_once() -> None:
    # 上州和和牛 as tessdata_best read it: the second 和 starts inside the first's space
    words = [_chars("上州", [(299, 338), (343, 402)]), _chars("和", [(413, 429)], [99.0]),
             _chars("和牛", [(428, 452), (437, 477)], [88.0, 99.0])]
    # the surer 和 is kept (merge_characters joins the words afterwards)
    assert [w.text for w in undouble_characters(words)] == ["上州", "和", "牛"]
    # at the end of a line, the pair's own width tells (伊香保町町)
    words = [_chars("伊香保町町", [(0, 40), (42, 82), (84, 124), (126, 150), (140, 166)], [99, 99, 99, 97, 60])]
    [kept] = undouble_characters(words)
    assert kept.text == "伊香保町" and kept.char_boxes[-1] == (126, 0, 150, 40) and len(kept.char_confs) == 4


def test_a_comma_read_twice_between_digits_is_read_once_and_as_sure_as_its_characters() -> None:
    """Regression (blind city-layout scans): every 寄附金額 read as 37,.000 at 45, its
    characters at 92-99: the amount was right but marked for review."""
    choices = ((("3", 95.0),), (("7", 95.0),), ((",", 95.6), (".", 67.1)), ((".", 91.1), (",", 83.8)),
               (("0", 90.4),), (("0", 95.2),), (("0", 88.9),))
    confs = (99.0, 99.0, 97.6, 92.2, 98.7, 99.0, 99.0)
    word = tesseract.OcrWord("37,.000", (0, 0, 140, 40), 45.0, (1, 1, 1), choices, confs, tuple((i * 20, 0, i * 20 + 18, 40) for i in range(7)))
    [once] = undouble_characters([word])
    assert once.text == "37,000" and once.conf == 97.6 and len(once.char_boxes) == len(once.choices) == 6
    # a full stop the model did not weigh as a comma stays (a speck for the amount's reader)
    lone = word._replace(choices=(*choices[:3], ((".", 91.1), (",", 20.0)), *choices[4:]))
    assert undouble_characters([lone])[0].text == "37,.000"
    # not between digits: 1,.
    assert undouble_characters([word._replace(text="37,.a00")])[0].text == "37,.a00"


def test_a_true_pair_of_characters_is_kept() -> None:
    # 佐佐木: two characters' space; 11 and ..: half-width, narrow by nature
    words = [_chars("佐佐木", [(0, 40), (42, 82), (84, 124)])]
    assert [w.text for w in undouble_characters(words)] == ["佐佐木"]
    words = [_chars("11日", [(0, 12), (13, 25), (28, 68)])]
    assert [w.text for w in undouble_characters(words)] == ["11日"]
    # a word without character boxes is left as it is
    assert undouble_characters([_ocr_word("和和", 0)])[0].text == "和和"
    # kana are narrow in proportional fonts: いい is left alone
    words = [_chars("いいえ", [(0, 26), (28, 54), (56, 96)])]
    assert [w.text for w in undouble_characters(words)] == ["いいえ"]


def test_a_true_pair_read_with_rough_boxes_is_kept() -> None:
    # 市町村村長 in IPAex Gothic at 36 px, as Tesseract boxed it: 村村 and 長 1.6 heights apart
    words = [_chars("市町村村長", [(0, 30), (36, 66), (72, 88), (90, 118), (130, 160)], high=36)]
    assert [w.text for w in undouble_characters(words)] == ["市町村村長"]


def test_wide_circle_whose_flat_bottom_looks_like_a_ruled_line_is_still_read() -> None:
    """Regression (200 dpi scan): the flat bottom of a wide hand-drawn ellipse was taken for a
    short ruled line and cut out, so the circle around 時期限定 was not found."""
    img = _render([(120, 110, "通年"), (520, 110, "時期限定")], size=(1400, 300))
    draw = ImageDraw.Draw(img)
    for y in (60, 230):  # the table row's lines, across the page
        draw.line((20, y, 1380, y), fill=0, width=3)
    draw.line((20, 60, 20, 230), fill=0, width=3)
    arr = np.asarray(img).copy()
    # wide and flat: its bottom stays within its stroke's width for more than 8 mm
    cv2.ellipse(arr, (608, 132), (140, 58), 0, 200, 520, 0, 6, cv2.LINE_AA)
    (page,) = read_image_pages(_png(Image.fromarray(arr)), "png")
    line = next(ln for ln in build_lines(page) if "期" in ln.text)
    assert "☑" in line.text.split("期")[0], line.text
    assert "☑" not in line.text.split("期")[0].split("通年")[0]
    # the ellipse's bottom is not a ruled line of the page
    assert not any(r.y0 == r.y1 and 140 <= r.x0 * DPI / 72 <= 1000 and r.x1 - r.x0 < 200 for r in page.rules)


def test_table_lines_keep_long_horizontals_and_every_vertical() -> None:
    mask = np.zeros((400, 1200), np.uint8)
    mask[50:53, 10:1100] = 255  # a table's line (92 mm at 300 dpi)
    mask[200:203, 300:450] = 255  # 13 mm: the flat part of a drawn mark
    mask[100:200, 600:603] = 255  # a short vertical cell wall
    out = table_lines(mask, 300)
    assert out[51, 500] and out[150, 601] and not out[201, 350]


def _line_masks(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    masks = []
    for _ in range(40):
        h, w = (int(v) for v in rng.integers(3, 400, 2))
        m = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(0, 120))):
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            if rng.random() < 0.5:
                m[y0 : y0 + int(rng.integers(1, 4)), x0 : x0 + int(rng.integers(1, 200))] = 255
            else:
                m[y0 : y0 + int(rng.integers(1, 200)), x0 : x0 + int(rng.integers(1, 4))] = 255
        masks.append(m)
    return masks


def test_rules_are_found_as_by_labelling_the_whole_page() -> None:
    """find_rules works on the rows and columns holding lines only: the same segments, in the
    same order, as labelling the closed mask of the whole page."""
    from extract.readers.image import _meets_a_rule, find_rules

    for ink in _line_masks(7):
        for dpi in (100, 300):
            long_px = max(10, int(dpi * 8.0 / 25.4))
            bridge = max(3, int(dpi * 1.0 / 25.4))
            expected = []
            for horizontal in (True, False):
                length = long_px if horizontal else max(10, int(dpi * 5.0 / 25.4))
                kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1) if horizontal else (1, length))
                lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)
                if horizontal:
                    across = lines
                joined = cv2.morphologyEx(
                    lines, cv2.MORPH_CLOSE,
                    cv2.getStructuringElement(cv2.MORPH_RECT, (bridge, 1) if horizontal else (1, bridge)),
                )
                n, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
                for k in range(1, n):
                    x, y, w, h, _ = (int(v) for v in stats[k])
                    if horizontal and w >= length:
                        expected.append((x, y + h // 2, x + w, y + h // 2))
                    elif not horizontal and h >= length and (h >= long_px or _meets_a_rule(across, x, y, w, h, bridge)):
                        expected.append((x + w // 2, y, x + w // 2, y + h))
            assert find_rules(ink, dpi)[0] == expected


def test_a_short_vertical_is_a_wall_where_it_meets_a_rule_and_a_stroke_elsewhere() -> None:
    """A one-line row's cell wall (6 mm) meets the row's rules; a title character's stroke as
    long (税 at 18 pt) stands alone and stays in the image the OCR reads."""
    from extract.readers.image import find_rules

    dpi = 300
    ink = np.zeros((400, 600), np.uint8)
    ink[100:103, 50:550] = 255  # the row's rules
    ink[171:174, 50:550] = 255
    ink[100:174, 300:303] = 255  # a wall between them: 6.3 mm
    ink[250:324, 100:103] = 255  # a stroke as long, alone
    segments, mask = find_rules(ink, dpi)
    verticals = [s for s in segments if s[0] == s[2]]
    assert [s[0] for s in verticals] == [301]
    assert mask[280, 101] == 0 and mask[140, 301] == 255


def test_table_lines_keeps_long_and_vertical_components() -> None:
    from extract.readers.image import table_lines

    for mask in _line_masks(8):
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        long_px = 300 * 30 / 25.4
        keep = np.array([k > 0 and (stats[k][2] >= long_px or stats[k][3] > stats[k][2]) for k in range(n)])
        assert np.array_equal(table_lines(mask, 300), np.where(keep[labels], 255, 0).astype(np.uint8))


def test_a_pen_stroke_s_fragment_alone_between_rows_is_dropped() -> None:
    """Regression (200 dpi scans, seeds 7 and 101): the tick of a carrier's box crossed the rule
    above it and was read as プ, 4 or チ at the end of the shipping time above."""
    words = [
        Word("入金確認後1", 176, 661, 234, 671, 0.7), Word("週間以内", 243, 661, 279, 671, 0.9),
        Word("プ", 261, 716, 265, 721.4, 0.8), Word("4", 328, 717, 331, 721.2, 0.5),
        Word("ゆうパック", 200, 724, 234, 734, 0.9), Word("佐川急便", 267, 724, 306, 734, 0.9),
    ]
    assert [w.text for w in drop_noise(words)] == ["入金確認後1", "週間以内", "ゆうパック", "佐川急便"]


def test_small_characters_on_a_line_with_others_and_full_size_ones_are_kept() -> None:
    words = [
        Word("注", 100, 100, 110, 110, 0.9), Word("の", 112, 104, 117, 109, 0.9),  # small, but on a line
        Word("市", 300, 200, 310, 210, 0.9),  # alone, but full size
        Word("一括表示", 100, 300, 140, 310, 0.9), Word("(注)", 150, 300, 170, 310, 0.9),
    ]
    assert [w.text for w in drop_noise(words)] == ["注", "の", "市", "一括表示", "(注)"]


def test_a_character_read_on_a_speck_beside_other_words_is_dropped() -> None:
    """Regression (200 dpi city-layout scan, seed 9): a speck under した。 read as ま on a box of
    under a point each way, next to other words, ended the description (しました。ま)."""
    words = [
        Word("遇症還", 189.7, 431.3, 216.0, 447.1, 0.0), Word("ま", 222.5, 441.4, 223.2, 442.1, 0.24),
        # Tesseract's box for a 1 it was sure of (300 dpi, tessdata_best)
        Word("1", 234.2, 669.6, 235.0, 670.3, 0.96), Word("週間以内", 245.0, 661.7, 279.6, 670.8, 0.96),
        Word("市内", 300.0, 431.0, 318.0, 440.0, 0.9),
    ]
    assert [w.text for w in drop_noise(words)] == ["遇症還", "1", "週間以内", "市内"]




# --- issue 24: frames judged before they are decoded; blank pages; image errors as bad input ------

import struct  # noqa: E402
import zlib  # noqa: E402

from extract.ingest import Budget, Deadline, Limits  # noqa: E402
from extract.readers.image import count_frames, open_frame  # noqa: E402
from forms.errors import BudgetExceeded, FileTooLarge, TooManyPages  # noqa: E402


def _png_declaring(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_a_frame_is_judged_by_its_header_before_it_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import ImageFile

    def no_decoding(self: object) -> None:
        raise AssertionError("decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(FileTooLarge, match="too many pixels"):
        open_frame(_png_declaring(9000, 9000), "png", 1)  # 81 Mpx, over the 64 Mpx cap
    with pytest.raises(ImageTooSmall):
        open_frame(_png_declaring(1, 1), "png", 1)
    with pytest.raises(BudgetExceeded):
        open_frame(_png_declaring(6000, 6000), "png", 1, deadline=Deadline(Budget(memory_mb=200)))


def test_frames_are_opened_one_at_a_time() -> None:
    buf = io.BytesIO()
    pages = [Image.new("L", (300, 200), shade) for shade in (10, 120, 250)]
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    data = buf.getvalue()
    assert count_frames(data, "tiff") == 3
    assert [open_frame(data, "tiff", n).getpixel((5, 5)) for n in (3, 1, 2)] == [250, 10, 120]
    with pytest.raises(TooManyPages):
        count_frames(data, "tiff", Limits(max_pages=2))


def test_a_blank_page_is_neither_read_nor_turned(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("OCR or OSD on a blank page")

    monkeypatch.setattr("extract.recognize.recognizer", never)
    monkeypatch.setattr(tesseract, "detect_orientation", never)
    page = ocr_page_image(Image.new("1", (2480, 3508), 1), 300, 4)
    assert page.number == 4 and page.words == [] and page.source == "ocr"
    assert page.width == pytest.approx(595.2) and page.height == pytest.approx(841.9, abs=0.1)


def test_an_image_the_libraries_cannot_work_on_is_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise cv2.error("OpenCV(5.1.0) resize.cpp:4065: error: (-215:Assertion failed) !ssize.empty()")

    monkeypatch.setattr("extract.readers.image.prepare", broken)
    page = Image.new("L", (800, 600), 255)
    ImageDraw.Draw(page).rectangle((100, 100, 700, 140), fill=0)
    with pytest.raises(CorruptFile, match="page 2") as err:
        ocr_page_image(page, 300, 2)
    assert "\n" not in str(err.value)


def _damaged_lzw_tiff() -> bytes:
    page = Image.new("L", (1200, 900), 255)
    draw = ImageDraw.Draw(page)
    for y in range(50, 850, 40):
        draw.rectangle((50, y, 1100, y + 10), fill=0)
    buf = io.BytesIO()
    page.save(buf, "TIFF", compression="tiff_lzw")
    data = bytearray(buf.getvalue())
    at = len(data) // 2
    data[at : at + 300] = b"\xff" * 300  # codes not in LZW's table
    return bytes(data)


def test_a_damaged_tiff_is_one_refusal_and_libtiff_says_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    """Found by bench/fuzz_inputs.py: libtiff wrote "LZWDecode: Not enough data at scanline…"
    to stderr itself, before the one line of the refusal."""
    with pytest.raises(CorruptFile, match="tiff"):
        open_frame(_damaged_lzw_tiff(), "tiff", 1)
    assert capfd.readouterr().err == ""


def test_the_recognizer_out_of_memory_is_a_limit_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by bench/fuzz_inputs.py: ONNX Runtime's std::bad_alloc was a traceback (exit 1)."""
    from forms.errors import PageTooLarge

    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise RuntimeError("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while"
                           " running Add node. Name:'Add.208' Status Message: std::bad_alloc")

    monkeypatch.setattr("extract.readers.image._ocr_page_image", out_of_memory)
    page = Image.new("L", (800, 600), 255)
    ImageDraw.Draw(page).rectangle((100, 100, 700, 140), fill=0)
    with pytest.raises(PageTooLarge, match="does not fit in memory"):
        ocr_page_image(page, 300, 1)
    monkeypatch.setattr("extract.readers.image._ocr_page_image", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("other")))
    with pytest.raises(RuntimeError, match="other"):  # a bug stays a bug
        ocr_page_image(page, 300, 1)


def test_pil_warnings_about_a_damaged_tiff_are_not_printed(capfd: pytest.CaptureFixture[str]) -> None:
    """Found by bench/fuzz_inputs.py (seed 99): PIL's "Tag data larger than file" and
    "Truncated File Read" UserWarnings were printed before the one line of the refusal (and,
    with warnings as errors, a damaged tag would be an error rather than a skipped tag)."""
    buf = io.BytesIO()
    Image.new("L", (400, 300), 255).save(buf, "TIFF", dpi=(300, 300))
    data = bytearray(buf.getvalue())
    ifd = struct.unpack("<I", data[4:8])[0]
    count = struct.unpack("<H", data[ifd : ifd + 2])[0]
    for i in range(count):
        at = ifd + 2 + 12 * i
        if struct.unpack("<H", data[at : at + 2])[0] == 282:  # XResolution: 100,000 rationals, past the end
            data[at + 4 : at + 8] = struct.pack("<I", 100_000)
    frame = open_frame(bytes(data), "tiff", 1)  # the tag skipped, the page read
    assert frame.size == (400, 300)
    assert capfd.readouterr().err == ""
