"""Checkboxes and circled options read from pixels (synthetic 300 dpi images)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from extract import checkmarks
from extract.checkmarks import (
    EMPTY,
    TICKED,
    Checkbox,
    Circle,
    apply_marks,
    find_checkboxes,
    find_circles,
)
from extract.pagemodel import Word
from extract.prepare import ink_mask

DPI = 300
MINCHO = "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf"
GOTHIC = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SIZE = 44  # 10.5 pt at 300 dpi


def _canvas(w: int = 600, h: int = 160) -> np.ndarray:
    return np.full((h, w), 255, np.uint8)


def _box(arr: np.ndarray, x: int, y: int, side: int = 32, wall: int = 2) -> tuple[int, int, int, int]:
    cv2.rectangle(arr, (x, y), (x + side - 1, y + side - 1), 0, wall)
    return (x, y, x + side, y + side)


def _boxes(arr: np.ndarray) -> list[Checkbox]:
    return find_checkboxes(ink_mask(arr), DPI)


def test_empty_box() -> None:
    arr = _canvas()
    _box(arr, 100, 60)
    (found,) = _boxes(arr)
    assert not found.ticked and found.confidence > 0.9
    assert found.box == pytest.approx((99, 59, 133, 93), abs=3)


def test_pen_tick_crossing_the_border() -> None:
    arr = _canvas()
    x0, y0, x1, y1 = _box(arr, 100, 60)
    # a tick starting inside and leaving the box far past its top-right corner
    pts = np.array([(x0 + 6, y0 + 16), (x0 + 14, y1 - 5), (x1 + 22, y0 - 26)], np.int32)
    cv2.polylines(arr, [pts], False, 0, 4, cv2.LINE_AA)
    (found,) = _boxes(arr)
    assert found.ticked and found.confidence > 0.8


def test_cross_through_the_corners() -> None:
    arr = _canvas()
    x0, y0, x1, y1 = _box(arr, 100, 60)
    cv2.line(arr, (x0 - 4, y0 - 4), (x1 + 4, y1 + 4), 0, 3, cv2.LINE_AA)
    cv2.line(arr, (x1 + 4, y0 - 4), (x0 - 4, y1 + 4), 0, 3, cv2.LINE_AA)
    (found,) = _boxes(arr)
    assert found.ticked


def test_filled_box() -> None:
    arr = _canvas()
    cv2.rectangle(arr, (100, 60), (131, 91), 0, -1)
    (found,) = _boxes(arr)
    assert found.ticked and found.kind == "filled"


def _glyphs(text: str, font: str) -> np.ndarray:
    img = Image.new("L", (SIZE * (2 * len(text) + 2), SIZE * 3), 255)
    draw = ImageDraw.Draw(img)
    for i, ch in enumerate(text):
        draw.text((SIZE + i * 2 * SIZE, SIZE), ch, font=ImageFont.truetype(font, SIZE), fill=0)
    return np.asarray(img).copy()


def test_box_glyphs_and_not_characters_that_look_like_boxes() -> None:
    states = [b.ticked for b in _boxes(_glyphs("☐☑☒", DEJAVU))]
    assert states == [False, True, True]
    for font in (MINCHO, GOTHIC):
        assert _boxes(_glyphs("口ロ日回国田", font)) == []


def _label_image(text: str, x: int, y: int, arr: np.ndarray, font: str = MINCHO) -> tuple[int, int, int, int]:
    img = Image.fromarray(arr)
    draw = ImageDraw.Draw(img)
    f = ImageFont.truetype(font, SIZE)
    draw.text((x, y), text, font=f, fill=0)
    arr[:] = np.asarray(img)
    return draw.textbbox((x, y), text, font=f)


def test_circled_label() -> None:
    arr = _canvas(800, 200)
    boxes = [_label_image(t, 80 + i * 200, 70, arr) for i, t in enumerate(("常温", "冷蔵", "冷凍"))]
    x0, y0, x1, y1 = boxes[1]
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    cv2.ellipse(arr, (cx, cy), ((x1 - x0) // 2 + 22, (y1 - y0) // 2 + 16), -4, 20, 380, 0, 3, cv2.LINE_AA)
    circles = find_circles(ink_mask(arr), DPI)
    assert len(circles) == 1
    (c,) = circles
    assert c.box[0] < x0 and c.box[2] > x1 and c.box[1] < y0 and c.box[3] > y1
    # no circles around plain labels, boxes or a 〇
    arr2 = _canvas(800, 200)
    _label_image("常温　〇　冷凍", 80, 70, arr2)
    _box(arr2, 500, 70)
    assert find_circles(ink_mask(arr2), DPI) == []


def _w(text: str, x0: float, x1: float, conf: float = 0.9) -> Word:
    return Word(text, x0, 100.0, x1, 110.0, conf)


def test_apply_marks_replaces_garbage_and_marks_circled_labels() -> None:
    px = 72.0 / DPI
    box_empty = Checkbox((400, 416, 440, 456), False, 0.97, 0.0)
    box_ticked = Checkbox((600, 416, 640, 456), True, 0.9, 0.2)
    words = [
        _w("口", 96.5, 105.0, 0.4),  # Tesseract's reading of the empty box
        _w("市内", 108.0, 128.0),
        _w("図", 144.0, 153.0, 0.3),  # ... of the ticked one
        _w("市外", 156.0, 176.0),
        _w("常温", 200.0, 220.0),
        _w("冷蔵", 240.0, 260.0),
    ]
    circle = Circle((int(232 / px), int(95 / px), int(268 / px), int(115 / px)), 0.85)
    out = apply_marks(words, [box_empty, box_ticked], [circle], px)
    texts = sorted((w.x0, w.text) for w in out)
    assert [t for _, t in texts] == [EMPTY, "市内", TICKED, "市外", "常温", TICKED, "冷蔵"]
    marks = {w.text: w for w in out if w.text in (EMPTY, TICKED) and w.x0 < 200}
    assert marks[EMPTY].bbox == pytest.approx((96.0, 99.84, 105.6, 109.44))
    assert marks[EMPTY].conf == 0.97


def test_circle_around_a_label_with_a_box_ticks_that_box() -> None:
    px = 72.0 / DPI
    box = Checkbox((int(110 / px), int(100 / px), int(119 / px), int(109 / px)), False, 0.95, 0.0)
    words = [_w("卵", 100.0, 109.0)]
    circle = Circle((int(96 / px), int(95 / px), int(112 / px), int(115 / px)), 0.85)
    out = apply_marks(words, [box], [circle], px)
    assert [w.text for w in sorted(out, key=lambda w: w.x0)] == ["卵", TICKED]


def test_circle_drawn_through_its_label_s_box_ticks_that_box_and_not_the_next_one() -> None:
    """Regression (city layout, seed 5, 200 dpi): a circle round 冷蔵 ran through its box; the
    ring's ink beside the box made it a character's look-alike, read as [ and dropped, and the
    circle's mark went to the next option's box: 冷凍 for 冷蔵."""
    px = 72.0 / DPI
    pts = lambda b: tuple(int(v / px) for v in b)  # noqa: E731
    own = Checkbox(pts((219, 101, 227, 109)), True, 0.9, 0.41, "like")
    following = Checkbox(pts((263, 101, 271, 109)), False, 0.95, 0.0)
    circle = Circle(pts((225, 95, 257, 115)), 0.85)
    assert checkmarks.under_circle(own, [circle]).kind == "box"
    assert checkmarks.under_circle(own, []).kind == "like"  # no circle: left to the OCR
    words = [_w("常温", 188, 207), _w("冷蔵", 231, 254), _w("冷凍", 275, 295)]
    out = apply_marks(words, [checkmarks.under_circle(own, [circle]), following], [circle], px)
    assert [w.text for w in sorted(out, key=lambda w: w.x0)] == ["常温", TICKED, "冷蔵", EMPTY, "冷凍"]
    # the box the circle went through is taken before a nearer one outside it
    unticked = Checkbox(pts((212, 101, 220, 109)), False, 0.95, 0.0)  # 11 pt from 冷蔵; 冷凍's 9
    out = apply_marks(words, [unticked, following], [Circle(pts((210, 95, 258, 115)), 0.85)], px)
    assert [w.text for w in sorted(out, key=lambda w: w.x0)] == ["常温", TICKED, "冷蔵", EMPTY, "冷凍"]


def test_masking_removes_boxes_ticks_and_circles() -> None:
    arr = _canvas()
    x0, y0, x1, y1 = _box(arr, 100, 60)
    cv2.polylines(arr, [np.array([(x0 + 6, y0 + 16), (x0 + 14, y1 - 5), (x1 + 20, y0 - 24)], np.int32)], False, 0, 4)
    label = _label_image("市外", x1 + 12, y0 - 6, arr)
    ink = ink_mask(arr)
    boxes = _boxes(arr)
    clean = checkmarks.mask_marks(arr, ink, boxes, [], DPI)
    left = clean < 128
    # the box and the tick are gone; beside the box the label stays whole
    lx0, ly0, lx1, ly1 = label
    outside = left.copy()
    outside[ly0:ly1, lx0:lx1] = False
    assert not outside.any()
    assert left[ly0:ly1, lx0:lx1].sum() >= 0.95 * (ink[ly0:ly1, lx0:lx1] > 0).sum() - 40


def _label_and_ticked_like_box(label: str) -> tuple[Checkbox, np.ndarray]:
    """A label and, after it, a ticked box found on the ink only ("like"): the box and the ink."""
    arr = _canvas(700, 120)
    _label_image(label, 60, 40, arr)
    return Checkbox(_box(arr, 250, 42, side=40), True, 0.9, 0.6, "like"), ink_mask(arr)


def test_ticked_like_box_stays_when_the_ocr_put_its_labels_last_character_on_it() -> None:
    """Regression (200 dpi scan): やまいも☑ read as やまい, and も with the ticked box's place;
    the box was taken for a character and the allergen lost."""
    from extract.tesseract import OcrWord

    like, ink = _label_and_ticked_like_box("やまいも")
    misplaced = [OcrWord("やまい", (60, 40, 192, 84), 96.0), OcrWord("も", (250, 42, 290, 82), 93.0)]
    assert checkmarks.confirm_boxes([like], misplaced, ink=ink) == [like]
    # every character read where it stands: what is read on the box is a character
    read = [OcrWord("やまいも", (60, 40, 236, 84), 96.0), OcrWord("国", (250, 42, 290, 82), 93.0)]
    assert checkmarks.confirm_boxes([like], read, ink=ink) == []
    assert checkmarks.confirm_boxes([like], misplaced) == []  # without the ink, as before


def test_ticked_like_box_stays_under_a_tick_read_as_7_or_a_label_character_stretched_over_it() -> None:
    """Regression (300 dpi scan of the allergen grid in a gothic face): ゼラチン☑'s tick read
    as 7 on the box, and もも☑'s second も read from its place to past the box; both boxes
    were taken for characters and the allergens lost."""
    from extract.tesseract import OcrWord

    like, ink = _label_and_ticked_like_box("もも")
    assert checkmarks.confirm_boxes([like], [OcrWord("7", (245, 20, 300, 82), 56.0)], ink=ink) == [like]
    stretched = [OcrWord("も", (60, 40, 100, 84), 95.0), OcrWord("も", (104, 40, 292, 84), 81.0)]
    assert checkmarks.confirm_boxes([like], stretched, ink=ink) == [like]
    # a character read where the box is, starting with it, is still the character
    assert checkmarks.confirm_boxes([like], [OcrWord("も", (60, 40, 100, 84), 95.0), OcrWord("園", (248, 40, 292, 84), 90.0)], ink=ink) == []


def test_ticked_like_box_stays_under_a_tick_read_as_人() -> None:
    """Regression (blind 200 dpi scan, carriers): a pen tick leaving ヤマト運輸's box by its top
    right corner was read as 人 at 68 on the box, and yamato was lost from the carriers."""
    from extract.tesseract import OcrWord

    like, ink = _label_and_ticked_like_box("もも")
    read = [OcrWord("もも", (60, 40, 192, 84), 95.0), OcrWord("人", (246, 40, 288, 84), 68.0)]
    assert checkmarks.confirm_boxes([like], read, ink=ink) == [like]


def test_like_box_inside_a_word_read_with_confidence_is_the_word_s_character() -> None:
    """Regression (200 dpi scan of the form typed in a gothic face): 香 of 伊香保 passed for a
    ticked box; the first character's ink left unread by the word's tight box kept it as one."""
    from extract.tesseract import OcrWord

    like, ink = _label_and_ticked_like_box("やまいも")
    # the same ink before the box, but the box's place is read inside a two-character word
    in_a_word = [OcrWord("やまい", (60, 40, 192, 84), 96.0), OcrWord("伊香", (250, 42, 290, 82), 91.0)]
    assert checkmarks.confirm_boxes([like], in_a_word, ink=ink) == []


def test_ticked_box_glyph_whose_walls_run_past_its_bottom() -> None:
    """Regression (300 dpi scan of ☑ glyphs): the ☑ glyph's side walls end two pixels below its
    bottom wall, as 口's legs do, and the ticked box was not found."""
    arr = _canvas(700, 160)
    _box(arr, 400, 60)  # an empty box of the same size on the row
    x, y, side = 100, 60, 32
    cv2.rectangle(arr, (x, y), (x + side - 1, y + side - 1), 0, 2)
    arr[y + side : y + side + 2, x : x + 2] = 0  # the legs
    arr[y + side : y + side + 2, x + side - 2 : x + side] = 0
    cv2.line(arr, (x + 6, y + 16), (x + 13, y + 25), 0, 3)  # the check mark inside
    cv2.line(arr, (x + 13, y + 25), (x + 26, y + 5), 0, 3)
    found = sorted(_boxes(arr), key=lambda b: b.box[0])
    assert len(found) == 2
    assert found[0].ticked and found[0].box == pytest.approx((x, y, x + side, y + side), abs=3)
    assert not found[1].ticked


def test_peaks_are_the_local_maxima_of_a_3x3_dilation() -> None:
    from extract.checkmarks import _peaks

    rng = np.random.default_rng(9)
    for i in range(60):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        score = (rng.integers(0, 6, (h, w)) / 5.0 if i % 2 else rng.random((h, w))).astype(np.float32)
        expected = np.nonzero((score >= 0.7) & (score >= cv2.dilate(score, np.ones((3, 3), np.uint8))))
        ys, xs = _peaks(score, score >= 0.7)
        assert np.array_equal(ys, expected[0]) and np.array_equal(xs, expected[1])


def test_square_closed_by_a_table_rule_is_not_a_box() -> None:
    # two upright strokes hanging from a long rule, closed below: a character under a cell's
    # top rule, not a box; the same square standing apart is one
    arr = _canvas(900)
    cv2.line(arr, (20, 40), (880, 40), 0, 2)
    cv2.line(arr, (200, 40), (200, 72), 0, 2)
    cv2.line(arr, (232, 40), (232, 72), 0, 2)
    cv2.line(arr, (200, 72), (232, 72), 0, 2)
    _box(arr, 600, 100)
    (found,) = _boxes(arr)
    assert found.box[0] > 590


def test_table_header_under_its_rule_holds_no_box() -> None:
    # regression (unseen origin certificate, 200 dpi with noise): 料 of 原料名, set right under
    # the table's top rule, was taken for a ticked box, and the header row was not recognised
    path = Path(__file__).resolve().parents[1] / "samples/scans/regression/origin_header_under_rule_200dpi.png"
    grey = np.asarray(Image.open(path).convert("L"))
    assert find_checkboxes(ink_mask(grey), 200) == []


def test_a_box_among_characters_is_left_to_the_ocr_and_a_box_after_a_space_is_not() -> None:
    """Regression (300 dpi scan of the form typed in a gothic face): 園 of 果樹園で, a square
    with strokes inside, was taken for a ticked box and the word lost its character."""
    arr = _canvas(700, 120)
    boxes = []
    for x, neighbours in ((100, (-6, 6)), (300, (-20, 6)), (500, (0, 0))):
        box = _box(arr, x, 40)
        cv2.line(arr, (x + 6, 46), (x + 26, 66), 0, 3)  # a mark inside
        for dx in neighbours:  # a stroke of the character before / after, dx pixels off the wall
            edge = x + dx - 4 if dx < 0 else x + 32 + dx
            cv2.rectangle(arr, (edge, 48), (edge + 3, 64), 0, -1)
        boxes.append(Checkbox(box, True, 0.9, 0.4, "box"))
    boxes.append(Checkbox(boxes[0].box, True, 0.9, 0.9, "filled"))  # 園 blurred at 200 dpi
    among, after_space, touched, filled = checkmarks.among_characters(boxes, ink_mask(arr))
    assert among.kind == "like" and filled.kind == "like"  # characters 6 px off each wall: the OCR decides
    assert after_space.kind == "box"  # 20 px before it: a space, as a typed box has
    assert touched.kind == "box"  # ink touching the walls: a tick's strokes


def test_ticked_like_box_stays_when_the_word_before_it_only_reaches_into_it() -> None:
    """Regression (CI, 300 dpi pen-ticked scan): 通年☑ read with the word's box ending a few
    pixels into the ticked box; 年's share of the width covered half the box, and the box was
    taken for 年 and lost. The result turned on a pixel that differs between CPUs."""
    from extract.tesseract import OcrWord

    like = Checkbox((917, 2500, 948, 2532), True, 0.9, 0.6, "like")
    for right in (932, 934, 936):
        word = OcrWord("通年", (784, 2480, right, 2545), 91.0)
        assert checkmarks.confirm_boxes([like], [word]) == [like]
    # a character whose share is centred on the box is still read there
    assert checkmarks.confirm_boxes([like], [OcrWord("通年", (860, 2480, 950, 2545), 91.0)]) == []


def test_a_box_found_in_a_heading_s_character_is_no_box() -> None:
    """Regression (unseen content, city layout, 200 dpi): in the bold 18-pt title, 品's 口 and
    parts of 援 and 申 passed for ticked boxes among characters; Tesseract's shares of those
    wide characters were not centred on the small boxes, the boxes stayed, and the title was
    read 応☑ ... 返礼☑ 提供☑ 込書: the document was not recognised and all 35 fields lost."""
    from extract.tesseract import OcrWord

    title = [OcrWord("応援", (557, 189, 657, 226), 95.0, line=(1, 1, 2)), OcrWord("品", (1154, 189, 1187, 226), 93.0, line=(1, 1, 2))]
    body = [OcrWord(t, (x, 300 + 40 * k, x + 150, 326 + 40 * k), 92.0, line=(2, 1, 3 + k))
            for k, t in enumerate(["渋川市長", "申込者", "所在地", "名称"]) for x in (160, 700)]
    boxes = [Checkbox((641, 199, 663, 221), True, 1.0, 0.7, "like"), Checkbox((1147, 191, 1169, 213), True, 1.0, 0.59, "like")]
    assert checkmarks.confirm_boxes(boxes, title + body) == []
    # the same boxes with the same words in a line of the page's own size are the OCR's to judge
    # (a share not centred on the box is a neighbour's reaching into it)
    level = [w._replace(box=(w.box[0], 200, w.box[2], 226)) for w in title]
    assert checkmarks.confirm_boxes(boxes, level + body) == boxes


def test_a_box_full_of_ink_under_a_character_read_there_is_that_character() -> None:
    """Regression (unseen content, city layout, 200 dpi): 肩 of 上州豚の肩肉, blurred into a
    square full of ink, passed for a ticked box; Tesseract put の over half of it and 肩 past
    it, so neither was centred on it, and の alone there passed for a label's character
    stretched onto a box. The value was read again around the box and came back 肩内 with a
    space in it. A box that full is a character's when a character's share covers it."""
    from extract.tesseract import OcrWord

    words = [OcrWord("の", (582, 1156, 618, 1181), 87.0), OcrWord("肩", (634, 1155, 647, 1181), 91.0)]
    blurred = Checkbox((606, 1156, 628, 1178), True, 1.0, 0.99, "like")
    assert checkmarks.confirm_boxes([blurred], words) == []
    # a pen tick, with the same reading around it, stays a box (もも☑: the label's last
    # character stretched from its own place over the box)
    ticked = Checkbox((606, 1156, 628, 1178), True, 1.0, 0.6, "like")
    assert checkmarks.confirm_boxes([ticked], words) == [ticked]


def test_a_box_full_of_ink_under_a_poorly_read_character_is_that_character() -> None:
    """Regression (unseen content, city layout, 200 dpi): 梱包 and 鶏肉, blurred into squares
    full of ink, were read at confidence 0 to 8 (指色, 鶏肉), too unsure to say a character
    stood there, and passed for ticked boxes: the row (17) was lost and the allergen grid was
    a box short."""
    from extract.tesseract import OcrWord

    unsure = [OcrWord("鶏肉", (159, 313, 205, 337), 8.0)]
    blurred = Checkbox((161, 314, 180, 334), True, 1.0, 0.93, "like")
    assert checkmarks.confirm_boxes([blurred], unsure) == []
    # an unsure reading over a pen tick says nothing: the box stays
    ticked = Checkbox((161, 314, 180, 334), True, 1.0, 0.5, "like")
    assert checkmarks.confirm_boxes([ticked], unsure) == [ticked]


def test_a_marked_box_opening_a_row_of_choices_stays_though_its_mark_is_read() -> None:
    """Regression (holdout content, 200 dpi): a pen cross over ゆうパック's box, first in its
    cell, was read as 近 with confidence and the box was lost with the carrier. A box right
    after its cell's wall, on a row with two boxes more of its size, opens a row of choices."""
    from extract.tesseract import OcrWord

    crossed = Checkbox((487, 2014, 510, 2036), True, 1.0, 0.71, "like")
    others = [Checkbox((698, 2014, 721, 2036), True, 1.0, 0.66, "like"), Checkbox((884, 2014, 907, 2036), True, 1.0, 0.65, "like")]
    words = [OcrWord("近", (479, 2007, 529, 2042), 62.0), OcrWord("ゆうパック", (530, 2012, 654, 2036), 41.0)]
    wall = (470, 1990, 470, 2060)
    assert crossed in checkmarks.confirm_boxes([crossed, *others], words, walls=[wall])
    # without the wall (not first in its cell), or without the row of boxes, the reading decides
    assert crossed not in checkmarks.confirm_boxes([crossed, *others], words, walls=[])
    assert crossed not in checkmarks.confirm_boxes([crossed], words, walls=[wall])
    # nor when the row's other "boxes" were characters (日 日 of 毎月10日・25日, 毎 first in its cell)
    days = [OcrWord("日", (694, 2010, 725, 2040), 90.0), OcrWord("日", (880, 2010, 911, 2040), 90.0)]
    assert crossed not in checkmarks.confirm_boxes([crossed, *others], words + days, walls=[wall])
    # nor does a character full of ink there pass for a box (a blurred kanji)
    blurred = Checkbox(crossed.box, True, 1.0, 0.95, "like")
    assert blurred not in checkmarks.confirm_boxes([blurred, *others], words, walls=[wall])
    # but a box a pen's cross filled, read as a character with no confidence, opens the row
    # (blind 200 dpi scan: ゆうパック's crossed box at 0.86 of ink, read as 芝 at 0)
    filled = Checkbox(crossed.box, True, 1.0, 0.86, "like")
    unsure = [OcrWord("芝", (476, 1997, 531, 2044), 0.0), words[1]]
    assert filled in checkmarks.confirm_boxes([filled, *others], unsure, walls=[wall])


def test_a_thick_pen_tick_s_flat_valley_is_no_character_s_bar() -> None:
    """Regression (city layout, seed 6, 300 dpi): the thick tick in 佐川急便's box lay flat at
    its bottom like 日's bar; the box, matched a pixel narrower than it is, was taken for a
    character and the carrier lost."""
    scan = Path(__file__).resolve().parents[1] / "samples" / "scans" / "regression" / "carriers_thick_tick_300dpi.png"
    arr = np.asarray(Image.open(scan).convert("L"))
    ink = ink_mask(arr)
    found = sorted(find_checkboxes(ink, DPI), key=lambda b: b.box[0])
    assert [b.ticked for b in found] == [False, True, True]  # ゆうパック, 佐川急便, ヤマト運輸
    x0, y0 = found[1].box[:2]
    assert not checkmarks._strokes_inside(ink, (x0 + 3, y0 + 3, x0 + 31 - 3, y0 + 32 - 3))


def test_ticked_like_box_stays_when_the_characters_before_it_were_read_as_one() -> None:
    """Regression (city layout, seed 6, 300 dpi): 鶏肉☑ read as 鶏 on a box over both label
    characters and 肉 on the ticked box; the box was taken for 肉 and the allergen lost."""
    from extract.tesseract import OcrWord

    like = Checkbox((324, 474, 351, 502), True, 0.9, 0.6, "like")
    shifted = OcrWord("鶏肉", (238, 446, 375, 504), 52.0, char_boxes=((238, 470, 307, 504), (324, 444, 376, 502)))
    assert checkmarks.confirm_boxes([like], [shifted]) == [like]
    # each character on a box of its own size: what is read on the box is a character
    placed = OcrWord("伊香", (290, 474, 351, 502), 91.0, char_boxes=((290, 474, 318, 502), (324, 474, 351, 502)))
    assert checkmarks.confirm_boxes([like], [placed]) == []
    # a flat ー before the box is one character, however wide
    bar = OcrWord("ー肉", (290, 474, 351, 502), 91.0, char_boxes=((290, 486, 318, 490), (324, 474, 351, 502)))
    assert checkmarks.confirm_boxes([like], [bar]) == []


def test_a_circle_whose_top_runs_along_a_ruled_line_keeps_its_top_arc() -> None:
    """Regression (default layout, seed 2, 200 dpi): a hand-drawn circle around 通年 ran along
    the row's rule at its top; the rule taken out cut the top arc off, and the rest, flat-sided
    without it, looked like a frame: the circle and the supply period were lost."""
    from extract.readers.image import find_rules, table_lines

    scan = Path(__file__).resolve().parents[1] / "samples" / "scans" / "regression" / "circle_over_rule_200dpi.png"
    ink = ink_mask(np.asarray(Image.open(scan).convert("L")))
    _, rule_mask = find_rules(ink, 200)
    zone = cv2.dilate(table_lines(rule_mask, 200), np.ones((5, 5), np.uint8))
    boxes = find_checkboxes(ink, 200)
    (circle,) = find_circles(cv2.bitwise_and(ink, cv2.bitwise_not(zone)), 200, boxes=boxes, gaps=zone)
    x0, y0, x1, y1 = circle.box
    assert y0 <= 58 and y1 >= 110 and x0 <= 70 and x1 >= 155  # the whole ellipse, its top arc above the rule


def test_ticked_like_box_stays_when_the_word_before_it_read_two_characters_as_one() -> None:
    """Regression (city layout, seed 11, 200 dpi): 落花生☑ read as 落花 with 落 on a box over
    落花, and 生 alone on the ticked box; the box was taken for 生 and the allergen lost."""
    from extract.tesseract import OcrWord

    like = Checkbox((1149, 205, 1168, 225), True, 0.9, 0.62, "like")
    alone = OcrWord("生", (1148, 200, 1171, 225), 91.0, char_boxes=((1148, 200, 1174, 225),))
    shifted = OcrWord("落花", (1067, 203, 1139, 226), 94.0, char_boxes=((1067, 203, 1114, 226), (1117, 203, 1139, 225)))
    assert checkmarks.confirm_boxes([like], [shifted, alone]) == [like]
    # the word before read one character a box: what is read alone on the box is a character
    placed = OcrWord("落花", (1090, 203, 1139, 226), 94.0, char_boxes=((1090, 203, 1113, 226), (1117, 203, 1139, 225)))
    assert checkmarks.confirm_boxes([like], [placed, alone]) == []


def test_ticked_like_box_stays_under_a_character_whose_box_was_stretched_over_it() -> None:
    """Regression (city layout, seed 12, 200 dpi): えび☑ read with び's box stretched from its
    own place over the ticked box; the box was taken for び and the allergen lost."""
    from extract.tesseract import OcrWord

    like = Checkbox((1276, 205, 1295, 224), True, 0.9, 0.62, "like")
    stretched = OcrWord("えび", (1221, 200, 1301, 225), 74.0, char_boxes=((1221, 204, 1240, 225), (1245, 200, 1301, 225)))
    assert checkmarks.confirm_boxes([like], [stretched]) == [like]
    # a character whose box is its own size, on the box: a character
    on_it = OcrWord("えび", (1250, 200, 1296, 225), 74.0, char_boxes=((1250, 204, 1270, 225), (1275, 200, 1296, 225)))
    assert checkmarks.confirm_boxes([like], [on_it]) == []
    # (seeds 9 and 11) 冷 of 冷蔵 given the whole word's width and 蔵, a gothic square passing
    # for a ticked box, a sliver: 蔵 is read on the box
    like = Checkbox((673, 2057, 691, 2075), True, 0.9, 0.88, "like")
    word = OcrWord("冷蔵", (643, 2050, 697, 2076), 70.0, char_boxes=((643, 2050, 697, 2076), (689, 2050, 697, 2076)))
    assert checkmarks.confirm_boxes([like], [word]) == []
    # (seed 12, 300 dpi) 樹 of 果樹園, itself passing for the box, given a box from after 果 to
    # past 園: it says nothing of where 樹 is, and 樹 is read on the box
    like = Checkbox((1074, 1734, 1109, 1769), True, 0.9, 0.6, "like")
    word = OcrWord("果樹", (985, 1732, 1109, 1771), 93.0, char_boxes=((984, 1734, 1023, 1771), (1027, 1732, 1242, 1771)))
    assert checkmarks.confirm_boxes([like], [word]) == []


def test_a_flat_circle_round_a_long_label_is_a_circle() -> None:
    """Regression (holdout seed 504, 200 dpi): a circle drawn flat round 時期限定 has near-straight
    top and bottom (0.52 of its ring's ink), and was taken for a frame: the choice was lost."""
    from extract.readers.image import find_rules, table_lines

    scan = Path(__file__).resolve().parents[1] / "samples" / "scans" / "regression" / "flat_circle_200dpi.png"
    ink = ink_mask(np.asarray(Image.open(scan).convert("L")))
    _, rule_mask = find_rules(ink, 200)
    zone = cv2.dilate(table_lines(rule_mask, 200), np.ones((5, 5), np.uint8))
    boxes = find_checkboxes(ink, 200)
    circles = find_circles(cv2.bitwise_and(ink, cv2.bitwise_not(zone)), 200, boxes=boxes, gaps=zone)
    assert len(circles) == 1
    x0, _, x1, _ = circles[0].box
    assert x1 - x0 > 120  # round the four characters, not one


def test_stroke_lines_stay_on_their_ink() -> None:
    # an even kernel is anchored off its middle by cv2, and the opening moved each stroke a
    # pixel past its ink
    ink = np.zeros((80, 80), np.uint8)
    ink[10:50, 20:23] = 255
    ink[10:13, 20:60] = 255
    for length in (14, 15):
        lines = checkmarks.stroke_lines(ink, length)
        assert lines.any() and not (lines & ~ink).any()


def test_empty_box_with_a_ragged_bottom_row_at_300_dpi() -> None:
    """Regression (blind 300 dpi scan, city layout): ☐ before 市内 had a broken row under its
    bottom wall; the strokes found a pixel below their ink made its side walls look like 口's
    legs, the box was lost, and 製造場所 (☑ 市 / 外, the label wrapped) read as nothing."""
    full, wall = "#" * 32, "###" + "." * 26 + "###"
    rows = [".#" + "#" * 30 + ".", *[full] * 2, *[wall] * 27, *[full] * 2, ".###########..#.#..#.###..##.#.."]
    arr = _canvas(200, 100)
    for y, row in enumerate(rows):
        arr[20 + y, 40 : 40 + len(row)] = [0 if c == "#" else 255 for c in row]
    [box] = find_checkboxes(ink_mask(arr), 300)
    assert not box.ticked and box.box[0] == 40


def _from_rows(rows: list[str]) -> np.ndarray:
    arr = _canvas(120, 60)
    for y, row in enumerate(rows):
        arr[10 + y, 20 : 20 + len(row)] = [0 if c == "#" else 255 for c in row]
    return arr


def test_a_speck_in_an_empty_box_is_no_tick_and_a_thin_tick_is() -> None:
    """Regression (blind 200 dpi noisy scan): specks of noise inside さば's and 豚肉's empty
    boxes (8 pixels, and a wall's bump in the opposite corner) gave a density of 0.05 and
    both were taken for ticked allergens."""
    def box(marks: set[tuple[int, int]]) -> list[str]:
        rows = []
        for y in range(19):
            wall = y < 2 or y > 16
            rows.append("".join("#" if wall or x < 2 or x > 16 or (y, x) in marks else "." for x in range(19)))
        return rows

    speck = {(y, x) for y in (12, 13, 14) for x in (4, 5, 6)} | {(3, 15), (3, 16)}
    [found] = find_checkboxes(ink_mask(_from_rows(box(speck))), 200)
    assert not found.ticked
    stroke = {(3 + k, 15 - k) for k in range(13)}  # one pixel wide, corner to corner
    [found] = find_checkboxes(ink_mask(_from_rows(box(stroke))), 200)
    assert found.ticked
    # a hand-drawn circle's ring run down inside the box's wall (200 dpi, circled 時期限定):
    # the mark, though it crosses nothing
    ring = {(y, 15) for y in range(3, 16)}
    [found] = find_checkboxes(ink_mask(_from_rows(box(ring))), 200)
    assert found.ticked


def _circles_of(name: str, dpi: int) -> list[Circle]:
    """Circles found on a strip of a prepared scan, as ``mark_page`` looks for them."""
    from extract.readers.image import find_rules, table_lines

    scan = Path(__file__).resolve().parents[1] / "samples" / "scans" / "regression" / name
    ink = ink_mask(np.asarray(Image.open(scan).convert("L")))
    _, rule_mask = find_rules(ink, dpi)
    zone = cv2.dilate(table_lines(rule_mask, dpi), np.ones((5, 5), np.uint8))
    boxes = find_checkboxes(ink, dpi)
    return find_circles(cv2.bitwise_and(ink, cv2.bitwise_not(zone)), dpi, boxes=boxes, gaps=zone)


def _circled(words: list[tuple[int, int, int, int]], circles: list[Circle]) -> list[bool]:
    return [any(c.box[0] <= (w[0] + w[2]) / 2 <= c.box[2] and c.box[1] <= (w[1] + w[3]) / 2 <= c.box[3] for c in circles) for w in words]


def test_rings_over_the_rules_and_the_words_around_them_are_circles() -> None:
    """Regression (zoo seed 7, 200 dpi): rings drawn across their row's rules, over the label
    before the word and touching the ring of the next row were one component each with its
    neighbours, or lost their tops with the rules: one ring in nine was found. Each circled word
    is now inside a circle of its own, and no word that was not circled is."""
    circled = [(414, 20, 459, 42), (314, 56, 359, 78), (364, 92, 411, 114), (364, 127, 411, 149),
               (291, 236, 407, 256), (489, 235, 585, 257), (465, 271, 510, 293), (515, 308, 558, 328)]
    circles = _circles_of("rings_in_rows_200dpi.png", 200)
    assert _circled(circled, circles) == [True] * len(circled)
    assert len(circles) == len(circled)


def test_rings_cut_apart_by_a_cell_s_wall_and_a_tight_row_s_rules_are_circles() -> None:
    """Regression (zoo seed 98, 300 dpi): a ring round 有 drawn over its cell's left wall and
    across its row's rules, and one round 乳 in the allergen grid, were cut into pieces with
    no outline of their own to fit when the lines were taken out: both choices were lost.
    Ellipses are now also fitted to the ink round each run of characters."""
    circles = _circles_of("rings_over_a_wall_300dpi.png", 300)
    assert _circled([(650, 60, 700, 110), (355, 150, 415, 205)], circles) == [True, True]
    assert len(circles) == 2


def test_a_label_in_its_tight_cell_is_no_circle() -> None:
    """The walls and rules of a tight cell go round the word in it as a ring would; a ring
    draws most of its round in ink of its own (zoo seed 95: 出荷タイミング taken for circled)."""
    assert _circles_of("label_in_a_tight_cell_200dpi.png", 200) == []


def test_a_bold_title_character_is_no_circle() -> None:
    """Regression: the outline of a bold title character (返, 応 at 200 dpi) fits an ellipse,
    with its own strokes inside; nothing inside is apart from the ring, so it is no circle."""
    assert _circles_of("bold_title_200dpi.png", 200) == []


def test_a_ring_over_the_label_before_its_word_marks_the_word() -> None:
    """Regression (zoo seed 7): a ring round 市内 whose end ran over 所： put the mark before
    所, so 市内 was not the chosen option; only characters well inside the ring are circled."""
    px = 72.0 / DPI
    line = Word("場所：市内・市外", 100.0, 100.0, 180.0, 110.0, 0.9)
    ring = Circle(tuple(int(v / px) for v in (123.5, 95.0, 156.5, 115.0)), 0.85)  # type: ignore[arg-type]
    out = apply_marks([line], [], [ring], px)
    (mark,) = [w for w in out if w.text == "☑"]
    circled = min((w for w in out if w.text not in ("☑", "☐") and w.x0 >= mark.x1 - 0.5), key=lambda w: w.x0)
    assert circled.text.startswith("市内")
    assert [w.text for w in out if w.x0 < mark.x0] == ["場所："]
    # the cuts the recognizer is given: inside the ring's ends, not at its box
    left, right = checkmarks.ring_cuts(ring)
    assert ring.box[0] < left[0] < int(130 / px) and int(150 / px) < right[0] < ring.box[2]


def test_a_box_on_the_line_below_takes_no_character_of_a_word() -> None:
    """Regression (zoo seed 5, zoo_027): order@horikoshi-meat.jp read as orr@hokoshi-meat.jp:
    the boxes of Webサイト ☑有 ☐無 on the next line reached the address's line with their
    margin, and the characters above them were cut off as if read on the boxes."""
    from extract.tesseract import OcrWord

    email = OcrWord("order@horikoshi", (160, 1990, 600, 2036), 98.0)
    below = [Checkbox((320, 2035, 341, 2056), True, 1.0, 0.22, "box"), Checkbox((404, 2035, 425, 2056), False, 1.0, 0.0, "box")]
    assert checkmarks.drop_box_words([email], below) == [email]
    # a word on the boxes' own line still loses what is read on them
    web = OcrWord("有口無", (300, 2033, 470, 2058), 90.0, char_boxes=((343, 2033, 370, 2058), (400, 2033, 428, 2058), (430, 2033, 470, 2058)))
    [left, right] = checkmarks.drop_box_words([web], below)
    assert (left.text, right.text) == ("有", "無")


def test_the_characters_own_boxes_say_which_is_on_a_box() -> None:
    """Regression (zoo seed 5, zoo_027): ☐日本郵便（ゆうパック） read as □日本郵便…: shared out
    by width, 日 fell on the box and was cut off with □; the recognizer's own boxes put □ there."""
    from extract.tesseract import OcrWord

    box = Checkbox((296, 1322, 317, 1344), False, 1.0, 0.0, "like")
    chars = ((296, 1320, 316, 1347), (322, 1320, 345, 1347), (348, 1320, 372, 1347), (375, 1320, 399, 1347), (402, 1320, 426, 1347))
    word = OcrWord("□日本郵便", (296, 1320, 426, 1347), 53.0, char_confs=(71.0, 61.0, 100.0, 100.0, 100.0), char_boxes=chars)
    [kept] = checkmarks.drop_box_words([word], [box])
    assert kept.text == "日本郵便" and kept.char_boxes == chars[1:] and kept.char_confs == (61.0, 100.0, 100.0, 100.0)


def test_a_box_shaped_character_between_characters_is_a_character_however_unsure_its_reading() -> None:
    """Regression (zoo seed 5, zoo_027, bold gothic): 包 of 梱包サイズ passed for a ticked box
    and was read there with confidence 0.22: the box put ☑ into the label (☑包重量)."""
    from extract.tesseract import OcrWord

    ink = np.zeros((100, 400), np.uint8)
    ink[40:62, 150:172] = 255  # the "box": 包
    ink[40:62, 120:146] = 255  # 梱, close on its left
    ink[40:62, 176:200] = 255  # サ, close on its right
    like = Checkbox((150, 40, 172, 62), True, 1.0, 0.49, "like")
    read = OcrWord("包サ", (150, 38, 200, 64), 22.0, char_confs=(22.0, 100.0), char_boxes=((150, 38, 172, 64), (176, 38, 200, 64)))
    assert checkmarks.confirm_boxes([like], [read], ink=ink) == []
    # with room on its right, as a box in a row of choices stands, the unsure reading is a tick's
    ink[40:62, 176:200] = 0
    ink[40:62, 210:234] = 255
    assert checkmarks.confirm_boxes([like], [read], ink=ink) == [like]


def test_a_like_box_is_kept_by_a_grid_column_only_near_its_boxes() -> None:
    """A box lined up with a found one a few rows away stands in a grid's column; a character
    that lines up with a box twelve rows above it does not."""
    known = [Checkbox((189, 1490, 210, 1512), True, 1.0, 0.2, "box")]
    assert checkmarks._aligned((190, 1540, 211, 1562), known)
    assert not checkmarks._aligned((196, 1762, 217, 1784), known)
    assert checkmarks._aligned((600, 1492, 621, 1513), known)  # on its row, however far


def test_a_box_found_taller_than_its_walls_holds_no_tick_of_its_top_wall() -> None:
    """Regression (zoo seed 5, zoo_010, 200 dpi): four empty boxes of an allergen grid found
    21 px tall for 19 wide held a sliver of their top wall inside: density 0.067, ticked."""
    ink = np.zeros((30, 30), np.uint8)
    cv2.rectangle(ink, (0, 2), (18, 20), 255, 2)  # the box's walls, 19 × 19
    assert checkmarks._inside_density(ink, (0, 0, 19, 21)) == 0.0
    ink[8:14, 6:13] = 255  # a mark inside counts as before
    assert checkmarks._inside_density(ink, (0, 0, 19, 21)) > 0.2


def test_a_ring_flatter_than_four_to_one_is_a_circle() -> None:
    """Regression (zoo seed 5, zoo_005, 300 dpi): a ring drawn round ゆうパック between two
    rules, 6.7 text heights wide for 1.7 tall, has top and bottom straighter than half its
    height: its ink was 66% "straight strokes" and it was taken for a frame. Straight is now
    measured against the ring's own width and height. ヤマト運輸's ring was found before."""
    circles = _circles_of("flat_ring_along_rules_300dpi.png", 300)
    s = 300 / 72
    spans = sorted((round(c.box[0] / s), round(c.box[2] / s)) for c in circles)
    assert len(spans) == 2
    (a0, a1), (b0, b1) = spans
    assert a0 < 155 and a1 > 210 and b0 > 300 and b1 > 370


def _text(arr: np.ndarray, x: int, y: int, text: str, font: str = MINCHO, size: int = SIZE, bold: int = 0) -> None:
    image = Image.fromarray(arr)
    ImageDraw.Draw(image).text((x, y), text, font=ImageFont.truetype(font, size), fill=0, stroke_width=bold, stroke_fill=0)
    arr[:] = np.asarray(image)


def _rounds(arr: np.ndarray) -> list[tuple[int, bool]]:
    """(left, taken) of each round mark found."""
    return sorted((m.box[0], m.ticked) for m in checkmarks.find_round_marks(ink_mask(arr), DPI))


@pytest.mark.parametrize("font", [MINCHO, GOTHIC])
def test_printed_round_marks_are_choices_taken_and_not_taken(font: str) -> None:
    """● and ○ are found from their pixels: the recognizer reads a line of choices without
    them as often as with them (zoo seed 5, zoo_039: 10．受付期間 ●通年 ○期間限定 read as
    10.受付期間通年期間限定（)."""
    arr = _canvas(900)
    _text(arr, 20, 50, "●通年　○期間限定", font)
    found = _rounds(arr)
    assert [taken for _, taken in found] == [True, False]
    assert found[0][0] < 40 and 180 < found[1][0] < 240
    assert all(m.kind == "round" for m in checkmarks.find_round_marks(ink_mask(arr), DPI))


def test_a_ring_with_a_speck_on_it_is_a_round_mark() -> None:
    """Regression (zoo seed 5, zoo_039, heavy noise): a speck touching 卵 ○'s ring made its
    outline stray at a few points; a tenth of the points may."""
    arr = _canvas()
    _text(arr, 20, 50, "卵 ○　乳")
    (left, _), = _rounds(arr)
    cv2.circle(arr, (left + 3, 95), 3, 0, -1)
    assert [taken for _, taken in _rounds(arr)] == [False]


def test_characters_that_look_round_are_no_round_marks() -> None:
    """Running text (該当するものに○を付けて), ① in a note, the o of .co.jp, a Latin O and a
    bold kanji blurred solid (量, zoo seed 5, zoo_005: ☑ put into 梱包重量) are not marks."""
    arr = _canvas(1200, 300)
    _text(arr, 20, 20, "品目に○を付けて")
    _text(arr, 420, 20, "①返礼品")
    _text(arr, 20, 100, "shop@farm.co.jp  ORDER")
    _text(arr, 20, 200, "梱包重量", GOTHIC, bold=6)
    assert _rounds(arr) == []


def test_a_word_read_over_a_mark_without_a_character_on_it_is_cut_there() -> None:
    """Regression (zoo seed 5, zoo_039): 卵 ○ 乳 ○ 小麦 read as one word 卵乳小麦, no character
    read on the marks (whitened), and the last character's box a few pixels past the word's
    (cut back to its ink): the word was not cut, or cut by shares of its width and 小 lost."""
    from extract.tesseract import OcrWord

    marks = [Checkbox((319, 2268, 356, 2305), False, 0.9, 0.0, "round"), Checkbox((464, 2268, 501, 2305), False, 0.9, 0.0, "round")]
    chars = ((259, 2250, 305, 2321), (402, 2250, 448, 2321), (545, 2250, 590, 2321), (592, 2250, 638, 2321))
    word = OcrWord("卵乳小麦", (259, 2250, 632, 2321), 93.7, char_boxes=chars)
    assert [w.text for w in checkmarks.drop_box_words([word], marks)] == ["卵", "乳", "小麦"]
