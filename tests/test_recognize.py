"""The recognizer (extract/recognize.py): the engine setting, the Chinese forms of characters
mapped to Japanese ones (tested both ways), a detected line cut into words at cell walls and
gaps, and the rapidocr engine loaded once, from its own package, never from the network."""

from __future__ import annotations

import threading
import unicodedata

from pathlib import Path

import cv2

import numpy as np
import pytest

from extract import recognize
from extract.recognize import OcrSettings, line_words, to_japanese, zh_to_ja
from forms.errors import ProgramMissing


def _jis_x_0208(ch: str) -> bool:
    """A character of JIS X 0208 (or ASCII): what ISO-2022-JP can write."""
    try:
        ch.encode("iso2022_jp")
    except UnicodeEncodeError:
        return False
    return True


def _ordinary_japanese(ch: str) -> bool:
    """A character Japanese text is written with: JIS X 0208, or the extensions of cp932 (髙, ①)."""
    if _jis_x_0208(ch):
        return True
    try:
        ch.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def test_the_engine_is_a_setting_and_rapidocr_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(recognize.ENGINE_ENV, raising=False)
    assert recognize.settings() == OcrSettings(engine="rapidocr")
    monkeypatch.setenv(recognize.ENGINE_ENV, "Tesseract")
    assert recognize.settings().engine == "tesseract"
    monkeypatch.setenv(recognize.ENGINE_ENV, "paddle")
    with pytest.raises(ProgramMissing, match="rapidocr or tesseract") as info:
        recognize.settings()
    assert info.value.exit_code == 4


def test_no_source_of_the_mapping_is_a_japanese_character() -> None:
    """No correct Japanese character is ever changed: every source is outside JIS X 0208 and
    cp932's extensions (髙 and ① are Japanese, and stay)."""
    table = zh_to_ja()
    assert len(table) > 100
    for source, target in table.items():
        assert len(source) == 1 and len(target) == 1, (source, target)
        assert not _ordinary_japanese(source), source
        assert unicodedata.normalize("NFKC", source) == source, source
        assert source != target


def test_every_target_of_the_mapping_is_jis_x_0208() -> None:
    for source, target in zh_to_ja().items():
        assert _jis_x_0208(target), (source, target)
        assert target not in zh_to_ja(), target  # nothing is mapped twice


@pytest.mark.parametrize(
    ("read", "japanese"),
    [("生產者", "生産者"), ("販壳", "販売"), ("冷冻", "冷凍"), ("消費稅", "消費税"), ("10月顷", "10月頃"),
     ("ジョウシュウ·ワギュウ", "ジョウシュウ・ワギュウ"), ("每月10日", "毎月10日"), ("流通温度带", "流通温度帯")],
)
def test_the_chinese_forms_seen_on_scans_are_written_in_japanese(read: str, japanese: str) -> None:
    assert to_japanese(read) == japanese


def test_japanese_text_is_left_as_it_is() -> None:
    text = "髙橋①渋川市伊香保町　上州和牛すき焼きセット（化粧箱入り）令和7年・税込 3,000円 sales@ikaho.jp"
    assert to_japanese(text) == text


def _line(width: int, inked: list[tuple[int, int]], height: int = 40) -> np.ndarray:
    grey = np.full((height, width), 255, np.uint8)
    for x0, x1 in inked:
        grey[10:30, x0:x1] = 0
    return grey


def _chars(spans: list[tuple[str, int, int]]) -> list[tuple[str, float, list[list[int]]]]:
    return [(ch, 0.99, [[x0, 5], [x1, 5], [x1, 35], [x0, 35]]) for ch, x0, x1 in spans]


def test_a_line_is_cut_into_words_at_wide_gaps_and_cell_walls() -> None:
    # 氏名 | 渋川 太郎: a wall at x=100 between label and value, a wide gap inside the value
    grey = _line(400, [(10, 30), (32, 52), (120, 140), (142, 162), (220, 240), (242, 262)])
    chars = _chars([("氏", 10, 30), ("名", 32, 52), ("渋", 120, 140), ("川", 142, 162), ("太", 220, 240), ("郎", 242, 262)])
    quad = [[5, 5], [270, 5], [270, 35], [5, 35]]
    words = line_words(grey, quad, "氏名渋川太郎", 0.99, chars, [(100, 0, 100, 40)], line=(1, 1, 1))
    assert [w.text for w in words] == ["氏名", "渋川", "太郎"]
    assert all(w.line == (1, 1, 1) and len(w.char_boxes) == len(w.text) == len(w.char_confs) for w in words)
    assert words[1].box[0] == 120 and words[1].conf == pytest.approx(99.0)
    # without the wall, the gaps alone (68 and 58 px of white, over 0.75 × 20) cut the line
    words = line_words(grey, quad, "氏名渋川太郎", 0.99, chars, [], line=(1, 1, 1))
    assert [w.text for w in words] == ["氏名", "渋川", "太郎"]
    # a narrow gap (a word's own spacing) keeps the characters together
    close = _line(200, [(10, 30), (36, 56)])
    words = line_words(close, [[5, 5], [60, 5], [60, 35], [5, 35]], "渋川", 0.9, _chars([("渋", 10, 30), ("川", 36, 56)]), [], line=(1, 1, 2))
    assert [w.text for w in words] == ["渋川"]


def test_a_number_is_not_cut_at_the_white_after_a_full_width_comma() -> None:
    # １，６５０円: the full-width comma's glyph sits left in its cell, a wide white follows
    grey = _line(300, [(10, 22), (26, 30), (60, 72), (76, 88), (92, 104), (108, 128)])
    chars = _chars([("1", 10, 22), ("，", 24, 32), ("6", 60, 72), ("5", 76, 88), ("0", 92, 104), ("円", 108, 128)])
    words = line_words(grey, [[5, 5], [135, 5], [135, 35], [5, 35]], "1，650円", 0.97, chars, [], line=(1, 1, 1))
    assert [w.text for w in words] == ["1，650円"]
    # a wall cuts it all the same
    words = line_words(grey, [[5, 5], [135, 5], [135, 35], [5, 35]], "1，650円", 0.97, chars, [(45, 0, 45, 40)], line=(1, 1, 1))
    assert [w.text for w in words] == ["1，", "650円"]


def test_a_space_read_cuts_a_word_and_chinese_forms_are_mapped() -> None:
    grey = _line(200, [(10, 30), (32, 52), (54, 74)])
    chars = _chars([("稅", 10, 30), (" ", 31, 32), ("產", 32, 52), ("地", 54, 74)])
    words = line_words(grey, [[5, 5], [80, 5], [80, 35], [5, 35]], "稅 產地", 0.9, chars, [], line=(1, 1, 1))
    assert [w.text for w in words] == ["税", "産地"]


def test_the_rapidocr_engine_is_made_once_and_shared_by_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []

    class Fake:
        name = "rapidocr"

        def __init__(self) -> None:
            made.append(1)

    monkeypatch.setattr(recognize, "RapidOcr", Fake)
    monkeypatch.setattr(recognize, "_RAPID", None)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(recognize.rapid_engine())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and len({id(g) for g in got}) == 1


def test_a_missing_rapidocr_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_rapidocr(name: str, *args: object, **kwargs: object) -> object:
        if name.split(".")[0] in ("rapidocr", "onnxruntime"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_rapidocr)
    with pytest.raises(ProgramMissing, match="MADOGUCHI_OCR_ENGINE=tesseract") as info:
        recognize.RapidOcr()
    assert info.value.exit_code == 4 and info.value.data["program"] == "rapidocr"


def test_the_models_come_from_the_package_and_nothing_is_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The models are named by path inside the wheel: rapidocr's download is never called."""
    from rapidocr.utils import download_file

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("rapidocr tried to download a file")

    monkeypatch.setattr(download_file.DownloadFile, "run", classmethod(no_network))
    engine = recognize.RapidOcr()
    assert recognize.installed_rapidocr() == recognize.RAPIDOCR_VERSION
    grey = np.full((120, 400), 255, np.uint8)
    assert engine.read_page(grey, 300.0) == []  # a blank page: nothing read, no error


@pytest.mark.parametrize(
    ("read", "meant"),
    [("子持高原八ム株式会社", "子持高原ハム株式会社"), ("肩口ース500g", "肩ロース500g"), ("ジョウシュウ一ワギュウ", "ジョウシュウーワギュウ"),
     ("八ツ橋", "八ツ橋"), ("八ヶ岳", "八ヶ岳"), ("入口エリア", "入口エリア"), ("口コミ", "口コミ"), ("一ノ瀬", "一ノ瀬"),
     ("第八区", "第八区"), ("工場", "工場"), ("人力", "人力"), ("【Eメ—ル】", "【Eメール】"), ("0279－59", "0279－59"),
     # the end of a katakana word (zoo seed 5: 20セツ卜(年間)); a kanji compound or a numeral's
     # word after katakana stays
     ("20セツ卜(年間)", "20セツト(年間)"), ("セツ卜を", "セツトを"), ("ゴキ口", "ゴキロ"), ("セット一式", "セット一式"),
     ("カード二枚", "カード二枚"), ("カード二つ", "カード二つ"), ("メニュー一覧", "メニュー一覧"), ("5キ口", "5キ口"),
     # へ べ ぺ in the script of the kana on both sides (zoo seed 5: ブルーべリー)
     ("ブルーべリー", "ブルーベリー"), ("しらベる", "しらべる"), ("食べ比ベセット", "食べ比ベセット"), ("ベーコン", "ベーコン")],
)
def test_a_kanji_read_among_katakana_is_the_katakana_it_looks_like(read: str, meant: str) -> None:
    assert recognize.katakana_in_katakana(read) == meant


def _line_of(blocks: list[tuple[int, int]], dot: tuple[int, int]) -> np.ndarray:
    """A line's ink 40 px high: characters (x0, x1) 32 px tall, and a dot 4 px square at (x, y)."""
    crop = np.zeros((40, 400), bool)
    for x0, x1 in blocks:
        crop[4:36, x0:x1] = True
    crop[dot[1] : dot[1] + 4, dot[0] : dot[0] + 4] = True
    return crop


def test_a_speck_against_one_side_of_the_white_between_words_is_no_middle_dot() -> None:
    """Regression (zoo seed 5, zoo_014): 代表 小林 美咲 with a speck just after 林 read as
    小林・美咲 at 0.99; a ・ in type stands in the middle of its white (職・氏名)."""
    glyph = ("·", 0.99, (100, 0, 130, 40))
    # the speck against 林's right side, 美 two characters' width further on
    speck = _line_of([(20, 52), (56, 98), (180, 212)], (100, 18))
    assert recognize._specks_as_spaces([glyph], speck, 0, 32.0) == [(" ", 0.99, glyph[2])]
    # a typeset ・ in the middle of its white stays, as does a dot in a narrow white
    typeset = _line_of([(20, 52), (56, 88), (120, 152)], (102, 18))
    assert recognize._specks_as_spaces([glyph], typeset, 0, 32.0) == [glyph]
    # as does a ・ of a proportional face, in 0.66 character heights of white (21 px)
    narrow = _line_of([(20, 52), (56, 92), (113, 145)], (100, 18))
    assert recognize._specks_as_spaces([glyph], narrow, 0, 32.0) == [glyph]


def test_a_dot_between_two_characters_set_side_by_side_is_a_speck() -> None:
    """Regression (zoo seed 98 zoo_009, seed 5 zoo_036): 群馬県渋川市半田3001番地 read as
    3001・番地 at 1.0, a speck between 1 and 番. A ・ in type takes a character's width of
    white; a dot with 0.3 character heights of white around it has none."""
    line = [("一", 1.0, (18, 0, 54, 40)), ("・", 1.0, (98, 0, 106, 40)), ("番", 1.0, (104, 0, 140, 40))]
    crammed = _line_of([(20, 52), (56, 96), (106, 138)], (99, 18))
    assert recognize._specks_as_spaces(line, crammed, 0, 32.0)[1] == (" ", 1.0, line[1][2])
    # a ・ of a proportional face, 0.66 of the pitch (36 px) of white round it, stays
    typeset = _line_of([(20, 52), (56, 90), (114, 146)], (100, 18))
    assert recognize._specks_as_spaces(line, typeset, 0, 32.0) == line


def test_a_tail_of_the_line_above_is_not_taken_for_the_dot() -> None:
    """Regression (zoo seed 5, zoo_019): 伊香保・水沢 lost its ・: a descender of the line above,
    caught in the line's box over the dot and larger than it, was taken for the dot."""
    glyph = ("・", 0.99, (96, 0, 124, 40))
    typeset = _line_of([(20, 52), (56, 80), (128, 160)], (102, 18))  # the dot in the middle of 80..128
    typeset[0:3, 114:126] = True  # the tail above, 12 × 3 px, off the middle
    assert recognize._specks_as_spaces([glyph], typeset, 0, 40.0) == [glyph]


def test_a_thin_check_mark_the_line_s_reading_passed_over_is_read_alone() -> None:
    """Regression (zoo seed 7, zoo_004, 300 dpi): 佐川急便 ✓ with a thin, slanted ✓: read on the
    whole page, the line came without it and the carrier unchosen. Ink a character high that no
    character of the line covers is read again alone; read as a check mark, it is a ✓ word."""
    from PIL import Image

    strip = Path(__file__).resolve().parents[1] / "samples" / "scans" / "regression" / "thin_tick_after_300dpi.png"
    grey = np.asarray(Image.open(strip).convert("L"))
    engine = recognize.RapidOcr()
    read = engine._engine(np.repeat(grey[:, :, None], 3, axis=2))
    [(quad, chars)] = [(q, c) for q, t, c in zip(read.boxes, read.txts, read.word_results) if t.startswith("佐川急便")]
    # the line as the page's reading gave it: without its mark
    passed_over = [c for c in chars if c[0] not in recognize.TICK_READS]
    assert len(passed_over) == len(chars) - 1
    [tick] = engine._unread_ticks(grey, quad, passed_over, line=(1, 1, 1))
    sagawa_end = next(int(np.asarray(b).reshape(-1, 2)[:, 0].max()) for ch, _, b in chars if ch == "便")  # 佐川急便's
    assert tick.text == "✓" and sagawa_end < tick.box[0] < sagawa_end + 80
    # with the mark read in the line, nothing is read again
    assert engine._unread_ticks(grey, quad, chars, line=(1, 1, 1)) == []
    # reading a piece alone leaves the engine reading whole pages with detection (rapidocr
    # keeps a call's arguments as its settings: use_det=False had turned it off for good)
    assert len(engine.read_page(grey, 300.0)) >= 3


def test_only_unread_strokes_without_a_hole_are_read_again_as_marks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression (zoo seed 7): the right stroke of い (its box's middle between its two strokes)
    and a ○ of a choice not taken were read again alone, as V, and became ticks: いか and いくら
    chosen in allergen grids. A character's box takes both its strokes; a ring is no tick."""
    engine = recognize.RapidOcr.__new__(recognize.RapidOcr)
    monkeypatch.setattr(engine, "_recognize_only", lambda piece: (["V"], [0.9]))
    grey = np.full((60, 400), 255, np.uint8)
    grey[10:46, 20:30] = 0  # い's left stroke
    grey[14:40, 44:50] = 0  # い's right stroke, set apart
    cv2.circle(grey, (120, 28), 14, 0, 3)  # ○ after it, read by no character
    grey[12:44, 200:226] = 0  # a mark alone, set apart, no hole
    quad = [[0, 0], [400, 0], [400, 60], [0, 60]]
    chars = [("い", 0.99, [[18, 5], [52, 5], [52, 50], [18, 50]])]
    ticks = engine._unread_ticks(grey, quad, chars, line=(1, 1, 1))
    assert [(w.text, w.box[0]) for w in ticks] == [("✓", 200)]
