"""Japanese fonts for generated documents and PDF form appearances.

Two different needs:

- DOCX: documents name a font and the program that opens them finds it. We name ``ＭＳ 明朝``
  (what Word on Windows has); LibreOffice's replacement table maps it to IPA(ex) Mincho
  through fontconfig, so the PDFs it makes print Japanese with an embedded IPA font.
- PDF form appearances (``generate.fill``): the text drawn in a filled field must render in
  every viewer and printer without relying on the viewer's own CJK fonts (poppler without
  poppler-data cannot even decode the standard ``UniJIS-UCS2-H`` CMap). We therefore draw it
  with a subset of IPAexGothic embedded in the PDF (reportlab makes the subset).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
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
