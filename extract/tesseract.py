"""The one wrapper around Tesseract (through pytesseract).

Every call finds the binary on PATH, checks once per binary that the language data it needs is
installed, runs with a timeout, and turns Tesseract's failures into Madoguchi's errors:
``ProgramMissing`` (no tesseract, no ``jpn``/``osd`` data), ``ProgramTimeout``, ``ProgramFailed``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET  # noqa: N817 - parses our own Tesseract output only
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import pytesseract
from PIL import Image

from forms.errors import ProgramFailed, ProgramMissing, ProgramTimeout

#: Default per-page timeout in seconds (a 300 dpi A4 page takes 3-8 s on one core).
DEFAULT_TIMEOUT = 120.0
#: Page segmentation mode for pages: 6 = one uniform block. Mode 3 (automatic layout) drops whole
#: table columns of forms; with the ruled lines removed, one block reads a form row by row.
DEFAULT_PSM = 6

#: Tesseract's OpenMP threads fight over a small machine's cores: on 2 cores a page takes 3.8 s
#: with them and 1.2 s without (measured with tesseract 5.3). Pages are better read one per core.
#: Set for the child processes pytesseract starts, which inherit the environment; a value set
#: by whoever runs us is kept.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

PxBox = tuple[int, int, int, int]
_XHTML = "{http://www.w3.org/1999/xhtml}"


class OcrWord(NamedTuple):
    """One word as Tesseract reports it, in pixels of the image it was given."""

    text: str
    box: PxBox  # x0, y0, x1, y1
    conf: float  # 0..100, as Tesseract reports it
    #: (block, paragraph, line): words with the same key are on one Tesseract text line.
    line: tuple[int, int, int] = (0, 0, 0)
    #: Per character, the characters the model weighed with their scores (0..100), best
    #: first; empty when Tesseract gave none.
    choices: tuple[tuple[tuple[str, float], ...], ...] = ()
    #: Per character, Tesseract's confidence in it (0..100); empty when it gave none.
    char_confs: tuple[float, ...] = ()
    #: Per character, its pixel box; empty when Tesseract gave none.
    char_boxes: tuple[PxBox, ...] = ()


class Orientation(NamedTuple):
    #: Degrees to turn the image clockwise so that its text is upright: 0, 90, 180 or 270.
    rotate: int
    confidence: float
    script: str = ""


def tesseract_binary() -> str:
    """The tesseract executable on PATH, or ProgramMissing."""
    found = shutil.which("tesseract")
    if not found:
        raise ProgramMissing(
            "Tesseract が見つかりません (tesseract not found on PATH): "
            "apt-get install tesseract-ocr tesseract-ocr-jpn",
            program="tesseract",
        )
    return found


#: Tesseract models of one's own beside the system's (none is installed: scans are read by
#: PP-OCRv6, extract/recognize.py). Tesseract is pointed at this directory (``--tessdata-dir``)
#: for the models found in it.
MODELS_DIR_ENV = "MADOGUCHI_MODELS_DIR"


def models_dir() -> Path:
    """Where Madoguchi's own Tesseract models are: ``MADOGUCHI_MODELS_DIR``, by default
    ``share/madoguchi/tessdata`` in the virtual environment."""
    raw = os.environ.get(MODELS_DIR_ENV, "").strip()
    return Path(raw) if raw else Path(sys.prefix) / "share" / "madoguchi" / "tessdata"


def _own_model(lang: str) -> Path | None:
    """The directory holding ``lang`` when it is one of Madoguchi's own models."""
    folder = models_dir()
    return folder if "+" not in lang and (folder / f"{lang}.traineddata").is_file() else None


def _with_model_dir(lang: str, config: str) -> str:
    folder = _own_model(lang)
    return f"--tessdata-dir {shlex.quote(str(folder))} {config}".strip() if folder else config


@lru_cache(maxsize=8)
def _languages(binary: str, tessdata: str | None) -> frozenset[str]:
    try:
        proc = subprocess.run(
            [binary, "--list-langs"], capture_output=True, timeout=30, check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise ProgramTimeout("tesseract --list-langs did not answer in 30 s", program="tesseract") from exc
    except OSError as exc:
        raise ProgramMissing(f"tesseract cannot be run: {exc}", program="tesseract") from exc
    out = proc.stdout.decode("utf-8", "replace").splitlines()
    # The first line is 'List of available languages in "...":'
    return frozenset(line.strip() for line in out[1:] if line.strip())


def languages() -> frozenset[str]:
    """The language data installed for the tesseract on PATH, and Madoguchi's own models."""
    own = frozenset(p.name.removesuffix(".traineddata") for p in models_dir().glob("*.traineddata"))
    return _languages(tesseract_binary(), os.environ.get("TESSDATA_PREFIX")) | own


_PACKAGES = {
    "jpn": "tesseract-ocr-jpn", "osd": "tesseract-ocr-osd", "eng": "tesseract-ocr-eng",
}
#: How to get Madoguchi's own models when they are missing.
_OWN_MODELS = {"jpn_best": f"tessdata_best's jpn, as jpn_best.traineddata in {MODELS_DIR_ENV}"}


def require(lang: str) -> str:
    """Check that tesseract and every language in ``lang`` ("jpn+eng") are installed.

    Returns the binary's path.
    """
    binary = tesseract_binary()
    have = languages()
    for code in lang.split("+"):
        if code not in have:
            remedy = _OWN_MODELS.get(code) or f"apt-get install {_PACKAGES.get(code, f'tesseract-ocr-{code}')}"
            raise ProgramMissing(
                f"Tesseract の言語データ {code} がありません (traineddata for {code!r} is not "
                f"installed): {remedy}",
                program="tesseract",
                language=code,
            )
    return binary


@lru_cache(maxsize=4)
def _version(binary: str) -> str:
    proc = subprocess.run([binary, "--version"], capture_output=True, timeout=30, check=False)
    text = (proc.stdout or proc.stderr).decode("utf-8", "replace")
    match = re.search(r"tesseract\s+v?([\w.\-]+)", text)
    return match.group(1) if match else "unknown"


def version() -> str:
    """Tesseract's version string (e.g. "5.3.0"), part of the OCR cache key."""
    return _version(tesseract_binary())


def _for_tesseract(image: Image.Image) -> Image.Image:
    """A copy pytesseract hands over as BMP, much faster to write and read than PNG."""
    if image.mode not in ("L", "RGB", "1"):
        image = image.convert("RGB" if "A" in image.getbands() or image.mode in ("P", "CMYK") else "L")
    else:
        image = image.copy()
    image.format = "BMP"  # read by pytesseract to name the temporary file's format
    return image


def _call(func, image: Image.Image, *, lang: str, config: str, timeout: float, what: str):
    # pytesseract runs the command named in its module; name the one found on PATH just now
    pytesseract.pytesseract.tesseract_cmd = require(lang)
    try:
        return func(_for_tesseract(image), lang=lang, config=_with_model_dir(lang, config), timeout=timeout)
    except pytesseract.TesseractNotFoundError as exc:
        raise ProgramMissing("Tesseract が見つかりません (tesseract not found)", program="tesseract") from exc
    except pytesseract.TesseractError as exc:
        raise ProgramFailed(
            f"Tesseract failed {what} (exit {exc.status}): {exc.message}", program="tesseract",
        ) from exc
    except RuntimeError as exc:  # pytesseract's timeout (TesseractError is one too)
        if "timeout" in str(exc).lower():
            raise ProgramTimeout(
                f"Tesseract did not finish {what} in {timeout:.0f} s", program="tesseract",
                timeout=timeout,
            ) from exc
        raise


def ocr_words(
    image: Image.Image,
    *,
    lang: str = "jpn",
    psm: int = DEFAULT_PSM,
    timeout: float = DEFAULT_TIMEOUT,
    dpi: int | None = None,
    config: str = "",
) -> list[OcrWord]:
    """Recognize the words of an image: text, pixel box, Tesseract's confidence (0..100) and,
    for every character, the other characters the model weighed (``OcrWord.choices``).

    Read from Tesseract's hOCR with its LSTM choices (``lstm_choice_mode=2``), which costs no
    more than the plain TSV. Empty words are left out.
    """
    parts = [f"--psm {psm}", "-c lstm_choice_mode=2", "-c hocr_char_boxes=1"]
    if dpi:
        parts.append(f"--dpi {int(dpi)}")
    if config:
        parts.append(config)
    hocr = _call(
        lambda im, **kw: pytesseract.image_to_pdf_or_hocr(im, extension="hocr", **kw),
        image, lang=lang, config=" ".join(parts), timeout=timeout, what="reading the page",
    )
    return parse_hocr(hocr)


_BBOX = re.compile(r"bbox (-?\d+) (-?\d+) (-?\d+) (-?\d+)")
_WCONF = re.compile(r"x_wconf (-?[\d.]+)")
_CONFS = re.compile(r"x_confs (-?[\d.]+)")
_CONF = re.compile(r"x_conf (-?[\d.]+)")
_CHAR_BOX = re.compile(r"x_bboxes (-?\d+) (-?\d+) (-?\d+) (-?\d+)")


def _classes(el: ET.Element) -> str:
    return el.get("class", "")


def parse_hocr(hocr: bytes | str) -> list[OcrWord]:
    """Tesseract's hOCR (with char boxes and LSTM choices) as OcrWords, in reading order."""
    try:
        root = ET.fromstring(hocr if isinstance(hocr, bytes) else hocr.encode("utf-8"))
    except ET.ParseError as exc:
        raise ProgramFailed(f"Tesseract's hOCR cannot be read: {exc}", program="tesseract") from exc
    words: list[OcrWord] = []
    lines = 0
    for block_no, block in enumerate(root.iter(f"{_XHTML}div"), start=1):
        if _classes(block) != "ocr_carea":
            continue
        for par_no, par in enumerate((p for p in block.iter(f"{_XHTML}p") if _classes(p) == "ocr_par"), start=1):
            for line in par:
                if not _classes(line).startswith("ocr_") or _classes(line) == "ocrx_word":
                    continue
                lines += 1
                key = (block_no, par_no, lines)
                for word in line:
                    if _classes(word) != "ocrx_word":
                        continue
                    parsed = _hocr_word(word, key)
                    if parsed is not None:
                        words.append(parsed)
    return words


def _hocr_word(word: ET.Element, line: tuple[int, int, int]) -> OcrWord | None:
    title = word.get("title", "")
    box = _BBOX.search(title)
    conf = _WCONF.search(title)
    if box is None:
        return None
    text = ""
    choices: list[tuple[tuple[str, float], ...]] = []
    confs: list[float] = []
    boxes: list[PxBox] = []
    for char in word:
        if "x_bboxes" not in char.get("title", ""):
            # an lstm_choices span: the alternatives of the character just read
            if choices:
                alts = tuple(
                    (alt.text or "", float(m.group(1)))
                    for alt in char
                    if (m := _CONFS.search(alt.get("title", ""))) is not None and alt.text
                )
                choices[-1] = alts
            continue
        text += char.text or ""
        choices.append(())
        found = _CONF.search(char.get("title", ""))
        confs.append(float(found.group(1)) if found else 0.0)
        at = _CHAR_BOX.search(char.get("title", ""))
        boxes.append(tuple(int(v) for v in at.groups()) if at else (0, 0, 0, 0))  # type: ignore[arg-type]
    if not choices:  # a word without character spans (older Tesseract): its own text
        text = "".join(word.itertext())
    text = text.strip()
    if not text:
        return None
    x0, y0, x1, y1 = (int(v) for v in box.groups())
    return OcrWord(
        text=text,
        box=(x0, y0, x1, y1),
        conf=max(0.0, float(conf.group(1))) if conf else 0.0,
        line=line,
        choices=tuple(choices) if len(choices) == len(text) else (),
        char_confs=tuple(confs) if len(confs) == len(text) else (),
        char_boxes=tuple(boxes) if len(boxes) == len(text) else (),
    )


_OSD_RE = {
    "rotate": re.compile(r"Rotate:\s*(\d+)"),
    "confidence": re.compile(r"Orientation confidence:\s*([\d.]+)"),
    "script": re.compile(r"Script:\s*(\S+)"),
}


def osd(image: Image.Image, *, timeout: float = 60.0, dpi: int | None = None) -> Orientation | None:
    """Tesseract's orientation and script detection, or None when it cannot tell.

    OSD refuses sparse pages ("Too few characters"); that is not an error here.
    """
    config = "--psm 0" + (f" --dpi {int(dpi)}" if dpi else "")
    try:
        text = _call(pytesseract.image_to_osd, image, lang="osd", config=config, timeout=timeout,
                     what="detecting the orientation")
    except ProgramFailed:
        return None
    rotate = _OSD_RE["rotate"].search(text)
    conf = _OSD_RE["confidence"].search(text)
    script = _OSD_RE["script"].search(text)
    if not rotate:
        return None
    return Orientation(
        rotate=int(rotate.group(1)) % 360,
        confidence=float(conf.group(1)) if conf else 0.0,
        script=script.group(1) if script else "",
    )


def detect_orientation(
    image: Image.Image, *, timeout: float = 60.0, dpi: int | None = None, min_confidence: float = 1.5
) -> int:
    """Degrees (0, 90, 180, 270) to turn the image clockwise so that it is upright.

    0 when OSD cannot tell (too little text) or is not confident enough.
    """
    found = osd(image, timeout=timeout, dpi=dpi)
    if found is None or found.confidence < min_confidence:
        return 0
    return found.rotate


def run_plain(
    image_path: Path, *, lang: str = "jpn", timeout: float = DEFAULT_TIMEOUT, threads: str | None = None,
) -> float:
    """Run plain ``tesseract IMAGE out -l LANG`` (the benchmark's yardstick); returns seconds.

    ``threads``: OMP_THREAD_LIMIT for this run; None runs it as a user's shell would, with
    OpenMP's own default (all cores).
    """
    binary = require(lang)
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    if threads is not None:
        env["OMP_THREAD_LIMIT"] = threads
    with tempfile.TemporaryDirectory(prefix="madoguchi-tess-") as tmp:
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                [binary, str(image_path), str(Path(tmp) / "out"), "-l", lang, *shlex.split(_with_model_dir(lang, ""))],
                capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL, env=env,
            )
        except subprocess.TimeoutExpired as exc:
            raise ProgramTimeout(f"tesseract did not finish in {timeout:.0f} s", program="tesseract") from exc
        elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise ProgramFailed(
            f"tesseract failed (exit {proc.returncode}): "
            f"{proc.stderr.decode('utf-8', 'replace').strip()[-200:]}",
            program="tesseract",
        )
    return elapsed
