"""The recognizer: a page image (or parts of one) in; words with pixel boxes, character boxes and
confidences out (``tesseract.OcrWord``), whichever engine reads.

Two engines stand behind one interface (:class:`Recognizer`):

- ``rapidocr`` (the default): PP-OCRv6's small detection and recognition models, as the
  ``rapidocr`` wheel ships them, on ONNX Runtime. One engine per process, made on first use
  and shared by the threads that read pages (ONNX Runtime sessions may be run from several
  threads at once); one ONNX Runtime thread each, as Tesseract runs, so that pages read on a
  thread per core do not fight over the cores. The models are named by path in the wheel: the
  engine never downloads anything. Its Chinese forms of characters (產, 稅, `·`) are written
  in their Japanese forms (``forms/vocabulary/zh_to_ja.tsv``).
- ``tesseract``: Tesseract's ``jpn`` through extract/tesseract.py, for machines where the first
  is switched off (``MADOGUCHI_OCR_ENGINE=tesseract``). Page orientation (OSD) is always
  Tesseract's.

A detected line of text is cut into words where a vertical ruled line or a gap of white
(:data:`WORD_GAP` character heights) separates its characters, so that no word runs over a
table's cell wall; what comes after (boxes confirmed, words merged, marks applied) is the
same for both engines (extract/readers/image.py).
"""

from __future__ import annotations

import logging
import os
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from extract.tesseract import OcrWord, PxBox
from extract.vocabulary import character_pairs
from forms.errors import ProgramMissing

Engine = Literal["rapidocr", "tesseract"]
ENGINES: tuple[Engine, ...] = ("rapidocr", "tesseract")
ENGINE_ENV = "MADOGUCHI_OCR_ENGINE"
DEFAULT_ENGINE: Engine = "rapidocr"
SECOND_OPINION_ENV = "MADOGUCHI_OCR_SECOND_OPINION"
DEFAULT_SECOND_OPINION = False

#: The rapidocr release whose bundled models Madoguchi is measured with (pinned in
#: pyproject.toml: the models inside the wheel change between releases).
RAPIDOCR_VERSION = "3.10.0"
#: Detection runs on the page scaled so that its longer side is at most this many pixels
#: (``limit_type: max``); recognition reads each line at the page's own resolution. At 960 an
#: amount spaced out at 300 dpi lost its first digit and comma to detection (5，340円 read as
#: 340円); 1280 finds them: zoo form scans 91.1% → 91.4% (seed 7, 40 cases) and 88.2% → 90.9%
#: (seed 94, 13 cases), for 9% more CPU a page.
DET_SIDE = 1280
#: Lines recognized at once. rapidocr pads every line of a batch to the widest one's width (and
#: to 320 px at least): its default of 6 spent 15% of a page's time reading padding. One at a
#: time reads the same (zoo seed 5, 40 scans: 945/1002 fields either way) and a 10-page scan
#: took 19.3 s instead of 25.3 s on 2 cores. (A narrower least width, 48 px, was 3% faster
#: again but read ticks standing alone worse: 941/1002.)
REC_BATCH = 1
#: A gap of white this many character heights wide between two characters of a detected line
#: makes them two words (Tesseract's words are merged up to 0.75, extract/readers/image.py).
WORD_GAP = 0.75

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OcrSettings:
    """What reads scans, from the environment: ``MADOGUCHI_OCR_ENGINE`` (rapidocr|tesseract)."""

    engine: Engine = DEFAULT_ENGINE
    #: Values read unsure or not as their type read again by the other engine
    #: (``MADOGUCHI_OCR_SECOND_OPINION``: on|off).
    second_opinion: bool = DEFAULT_SECOND_OPINION

    @classmethod
    def from_env(cls) -> OcrSettings:
        raw = os.environ.get(ENGINE_ENV, "").strip().lower() or DEFAULT_ENGINE
        if raw not in ENGINES:
            raise ProgramMissing(
                f"{ENGINE_ENV}={raw!r} names no OCR engine: rapidocr or tesseract", program=raw,
            )
        opinion = os.environ.get(SECOND_OPINION_ENV, "").strip().lower()
        second = DEFAULT_SECOND_OPINION if not opinion else opinion not in ("0", "off", "no", "false", "none")
        return cls(engine=raw, second_opinion=second)  # type: ignore[arg-type]


def settings() -> OcrSettings:
    """The OCR settings now (read from the environment on each call: it costs nothing)."""
    return OcrSettings.from_env()


class Recognizer(Protocol):
    """What reads text in a grey page image (uint8, white paper)."""

    name: Engine

    def tag(self) -> str:
        """What names this engine's readings in the OCR cache (engine and version)."""
        ...

    def read_page(
        self, grey: np.ndarray, dpi: float, *, verticals: Sequence[PxBox] = (), timeout: float, lang: str = "jpn",
    ) -> list[OcrWord]:
        """The words of a page (or of a stack of parts of one), in the image's pixels."""
        ...


# --- Japanese forms of characters ----------------------------------------------------------

ZH_TO_JA_PATH = Path(__file__).resolve().parents[1] / "forms" / "vocabulary" / "zh_to_ja.tsv"


@lru_cache(maxsize=1)
def zh_to_ja() -> dict[str, str]:
    """The table of Chinese forms the recognizer writes and the Japanese forms they stand for:
    one ``source<TAB>target`` a line, ``#`` comments."""
    return character_pairs(ZH_TO_JA_PATH)


@lru_cache(maxsize=1)
def _translation() -> dict[int, str]:
    return str.maketrans(zh_to_ja())


def to_japanese(text: str) -> str:
    """``text`` with the Chinese forms of :func:`zh_to_ja` in their Japanese forms."""
    return text.translate(_translation())


#: Kanji and signs the recognizer reads for the katakana they look like (子持高原八ム, 肩口ース).
KATAKANA_LOOKALIKES = {
    "八": "ハ", "口": "ロ", "工": "エ", "力": "カ", "夕": "タ", "二": "ニ", "卜": "ト",
    # the long vowel mark read as a dash or 一 (【Eメ—ル】)
    "一": "ー", "—": "ー", "–": "ー", "－": "ー", "‐": "ー",
}
#: Katakana that follow 八 in words (八ツ橋, 八ヶ岳, 八カ所): 八 before them stays.
_AFTER_EIGHT = set("ツヶヵケカ")


def _katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fa" or ch == "ー"


_NUMERALS = set("一二八")


def _kanji(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _hiragana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u309f"


def katakana_in_katakana(text: str) -> str:
    """A look-alike kanji read inside katakana written as the katakana: between two katakana
    (ジョウシュウ一ワ), before ー or a small kana, which follow no kanji (肩口ース), at the end of a
    katakana word (セツ卜), and 八
    before a katakana (八ム: no word starts so but 八ツ橋, 八ヶ岳, 八カ所). A kanji word beside
    katakana (入口, 口コミ, 人力車) is left alone."""
    chars = list(text)
    for i, ch in enumerate(chars):
        kana = KATAKANA_LOOKALIKES.get(ch)
        if kana is None:
            continue
        before = chars[i - 1] if i else ""
        after = chars[i + 1] if i + 1 < len(chars) else ""
        small = after in "ーァィゥェォャュョッ" and after != ""
        # ending a katakana word: after two katakana, before no kanji (セツ卜(年間), セツ卜を); a
        # kanji there would begin a compound of its own (セット一式, カード二枚), and a numeral
        # before hiragana a word of its own (カード二つ)
        ends_word = i >= 2 and _katakana(before) and _katakana(chars[i - 2]) and not _kanji(after) and not (
            ch in _NUMERALS and _hiragana(after)
        )
        if (_katakana(before) and _katakana(after)) or small or ends_word or (
            ch == "八" and _katakana(after) and after not in _AFTER_EIGHT and after != "ー"
        ):
            chars[i] = kana
    return _kana_twins_by_neighbours("".join(chars))


#: Hiragana and katakana drawn alike (へ ヘ), each to its twin in the other script.
_KANA_TWINS = dict(zip("へべぺヘベペ", "ヘベペへべぺ"))


def _kana_twins_by_neighbours(text: str) -> str:
    """へ べ ぺ and their katakana twins, which no reader tells apart by their shape, in the
    script of the kana on both sides of them (ブルーべリー → ブルーベリー, しらベる → しらべる);
    where the two sides differ (食べ比ベセット), left as read."""
    chars = list(text)
    for i, ch in enumerate(chars):
        twin = _KANA_TWINS.get(ch)
        if twin is None or i == 0 or i + 1 >= len(chars):
            continue
        before, after = chars[i - 1], chars[i + 1]
        if _katakana(twin) and _katakana(before) and _katakana(after):
            chars[i] = twin
        elif _hiragana(twin) and _hiragana(before) and _hiragana(after):
            chars[i] = twin
    return "".join(chars)


# --- rapidocr ------------------------------------------------------------------------------


def _models_dir() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).resolve().parent / "models"


class RapidOcr:
    """PP-OCRv6 through ``rapidocr`` (see the module's note)."""

    name: Engine = "rapidocr"

    def __init__(self) -> None:
        try:
            from rapidocr import RapidOCR
            import onnxruntime  # noqa: F401 - rapidocr imports it only when it makes a session
        except ImportError as exc:
            raise ProgramMissing(
                f"rapidocr と onnxruntime が必要です (the OCR engine cannot be loaded: {exc}): "
                "make setup, or MADOGUCHI_OCR_ENGINE=tesseract",
                program="rapidocr",
            ) from exc
        models = _models_dir()
        det, rec = models / "PP-OCRv6_det_small.onnx", models / "PP-OCRv6_rec_small.onnx"
        for path in (det, rec):
            if not path.is_file():
                raise ProgramMissing(
                    f"rapidocr's model {path.name} is not in its package (rapidocr=={RAPIDOCR_VERSION} bundles it)",
                    program="rapidocr",
                )
        params: dict[str, Any] = {
            # its logger writes to stderr on its own handler: a blank page's "The text detection
            # result is empty" is no warning here
            "Global.log_level": "error",
            "Global.use_cls": False,  # pages are turned upright before (prepare, Tesseract's OSD)
            "Global.return_word_box": True,
            "Global.return_single_char_box": True,
            # pages come prepared at 200-300 dpi: no resizing before detection but its own
            "Global.max_side_len": 10000,
            # named by path, so that no model is ever looked up or fetched
            "Det.model_path": str(det),
            "Rec.model_path": str(rec),
            "Det.limit_type": "max",
            "Det.limit_side_len": DET_SIDE,
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            "Rec.rec_batch_num": REC_BATCH,
        }
        self._engine = RapidOCR(params=params)

    def tag(self) -> str:
        return engine_tag("rapidocr")

    def read_page(
        self, grey: np.ndarray, dpi: float, *, verticals: Sequence[PxBox] = (), timeout: float = 0.0, lang: str = "jpn",
    ) -> list[OcrWord]:
        rgb = np.repeat(grey[:, :, None], 3, axis=2) if grey.ndim == 2 else grey
        out = self._engine(rgb)
        boxes = getattr(out, "boxes", None)
        if boxes is None or not len(boxes):
            return []
        words: list[OcrWord] = []
        for n, (quad, text, score, chars) in enumerate(zip(boxes, out.txts, out.scores, out.word_results), start=1):
            words += line_words(grey, quad, text, float(score), chars, verticals, line=(1, 1, n))
            words += self._unread_ticks(grey, quad, chars, line=(1, 1, n))
        return words

    def _recognize_only(self, piece: np.ndarray) -> tuple[list[str], list[float]]:
        """A piece of a page read by the recognition model alone. (Not through the engine's call
        with ``use_det=False``: rapidocr keeps call arguments as its settings, and every page
        after, on every thread, would be read without detection.)"""
        from rapidocr.ch_ppocr_rec.typings import TextRecInput

        recognizer = self._engine._load_rec_model()
        read = recognizer(TextRecInput(img=[np.repeat(piece[:, :, None], 3, axis=2)]))
        return list(read.txts or ()), [float(x) for x in read.scores]

    def _unread_ticks(self, grey: np.ndarray, quad: Any, chars: Sequence[tuple[str, float, Any]], *, line: tuple[int, int, int]) -> list[OcrWord]:
        """Check marks the line's reading passed over (a thin ✓ after 佐川急便 left out of the
        line's text): pieces of ink a character high that no character's box covers, set
        apart from the characters before them, read again alone (recognition only); those
        read as a check mark are given as ✓."""
        lx0, ly0, lx1, ly1 = _line_box(grey, quad)
        if lx1 - lx0 < 4 or ly1 - ly0 < 4 or not chars:
            return []
        crop = grey[ly0:ly1, lx0:lx1] < 128
        # where the line's characters were read: the middle of each character's box (the
        # boxes are coarse at their ends; a character of two strokes, い, takes both)
        covered = np.zeros(crop.shape[1], bool)
        for _, _, box in chars:
            xs = np.asarray(box, dtype=float).reshape(-1, 2)[:, 0] - lx0
            middle, half = (xs.min() + xs.max()) / 2, (xs.max() - xs.min()) * 0.4
            covered[max(0, int(middle - half)) : max(0, int(np.ceil(middle + half)))] = True
        import cv2

        n, labels, stats, _ = cv2.connectedComponentsWithStats(crop.astype(np.uint8), connectivity=8)
        # the characters' height: of the line's larger pieces of ink, not its box (specks and
        # the line above's tails make that taller)
        heights = [int(stats[k][3]) for k in range(1, n) if stats[k][4] >= 0.02 * crop.shape[0] ** 2]
        if not heights:
            return []
        em = float(np.percentile(heights, 90))
        out: list[OcrWord] = []
        for k in range(1, n):
            x, y, w, h, _ = (int(v) for v in stats[k])
            if h < UNREAD_MARK_HEIGHT * em or w < 0.2 * em or w > 1.2 * em or covered[x : x + w].any():
                continue
            before = np.flatnonzero((crop[:, :x] & (labels[:, :x] != k)).any(axis=0))
            if len(before) and x - before[-1] < 0.25 * em:
                continue  # against the character before it: a part of a word, not a mark
            if _has_hole((labels[y : y + h, x : x + w] == k).astype(np.uint8)):
                continue  # a ring (○ of a choice not taken), not a stroke that ticks
            pad = max(2, int(0.15 * em))
            piece = grey[max(0, ly0 + y - pad) : ly0 + y + h + pad, max(0, lx0 + x - pad) : lx0 + x + w + pad]
            texts, scores = self._recognize_only(piece)
            if texts and texts[0].strip() in TICK_READS and scores[0] >= UNREAD_MARK_SCORE:
                conf = round(100 * float(scores[0]), 2)
                out.append(OcrWord("✓", (lx0 + x, ly0, lx0 + x + w, ly1), conf, line, char_confs=(conf,), char_boxes=((lx0 + x, ly0, lx0 + x + w, ly1),)))
        return out


def _line_box(grey: np.ndarray, quad: Any) -> PxBox:
    """A detected line's quadrilateral as a pixel box inside the page."""
    pts = np.asarray(quad, dtype=float).reshape(-1, 2)
    lx0, ly0 = int(max(0, np.floor(pts[:, 0].min()))), int(max(0, np.floor(pts[:, 1].min())))
    lx1, ly1 = int(min(grey.shape[1], np.ceil(pts[:, 0].max()))), int(min(grey.shape[0], np.ceil(pts[:, 1].max())))
    return lx0, ly0, lx1, ly1


def line_words(
    grey: np.ndarray,
    quad: Any,
    text: str,
    score: float,
    chars: Sequence[tuple[str, float, Any]],
    verticals: Sequence[PxBox],
    *,
    line: tuple[int, int, int],
) -> list[OcrWord]:
    """One detected line (its quadrilateral, its text, its characters with scores and boxes) as
    words: cut where a vertical ruled line crosses it, at a gap of white :data:`WORD_GAP`
    character heights wide, and at a space the recognizer read."""
    lx0, ly0, lx1, ly1 = _line_box(grey, quad)
    if lx1 <= lx0 or ly1 <= ly0:
        return []
    glyphs: list[tuple[str, float, PxBox]] = []
    for ch, conf, box in chars:
        b = np.asarray(box, dtype=float).reshape(-1, 2)
        glyphs.append((ch, float(conf), (int(b[:, 0].min()), ly0, int(np.ceil(b[:, 0].max())), ly1)))
    if not glyphs:  # no character boxes: the line as one word
        t = katakana_in_katakana(to_japanese("".join(text.split())))
        return [OcrWord(t, (lx0, ly0, lx1, ly1), round(100 * score, 2), line)] if t else []
    # Japanese forms, and katakana where look-alike kanji were read among katakana
    japanese = katakana_in_katakana(to_japanese("".join(ch if len(ch) == 1 else " " for ch, _, _ in glyphs)))
    glyphs = [(japanese[i] if len(ch) == 1 else to_japanese(ch), conf, box) for i, (ch, conf, box) in enumerate(glyphs)]
    # the line's ink: its height is a character's, its white columns the gaps between words
    crop = grey[ly0:ly1, lx0:lx1] < 128
    rows = np.flatnonzero(crop.sum(axis=1) >= 1)
    em = (rows[-1] - rows[0] + 1) if len(rows) else (ly1 - ly0)
    if any(ch in _DOTS for ch, _, _ in glyphs):
        glyphs = _specks_as_spaces(glyphs, crop, lx0, em)
    cols = crop.any(axis=0)
    cuts: list[tuple[float, bool]] = []  # (x, a wall's)
    run = 0
    for x, inked in enumerate(cols.tolist() + [True]):
        if not inked:
            run += 1
            continue
        if run >= WORD_GAP * em and 0 < x - run and x < len(cols):
            cuts.append((lx0 + x - run / 2, False))
        run = 0
    cy = (ly0 + ly1) / 2
    for vx0, vy0, vx1, vy1 in verticals:
        if vx0 == vx1 and lx0 < vx0 < lx1 and vy0 - 2 <= cy <= vy1 + 2:
            cuts.append((float(vx0), True))
    cuts.sort()
    words: list[OcrWord] = []
    part: list[tuple[str, float, PxBox]] = []

    def close() -> None:
        if part:
            x0 = max(lx0, min(b[0] for _, _, b in part))
            x1 = min(lx1, max(b[2] for _, _, b in part))
            confs = tuple(round(100 * c, 2) for _, c, _ in part)
            words.append(OcrWord(
                text="".join(ch for ch, _, _ in part), box=(x0, ly0, max(x1, x0 + 1), ly1), conf=min(confs), line=line,
                char_confs=confs, char_boxes=tuple(b for _, _, b in part),
            ))
            part.clear()

    section = 0
    for ch, conf, box in glyphs:
        middle = (box[0] + box[2]) / 2
        while section < len(cuts) and middle > cuts[section][0]:
            # a number's digits stay together across the white of a full-width comma (１，６５０)
            if cuts[section][1] or not (part and part[-1][0] in _IN_NUMBERS and ch.isdigit()):
                close()
            section += 1
        if not ch.strip():
            close()
            continue
        part.append((ch, conf, box))
    close()
    return [w for w in words if w.text]


def _has_hole(mask: np.ndarray) -> bool:
    """The piece of ink encloses white (○, ◎, □): a check mark's strokes enclose none."""
    import cv2

    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return False
    holes = [c for c, h in zip(contours, hierarchy[0]) if h[3] != -1]
    return any(cv2.contourArea(c) >= 0.05 * mask.size for c in holes)


#: What a check mark read alone is read as, and how sure that reading must be.
TICK_READS = frozenset({"V", "v", "✓", "✔", "√", "レ", "ν", "Ⅴ"})
UNREAD_MARK_SCORE = 0.5
#: Ink this share of a line's height or taller, that no character of the line covers, is read
#: again alone.
UNREAD_MARK_HEIGHT = 0.4

#: Middle dots a scan's speck is read as.
_DOTS = set("・·･")
#: A middle dot this far off the middle of the white it stands in (a share of half the
#: white's width), in white wider than this many character heights, is a speck.
DOT_OFF_CENTRE, DOT_GAP = 0.5, 0.8
#: A ・ set in type takes a character's width of white: 0.66 of the character pitch at the
#: least in the proportional IPA faces, 1.2 in the others, 0.67–3 measured on zoo scans. A dot
#: in white narrower than this share of the pitch (the median width of the line's Japanese
#: characters' boxes) stands between two characters set side by side: a speck (3001・番地
#: 0.55, 1663・番地 0.42, 6・月 0.53).
DOT_MIN_WHITE = 0.6


def _specks_as_spaces(
    glyphs: list[tuple[str, float, PxBox]], crop: np.ndarray, lx0: int, em: float
) -> list[tuple[str, float, PxBox]]:
    """The line's characters with a middle dot that is a scan's speck read as a space.

    A ・ set in type stands in the middle of its own white (職・氏名); a speck in the white
    between two words falls anywhere in it, often against one side (小林・  美咲: 小林 美咲 with
    a speck just after 林), or between two characters with no white for a ・ (3001・番地).
    ``crop``: the line's ink (bool), ``lx0`` its left in the page."""
    import cv2

    _, _, stats, centres = cv2.connectedComponentsWithStats(crop.astype(np.uint8), connectivity=8)
    # the characters' strokes: pieces a third of a character high or more (not other specks,
    # not the tails of the line above that the line's box takes in)
    strokes = [k for k in range(1, len(stats)) if stats[k][3] >= 0.3 * em]
    if not strokes:
        return glyphs
    band = (min(int(stats[k][1]) for k in strokes), max(int(stats[k][1] + stats[k][3]) for k in strokes))
    pitch = float(np.median([b[2] - b[0] for c, _, b in glyphs if is_japanese_char(c) and c not in _DOTS] or [em]))
    out = []
    for ch, conf, box in glyphs:
        if ch in _DOTS and (dot := _dot_under(box, stats, centres, lx0, band)) is not None:
            x0, x1 = int(stats[dot][0]), int(stats[dot][0] + stats[dot][2])
            left = [int(stats[k][0] + stats[k][2]) for k in strokes if stats[k][0] + stats[k][2] <= x0 + 1]
            right = [int(stats[k][0]) for k in strokes if stats[k][0] >= x1 - 1]
            if left and right:
                white_from, white_to = max(left), min(right)
                half = (white_to - white_from) / 2
                off = abs(centres[dot][0] - (white_from + half)) / max(1.0, half)
                white = white_to - white_from
                if (white > DOT_GAP * em and off > DOT_OFF_CENTRE) or white < DOT_MIN_WHITE * pitch:
                    ch = " "
        out.append((ch, conf, box))
    return out


def _dot_under(box: PxBox, stats: np.ndarray, centres: np.ndarray, lx0: int, band: tuple[int, int]) -> int | None:
    """The largest dot-sized piece of ink whose centre lies in the character's box and in the
    ``band`` of rows the line's characters take (not a tail of the line above)."""
    size = 0.35 * (band[1] - band[0])
    dots = [
        k for k in range(1, len(stats))
        if box[0] - lx0 <= centres[k][0] <= box[2] - lx0 and band[0] <= centres[k][1] <= band[1]
        and max(stats[k][2], stats[k][3]) <= size
    ]  # fmt: skip
    return max(dots, key=lambda k: stats[k][4]) if dots else None


#: What stands in a number before a digit: no word ends there.
_IN_NUMBERS = set("0123456789０１２３４５６７８９,.，．")


class Tesseract:
    """Tesseract through extract/tesseract.py."""

    name: Engine = "tesseract"

    def tag(self) -> str:
        from extract import tesseract

        return f"tesseract-{tesseract.version()}"

    def read_page(
        self, grey: np.ndarray, dpi: float, *, verticals: Sequence[PxBox] = (), timeout: float, lang: str = "jpn",
    ) -> list[OcrWord]:
        from PIL import Image

        from extract import tesseract

        return tesseract.ocr_words(Image.fromarray(grey, "L"), lang=lang, dpi=int(round(dpi)), timeout=timeout)


_RAPID: RapidOcr | None = None
_RAPID_LOCK = threading.Lock()


def rapid_engine() -> RapidOcr:
    """The process's one rapidocr engine, made on first use (thread-safe)."""
    global _RAPID
    if _RAPID is None:
        with _RAPID_LOCK:
            if _RAPID is None:
                _RAPID = RapidOcr()
    return _RAPID


def recognizer(engine: Engine | None = None) -> Recognizer:
    """The recognizer named (by default the one the settings name), ready to read."""
    name = engine or settings().engine
    if name == "rapidocr":
        return rapid_engine()
    from extract import tesseract

    tesseract.require("jpn")
    return Tesseract()


def other_engine(engine: Engine | None = None) -> Engine | None:
    """The engine that gives a second opinion beside ``engine`` (by default the settings'), or
    None when it cannot run here."""
    name = engine or settings().engine
    other: Engine = "tesseract" if name == "rapidocr" else "rapidocr"
    try:
        recognizer(other)
    except ProgramMissing:
        return None
    return other


def engine_tag(engine: Engine | None = None) -> str:
    """What names an engine's readings in the OCR cache, without loading the engine."""
    name = engine or settings().engine
    if name == "rapidocr":
        return f"rapidocr-{RAPIDOCR_VERSION}-det{DET_SIDE}-rec{REC_BATCH}"
    return "tesseract"


def installed_rapidocr() -> str | None:
    """The installed rapidocr's version, or None."""
    try:
        return metadata.version("rapidocr")
    except metadata.PackageNotFoundError:
        return None


def is_japanese_char(ch: str) -> bool:
    """A character of JIS X 0208 (what Japanese is ordinarily written with)."""
    try:
        ch.encode("euc_jp")
    except UnicodeEncodeError:
        return False
    return len(ch) == 1 and unicodedata.category(ch) != "Cc"
