"""The one wrapper around pdftoppm (poppler): PDF pages rendered to images.

Pages are rendered one ``pdftoppm`` start per run of consecutive pages, into a temporary
directory as PGM (grey) or PPM (colour), which are loaded and removed at once.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from PIL import Image

from forms.errors import CorruptFile, EncryptedFile, InputError, ProgramFailed, ProgramMissing, ProgramTimeout

DEFAULT_DPI = 300
#: Seconds per rendered page (a busy A4 page at 300 dpi takes well under a second).
DEFAULT_TIMEOUT_PER_PAGE = 60.0


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


def render_pages(
    pdf: bytes | Path,
    pages: Sequence[int] | None = None,
    *,
    dpi: int = DEFAULT_DPI,
    gray: bool = True,
    timeout_per_page: float = DEFAULT_TIMEOUT_PER_PAGE,
) -> list[Image.Image]:
    """Render pages (1-based; all pages when None) of a PDF at ``dpi``.

    Returns loaded images (mode "L" when ``gray``, else "RGB") in the order of ``pages``; each
    carries ``info["dpi"]``. Raises CorruptFile / EncryptedFile for a PDF pdftoppm cannot open,
    ProgramMissing / ProgramTimeout / ProgramFailed for the program itself.
    """
    if pages is not None and any(p < 1 for p in pages):
        raise ValueError("page numbers are 1-based")
    binary = pdftoppm_binary()
    with tempfile.TemporaryDirectory(prefix="madoguchi-ppm-") as tmp:
        tmpdir = Path(tmp)
        if isinstance(pdf, bytes):
            src = tmpdir / "in.pdf"
            src.write_bytes(pdf)
        else:
            src = Path(pdf)
        wanted = sorted(set(pages)) if pages is not None else None
        runs = _runs(wanted) if wanted is not None else [(0, 0)]
        for first, last in runs:
            prefix = tmpdir / f"p{first}"
            cmd = [binary, "-r", str(int(dpi))]
            if gray:
                cmd.append("-gray")
            if first:
                cmd += ["-f", str(first), "-l", str(last)]
            cmd += [str(src), str(prefix)]
            n = last - first + 1 if first else 1
            _run(cmd, timeout=timeout_per_page * max(1, n), what=src.name)
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
            with Image.open(path) as im:
                im.load()
                image = im.convert("L" if gray else "RGB")
            image.info["dpi"] = (dpi, dpi)
            images.append(image)
    return images


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
