"""The one wrapper around pdftoppm (poppler): PDF pages rendered to images.

Pages are rendered one ``pdftoppm`` start per run of consecutive pages, into a temporary
directory as PGM (grey) or PPM (colour), which are loaded and removed at once.

What a page costs is decided before it is rendered: its size is read from its MediaBox (what
pdftoppm renders), a page past any paper size is refused, and the resolution is lowered so the
image holds at most ``max_pixels``; pdftoppm is also told to crop its output to that size, so a
page whose box poppler reads otherwise still cannot grow. The image it wrote is judged by its
header (a page poppler could not allocate comes out 1×1) before its pixels are loaded.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from extract.ingest import MAX_PAGE_PIXELS
from forms.errors import (
    CorruptFile,
    EncryptedFile,
    InputError,
    PageTooLarge,
    TooComplex,
    ProgramFailed,
    ProgramMissing,
    ProgramTimeout,
)

DEFAULT_DPI = 300
#: Seconds per rendered page (a busy A4 page at 300 dpi takes well under a second).
DEFAULT_TIMEOUT_PER_PAGE = 30.0
#: Pixels an image drawn on a page may declare: an A4 scan at 1200 dpi holds 140 million; an
#: image declaring more is a pixel bomb, and its page is refused before it is rendered.
MAX_DECLARED_IMAGE_PIXELS = 300_000_000
#: The largest page rendered, points on its longer side: A0's (1189 mm); past it, no form.
MAX_PAGE_SIDE_PT = 3370.0
#: The smallest page rendered, points on its shorter side (a quarter of an inch).
MIN_PAGE_SIDE_PT = 18.0
#: A rendered page smaller than this on a side was not rendered (poppler writes 1×1 then).
MIN_RENDERED_SIDE_PX = 16
#: The resolution of the look for ink (:func:`blank_pages`): text and lines stay dark there.
INK_DPI = 36


def pdftoppm_binary() -> str:
    found = shutil.which("pdftoppm")
    if not found:
        raise ProgramMissing(
            "pdftoppm が見つかりません (pdftoppm not found on PATH): apt-get install poppler-utils",
            program="pdftoppm",
        )
    return found


def _runs(pages: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive runs of page numbers: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for page in pages:
        if runs and page == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], page)
        else:
            runs.append((page, page))
    return runs


def page_sizes(pdf: bytes | Path, pages: Iterable[int] | None = None) -> dict[int, tuple[float, float]]:
    """Each page's MediaBox (what pdftoppm renders), points, by page number; empty when pypdf
    cannot read the file (pdftoppm's crop then still bounds the image). A page drawing an
    image that declares more than :data:`MAX_DECLARED_IMAGE_PIXELS` is refused here. Only the
    ``pages`` asked for (1-based) are looked at, all when None."""
    from pypdf import PdfReader

    data = pdf if isinstance(pdf, bytes) else Path(pdf).read_bytes()
    sizes: dict[int, tuple[float, float]] = {}
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            reader.decrypt("")
        count = len(reader.pages)
        for number in sorted(set(pages)) if pages is not None else range(1, count + 1):
            if not 1 <= number <= count:
                continue
            page = reader.pages[number - 1]
            box = page.mediabox
            sizes[number] = (abs(float(box.width)), abs(float(box.height)))
            largest = _largest_image(page)
            if largest > MAX_DECLARED_IMAGE_PIXELS:
                raise TooComplex(
                    f"画像の画素数が多すぎます / page {number} draws an image of {largest / 1e6:.0f} megapixels,"
                    f" more than any scan ({MAX_DECLARED_IMAGE_PIXELS // 1_000_000})",
                    page=number,
                )
    except TooComplex:
        raise
    except Exception:  # noqa: BLE001 - a file pypdf cannot read: pdftoppm judges it
        return {}
    return sizes


def _largest_image(page: object) -> int:
    """Pixels of the largest image XObject a page's resources declare (form XObjects' too,
    a few levels down)."""
    largest = 0
    seen: set[int] = set()

    def walk(resources: object, depth: int) -> None:
        nonlocal largest
        resources = resources.get_object() if hasattr(resources, "get_object") else resources
        xobjects = resources.get("/XObject") if hasattr(resources, "get") else None
        xobjects = xobjects.get_object() if hasattr(xobjects, "get_object") else xobjects
        if not hasattr(xobjects, "values") or depth > 4:
            return
        for ref in list(xobjects.values())[:500]:
            obj = ref.get_object() if hasattr(ref, "get_object") else ref
            if id(obj) in seen or not hasattr(obj, "get"):
                continue
            seen.add(id(obj))
            if obj.get("/Subtype") == "/Image":
                try:
                    largest = max(largest, int(obj.get("/Width", 0)) * int(obj.get("/Height", 0)))
                except (TypeError, ValueError):
                    continue
            elif obj.get("/Subtype") == "/Form" and obj.get("/Resources") is not None:
                walk(obj["/Resources"], depth + 1)

    try:
        resources = page.get("/Resources")  # type: ignore[attr-defined]
        if resources is not None:
            walk(resources, 0)
    except Exception:  # noqa: BLE001 - broken resources: pdftoppm's time limit still holds
        return largest
    return largest


def page_dpi(size: tuple[float, float] | None, dpi: int, max_pixels: int = MAX_PAGE_PIXELS, *, page: int = 0) -> int:
    """The resolution a page of ``size`` (points) is rendered at: ``dpi``, lowered so that the
    image holds at most ``max_pixels``. A page past A0 or narrower than a quarter of an inch
    (or of no size at all) is refused."""
    if size is None:
        return dpi
    width, height = size
    label = f"page {page}: " if page else ""
    if not (math.isfinite(width) and math.isfinite(height)) or max(width, height) > MAX_PAGE_SIDE_PT:
        raise PageTooLarge(
            f"ページが大きすぎます / {label}the page is {width:.0f} × {height:.0f} pt, larger than any"
            f" paper (at most {MAX_PAGE_SIDE_PT:.0f} pt a side)",
            page=page,
        )
    if min(width, height) < MIN_PAGE_SIDE_PT:
        raise PageTooLarge(
            f"ページが小さすぎます / {label}the page is {width:.1f} × {height:.1f} pt, too small to hold"
            f" a form (at least {MIN_PAGE_SIDE_PT:.0f} pt a side)",
            page=page,
        )
    most = math.sqrt(max_pixels / (width * height)) * 72.0
    return max(1, min(int(dpi), int(most)))


def render_pages(
    pdf: bytes | Path,
    pages: Sequence[int] | None = None,
    *,
    dpi: int = DEFAULT_DPI,
    gray: bool = True,
    timeout_per_page: float = DEFAULT_TIMEOUT_PER_PAGE,
    max_pixels: int = MAX_PAGE_PIXELS,
    timeout: float | None = None,
) -> list[Image.Image]:
    """Render pages (1-based; all pages when None) of a PDF at ``dpi``, lowered for a page
    that would hold more than ``max_pixels`` (:func:`page_dpi`).

    Returns loaded images (mode "L" when ``gray``, else "RGB") in the order of ``pages``; each
    carries ``info["dpi"]``, the resolution it was rendered at. ``timeout``: seconds for the
    whole call at most (a document's budget), whatever the pages' share. Raises CorruptFile /
    EncryptedFile for a PDF pdftoppm cannot open, PageTooLarge for a page past any paper,
    ProgramMissing / ProgramTimeout / ProgramFailed for the program itself.
    """
    if pages is not None and any(p < 1 for p in pages):
        raise ValueError("page numbers are 1-based")
    binary = pdftoppm_binary()
    sizes = page_sizes(pdf, pages)
    with tempfile.TemporaryDirectory(prefix="madoguchi-ppm-") as tmp:
        tmpdir = Path(tmp)
        if isinstance(pdf, bytes):
            src = tmpdir / "in.pdf"
            src.write_bytes(pdf)
        else:
            src = Path(pdf)
        wanted = sorted(set(pages)) if pages is not None else (sorted(sizes) or None)
        dpis = {p: page_dpi(sizes.get(p), dpi, max_pixels, page=p) for p in wanted or ()}
        runs = _runs_by(wanted, dpis) if wanted is not None else [(0, 0, dpi)]
        for first, last, run_dpi in runs:
            prefix = tmpdir / f"p{first}"
            # the crop bounds the image whatever size poppler finds the page
            side = _crop_side([sizes.get(p) for p in range(first, last + 1)] if first else [None], run_dpi, max_pixels)
            cmd = [binary, "-r", str(int(run_dpi)), "-x", "0", "-y", "0", "-W", str(side), "-H", str(side)]
            if gray:
                cmd.append("-gray")
            if first:
                cmd += ["-f", str(first), "-l", str(last)]
            cmd += [str(src), str(prefix)]
            n = last - first + 1 if first else 1
            limit = timeout_per_page * max(1, n)
            _run(cmd, timeout=min(limit, timeout) if timeout else limit, what=src.name)
        rendered: dict[int, Path] = {}
        for path in tmpdir.iterdir():
            if path.suffix in (".pgm", ".ppm"):
                # pdftoppm names the files PREFIX-N.pgm, N zero-padded to the page count's width.
                rendered[int(path.stem.rsplit("-", 1)[1])] = path
        order = list(pages) if pages is not None else sorted(rendered)
        images: list[Image.Image] = []
        for page in order:
            path = rendered.get(page)
            if path is None:
                raise InputError(f"{src.name}: page {page} does not exist", page=page)
            images.append(_load_rendered(path, page, gray, max_pixels, dpis.get(page, dpi)))
    return images


def _load_rendered(path: Path, page: int, gray: bool, max_pixels: int, dpi: int) -> Image.Image:
    """A page pdftoppm wrote, judged by its header before its pixels are loaded."""
    try:
        with Image.open(path) as im:
            width, height = im.size
            if min(width, height) < MIN_RENDERED_SIDE_PX:
                raise CorruptFile(
                    f"ページを画像にできません / page {page} cannot be rendered (poppler gave {width}×{height} pixels)",
                    page=page,
                )
            if width * height > 4 * max_pixels:
                raise PageTooLarge(f"ページが大きすぎます / page {page} renders to {width}×{height} pixels", page=page)
            im.load()
            image = im.convert("L" if gray else "RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise CorruptFile(f"ページを画像にできません / page {page} cannot be rendered ({type(exc).__name__})") from None
    image.info["dpi"] = (dpi, dpi)
    return image


def blank_pages(
    pdf: bytes | Path, pages: Sequence[int], *, timeout: float = DEFAULT_TIMEOUT_PER_PAGE
) -> set[int]:
    """The ``pages`` that hold no ink, all of them rendered at once at :data:`INK_DPI` (a
    hundred pages in a fraction of a second): they need no OCR. A page that cannot be judged
    so (past the size limits, not rendered) is not called blank."""
    from extract.prepare import is_blank

    if not pages:
        return set()
    sizes = page_sizes(pdf, pages)
    wanted = sorted(p for p in set(pages) if _renderable(sizes.get(p)))
    if not wanted:
        return set()
    with tempfile.TemporaryDirectory(prefix="madoguchi-ink-") as tmp:
        tmpdir = Path(tmp)
        src = tmpdir / "in.pdf" if isinstance(pdf, bytes) else Path(pdf)
        if isinstance(pdf, bytes):
            src.write_bytes(pdf)
        binary = pdftoppm_binary()
        side = str(int(MAX_PAGE_SIDE_PT / 72 * INK_DPI) + 1)
        for first, last in _runs(wanted):
            cmd = [binary, "-r", str(INK_DPI), "-gray", "-x", "0", "-y", "0", "-W", side, "-H", side]
            cmd += ["-f", str(first), "-l", str(last), str(src), str(tmpdir / f"i{first}")]
            try:
                _run(cmd, timeout=timeout, what=src.name)
            except InputError:
                return set()  # the full rendering will say what is wrong
        blank: set[int] = set()
        for path in tmpdir.iterdir():
            if path.suffix != ".pgm":
                continue
            number = int(path.stem.rsplit("-", 1)[1])
            try:
                with Image.open(path) as im:
                    if min(im.size) < 2:
                        continue
                    grey = np.asarray(im.convert("L"))
            except (OSError, ValueError, SyntaxError):
                continue
            if is_blank(grey, INK_DPI):
                blank.add(number)
    return blank


def _crop_side(sizes: Sequence[tuple[float, float] | None], dpi: int, max_pixels: int) -> int:
    """The crop (pixels, both ways) that holds these pages at ``dpi``, turned or not; for a
    page of unknown size, a square of ``max_pixels`` and a half."""
    known = [s for s in sizes if s is not None]
    if len(known) < len(sizes) or not known:
        return int(math.sqrt(1.5 * max_pixels))
    return max(MIN_RENDERED_SIDE_PX, max(math.ceil(max(s) * dpi / 72.0) + 2 for s in known))


def _renderable(size: tuple[float, float] | None) -> bool:
    if size is None:
        return False
    try:
        page_dpi(size, INK_DPI)
    except PageTooLarge:
        return False
    return True


def _runs_by(pages: Sequence[int], dpis: dict[int, int]) -> list[tuple[int, int, int]]:
    """Runs of consecutive pages rendered at the same resolution: (first, last, dpi)."""
    runs: list[tuple[int, int, int]] = []
    for page in pages:
        if runs and page == runs[-1][1] + 1 and dpis[page] == runs[-1][2]:
            runs[-1] = (runs[-1][0], page, runs[-1][2])
        else:
            runs.append((page, page, dpis[page]))
    return runs


def _run(cmd: list[str], *, timeout: float, what: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise ProgramTimeout(f"pdftoppm did not render {what} in {timeout:.0f} s", program="pdftoppm") from exc
    except OSError as exc:
        raise ProgramMissing(f"pdftoppm cannot be run: {exc}", program="pdftoppm") from exc
    if proc.returncode == 0:
        return
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    last = stderr.splitlines()[-1] if stderr else "no message"
    if proc.returncode == 3 or "password" in stderr.lower():
        raise EncryptedFile(f"{what}: the PDF is encrypted ({last})")
    if proc.returncode == 1:
        raise CorruptFile(f"{what}: the PDF cannot be opened ({last})")
    if "wrong page range" in stderr.lower():
        raise InputError(f"{what}: {last}")
    raise ProgramFailed(f"pdftoppm failed (exit {proc.returncode}): {last}", program="pdftoppm")
