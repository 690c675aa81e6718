"""Kanji that Tesseract misread with high confidence in free text, put right with a dictionary
and the shapes of the glyphs.

Tesseract's jpn model reads 上州和牛 as 上州和生, 燻製 as 煙製 or 燥製, 漬け込み as 潰け込み,
confidently, and the right character is often not among its alternatives.  :func:`correct_kanji`
replaces such a character when three things agree:

1. **The dictionary.**  IPADIC (the MeCab dictionary, through ``fugashi`` and the ``ipadic``
   package: a compiled dictionary that installs from PyPI with no compile step and opens by
   mmap in milliseconds) segments the text and scores it: the cost of MeCab's best path, which
   falls as the text reads more like Japanese.
2. **The shape.**  The substitute must look like the character read.  Both are drawn 48 px
   high with IPA Gothic and IPA Mincho, blurred (Gaussian, 1.5 px), and
   :func:`glyph_similarity` is the correlation of the two images, the better of the two fonts
   (cached per character and per pair).  Two kanji *look alike* from :data:`GLYPH_THRESHOLD`
   (0.45): 生/牛 0.84, 煙/燻 0.75, 燥/燻 0.80, 潰/漬 0.98, 注/漬 0.49 do; 上/麓 0.17, 大/小 0.23,
   本/糖 0.37, 千/舗 0.27 do not.  A substitution asks more (below).  The candidates for a
   character are its closest look-alikes from ``forms/vocabulary/kanji_neighbours.tsv``: for
   every JIS X 0208 kanji the :data:`MAX_NEIGHBOURS` best at or above :data:`GLYPH_LOOSE`,
   computed once from the same fonts by ``python -m extract.lexicon --build-neighbours``.
3. **The rule.**  A kanji is changed only when

   - it is not *protected*: it lies in no dictionary word of two or more characters made only
     of kanji (所在地, 山上, 渋川: any such substring in MeCab's lattice, on the best path or
     not), in no known word of two or more characters on the best path (漬け込み, 注ぐ), in no
     string of ``protect`` nor of the domain words (``forms/vocabulary/lexicon.yaml``: 上州,
     赤城 ... that IPADIC lacks) and places (``places.yaml``).  Person names are the exception:
     IPADIC lists so many given names (和生 ...) that almost any pair of kanji is one, so they
     protect nothing;
   - it is not a prefix, a suffix or a numeral on the best path (全税目, 市税, 本千): those are
     regular pieces of compounds the dictionary does not list;
   - with the substitute, the best path puts the position inside a known, common word of two
     or more characters (not a proper noun; all kanji and a noun, or a verb or adjective with
     its okurigana: 和牛, 燻製, 漬け込み), which is made of whole words of the old reading and
     takes no part of a protected word (館山市 does not become 館山中 for 山中);
   - the substitute is a close look-alike and the substitution lowers the cost of the text
     around it (:data:`WINDOW` characters each side) clearly: similarity >= :data:`GLYPH_LOOSE`
     (0.6) and a fall >= :data:`COST_MARGIN` (1000) where the old character was read as part
     of an unknown word or a person name (上州和生, 潰け込み), else similarity >=
     :data:`GLYPH_STRICT` (0.75) and a fall >= :data:`COST_STRICT` (3000) (煙製 → 燻製).

   Among several substitutes the one making the longest word wins, then the closer glyph,
   then the larger fall in cost; the surest change in the text is made first, and the rest are
   weighed again.  Misses are preferred to false changes: on all the correct text of the
   repository (the seeds, the forms' declarations, the sample generator's strings) nothing is
   changed, and of the misreads seen on scans those whose right character looks like the wrong
   one are fixed (``bench/lexicon_check.py`` prints both).

Kana, digits, Latin letters and punctuation are never changed, nor the length of the text: a
substitution is one character for one.  Each change is returned as a :class:`Correction` so
the caller can mark the field for review.
"""

from __future__ import annotations

import bisect
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np

VOCABULARY_DIR = Path(__file__).resolve().parents[1] / "forms" / "vocabulary"
NEIGHBOURS_FILE = VOCABULARY_DIR / "kanji_neighbours.tsv"
DOMAIN_FILE = VOCABULARY_DIR / "lexicon.yaml"

GLYPH_THRESHOLD = 0.45
"""Smallest :func:`glyph_similarity` for a substitution."""
COST_MARGIN = 1000
"""Smallest fall of MeCab's path cost (IPADIC units) for a substitution."""
GLYPH_LOOSE = 0.6
GLYPH_STRICT = 0.75
COST_STRICT = 3000
"""The same, for a kanji that MeCab reads as a known word of one character."""
WINDOW = 10
"""Characters each side of the position whose cost is compared."""
MAX_NEIGHBOURS = 40
"""Most candidates kept per kanji in the neighbour table."""

_FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
    ("/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf", "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf"),
)
_GLYPH_SIZE = 48
_BLUR = 1.5


@dataclass(frozen=True)
class Correction:
    """One character replaced: at ``position`` in the text, ``old`` by ``new``, which made
    ``word`` (the dictionary word the new character now stands in)."""

    position: int
    old: str
    new: str
    word: str
    similarity: float
    cost_gain: int


def is_kanji(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF


# ---------------------------------------------------------------------------------------------
# glyphs


@lru_cache(maxsize=1)
def _fonts() -> tuple:
    from PIL import ImageFont

    fonts = []
    for choices in _FONT_CANDIDATES:
        path = next((p for p in choices if Path(p).exists()), None)
        if path:
            fonts.append(ImageFont.truetype(path, _GLYPH_SIZE))
    if not fonts:
        raise FileNotFoundError("no IPA font (apt-get install fonts-ipafont-gothic fonts-ipafont-mincho)")
    return tuple(fonts)


def _render(ch: str, font) -> np.ndarray:
    from PIL import Image, ImageDraw

    im = Image.new("L", (_GLYPH_SIZE, _GLYPH_SIZE), 0)
    ImageDraw.Draw(im).text((_GLYPH_SIZE // 2, _GLYPH_SIZE // 2), ch, font=font, fill=255, anchor="mm")
    return np.asarray(im) > 127


def _feature(ink: np.ndarray) -> np.ndarray:
    """The glyph blurred (Gaussian, :data:`_BLUR` px), centred and scaled to unit length."""
    from PIL import Image, ImageFilter

    im = Image.fromarray(ink.astype(np.uint8) * 255).filter(ImageFilter.GaussianBlur(_BLUR))
    v = np.asarray(im, dtype=np.float32).ravel()
    v = v - v.mean()
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


@lru_cache(maxsize=8192)
def _glyph(ch: str) -> tuple[np.ndarray, ...]:
    """The glyph's feature per font (Gothic, Mincho)."""
    return tuple(_feature(_render(ch, font)) for font in _fonts())


@lru_cache(maxsize=65536)
def glyph_similarity(a: str, b: str) -> float:
    """How alike two characters look, -1..1: the correlation of their glyphs drawn 48 px high
    and blurred, the best over IPA Gothic and Mincho.  1 for the same character."""
    if a == b:
        return 1.0
    if b < a:
        return glyph_similarity(b, a)
    return round(max(float(x @ y) for x, y in zip(_glyph(a), _glyph(b))), 4)


def _jis_kanji() -> list[str]:
    """The kanji of JIS X 0208 (levels 1 and 2), in JIS order."""
    out = []
    for hi in range(0xB0, 0xF5):
        for lo in range(0xA1, 0xFF):
            try:
                ch = bytes((hi, lo)).decode("euc_jp")
            except UnicodeDecodeError:
                continue
            if len(ch) == 1 and is_kanji(ch):
                out.append(ch)
    return out


def build_neighbours(path: Path = NEIGHBOURS_FILE, threshold: float | None = None) -> int:
    """Writes, for every JIS X 0208 kanji, the kanji whose :func:`glyph_similarity` reaches
    ``threshold``, best first, at most :data:`MAX_NEIGHBOURS`.  Returns the lines written."""
    threshold = GLYPH_LOOSE if threshold is None else threshold
    chars = _jis_kanji()
    best = np.full((len(chars), len(chars)), -1.0, dtype=np.float32)
    for f, font in enumerate(_fonts()):
        feats = np.stack([_feature(_render(c, font)) for c in chars])
        np.maximum(best, feats @ feats.T, out=best)
        print(f"font {f + 1}: {len(chars)} glyphs", file=sys.stderr)
    np.fill_diagonal(best, -1)
    lines = [
        "# Kanji that look alike: extract/lexicon.py glyph_similarity >= %.2f over IPA Gothic and\n"
        "# Mincho, best first, at most %d. Generated by `python -m extract.lexicon --build-neighbours`.\n"
        % (threshold, MAX_NEIGHBOURS)
    ]
    count = 0
    for i, ch in enumerate(chars):
        order = np.argsort(-best[i], kind="stable")[:MAX_NEIGHBOURS]
        near = "".join(chars[j] for j in order if best[i, j] >= threshold)
        if near:
            lines.append(f"{ch}\t{near}\n")
            count += 1
    path.write_text("".join(lines), encoding="utf-8")
    return count


@lru_cache(maxsize=1)
def _neighbours() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in NEIGHBOURS_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            ch, _, near = line.partition("\t")
            out[ch] = near
    return out


def neighbours(ch: str) -> str:
    """The kanji that look like ``ch`` (from the table), best first."""
    return _neighbours().get(ch, "")


# ---------------------------------------------------------------------------------------------
# dictionary

_BEST_FORMAT = r"%ps\t%pe\t%s\t%H\n"
_LATTICE_FORMAT = r"%ps\t%pe\t%s\t%H\n"


@dataclass(frozen=True)
class _Token:
    start: int  # character offsets in the parsed text
    end: int
    known: bool  # in the dictionary (not an unknown word)
    pos: tuple[str, ...]

    @property
    def is_name(self) -> bool:
        return self.pos[:3] == ("名詞", "固有名詞", "人名")


class _Mecab:
    """MeCab with IPADIC: the best path with its cost, and every word of the lattice."""

    def __init__(self) -> None:
        import fugashi
        import ipadic

        self._best = fugashi.GenericTagger(f'{ipadic.MECAB_ARGS} -F "{_BEST_FORMAT}" -E "EOS\\t%pc\\n"')
        self._all = fugashi.GenericTagger(f'{ipadic.MECAB_ARGS} -a -F "{_LATTICE_FORMAT}" -E "EOS\\n"')

    @staticmethod
    def _clean(text: str) -> str:
        # one byte for one: MeCab's format is tab- and line-separated
        return text.replace("\t", " ").replace("\n", " ").replace("\r", " ")

    @staticmethod
    def _tokens(text: str, out: str) -> tuple[list[_Token], int]:
        starts = []  # byte offset of each character
        at = 0
        for ch in text:
            starts.append(at)
            at += len(ch.encode("utf-8"))
        starts.append(at)

        def char(b: int) -> int:
            return bisect.bisect_left(starts, b)

        tokens, cost = [], 0
        for line in out.split("\n"):
            if not line:
                continue
            if line.startswith("EOS"):
                tail = line[4:]
                cost = int(tail) if tail.lstrip("-").isdigit() else 0
                continue
            start, end, stat, feature = line.split("\t", 3)
            tokens.append(_Token(char(int(start)), char(int(end)), stat == "0", tuple(feature.split(","))))
        return tokens, cost

    def best(self, text: str) -> tuple[list[_Token], int]:
        """MeCab's best segmentation of ``text`` and its cost."""
        text = self._clean(text)
        return self._tokens(text, self._best.parse(text))

    def lattice(self, text: str) -> list[_Token]:
        """Every dictionary word found anywhere in ``text``."""
        text = self._clean(text)
        return [t for t in self._tokens(text, self._all.parse(text))[0] if t.known]


@lru_cache(maxsize=1)
def _mecab() -> _Mecab:
    return _Mecab()


def _to_katakana(text: str) -> str:
    return "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in text)


def reading(text: str) -> str:
    """How ``text`` reads, in katakana, by MeCab's best segmentation (上州豚の味噌漬け →
    ジョウシュウブタノミソツケ); a word the dictionary lacks stays as written, kana in katakana."""
    tokens, _ = _mecab().best(text)  # offsets are the text's: cleaning keeps one char for one
    # IPADIC's features: POS x4, conjugation x2, base form, reading, pronunciation
    return "".join(t.pos[7] if len(t.pos) > 7 and t.pos[7] != "*" else _to_katakana(text[t.start : t.end]) for t in tokens)


def warm_up() -> None:
    """Loads the dictionary, the neighbour table and the fonts (else done on first use)."""
    _mecab().best("上州和牛")
    _neighbours()
    glyph_similarity("生", "牛")


def _locks(text: str, protect: Iterable[str]) -> list[list[tuple[int, int]]]:
    """Per character: the spans of the protected words over it (empty: free to change).
    Protected are the dictionary words of two or more characters, all kanji, anywhere in
    MeCab's lattice; the known words of two or more characters on its best path; and the
    strings of ``protect``.  Person names protect nothing."""
    out: list[list[tuple[int, int]]] = [[] for _ in text]

    def lock(start: int, end: int) -> None:
        for j in range(start, end):
            out[j].append((start, end))

    mecab = _mecab()
    for t in mecab.lattice(text):
        if t.end - t.start >= 2 and not t.is_name and all(is_kanji(ch) for ch in text[t.start : t.end]):
            lock(t.start, t.end)
    for t in mecab.best(text)[0]:
        if t.end - t.start >= 2 and t.known and not t.is_name:
            lock(t.start, t.end)
    for word in protect:
        at = text.find(word) if word else -1
        while at >= 0:
            lock(at, at + len(word))
            at = text.find(word, at + 1)
    return out


def _word_at(tokens: list[_Token], i: int) -> _Token | None:
    return next((t for t in tokens if t.start <= i < t.end), None)


def _acceptable(word: _Token, surface: str) -> bool:
    """Whether a substitution may make ``word``: a known word of two or more characters, a
    common one (no proper noun: IPADIC's place and person names, 米州, 利生, are too many and too
    rare to steer by), all kanji or, with kana, a verb or adjective with its okurigana
    (漬け込み; not nouns such as 汁け)."""
    if not word.known or len(surface) < 2 or word.pos[1:2] == ("固有名詞",):
        return False
    if all(is_kanji(ch) for ch in surface):
        return word.pos[0] == "名詞"
    return word.pos[0] in ("動詞", "形容詞")


@lru_cache(maxsize=1)
def _domain_words() -> tuple[str, ...]:
    """Names that IPADIC lacks and the forms write often: never corrected (see
    ``forms/vocabulary/lexicon.yaml``), with the places of ``places.yaml``."""
    import yaml

    words = list(yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))["protect"])
    places = yaml.safe_load((VOCABULARY_DIR / "places.yaml").read_text(encoding="utf-8"))
    words += places["prefectures"]
    for names in places["municipalities"].values():
        words += [n[:-1] if len(n) > 2 else n for n in names]  # 渋川市 → 渋川
    for names in (places.get("districts") or {}).values():
        words += names
    return tuple(sorted({w for w in words if len(w) >= 2}, key=len, reverse=True))


def _candidates(chars: list[str], locks: list[list[tuple[int, int]]]) -> list[tuple[tuple, Correction, tuple[int, int]]]:
    """Every substitution the rule allows, one per position (its best), with its sort key and
    the span of the word it makes."""
    mecab = _mecab()
    out = []
    for i, old in enumerate(chars):
        if locks[i] or not is_kanji(old) or not neighbours(old):
            continue
        lo, hi = max(0, i - WINDOW), min(len(chars), i + WINDOW + 1)
        window = "".join(chars[lo:hi])
        k = i - lo
        tokens, base = mecab.best(window)
        bounds = {t.start for t in tokens} | {t.end for t in tokens}
        here = _word_at(tokens, k)
        # an unknown word or a person name is what a misread most often makes; a kanji that
        # reads as a word of its own is changed only for a close look-alike and a large gain
        loose = here is None or not here.known or here.is_name
        if here is not None and here.known and (here.pos[0] == "接頭詞" or here.pos[1] in ("接尾", "数")):
            continue  # 全税目, 市税: a prefix or suffix is a regular piece of a compound
        best = None
        for new in neighbours(old):
            similarity = glyph_similarity(old, new)
            if similarity < (GLYPH_LOOSE if loose else GLYPH_STRICT):
                continue
            changed = window[:k] + new + window[k + 1 :]
            tokens, cost = mecab.best(changed)
            gain = base - cost
            if gain < (COST_MARGIN if loose else COST_STRICT):
                continue
            word = _word_at(tokens, k)
            if word is None:
                continue
            surface = changed[word.start : word.end]
            if not _acceptable(word, surface):
                continue
            # the new word takes whole words of the old reading, and no part of a protected
            # word reaching beyond it (館山市 is no 館山中 for 山中)
            ws, we = lo + word.start, lo + word.end
            if word.start not in bounds or word.end not in bounds:
                continue
            if any(not (ws <= a and b <= we) for j in range(ws, we) for a, b in locks[j]):
                continue
            key = (len(surface), similarity, gain)
            if best is None or key > best[0]:
                best = (key, Correction(i, old, new, surface, similarity, gain), (lo + word.start, lo + word.end))
        if best:
            out.append(best)
    return out


def correct_kanji(text: str, *, protect: Iterable[str] = ()) -> tuple[str, list[Correction]]:
    """``text`` with misread kanji replaced, and the replacements made, in the order made (see
    the module's docstring for the rule).  ``protect``: strings whose characters are never
    changed (known names, the field's own vocabulary), besides the domain words and places of
    ``forms/vocabulary``.  The text's length never changes."""
    if not any(is_kanji(ch) for ch in text):
        return text, []
    locks = _locks(text, (*_domain_words(), *protect))
    chars = list(text)
    corrections: list[Correction] = []
    # the surest change first (the longest word made, then the largest fall in cost); then the
    # rest again, since a change can settle or unsettle its neighbours
    while True:
        found = _candidates(chars, locks)
        if not found:
            break
        _, correction, (start, end) = max(found, key=lambda c: c[0])
        chars[correction.position] = correction.new
        corrections.append(correction)
        for j in range(start, end):
            locks[j].append((start, end))
    return "".join(chars), corrections


if __name__ == "__main__":
    if sys.argv[1:] == ["--build-neighbours"]:
        print(build_neighbours(), "kanji with neighbours")
    else:
        print("usage: python -m extract.lexicon --build-neighbours", file=sys.stderr)
        sys.exit(2)
