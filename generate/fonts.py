"""Japanese fonts for generated documents and PDF form appearances.

Two different needs:

- DOCX: documents name a font and the program that opens them finds it. We name ``ＭＳ 明朝``
  (what Word on Windows has); LibreOffice's replacement table maps it to IPA(ex) Mincho
  through fontconfig, so the PDFs it makes print Japanese with an embedded IPA font.
- PDF form appearances (``generate.fill``): the text drawn in a filled field must render in
  every viewer and printer without relying on the viewer's own CJK fonts (poppler without
  poppler-data cannot even decode the standard ``UniJIS-UCS2-H`` CMap). We therefore draw it
  with a subset of IPAexGothic embedded in the PDF (reportlab makes the subset).
- The fillable PDF's own field font (/DR): what a person types in a viewer (Chrome's and
  Edge's PDFium, poppler, pdf.js, Acrobat) or what another program fills (pypdf) is drawn
  with the font the form names. It is the whole IPAexGothic (``cid_font_metrics``: every
  glyph, not a subset, so anything typed renders), as a Type0 font with Identity-H encoding
  and a ToUnicode map of every character, so that viewers can encode typed text and read it
  back. It makes a blank PDF about 4 MB larger (the TrueType file, compressed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from forms.errors import ProgramMissing

#: The family a DOCX names for all its text (ascii, hAnsi and eastAsia).
DOCX_FONT = "ＭＳ 明朝"

#: Environment variable naming a TrueType font file to use for form appearances instead.
FONT_ENV = "MADOGUCHI_JA_FONT"

_CANDIDATES = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/ipa-gothic/ipag.ttf",
    "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
)

_lock = threading.Lock()


@lru_cache(maxsize=1)
def japanese_font_file() -> Path:
    """A TrueType (glyf) font file that covers Japanese, for embedding in PDFs."""
    override = os.environ.get(FONT_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise ProgramMissing(f"{FONT_ENV}={override}: no such font file", program="font")
        return path
    for candidate in _CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    found = _fc_match("IPAexGothic:lang=ja")
    if found is not None:
        return found
    raise ProgramMissing(
        "日本語フォント (IPAexGothic) が見つかりません: apt-get install fonts-ipaexfont",
        program="font",
    )


def _fc_match(pattern: str) -> Path | None:
    binary = shutil.which("fc-match")
    if binary is None:
        return None
    try:
        proc = subprocess.run(
            [binary, "-f", "%{file}", pattern],
            capture_output=True,
            timeout=10,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return None
    path = Path(proc.stdout.decode("utf-8", "replace").strip())
    if proc.returncode == 0 and path.suffix.lower() == ".ttf" and path.is_file():
        return path
    return None


def reportlab_font() -> str:
    """Register the Japanese font with reportlab (once) and return its reportlab name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = "MadoguchiJa"
    with _lock:
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(japanese_font_file())))
    return name


@dataclass(frozen=True)
class CidFontMetrics:
    """What a PDF needs to embed a whole TrueType font as a Type0 font with CID = glyph id."""

    name: str
    data: bytes
    #: Advance widths by glyph id, in 1/1000 em.
    widths: tuple[int, ...]
    #: Unicode code point by glyph id (of the characters drawn with a glyph, the lowest that is
    #: its own NFKC form: 月, not the radical ⽉).
    unicode_of: dict[int, int]
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    stem_v: int


def _is_normal(code: int) -> bool:
    import unicodedata

    return unicodedata.normalize("NFKC", chr(code)) == chr(code)


@lru_cache(maxsize=1)
def cid_font_metrics() -> CidFontMetrics:
    from reportlab.pdfbase.ttfonts import TTFontFile

    path = japanese_font_file()
    font = TTFontFile(str(path))
    scale = 1000 / font.unitsPerEm
    widths = tuple(round(advance * scale) for advance, _ in font.hmetrics)
    unicode_of: dict[int, int] = {}
    # a glyph drawn for several characters (月 and the radical ⽉) reads back as the one that
    # is its own normal form, so that typed text is encoded and extracted as typed
    for code, gid in sorted(font.charToGlyph.items(), key=lambda item: (not _is_normal(item[0]), item[0])):
        unicode_of.setdefault(gid, code)
    name = font.name.decode("ascii", "replace") if isinstance(font.name, bytes) else str(font.name)
    return CidFontMetrics(
        name=name.replace(" ", ""),
        data=path.read_bytes(),
        widths=widths,
        unicode_of=unicode_of,
        bbox=tuple(round(v) for v in font.bbox),  # type: ignore[arg-type]
        ascent=round(font.ascent),
        descent=round(font.descent),
        cap_height=round(font.capHeight),
        stem_v=round(font.stemV),
    )


def to_unicode_cmap(unicode_of: dict[int, int]) -> bytes:
    """A ToUnicode CMap for 2-byte codes (CID = glyph id) → the characters."""
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    items = sorted(unicode_of.items())
    for start in range(0, len(items), 100):
        chunk = items[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        for gid, code in chunk:
            lines.append(f"<{gid:04X}> <{chr(code).encode('utf-16-be').hex().upper()}>")
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")
