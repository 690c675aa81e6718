"""Known vocabularies that correct OCR's near misses: prefecture and municipality names, and
words written with a small kana.

Tesseract's Japanese model misreads a few characters of place names often (渋川 → 波川, 浅川,
濾川; 群馬 → 姓馬, 衝馬). A place name read one character off a known name, where that known
name is the only one so close, is taken to be the known name. Names that exist are never
changed, and nothing else in the text is touched.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from pathlib import Path

import yaml
from rapidfuzz.distance import Levenshtein

from extract.keys import TO_LARGE

VOCABULARY_DIR = Path(__file__).resolve().parents[1] / "forms" / "vocabulary"
PLACES_FILE = VOCABULARY_DIR / "places.yaml"
KANA_WORDS_FILE = VOCABULARY_DIR / "kana_words.yaml"
OLD_KANJI_FILE = VOCABULARY_DIR / "old_kanji.tsv"


def _katakana(text: str) -> str:
    return "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in text)


@lru_cache(maxsize=2)
def _kana_words(katakana: bool = False) -> dict[str, str]:
    """Each known word with a small kana, keyed by how it reads with its small kana large;
    with ``katakana``, each written in katakana (as a フリガナ field writes こんにゃく)."""
    words = yaml.safe_load(KANA_WORDS_FILE.read_text(encoding="utf-8"))["words"]
    if katakana:
        words = list(dict.fromkeys(_katakana(w) for w in words))
    out: dict[str, str] = {}
    for word in sorted(words, key=len, reverse=True):
        small = [i for i, ch in enumerate(word) if ch.translate(TO_LARGE) != ch]
        # any of its small kana may be the one read large (ぎゅうにゆう)
        for picked in itertools.chain.from_iterable(itertools.combinations(small, n) for n in range(1, len(small) + 1)):
            misread = "".join(ch.translate(TO_LARGE) if i in picked else ch for i, ch in enumerate(word))
            out.setdefault(misread, word)
    return out


def restore_small_kana_words(text: str, *, katakana: bool = False) -> str:
    """Known words read with their small kana large (こんにやく, じつくり) written right; with
    ``katakana``, the words as katakana (コンニヤク)."""
    for large, word in _kana_words(katakana).items():
        if large in text:
            text = text.replace(large, word)
    return text


@lru_cache(maxsize=1)
def _places_file() -> dict:
    return yaml.safe_load(PLACES_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _places() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    raw = _places_file()
    prefectures = tuple(raw["prefectures"])
    municipalities = {pref: tuple(names) for pref, names in raw["municipalities"].items()}
    return prefectures, municipalities


@lru_cache(maxsize=1)
def _districts() -> dict[str, tuple[str, ...]]:
    raw = _places_file()
    return {muni: tuple(names) for muni, names in (raw.get("districts") or {}).items()}


def _fix_districts(text: str) -> str:
    """渋川市伊香保困 → 渋川市伊香保町: right after a municipality whose districts are known, a
    name one character off exactly one of them, none of them written there already. The
    differing character may not be the name's first (小川 is no misread 渋川's district)."""
    for muni, districts in _districts().items():
        start = text.find(muni)
        if start < 0:
            continue
        at = start + len(muni)
        rest = text[at:]
        if any(rest.startswith(d) for d in districts):
            continue
        near = {d for d in districts if len(d) >= 3 and _one_off(rest[: len(d)], d) and rest[0] == d[0]}
        if len(near) == 1:
            known = near.pop()
            text = text[:at] + known + rest[len(known) :]
    return text


@lru_cache(maxsize=1)
def _all_municipalities() -> frozenset[str]:
    return frozenset(n for names in _places()[1].values() for n in names)


def _one_off(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1


def _unique_near(token: str, known: tuple[str, ...] | list[str]) -> str | None:
    """The one known name a character away from ``token`` (None when none, or several)."""
    if token in known:
        return None
    near = {k for k in known if _one_off(token, k)}
    return near.pop() if len(near) == 1 else None


_PREF = re.compile(r"(\S{2,3}[都道府県])")
_CHAR = r"(?:(?![都道府県市町村])[\u3041-\u30ff\u4e00-\u9fff])"
# a place name: two to four kanji or kana before 市/町/村 (not 市場, 市民)
_MUNI = re.compile(_CHAR + r"{2,4}[市町村](?![場民])")
_OFFICE = re.compile(r"([\u4e00-\u9fff]{2,3})(?=税務署|市役所|町役場|村役場|市長|町長|村長)")


def prefectures_in(text: str) -> tuple[str, ...]:
    """The prefectures a text names (after correcting them), to prefer their municipalities."""
    prefectures, _ = _places()
    fixed = [_unique_near(p, prefectures) or p for p in _PREF.findall(text)]
    return tuple(p for p in dict.fromkeys(fixed) if p in prefectures)


def _near_in(token: str, prefer: tuple[str, ...], *, only: bool = False) -> str | None:
    """A known name one character off ``token``: among the preferred prefectures' first, then
    (unless ``only``) among all."""
    _, municipalities = _places()
    pools = [tuple(m for p in prefer for m in municipalities.get(p, ()))]
    if not only:
        pools.append(tuple(m for names in municipalities.values() for m in names))
    for pool in pools:
        if token in pool:
            return None
        fixed = _unique_near(token, pool)
        if fixed:
            return fixed
    return None


def _prefecture_before(text: str, prefectures: tuple[str, ...]) -> str | None:
    text = text.rstrip()
    return next((p for p in prefectures if text.endswith(p)), None)


def _insert_dropped_suffix(text: str, municipalities: dict[str, tuple[str, ...]]) -> str:
    """群馬県渋川石原 → 群馬県渋川市石原: a prefecture followed by the stem of exactly one of its
    municipalities, whose 市/町/村 the scan lost; or by a name one character off one of them."""
    m = _PREF.match(text)
    if not m or m.group(1) not in municipalities:
        return text
    rest = text[m.end() :].lstrip()
    names = municipalities[m.group(1)]
    if any(rest.startswith(n) for n in names) or re.match(r"\S{1,4}郡", rest):
        return text
    stems = [n for n in names if len(n) >= 3 and rest.startswith(n[:-1])]
    if len(stems) == 1:
        name = stems[0]
        return text[: m.end()] + name + rest[len(name) - 1 :]
    # a name with a character lost or misread, its 市/町/村 kept (群馬県川市 → 渋川市) or, when
    # nothing follows, lost too (群馬県小川 → 渋川市)
    head = re.match(r"[\u3041-\u30ff\u4e00-\u9fff]{1,4}?[市町村](?![場民])", rest)
    if head and len(head.group(0)) >= 2:
        near = [n for n in names if Levenshtein.distance(n, head.group(0)) == 1]
        if len(near) == 1:
            return text[: m.end()] + near[0] + rest[head.end() :]
    elif re.fullmatch(r"[\u4e00-\u9fff]{2,4}", rest):
        near = [n for n in names if len(n) >= 3 and Levenshtein.distance(n[:-1], rest) == 1]
        if len(near) == 1:
            return text[: m.end()] + near[0]
    return text


#: A municipality followed by its central district, which bears its name (渋川市渋川).
_CITY_DISTRICT = re.compile(r"(?P<stem>(?:(?![都道府県市町村郡])[\u4e00-\u9fff]){2,3})(?P<suffix>[市町村])(?P<district>[\u4e00-\u9fff]{1,3})(?=[0-9０-９\s丁番]|$)")


def _fix_city_district(match: re.Match[str]) -> str:
    """渋川市小川1900 → 渋川市渋川1900, 渋川市川1900 → 渋川市渋川1900: a district one character off
    the city's own name is the district that bears it (Tesseract reads 渋 as 小 out of a place name's context)."""
    stem, district = match.group("stem"), match.group("district")
    if stem + match.group("suffix") in _all_municipalities() and len(stem) - 1 <= len(district) <= len(stem) and Levenshtein.distance(district, stem) == 1:
        return stem + match.group("suffix") + stem
    return match.group(0)


def correct_places(text: str, prefer: tuple[str, ...] = ()) -> str:
    """The text with misread prefecture and municipality names corrected. ``prefer``: the
    prefectures the document names, whose municipalities win a tie."""
    prefectures, municipalities = _places()
    all_munis = _all_municipalities()
    out = text
    m = _PREF.match(out)
    if m:
        fixed = _unique_near(m.group(1), prefectures)
        if fixed:
            out = fixed + out[m.end() :]
    prefer = prefer or prefectures_in(out)

    out = _insert_dropped_suffix(out, municipalities)

    def fix_muni(match: re.Match[str]) -> str:
        token = match.group(0)
        # a known name ending here stays (南房総市 inside 千葉県南房総市)
        if any(token[k:] in all_munis for k in range(len(token) - 1)):
            return token
        # after a municipality comes a district, which may end in 町 (前橋市前橋町)
        before = match.string[: match.start()]
        if any(before.endswith(n) for n in all_munis):
            return token
        # the prefecture written just before the name decides among near names (群馬県小川市
        # is 渋川市, not 栃木県's 小山市 named elsewhere in the document)
        written = _prefecture_before(match.string[: match.start()], prefectures)
        # and a prefecture whose municipalities are not listed here names one of its own, which
        # may be a character off a listed one (新潟県南魚沼市 is no 南鹿沼市 of 栃木県)
        if written and written not in municipalities:
            return token
        for k in range(len(token) - 2):
            fixed = _near_in(token[k:], (written,), only=True) if written else _near_in(token[k:], prefer)
            if fixed:
                return token[:k] + fixed
        return token

    out = _MUNI.sub(fix_muni, out)
    out = _CITY_DISTRICT.sub(_fix_city_district, out)
    out = _fix_districts(out)

    def fix_office(match: re.Match[str]) -> str:
        stem = match.group(1)
        if any(stem + suffix in all_munis for suffix in "市町村"):
            return stem
        for suffix in "市町村":
            fixed = _near_in(stem + suffix, prefer)
            if fixed:
                return fixed[:-1]
        return stem

    return _OFFICE.sub(fix_office, out)


def character_pairs(path: Path) -> dict[str, str]:
    """A table of one ``source<TAB>target`` a line, ``#`` comments (zh_to_ja.tsv, old_kanji.tsv)."""
    table: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0]
        if line.strip():
            source, target = line.split("\t")[:2]
            table[source] = target
    return table


@lru_cache(maxsize=1)
def old_kanji() -> dict[str, str]:
    """Kanji in their old forms (旧字体) and the forms used today (``old_kanji.tsv``)."""
    return character_pairs(OLD_KANJI_FILE)


def has_old_kanji(text: str) -> bool:
    """Whether ``text`` holds a kanji in its old form (惠 for 恵, 釀 for 醸)."""
    table = old_kanji()
    return any(char in table for char in text)
