"""Known vocabularies that correct OCR's near misses: prefecture and municipality names.

Tesseract's Japanese model misreads a few characters of place names often (渋川 → 波川, 浅川,
濾川; 群馬 → 姓馬, 衝馬). A place name read one character off a known name, where that known
name is the only one so close, is taken to be the known name. Names that exist are never
changed, and nothing else in the text is touched.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

PLACES_FILE = Path(__file__).resolve().parents[1] / "forms" / "vocabulary" / "places.yaml"


@lru_cache(maxsize=1)
def _places() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    raw = yaml.safe_load(PLACES_FILE.read_text(encoding="utf-8"))
    prefectures = tuple(raw["prefectures"])
    municipalities = {pref: tuple(names) for pref, names in raw["municipalities"].items()}
    return prefectures, municipalities


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


def _near_in(token: str, prefer: tuple[str, ...]) -> str | None:
    """A known name one character off ``token``: among the preferred prefectures' first."""
    _, municipalities = _places()
    pools = [tuple(m for p in prefer for m in municipalities.get(p, ()))]
    pools.append(tuple(m for names in municipalities.values() for m in names))
    for pool in pools:
        if token in pool:
            return None
        fixed = _unique_near(token, pool)
        if fixed:
            return fixed
    return None


def correct_places(text: str, prefer: tuple[str, ...] = ()) -> str:
    """The text with misread prefecture and municipality names corrected. ``prefer``: the
    prefectures the document names, whose municipalities win a tie."""
    prefectures, municipalities = _places()
    all_munis = {m for names in municipalities.values() for m in names}
    out = text
    m = _PREF.match(out)
    if m:
        fixed = _unique_near(m.group(1), prefectures)
        if fixed:
            out = fixed + out[m.end() :]
    prefer = prefer or prefectures_in(out)

    def fix_muni(match: re.Match[str]) -> str:
        token = match.group(0)
        # a known name ending here stays (南房総市 inside 千葉県南房総市)
        if any(token[k:] in all_munis for k in range(len(token) - 1)):
            return token
        for k in range(len(token) - 2):
            fixed = _near_in(token[k:], prefer)
            if fixed:
                return token[:k] + fixed
        return token

    out = _MUNI.sub(fix_muni, out)

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
