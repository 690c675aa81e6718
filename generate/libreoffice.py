"""The one wrapper around LibreOffice (headless DOCX → PDF).

- Many documents are converted per LibreOffice start (batch): starting LibreOffice costs about
  a second, converting a one-page letter a few hundredths.
- Each conversion runs with a LibreOffice profile of its own, taken from a per-process pool,
  so that concurrent conversions (threads of one process, or several processes) never share a
  profile, which LibreOffice does not allow.
- Output goes first to a private staging directory inside ``outdir`` and is then moved into
  place, so concurrent conversions into the same directory never see half-written or foreign
  files.
- A timeout ends the whole LibreOffice process group (soffice starts soffice.bin as a child).
- Fonts are embedded in the PDF (LibreOffice embeds the subset of every font it uses;
  ``EmbedStandardFonts`` extends that to the 14 standard PDF fonts), so the PDF prints the
  same anywhere.
"""

from __future__ import annotations

import atexit
import math
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from forms.errors import ProgramFailed, ProgramMissing, ProgramTimeout

#: writer_pdf_Export with options in LibreOffice's JSON syntax (7.4+; older versions ignore them).
PDF_FILTER = 'pdf:writer_pdf_Export:{"EmbedStandardFonts":{"type":"boolean","value":"true"}}'

_pool_lock = threading.Lock()
#: Free profile directories of this process (keyed by pid so that a forked child makes its own).
_free_profiles: dict[int, list[Path]] = {}
_all_profiles: dict[int, list[Path]] = {}


def soffice_binary() -> str:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    raise ProgramMissing(
        "LibreOffice (soffice) が見つかりません: apt-get install libreoffice-writer-nogui",
        program="soffice",
    )


@contextmanager
def _profile() -> Iterator[Path]:
    """Borrow a LibreOffice profile directory that no other conversion is using right now."""
    pid = os.getpid()
    with _pool_lock:
        free = _free_profiles.setdefault(pid, [])
        if free:
            profile = free.pop()
        else:
            profile = Path(tempfile.mkdtemp(prefix=f"madoguchi-lo-{pid}-"))
            if not _all_profiles.get(pid):
                atexit.register(_remove_profiles, pid)
            _all_profiles.setdefault(pid, []).append(profile)
    try:
        yield profile
    finally:
        with _pool_lock:
            _free_profiles.setdefault(pid, []).append(profile)


def _remove_profiles(pid: int) -> None:
    if os.getpid() != pid:
        return
    for profile in _all_profiles.pop(pid, []):
        shutil.rmtree(profile, ignore_errors=True)
    _free_profiles.pop(pid, None)


def convert_to_pdf(
    sources: Sequence[Path], outdir: Path, *, timeout: float = 180.0, workers: int = 1
) -> list[Path]:
    """Convert documents to PDF with as few LibreOffice starts as possible.

    Returns the PDFs (``outdir/<stem>.pdf``) in source order; an existing PDF of that name is
    replaced. Sources whose stems collide (``a/x.docx``, ``b/x.docx``) are converted in
    separate starts, and the later ones are named ``x-2.pdf``, ``x-3.pdf`` … so that no output
    overwrites another. With ``workers`` > 1, a large batch is split over that many
    LibreOffice processes running at once (worth it on a machine with spare cores).
    ``timeout`` applies to each LibreOffice start.
    """
    sources = [Path(s) for s in sources]
    if not sources:
        return []
    missing_src = [str(s) for s in sources if not s.is_file()]
    if missing_src:
        raise ProgramFailed(f"no such document to convert: {', '.join(missing_src)}", outputs=missing_src)
    outdir.mkdir(parents=True, exist_ok=True)
    targets: list[Path] = []
    seen: dict[str, int] = {}
    for src in sources:
        seen[src.stem] = seen.get(src.stem, 0) + 1
        suffix = "" if seen[src.stem] == 1 else f"-{seen[src.stem]}"
        targets.append(outdir / f"{src.stem}{suffix}.pdf")
    batches: list[list[tuple[Path, Path]]] = []
    for pair in zip(sources, targets):
        for batch in batches:
            if all(src.stem != pair[0].stem for src, _ in batch):
                batch.append(pair)
                break
        else:
            batches.append([pair])
    chunks: list[list[tuple[Path, Path]]] = []
    for batch in batches:
        n = max(1, min(workers, math.ceil(len(batch) / 8)))
        size = math.ceil(len(batch) / n)
        chunks.extend(batch[i : i + size] for i in range(0, len(batch), size))
    if len(chunks) == 1 or workers <= 1:
        for chunk in chunks:
            _convert_chunk(chunk, outdir, timeout=timeout)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(_convert_chunk, c, outdir, timeout=timeout) for c in chunks]:
                future.result()
    return targets


def _convert_chunk(chunk: list[tuple[Path, Path]], outdir: Path, *, timeout: float) -> None:
    """Convert (source, target) pairs in one LibreOffice start, via a private staging directory."""
    staging = Path(tempfile.mkdtemp(prefix=".lo-", dir=outdir))
    try:
        with _profile() as profile:
            output = _run_soffice([src for src, _ in chunk], staging, profile, timeout=timeout)
        missing = [src for src, _ in chunk if not (staging / f"{src.stem}.pdf").is_file()]
        if missing:
            tail = output.strip().splitlines()
            raise ProgramFailed(
                f"LibreOffice did not convert {', '.join(p.name for p in missing)}"
                + (f": {tail[-1]}" if tail else ""),
                program="soffice",
                outputs=[str(p) for p in missing],
            )
        for src, target in chunk:
            os.replace(staging / f"{src.stem}.pdf", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _run_soffice(batch: list[Path], outdir: Path, profile: Path, *, timeout: float) -> str:
    """Run one LibreOffice start; returns what it printed (stdout and stderr)."""
    cmd = [
        soffice_binary(),
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--invisible",
        "--norestore",
        "--nolockcheck",
        "--nodefault",
        "--convert-to",
        PDF_FILTER,
        "--outdir",
        str(outdir),
        *[str(p.resolve()) for p in batch],
    ]
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill_group(proc)
        raise ProgramTimeout(
            f"LibreOffice did not finish converting {len(batch)} document(s) in {timeout:.0f} s",
            program="soffice",
        ) from exc
    except BaseException:
        _kill_group(proc)
        raise
    text = out.decode("utf-8", "replace")
    if proc.returncode != 0:
        lines = [ln for ln in text.strip().splitlines() if "javaldx" not in ln]
        raise ProgramFailed(
            f"LibreOffice failed (exit {proc.returncode}): {lines[-1] if lines else 'no message'}",
            program="soffice",
        )
    return text


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()
