"""Value normalization for Japanese forms: typed input, PDF text layers and OCR output.

Every parser is pure and total: it never raises on odd input, it returns ``None`` when the
text holds no value of its type. ``normalize_value`` wraps them for the extraction pipeline and
adds ``fit``, how well the raw text fits the type:

* 1.0: the text is a clean value of the type, possibly with the decorations that belong to it
  (``¥``/``円``/``（税込）`` for yen, ``TEL`` for phones, ``〒`` for postal codes …);
* lower: the value was recovered by a repair. Each kind of repair multiplies the fit by its
  factor once (``_PENALTY``): OCR letters read for digits, a dot read for a thousands comma,
  other text around the value, several values in the text (the first is taken) …;
* 0.0: no value; ``value`` is then ``None``.

OCR repairs are deliberately conservative: ``O o 〇 → 0`` and ``I l | → 1`` only inside a token
that also holds a real digit (or, for dates, between 年/月/日 and ``/``), never at a token's edge
that touches a Latin word (``No.1`` stays); ``S → 5`` only between two digits; ``FA`` right after
a number is read as ``円``; ``一`` between digits is read as a dash in postal codes and phones.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Callable

__all__ = [
    "CONTEXT_FIT",
    "Normalized",
    "clean_text",
    "has_stray_point",
    "nfkc",
    "normalize_choice_label",
    "normalize_value",
    "parse_date",
    "parse_email",
    "parse_int",
    "parse_percent",
    "parse_phone",
    "parse_postal_code",
    "parse_url",
    "parse_yen",
    "to_katakana",
]

# --------------------------------------------------------------------------------------------
# fit

#: Factor applied once per kind of repair.
_PENALTY: dict[str, float] = {
    "ocr_char": 0.8,  # letters read for digits (O→0, l→1, S→5)
    # dot or 、 read for a thousands comma, 一 for a dash, 。 for a dot: what the separator
    # means is not in doubt (12.000円 is no decimal), only the digits, which OCR confidence weighs
    "ocr_sep": 0.95,
    "decimal_comma": 0.85,  # a comma for a decimal point (62,5%): or a thousands comma, a digit lost
    "ocr_yen": 0.85,  # 円 read as FA
    "lost_separator": 0.7,  # a date's points lost (R7912): the one split that is a date
    "ocr_speck": 0.85,  # a speck read as ・ inside an amount (5,・767円)
    "ocr_at": 0.8,  # @ read as ⑥ or ◎
    "spaces": 0.9,  # spaces inside a value that takes none (email, URL, phone digits)
    "extra": 0.9,  # other text around the value
    "several": 0.9,  # more than one value in the text; the first was taken
    "incomplete": 0.9,  # a part is missing or implied (日 of a date, URL scheme, 20250401)
    "zero_fraction": 0.9,  # "12000.0" for an integer
    "kana_dash": 0.9,  # a dash or 一 written for the long vowel mark ー
    "nonstandard": 0.8,  # an e-mail local part with ".." (old Japanese mobile addresses)
    "implausible": 0.7,  # a phone number whose prefix does not match its length
    "weekday": 0.6,  # the weekday printed beside a date does not match it
    "grouping": 0.5,  # thousands commas in the wrong places ("1,20,00")
    "leading_zero": 0.4,  # an amount of several digits that starts with 0 ("000": its first lost)
    "box_in_text": 0.5,  # a box mark in text: a character taken for a box
}


#: The least fit of a reading that needed only its context taken off or filled in (text round
#: the value, spaces, a part implied: the penalties of 0.9 and over); under it, a character
#: was put right.
CONTEXT_FIT = 0.9


def _fit(flags: set[str]) -> float:
    fit = 1.0
    for flag in flags:
        fit *= _PENALTY[flag]
    return round(fit, 3)


# --------------------------------------------------------------------------------------------
# Unicode


#: CJK Radicals Supplement characters that PDF text layers emit for ordinary kanji (fonts map
#: glyphs such as 長 to the radical code point). NFKC folds the Kangxi radicals (U+2F00…) but
#: leaves most of these alone.
_RADICALS = str.maketrans(
    {
        "\u2ea0": "民",
        "\u2ec4": "西",
        "\u2ed1": "長",
        "\u2ed8": "青",
        "\u2edd": "食",
        "\u2ee4": "鬼",
        "\u2ee8": "麦",
        "\u2ee9": "黄",
        "\u2eeb": "斉",
        "\u2eed": "歯",
        "\u2eef": "竜",
        "\u2ef2": "亀",
    }
)
#: Invisible characters that text layers and copy-paste leave behind.
_INVISIBLE_RE = re.compile("[\u00ad\u200b\u2060\ufeff\x00-\x08\x0e-\x1f\x7f]")


def nfkc(text: str) -> str:
    """Unicode NFKC plus two repairs NFKC does not do.

    NFKC folds full-width ASCII, half-width katakana, Kangxi radicals, CJK compatibility
    ideographs, circled digits, ㈱ and era squares such as ㋿. On top of that this maps the CJK
    Radicals Supplement characters that PDF text layers use for ordinary kanji (⻑ → 長) and
    drops invisible characters (zero-width space, soft hyphen, BOM, C0 controls other than
    whitespace). Dashes are not touched: that depends on context (see the parsers).
    """
    text = _INVISIBLE_RE.sub("", text)
    return unicodedata.normalize("NFKC", text).translate(_RADICALS)


def _is_wide(char: str) -> bool:
    """East Asian Wide or Fullwidth: kanji, kana, CJK punctuation (after NFKC)."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def _is_narrow_letter(char: str) -> bool:
    return char.isalpha() and not _is_wide(char)


def _joins(left: str, right: str) -> bool:
    """Would a space between these two characters be noise in letter-spaced text?

    True for a CJK character next to a CJK character, a digit or punctuation (令和 7 年,
    80 番地); false when a Latin letter is involved (代表 Yamada keeps its space).
    """
    if not (_is_wide(left) or _is_wide(right)):
        return False
    return not (_is_narrow_letter(left) or _is_narrow_letter(right))


#: Ideographic punctuation that never takes a space on its inner side.
_OPENING = frozenset("「『【〔〈《〘〖、。")
_CLOSING = frozenset("」』】〕〉》〙〗、。")


def _clean_line(line: str) -> str:
    parts = re.split(r"(\s+)", line.strip())
    words, gaps = parts[0::2], parts[1::2]
    if not gaps:
        return words[0]
    spaced = {i for i in range(len(gaps)) if _joins(words[i][-1], words[i + 1][0])}
    unspaced = sum(1 for w in words for a, b in zip(w, w[1:]) if _joins(a, b))
    letter_spaced = len(spaced) >= 2 and len(spaced) > unspaced
    if letter_spaced:
        counts = Counter(len(gaps[i]) for i in spaced)
        top = max(counts.values())
        mode = min(n for n, c in counts.items() if c == top)
    out = [words[0]]
    for i, gap in enumerate(gaps):
        left, right = words[i][-1], words[i + 1][0]
        if letter_spaced and i in spaced and len(gap) <= mode:
            sep = ""
        elif left in _OPENING or right in _CLOSING:
            sep = ""
        else:
            sep = " "
        out.append(sep)
        out.append(words[i + 1])
    return "".join(out)


def clean_text(text: str) -> str:
    """NFKC, trim, collapse whitespace; undo the letter-spacing OCR puts into CJK text.

    Within a line, each run of whitespace becomes one space, except in two cases:

    * Letter-spaced lines. Count the pairs of neighbouring characters in which one is CJK
      (East Asian Wide) and the other is CJK, a digit or punctuation, but not a Latin letter.
      The line is letter-spaced when at least two such pairs are separated by whitespace and
      the separated pairs outnumber the adjacent ones: ``渋 川 市`` (2 separated, 0 adjacent),
      ``令和 7 年 4 月 1 日`` (6 against 1). There those gaps are removed (``渋川市``,
      ``令和7年4月1日``); a gap wider than the usual one in that line stays as a word break
      (``山 田  太 郎`` → ``山田 太郎``), and gaps next to Latin letters stay. Ordinary CJK
      text with word spaces (``代表取締役 山田太郎``: 1 against 7, ``株式会社 渋川``: 1 against
      4) and a lone pair such as ``林 敬`` (a name, or a letter-spaced word? kept) are left
      as they are. The decision is made per line, as OCR letter-spaces line by line.
    * Spaces inside ideographic brackets and around 、。 are removed.

    Line breaks follow CSS Text 3 (segment break transformation): a break between two CJK
    characters is a wrap and disappears (``渋川市\\n石原`` → ``渋川市石原``); any other break
    becomes one space.
    """
    out = ""
    for raw_line in nfkc(text).splitlines():
        line = _clean_line(raw_line)
        if not line:
            continue
        if out:
            out += "" if _is_wide(out[-1]) and _is_wide(line[0]) else " "
        out += line
    return out


# --------------------------------------------------------------------------------------------
# OCR repairs shared by the numeric parsers

#: A colon or semicolon with three digits after it, after a digit: a thousands comma misread
#: (13:000 円; no time has three digits after its colon). A pattern, for the locator's too.
COLON_COMMA = r"[:;](?=[0-9]{3}(?![0-9]))"
COLON_FOR_COMMA = re.compile(rf"(?<=[0-9]){COLON_COMMA}")
_CONFUSABLE = {"O": "0", "o": "0", "〇": "0", "I": "1", "l": "1", "|": "1"}
_TOKEN_RE = re.compile(r"[0-9OoIl|S〇]+(?:[,.][0-9OoIl|S〇]+)*")
#: Neighbours that make a lone confusable a digit: 4月l日, 2025/l/1.
_DATE_CONTEXT = frozenset("年月日/-")
#: Dash-like characters, as a regex class body: ‐ ‑ ‒ – — ― ⁃ − ー ﹣ － ｰ and the hyphen-minus.
_DASHES = r"\-\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u30fc\ufe63\uff0d\uff70"
_DASH_RE = re.compile(rf"(?<=[\d)])\s*[{_DASHES}]\s*(?=[\d(])")
_KANJI_DASH_RE = re.compile(r"(?<=\d)\s*一\s*(?=\d)")


def _is_ascii_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _repair_digits(text: str) -> tuple[str, set[int]]:
    """Read O/o/〇 as 0, I/l/| as 1 and S as 5 where they stand among digits.

    Returns the repaired text (same length: positions are kept) and the repaired positions.
    """
    chars = list(text)
    repaired: set[int] = set()
    for m in _TOKEN_RE.finditer(text):
        start, end = m.span()
        token = m.group()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        digits = [i for i, c in enumerate(token) if c.isdigit()]
        if digits:
            lo = digits[0] if _is_ascii_letter(before) else 0
            hi = digits[-1] if _is_ascii_letter(after) else len(token) - 1
        elif before in _DATE_CONTEXT and after in _DATE_CONTEXT:
            lo, hi = 0, len(token) - 1
        else:
            continue
        for i in range(lo, hi + 1):
            if token[i] in _CONFUSABLE:
                chars[start + i] = _CONFUSABLE[token[i]]
                repaired.add(start + i)
        for i in range(lo, hi + 1):
            if token[i] == "S" and 0 < i < len(token) - 1:
                if chars[start + i - 1].isdigit() and chars[start + i + 1].isdigit():
                    chars[start + i] = "5"
                    repaired.add(start + i)
    return "".join(chars), repaired


# --------------------------------------------------------------------------------------------
# numbers

_KANJI_DIGITS = {
    "〇": 0, "零": 0, "一": 1, "壱": 1, "壹": 1, "二": 2, "弐": 2, "貳": 2, "三": 3, "参": 3,
    "參": 3, "四": 4, "五": 5, "伍": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_KANJI_SMALL = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "阡": 1000, "仟": 1000}
_KANJI_BIG = {"万": 10**4, "萬": 10**4, "億": 10**8}
_KANJI_CHARS = "".join([*_KANJI_DIGITS, *_KANJI_SMALL, *_KANJI_BIG])


def _kanji_to_int(text: str) -> int | None:
    """二千五百 → 2500, 壱萬弐千 → 12000, 二〇二五 → 2025, 三十一 → 31; None when malformed."""
    if not text:
        return None
    if len(text) > 1 and all(c in _KANJI_DIGITS for c in text):
        return int("".join(str(_KANJI_DIGITS[c]) for c in text))
    total, section, digit = 0, 0, None
    last_small, last_big = 10**5, 10**13
    for char in text:
        if char in _KANJI_DIGITS:
            if digit is not None:
                return None
            digit = _KANJI_DIGITS[char]
        elif char in _KANJI_SMALL:
            unit = _KANJI_SMALL[char]
            if unit >= last_small:
                return None
            section += (1 if digit is None else digit) * unit
            digit, last_small = None, unit
        else:
            unit = _KANJI_BIG[char]
            section += digit or 0
            if unit >= last_big or section == 0:
                return None
            total += section * unit
            section, digit, last_small, last_big = 0, None, 10**5, unit
    return total + section + (digit or 0)


_NUM = r"\d+(?:(?:[,.]|、(?=\d{3}(?!\d)))\d+)*"
_UNITS = {"億": Decimal(10**8), "万": Decimal(10**4), "千": Decimal(1000), "百": Decimal(100)}
_AMOUNT_RE = re.compile(rf"(?:{_NUM}[億万千百])+(?:{_NUM})?|{_NUM}")
_SEGMENT_RE = re.compile(rf"({_NUM})([億万千百]?)")
_KANJI_AMOUNT_RE = re.compile(rf"[{_KANJI_CHARS}]+(?=\s*円)")


def _eval_num(text: str, *, decimal: bool) -> tuple[Decimal | None, set[str]]:
    """One number with separators. ``decimal``: a dot is a decimal point (percent, 1.2万).

    Without ``decimal`` a dot followed by exactly three digits is a thousands separator read
    by OCR for a comma (12.000円); otherwise a single trailing dot is a decimal point.
    """
    flags: set[str] = set()
    if "、" in text:
        text = text.replace("、", ",")
        flags.add("ocr_sep")
    seps = re.findall(r"[,.]", text)
    groups = re.split(r"[,.]", text)
    if not seps:
        return Decimal(text), flags

    def thousands(parts: list[str]) -> bool:
        return 1 <= len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:])

    if seps[-1] == "." and seps.count(".") == 1 and (decimal or len(groups[-1]) != 3):
        whole = groups[:-1]
        if len(whole) > 1 and not thousands(whole):
            flags.add("grouping")
        value = Decimal("".join(whole) + "." + groups[-1])
        if not decimal:
            flags.add("zero_fraction")
        return value, flags
    if decimal and seps == [","] and len(groups[-1]) != 3:
        flags.add("decimal_comma")  # 62,5%: 62.5, or 625 with a digit lost
        return Decimal(groups[0] + "." + groups[1]), flags
    if thousands(groups):
        if "." in seps:
            flags.add("ocr_sep")
        return Decimal("".join(groups)), flags
    if "." not in seps:
        flags.add("grouping")
        return Decimal("".join(groups)), flags
    return None, flags


def _eval_amount(text: str) -> tuple[Decimal | None, set[str]]:
    """A number with optional 億/万/千/百 multipliers: 1万2000, 1.2万, 1億2345万6789."""
    flags: set[str] = set()
    total = Decimal(0)
    previous: Decimal | None = None
    for m in _SEGMENT_RE.finditer(text):
        num, unit = m.groups()
        value, f = _eval_num(num, decimal=bool(unit))
        if value is None:
            return None, flags
        flags |= f
        if unit:
            mult = _UNITS[unit]
            if previous is not None and (mult >= previous or value * mult >= previous):
                return None, flags
            total += value * mult
            previous = mult
        else:
            if previous is not None and value >= previous:
                return None, flags
            total += value
    return total, flags


@dataclass
class _Candidate:
    start: int
    end: int
    value: Decimal | None
    flags: set[str]
    marked: bool = False
    skip: bool = False


#: After a number: units that show it is not an amount of money.
_NOT_YEN_AFTER = re.compile(
    r"\s*(?:[年月日歳才個本枚件回人名%時分秒号番階割倍度℃:/]|ヶ月|か月|カ月|ケ月|パーセント"
    r"|[-.]\d|(?:kg|g|ml|mL|L|cm|mm|m)(?![A-Za-z]))"
)
#: Before a number: it is part of a date, a time, a phone number, an ordinal, or the tail of
#: a number OCR broke ("1S,000": the ",000" is not an amount of its own).
_NOT_NUMBER_BEFORE = re.compile(r"(?:[/:]|\d-|第|No\.?)\s*$|[0-9A-Za-z][,.]$")


def _number_candidates(text: str, *, yen: bool) -> list[_Candidate]:
    cands: list[_Candidate] = []
    for m in _AMOUNT_RE.finditer(text):
        value, flags = _eval_amount(m.group())
        cand = _Candidate(m.start(), m.end(), value, flags)
        before, after = text[: m.start()], text[m.end() :]
        cand.skip = bool(_NOT_NUMBER_BEFORE.search(before)) or (
            # "A4", "1S": a number glued to a Latin word is no amount.
            yen
            and (
                bool(_NOT_YEN_AFTER.match(after))
                or _is_ascii_letter(before[-1:])
                or _is_ascii_letter(after[:1])
            )
        )
        cand.marked = after.lstrip().startswith("円") or before.rstrip()[-1:] in ("¥", "\\", "金")
        cands.append(cand)
    if yen:
        for m in _KANJI_AMOUNT_RE.finditer(text):
            if any(c.start < m.end() and m.start() < c.end for c in cands):
                continue
            kanji = _kanji_to_int(m.group())
            value = None if kanji is None else Decimal(kanji)
            cands.append(_Candidate(m.start(), m.end(), value, set(), marked=True))
        cands.sort(key=lambda c: c.start)
    return cands


def _pick(cands: list[_Candidate], *, prefer_marked: bool) -> _Candidate | None:
    usable = [c for c in cands if not c.skip]
    if prefer_marked:
        marked = [c for c in usable if c.marked]
        if marked:
            return marked[0]
    return usable[0] if usable else None


def _rest(text: str, chosen: tuple[int, int], others: list[tuple[int, int]]) -> str:
    """The text without the chosen value and the other values."""
    chars = list(text)
    for start, end in [chosen, *others]:
        for i in range(start, end):
            chars[i] = " "
    return "".join(chars)


_YEN_DECORATION_RE = re.compile(
    r"税込み?|税抜き?|税別|内税|外税|消費税|込み?|抜き?|程度|以内|以下|以上|まで|から|円也|約"
    r"|[\s¥\\$金円也()\[\]【】/:,.~〜\-−―‐ー・※]"
)


_SPECK_IN_GROUP = re.compile(r"(?<=\d,)(\d{1,2})[.．](\d{1,2})(?![\d,])")
#: A thousands separator read with specks beside it (4,:000円, 30.,.:450円): several points,
#: commas or colons between digits and a group of three.
_SPECKED_SEPARATOR = re.compile(r"(?<=\d)[,.:;・･]{2,}(?=\d{3}(?!\d))")


def _prepare_numeric(text: str, *, yen: bool) -> tuple[str, set[str], set[int]]:
    """NFKC, spaces inside amounts, FA → 円, digit repairs; shared by yen, int and percent.

    Returns the text, the flags of the repairs and the positions of repaired digits.
    """
    flags: set[str] = set()
    s = nfkc(text)
    # Spaces between a number and its separators or unit: "12,000 円", "¥ 12,000", "1万 2000".
    s = re.sub(r"(?<=[\dOoIl|])\s+(?=[,円万千億百%])", "", s)
    s = re.sub(r"(?<=[,¥\\金万千億百])\s+(?=[\dOoIl|])", "", s)
    # a speck between a thousands comma and its digits (5,・767円): no character of a number
    specked = re.sub(r"(?<=\d,)\s*[・･]\s*(?=\d{3}(?!\d))", "", s)
    if yen:
        # or read as a point inside a group of three (¥10,00.0): yen have no decimals
        specked = _SPECK_IN_GROUP.sub(lambda m: m[1] + m[2] if len(m[1] + m[2]) == 3 else m[0], specked)
        specked = _SPECKED_SEPARATOR.sub(",", specked)
    if specked != s:
        flags.add("ocr_speck")
        s = specked
    if yen and "円" not in s:
        fixed = re.sub(r"(?<=[0-9Oo])FA(?![A-Za-z])", "円", s)
        if fixed != s:
            flags.add("ocr_yen")
            s = fixed
    s, repaired = _repair_digits(s)
    if yen:
        colons = {m.start() for m in COLON_FOR_COMMA.finditer(s)}
        s = "".join("," if i in colons else c for i, c in enumerate(s))
        repaired |= colons
    return s, flags, repaired


def _spans_repaired(cand: _Candidate, repaired: set[int]) -> bool:
    return any(cand.start <= i < cand.end for i in repaired)


_SIGNS = ("-", "−", "△", "▲")
#: After a number: it is part of a date, a time or a phone number.
_NOT_INT_AFTER = re.compile(r"\s*(?:[/:]|-\d)")


def _parse_amount(text: str, *, yen: bool) -> tuple[int | None, float]:
    s, flags, repaired = _prepare_numeric(text, yen=yen)
    cands = _number_candidates(s, yen=yen)
    if not yen:
        for cand in cands:
            cand.skip = cand.skip or bool(_NOT_INT_AFTER.match(s, cand.end))
    chosen = _pick(cands, prefer_marked=yen)
    if chosen is None:
        # int: a number written in kanji only ("三", "二十五").
        bare = s.strip()
        if not yen and bare and all(c in _KANJI_CHARS for c in bare):
            value = _kanji_to_int(bare)
            return (value, 1.0) if value is not None else (None, 0.0)
        return None, 0.0
    if chosen.value is None or chosen.value != chosen.value.to_integral_value():
        return None, 0.0
    flags |= chosen.flags
    if "ocr_yen" in flags and not s[chosen.end :].startswith("円"):
        flags.discard("ocr_yen")
    if _spans_repaired(chosen, repaired):
        flags.add("ocr_char")
    others = [(c.start, c.end) for c in cands if c is not chosen and not c.skip]
    if others:
        flags.add("several")
    value = int(chosen.value)
    digits = re.sub(r"\D", "", s[chosen.start : chosen.end])
    if len(digits) > 1 and digits.startswith("0"):
        flags.add("leading_zero")
    if yen:
        if _YEN_DECORATION_RE.sub("", _rest(s, (chosen.start, chosen.end), others)):
            flags.add("extra")
        return value, _fit(flags)
    before = s[: chosen.start].rstrip()
    if before[-1:] in _SIGNS and not before[:-1].strip():
        value = -value
        others.append((len(before) - 1, len(before)))
    # A short counter word is part of an int (100個, 3セット); anything longer is extra text.
    leftover = re.sub(r"[\s,、。()]", "", _rest(s, (chosen.start, chosen.end), others))
    if len(leftover) > 4 or any(c.isdigit() for c in leftover):
        flags.add("extra")
    return value, _fit(flags)


def parse_yen(text: str) -> int | None:
    """An amount of money in yen: 12,000円, ¥12,000, 1万2000円, 1.2万円, 金壱萬弐千円也 → 12000.

    The first amount marked with 円/¥/金 wins over bare numbers (so a row number in front
    does not count); numbers that are years, dates, phone numbers, percentages or counts are
    not amounts. A dot is read as an OCR'd thousands comma only before exactly three digits.
    None when there is no amount, or it is not a whole number of yen (12.5円).
    """
    return _parse_amount(text, yen=True)[0]


def parse_int(text: str) -> int | None:
    """A whole number: 1,234 / 1万 / 100個 / -5 / △5 / 二十五; None when there is none."""
    return _parse_amount(text, yen=False)[0]


_PERCENT_NUM_RE = re.compile(r"\d+(?:[,.]\d+)*")
_PERCENT_MARK_RE = re.compile(r"\s*(?:%|パーセント)")
_PERCENT_DECORATION_RE = re.compile(r"以上|以下|未満|超|約|程度|[\s()%]|パーセント")


def _parse_percent(text: str) -> tuple[float | None, float]:
    s, flags, repaired = _prepare_numeric(text, yen=False)
    cands: list[_Candidate] = []
    for m in _PERCENT_NUM_RE.finditer(s):
        value, f = _eval_num(m.group(), decimal=True)
        cand = _Candidate(m.start(), m.end(), value, f)
        cand.marked = bool(_PERCENT_MARK_RE.match(s, m.end()))
        cand.skip = not cand.marked and (
            bool(_NOT_NUMBER_BEFORE.search(s[: m.start()]))
            or bool(_NOT_YEN_AFTER.match(s, m.end()))
            or bool(_NOT_INT_AFTER.match(s, m.end()))
        )
        cands.append(cand)
    chosen = _pick(cands, prefer_marked=True)
    if chosen is None or chosen.value is None:
        return None, 0.0
    flags |= chosen.flags
    if _spans_repaired(chosen, repaired):
        flags.add("ocr_char")
    others = [(c.start, c.end) for c in cands if c is not chosen and not c.skip]
    if others:
        flags.add("several")
    value = chosen.value
    before = s[: chosen.start].rstrip()
    if before[-1:] in _SIGNS and not before[:-1].strip():
        value = -value
        others.append((len(before) - 1, len(before)))
    if _PERCENT_DECORATION_RE.sub("", _rest(s, (chosen.start, chosen.end), others)):
        flags.add("extra")
    return float(value), _fit(flags)


def parse_percent(text: str) -> float | None:
    """62.5%, ６２．５％, 62.5 パーセント, 62.5 → 62.5 (a percentage, not a fraction)."""
    return _parse_percent(text)[0]


# --------------------------------------------------------------------------------------------
# dates

_ERAS: dict[str, tuple[int, date, date | None]] = {
    # name: (western year of 元年, first day, last day). Meiji dates before 1873 were in the
    # lunisolar calendar and cannot be converted by arithmetic, so they are not accepted.
    "明治": (1868, date(1873, 1, 1), date(1912, 7, 29)),
    "大正": (1912, date(1912, 7, 30), date(1926, 12, 24)),
    "昭和": (1926, date(1926, 12, 25), date(1989, 1, 7)),
    "平成": (1989, date(1989, 1, 8), date(2019, 4, 30)),
    "令和": (2019, date(2019, 5, 1), None),
}
_ERA_ABBR = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和",
             "令": "令和", "平": "平成", "昭": "昭和"}  # fmt: skip
_DATE_RE = re.compile(
    r"(?<![A-Za-z])(?P<era>令和|平成|昭和|大正|明治|[RHSTM令平昭])\.?(?P<ey>\d{1,2}|元)"
    r"(?P<es1>年|[./-])(?P<em>\d{1,2})(?P<es2>月|[./-])(?P<ed>\d{1,2})(?!\d)(?P<edd>日)?"
    r"|(?<!\d)(?P<wy>\d{4})(?P<ws1>年|[./-])(?P<wm>\d{1,2})(?P<ws2>月|[./-])(?P<wd>\d{1,2})"
    r"(?!\d)(?P<wdd>日)?"
    r"|(?<!\d)(?P<cy>\d{4})(?P<cm>\d{2})(?P<cd>\d{2})(?!\d)"
)
#: An era date whose points the recognizer dropped (R7912, R76.20): the era and 3 to 6 digits
#: with fewer than two separators left.
_SEPARATORS_LOST_RE = re.compile(
    r"(?<![A-Za-z])(?P<era>令和|平成|昭和|[RHS令平昭])\.?(?P<digits>\d[\d./-]{1,6}\d)(?![\d./-])"
)
_MISREAD_REIWA = re.compile(r"(?![令昭平])[^\W\d_A-Za-z]和(?=\d{1,2}年\d{1,2}月)")
_WEEKDAY_RE = re.compile(r"\((?P<a>[月火水木金土日])(?:曜日?)?\)|(?P<b>[月火水木金土日])曜日?")
_KANJI_DATE_NUM_RE = re.compile(r"[〇一二三四五六七八九十]+(?=[年月日])")
_DATE_DECORATION_RE = re.compile(r"[\s()]|付け?|現在|まで|から")


def _date_from_match(m: re.Match[str]) -> tuple[date | None, set[str]]:
    flags: set[str] = set()
    if m.group("era"):
        s1, s2 = m.group("es1"), m.group("es2")
        if (s1 == "年") != (s2 == "月") or (s1 != "年" and s1 != s2):
            return None, flags
        if s1 == "年" and not m.group("edd"):
            flags.add("incomplete")
        era = _ERA_ABBR.get(m.group("era"), m.group("era"))
        base, first, last = _ERAS[era]
        ey = 1 if m.group("ey") == "元" else int(m.group("ey"))
        if ey < 1:
            return None, flags
        y, mo, d = base + ey - 1, int(m.group("em")), int(m.group("ed"))
    elif m.group("wy"):
        s1, s2 = m.group("ws1"), m.group("ws2")
        if (s1 == "年") != (s2 == "月") or (s1 != "年" and s1 != s2):
            return None, flags
        if s1 == "年" and not m.group("wdd"):
            flags.add("incomplete")
        y, mo, d = int(m.group("wy")), int(m.group("wm")), int(m.group("wd"))
        first, last = date(1873, 1, 1), date(2199, 12, 31)
    else:
        flags.add("incomplete")
        y, mo, d = int(m.group("cy")), int(m.group("cm")), int(m.group("cd"))
        first, last = date(1873, 1, 1), date(2199, 12, 31)
    try:
        value = date(y, mo, d)
    except ValueError:
        return None, flags
    if value < first or (last is not None and value > last):
        return None, flags
    return value, flags


def _parse_date(text: str) -> tuple[date | None, float]:
    s = re.sub(r"\s+", "", nfkc(text))
    s = _KANJI_DATE_NUM_RE.sub(lambda m: str(_kanji_to_int(m.group()) or m.group()), s)
    s, repaired = _repair_digits(s)
    # the first character of 令和 misread (偽和8年): today's documents are dated in 令和
    era = _MISREAD_REIWA.search(s)
    if era and not _DATE_RE.search(s):
        s = s[: era.start()] + "令" + s[era.start() + 1 :]
        repaired = set(repaired) | {era.start()}
    found: list[tuple[re.Match[str], date, set[str]]] = []
    for m in _DATE_RE.finditer(s):
        value, flags = _date_from_match(m)
        if value is not None:
            found.append((m, value, flags))
    if not found:
        return _date_without_separators(s)
    m, value, flags = found[0]
    end = m.end()
    wd = _WEEKDAY_RE.match(s, end)
    if wd:
        end = wd.end()
        if "月火水木金土日".index(wd.group("a") or wd.group("b")) != value.weekday():
            flags.add("weekday")
    if any(m.start() <= i < m.end() for i in repaired):
        flags.add("ocr_char")
    if len(found) > 1:
        flags.add("several")
    rest = s[: m.start()] + s[end:]
    for other, _, _ in found[1:]:
        rest = rest.replace(other.group(), "", 1)
    if _DATE_DECORATION_RE.sub("", rest):
        flags.add("extra")
    return value, _fit(flags)


def _date_without_separators(s: str) -> tuple[date | None, float]:
    """An era date printed with points the recognizer lost (R7912 for R7.9.12): the value when
    exactly one way of cutting the digits into year, month and day gives a date of its era not
    later than next year, at a fit that sends it to a person."""
    m = _SEPARATORS_LOST_RE.search(s)
    if m is None:
        return None, 0.0
    pieces = re.split(r"[./-]", m.group("digits"))
    if len(pieces) > 2 or not all(pieces):
        return None, 0.0
    base, first, last = _ERAS[_ERA_ABBR.get(m.group("era"), m.group("era"))]
    latest = date(date.today().year + 1, 12, 31)
    dates = set()
    for cuts in _cuts(pieces):
        ey, mo, d = (int(c) for c in cuts)
        try:
            value = date(base + ey - 1, mo, d)
        except ValueError:
            continue
        if ey >= 1 and first <= value <= min(last or latest, latest):
            dates.add(value)
    if len(dates) != 1:
        return None, 0.0
    flags = {"lost_separator"} | ({"extra"} if _DATE_DECORATION_RE.sub("", s[: m.start()] + s[m.end() :]) else set())
    return dates.pop(), _fit(flags)


def _cuts(pieces: list[str]) -> list[tuple[str, str, str]]:
    """Every way of cutting digit runs into year, month and day of one or two digits each,
    cutting only inside a run (a separator that was read stays a cut)."""
    out = []
    digits = "".join(pieces)
    kept = {len(pieces[0])} if len(pieces) == 2 else set()
    for a in (1, 2):
        for b in (a + 1, a + 2):
            if not 1 <= len(digits) - b <= 2 or not kept <= {a, b}:
                continue
            out.append((digits[:a], digits[a:b], digits[b:]))
    return out


def parse_date(text: str) -> date | None:
    """A calendar date, 和暦 or western; None when there is none or it does not exist.

    令和7年4月1日, 令和 ７ 年 ４ 月 １ 日, 令和元年5月1日, 令和七年四月一日, R7.4.1, R.7.4.1,
    令7.4.1, H31.4.30, S64.1.7, 2025年4月1日, 2025/4/1, 2025-04-01, 2025.4.1, 20250401.
    An era date outside its era (令和元年4月1日, 平成31年5月1日) and impossible days (2月30日)
    give None. A weekday in brackets after the date is checked (it lowers the fit).
    """
    return _parse_date(text)[0]


# --------------------------------------------------------------------------------------------
# postal codes and phone numbers


def _unify_dashes(s: str, flags: set[str]) -> str:
    s = _DASH_RE.sub("-", s)
    fixed = _KANJI_DASH_RE.sub("-", s)
    if fixed != s:
        flags.add("ocr_sep")
    return fixed


_POSTAL_RE = re.compile(
    r"(?<![\d-])(?P<a>\d{3})(?P<sep>-|[ \t]+)(?P<b>\d{4})(?![\d-])|(?<![\d-])(?P<c>\d{7})(?![\d-])"
)
_POSTAL_DECORATION_RE = re.compile(r"郵便番号|郵便|(?i:zip(?:code)?)|[\s〒:()]")


def _parse_postal_code(text: str) -> tuple[str | None, float]:
    flags: set[str] = set()
    s = _unify_dashes(nfkc(text), flags)
    s, repaired = _repair_digits(s)
    found = list(_POSTAL_RE.finditer(s))
    if not found:
        return None, 0.0
    m = found[0]
    if m.group("c"):
        value = m.group("c")[:3] + "-" + m.group("c")[3:]
    else:
        value = m.group("a") + "-" + m.group("b")
        if m.group("sep") != "-":
            flags.add("spaces")
    if any(m.start() <= i < m.end() for i in repaired):
        flags.add("ocr_char")
    if len(found) > 1:
        flags.add("several")
    others = [x.span() for x in found[1:]]
    if _POSTAL_DECORATION_RE.sub("", _rest(s, m.span(), others)):
        flags.add("extra")
    return value, _fit(flags)


def parse_postal_code(text: str) -> str | None:
    """〒377-8501, 3778501, ３７７－８５０１, 377ー8501 → "377-8501"; None when there is none."""
    return _parse_postal_code(text)[0]


_PHONE_RUN_RE = re.compile(r"(?:\+\s*81[\s-]*)?\(?\d[\d\s()-]*\d")
_PHONE_DECORATION_RE = re.compile(
    r"(?i:tel|fax|phone|mobile)\.?|電話番号|電話|携帯|代表|直通|[\s:()]"
)
_ELEVEN_DIGIT_PREFIXES = ("020", "050", "060", "070", "080", "090", "0800")


def _phone_in_run(run: str) -> tuple[list[str], int, int, set[str]] | None:
    """The first phone number in a run of digits and separators.

    Returns its digit groups, its span in ``run`` and flags; None when there is none.
    """
    flags: set[str] = set()
    intl = run.startswith("+")
    pieces = [[m.group(), m.start(), m.end()] for m in re.finditer(r"\d+", run)]
    if intl and len(pieces[0][0]) > 2:  # +819012345678
        pieces.insert(0, ["81", pieces[0][1], pieces[0][1] + 2])
        pieces[1] = [pieces[1][0][2:], pieces[1][1] + 2, pieces[1][2]]
    seps = [run[pieces[i - 1][2] : pieces[i][1]] for i in range(1, len(pieces))]
    strong = any(sep.strip() for sep in seps)
    groups = [pieces[0]]
    all_single = len(pieces) > 3 and all(len(p[0]) == 1 for p in pieces)
    for k, sep in enumerate(seps):
        prev, piece = groups[-1], pieces[k + 1]
        # Letter-spaced OCR: single digits split by spaces ("0 2 7 9-2 2-2 3 9 6" and
        # "0 2 7 9 2 2 2 3 9 6") belong together; a dash or bracket is the writer's grouping.
        letter_spaced = not sep.strip() and (
            (strong and (len(piece[0]) == 1 or len(pieces[k][0]) == 1))
            or (not strong and all_single)
        )
        if letter_spaced:
            prev[0] += piece[0]
            prev[2] = piece[2]
            flags.add("spaces")
        else:
            groups.append(piece)
    if intl:
        groups = groups[1:]  # the 81
        if groups and groups[0][0] == "0":  # +81 (0)279 …
            groups = groups[1:]
        if not groups or groups[0][0].startswith("0"):
            return None
        groups[0][0] = "0" + groups[0][0]
    for i in [0] if intl else range(len(groups)):
        if not groups[i][0].startswith("0"):
            continue
        total = 0
        for j in range(i, len(groups)):
            total += len(groups[j][0])
            if total > 11:
                break
            # 10 digits end a number unless a one-digit group follows (then 11 do).
            more = j + 1 < len(groups) and len(groups[j + 1][0]) == 1
            if total == 11 or (total == 10 and not more):
                chosen = groups[i : j + 1]
                if len(chosen) > 3:
                    flags.add("implausible")
                start = 0 if intl else chosen[0][1]
                return [g[0] for g in chosen], start, chosen[-1][2], flags
    return None


def _parse_phone(text: str) -> tuple[str | None, float]:
    flags: set[str] = set()
    s = _unify_dashes(nfkc(text), flags)
    s, repaired = _repair_digits(s)
    for m in _PHONE_RUN_RE.finditer(s):
        found = _phone_in_run(m.group())
        if found is None:
            continue
        groups, start, end = found[0], m.start() + found[1], m.start() + found[2]
        flags |= found[3]
        digits = "".join(groups)
        if len(digits) == 11 and not digits.startswith(_ELEVEN_DIGIT_PREFIXES):
            flags.add("implausible")
        if len(digits) == 10 and (digits[:3] in _ELEVEN_DIGIT_PREFIXES or digits[1] == "0"):
            if not digits.startswith(("0120", "0570")):
                flags.add("implausible")
        if any(start <= i < end for i in repaired):
            flags.add("ocr_char")
        rest = s[:start] + " " + s[end:]
        if sum(c.isdigit() for c in rest) >= 10:
            flags.add("several")
        elif _PHONE_DECORATION_RE.sub("", rest.replace("+81", "")):
            flags.add("extra")
        return "-".join(groups), _fit(flags)
    return None, 0.0


def parse_phone(text: str) -> str | None:
    """A Japanese phone number, in the writer's grouping joined by hyphens.

    0279-22-2396, ０２７９－２２－２３９６, 0279(22)2396, (0279)22-2396, TEL 0279-22-2396,
    +81 279 22 2396 → "0279-22-2396"; 0279222396 stays ungrouped. 10 or 11 digits starting
    with 0 (after turning +81 into 0), else None.
    """
    return _parse_phone(text)[0]


# --------------------------------------------------------------------------------------------
# e-mail and URLs

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.+[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\.*"
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
_EMAIL_RE = re.compile(
    rf"(?<![A-Za-z0-9._%+-])(?P<local>{_LOCAL})@(?P<domain>{_HOST})(?![A-Za-z0-9-])"
)
_EMAIL_LABEL_RE = re.compile(
    r"^\s*(?:(?i:e-?mail|mail(?:to)?)|メールアドレス|電子メール|Eメール|メール)\s*:?\s*"
)
_EMAIL_DECORATION_RE = re.compile(
    r"(?i:e-?mail|mailto|mail)|メールアドレス|電子メール|メール|[\s:;,/、()<>]"
)


#: What OCR reads an @ as; tried only when the text has no @ of its own.
_AT_MISREADS = ("⑥", "◎", "©", "®", "(a)", "(@)")


def _parse_email(text: str) -> tuple[str | None, float]:
    flags: set[str] = set()
    if "@" not in text and "＠" not in text:
        for misread in _AT_MISREADS:
            if misread in text:
                text = text.replace(misread, "@", 1)
                flags.add("ocr_at")
                break
    s = nfkc(text).strip()
    if "。" in s:
        s = s.replace("。", ".")
        flags.add("ocr_sep")
    body = _EMAIL_LABEL_RE.sub("", s)
    compact = re.sub(r"\s+", "", body)
    m = _EMAIL_RE.fullmatch(compact)
    if m:
        if compact != body:
            flags.add("spaces")
        rest = ""
        found = [m]
    else:
        spaced = re.sub(r"\s*([@.])\s*", r"\1", s)
        if spaced != s:
            flags.add("spaces")
        found = list(_EMAIL_RE.finditer(spaced))
        if not found:
            return None, 0.0
        m = found[0]
        rest = spaced[: m.start()] + " " + spaced[m.end() :]
        if len(found) > 1:
            flags.add("several")
            rest = rest.replace(found[1].group(), " ")
    local, domain = m.group("local"), m.group("domain").lower()
    if len(local) > 64 or len(local) + 1 + len(domain) > 254:
        return None, 0.0
    if ".." in local or local.endswith("."):
        flags.add("nonstandard")
    if _EMAIL_DECORATION_RE.sub("", rest):
        flags.add("extra")
    return f"{local}@{domain}", _fit(flags)


def parse_email(text: str) -> str | None:
    """An e-mail address: NFKC (＠ → @), spaces OCR put in removed, domain lowercased.

    The local part is kept as written; the old Japanese mobile addresses with ".." or a dot
    before the @ are accepted (lower fit). None when there is no address.
    """
    return _parse_email(text)[0]


_URL_RE = re.compile(
    rf"(?<![A-Za-z0-9@.\-/])(?P<scheme>(?i:https?)://)?(?P<www>(?i:www)\.)?(?P<host>{_HOST})"
    r"(?::\d{1,5})?(?P<path>[/?#][A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*)?(?![A-Za-z0-9@])"
)
_URL_DECORATION_RE = re.compile(
    r"(?i:url|hp|web)|ホームページ|ウェブサイト|Webサイト|サイト|[\s:()<>]"
)


def _parse_url(text: str) -> tuple[str | None, float]:
    flags: set[str] = set()
    s = nfkc(text).strip()
    if "。" in s:
        s = s.replace("。", ".")
        flags.add("ocr_sep")
    # Spaces OCR puts around the dots and slashes of an address ("example. jp").
    spaced = re.sub(r"(?i)(?<=http)(s?)\s*:\s*/\s*/\s*", r"\1://", s)
    spaced = re.sub(r"(?<=[A-Za-z0-9])\s+(?=[./][A-Za-z0-9])", "", spaced)
    spaced = re.sub(r"(?<=[A-Za-z0-9][./])\s+(?=[A-Za-z0-9])", "", spaced)
    if spaced != s:
        flags.add("spaces")
    for m in _URL_RE.finditer(spaced):
        if m.group("scheme") is None and spaced[m.end() : m.end() + 1] == "@":
            continue
        if re.match(r"[-\w~%]", spaced[m.end() : m.end() + 1], re.ASCII):
            # the address runs on in letters the pattern did not take (www.shibukawa-foods.p/,
            # its .jp misread): a host cut short is no address, it is for a second reading
            continue
        url = m.group()
        # Trailing punctuation belongs to the sentence, an unbalanced bracket to the text.
        while url and (url[-1] in ".,;:!?" or (url[-1] == ")" and url.count("(") < url.count(")"))):
            url = url[:-1]
        if not (m.group("scheme") or m.group("www")):
            flags.add("incomplete")
        rest = spaced[: m.start()] + " " + spaced[m.start() + len(url) :]
        if _URL_RE.search(rest):
            flags.add("several")
        elif _URL_DECORATION_RE.sub("", rest):
            flags.add("extra")
        return url, _fit(flags)
    return None, 0.0


def parse_url(text: str) -> str | None:
    """A web address as written (NFKC'd, trimmed): https://…, www.example.jp, example.jp/path.

    No scheme is added. None when there is no host name with a dot and an alphabetic TLD.
    """
    return _parse_url(text)[0]


# --------------------------------------------------------------------------------------------
# katakana

_KATAKANA_OK_RE = re.compile(r"[ァ-ヺヽヾー・゠ A-Za-z0-9]+")
_KANA_DASH_RE = re.compile(rf"(?<=[ァ-ヺ])[{_DASHES}一~〜](?=[ァ-ヺ・ ]|$)")
#: Marks a speck is read as (NFKC'd): none of them belongs at either end of a reading.
_KANA_SPECKS = ".,・`'、。:;"
_KANA_SPECK_INSIDE_RE = re.compile(r"(?<=[ァ-ヺー])\s*[.,`']\s*(?=[ァ-ヺ])")


def _to_katakana(text: str) -> tuple[str | None, float]:
    flags: set[str] = set()
    # Spacing dakuten/handakuten (゛゜) decompose to a space under NFKC; make them combining
    # so that NFKC composes か゛ into ガ (half-width ｶﾞ composes on its own).
    s = nfkc(text.replace("\u309b", "\u3099").replace("\u309c", "\u309a"))
    s = re.sub(r"\s+", " ", s).strip()
    if not s:
        return None, 0.0
    chars = []
    for char in s:
        if "ぁ" <= char <= "ゖ" or char in "ゝゞ":
            char = chr(ord(char) + 0x60)
        chars.append(char)
    s = "".join(chars)
    # a scan's speck read as a mark where a reading has none: before or after it, or between
    # its words (テツクリ.ジュクセイ); a ・ inside stays, readings write it. No reading starts
    # with ー, which lengthens the kana before it (a dash after ふりがな read as ー)
    unspecked = _KANA_SPECK_INSIDE_RE.sub(" ", s.strip(_KANA_SPECKS + " ").lstrip("ー-−‐ ")).strip()
    if unspecked != s:
        flags.add("ocr_speck")
        s = unspecked
    fixed = _KANA_DASH_RE.sub("ー", s)
    if fixed != s:
        flags.add("kana_dash")
        s = fixed
    if not _KATAKANA_OK_RE.fullmatch(s):
        return None, 0.0
    return s, _fit(flags)


def to_katakana(text: str) -> str | None:
    """フリガナ as katakana: hiragana → katakana, half-width → full-width, ー ・ spaces kept.

    Alphanumerics are allowed (NFKC folds full-width ones to ASCII, as everywhere else).
    A dash or 一 written after a katakana for the long vowel mark becomes ー. None when the
    text holds anything else (kanji, punctuation) or is empty.
    """
    return _to_katakana(text)[0]


# --------------------------------------------------------------------------------------------
# labels

#: Circled row numbers NFKC folds to bare digits (①, ㉑, ㊱) or does not fold (❶, ➀, ⓫).
_CIRCLED_RE = re.compile(
    r"^\s*[\u2460-\u2473\u3251-\u325f\u32b1-\u32bf\u2776-\u2793\u24eb-\u24ff]\s*"
)
_ROW_NUMBER_RE = re.compile(
    r"^(?:\(\s*\d+\s*\)|第?\d+(?:[-.]\d+)*\s*[.、,:)](?!\d)|第?\d+(?:[-.]\d+)*\s+)\s*"
)
_BRACKETS = str.maketrans("[]{}〔〕【】〈〉《》〘〙〖〗", "()()()()()()()()")


def normalize_choice_label(text: str) -> str:
    """A key for matching printed labels: 「４．寄附金額：」 and 「(4) 寄附金額」 → 「寄附金額」.

    NFKC; leading row numbers dropped (4 / (4) / 4. / 4) / 4、 / 第4. / 4-1 / ① / ❶); all
    whitespace removed; every bracket pair unified to ( ); colons removed; trailing
    punctuation removed; case folded. If nothing but a number is left the number is kept.
    """
    s = _CIRCLED_RE.sub("", text)
    s = nfkc(s).translate(_BRACKETS).strip()
    for _ in range(2):
        stripped = _ROW_NUMBER_RE.sub("", s, count=1)
        if stripped == s or not stripped.strip():
            break
        s = stripped
    s = re.sub(r"\s+", "", s).replace(":", "")
    s = re.sub(r"[。、.,;・]+$", "", s)
    return s.casefold()


# --------------------------------------------------------------------------------------------
# the pipeline's entry point


@dataclass(frozen=True)
class Normalized:
    #: int for yen/int, float for percent, ISO "YYYY-MM-DD" for date, str otherwise.
    value: Any
    #: 0..1: how well the raw text fits the type (see the module docstring).
    fit: float
    raw: str


#: Box glyphs proper: what a row of boxes is counted by (レ, 口, ○ are also letters). No text
#: value holds one: there it is a character taken for a box (製☑日 for 製造日).
BOX_GLYPHS = frozenset("☑☒■✓✔✅◼⬛▣☐□◻")


def _text(raw: str) -> tuple[str | None, float]:
    value = clean_text(raw)
    if not value:
        return None, 0.0
    return value, _fit({"box_in_text"}) if any(c in BOX_GLYPHS for c in value) else 1.0


#: A full stop beside a Japanese character: Japanese text ends its sentences with 。 and writes
#: points only between digits and Latin letters (1.2kg, Co.), so in a scan's reading such a
#: point was a speck or a ・ misread (zoo scans: 8 values, all wrong). Typed, it is as typed.
_STRAY_POINT = re.compile(r"[^\x00-\x7f]\.|\.[^\x00-\x7f]")


def has_stray_point(text: str) -> bool:
    return bool(_STRAY_POINT.search(nfkc(text)))


def _iso_date(raw: str) -> tuple[str | None, float]:
    value, fit = _parse_date(raw)
    return (value.isoformat() if value else None), fit


_NORMALIZERS: dict[str, Callable[[str], tuple[Any, float]]] = {
    "text": _text,
    "date": _iso_date,
    "yen": lambda raw: _parse_amount(raw, yen=True),
    "int": lambda raw: _parse_amount(raw, yen=False),
    "percent": _parse_percent,
    "postal_code": _parse_postal_code,
    "phone": _parse_phone,
    "email": _parse_email,
    "url": _parse_url,
    "katakana": _to_katakana,
}


def normalize_value(field_type: str, raw: str) -> Normalized:
    """Normalize ``raw`` as ``field_type`` (a ``forms.schema.FieldType``).

    choice, multi_choice and bool are resolved from checkboxes and labels elsewhere: they
    raise ValueError here, as does an unknown type.
    """
    try:
        normalizer = _NORMALIZERS[field_type]
    except KeyError:
        raise ValueError(f"no normalizer for field type {field_type!r}") from None
    value, fit = normalizer(raw)
    if value is None:
        return Normalized(None, 0.0, raw)
    return Normalized(value, fit, raw)

