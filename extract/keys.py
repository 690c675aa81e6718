"""Text reduced for comparing labels and titles: NFKC, no spaces, OCR confusions folded,
with the offset of each character in the original kept (so a match maps back to its box)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

def _unvoiced() -> dict[str, str]:
    """Kana with a voicing mark (ブ, パ, ど) to the kana without: OCR drops and mistakes the
    marks, small at 200 dpi (ウェブサイト read as ワウェフサイト)."""
    out = {}
    for code in list(range(0x3041, 0x3097)) + list(range(0x30A1, 0x30F7)):
        ch = chr(code)
        base = unicodedata.normalize("NFD", ch)
        if len(base) == 2 and base[1] in "\u3099\u309a":
            out[ch] = base[0]
    return out


#: Characters that OCR confuses, folded to one form before labels are compared.
_OCR_FOLD = str.maketrans({"滋": "渋", "ロ": "口", "ー": "ー", "―": "ー", "‐": "-", "−": "-", **_unvoiced()})
NUMBERING = set("0123456789()（）.．、,①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳-")
#: Small kana and their large forms, which OCR confuses (ゃ/や, っ/つ).
SMALL_KANA = "ゃゅょっぁぃぅぇぉャュョッァィゥェォ"
TO_LARGE = str.maketrans(SMALL_KANA, "やゆよつあいうえおヤユヨツアイウエオ")
TO_SMALL = str.maketrans("やゆよつあいうえおヤユヨツアイウエオ", SMALL_KANA)
#: The small kana of a contracted sound (きゃ, しゅ, ちょ).
CONTRACTED_SMALL = "ゃゅょャュョ"
#: What may stand before a row's label: its numbering, and specks a scan leaves (_6 一般小売価格).
ROW_LEAD = NUMBERING | set("_|'\"`~;")
#: What Tesseract reads in a blank gap between characters, with either model: 和 (焼き上げた、
#: 和群馬; こんにゃく和生産組合; 合同会社和白井醸造; 和〒377-7406: no 和 is printed there).
PHANTOMS = frozenset("和")


def is_kana(char: str) -> bool:
    """Hiragana or katakana (with the long-vowel mark and the middle dot)."""
    return "\u3041" <= char <= "\u30ff"


_SKIP_IN_KEYS = set(" \t\u3000：:・･")


@lru_cache(maxsize=65536)
def fold(text: str) -> tuple[str, tuple[int, ...]]:
    """Text reduced for comparing labels, with the original offset of each character kept.

    Cached: the same cells and labels are folded once per row searched."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).translate(_OCR_FOLD):
            if c in _SKIP_IN_KEYS or c.isspace():
                continue
            out.append(c)
            index.append(i)
    return "".join(out), tuple(index)
