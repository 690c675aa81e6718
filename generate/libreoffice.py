"""The one wrapper around LibreOffice (headless DOCX → PDF).

Many documents are converted per LibreOffice start (batch). Each process uses its own profile
directory, so conversions in concurrent processes do not collide; within a process a lock
serialises them (one soffice per profile at a time).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from forms.errors import ProgramFailed, ProgramMissing, ProgramTimeout

_lock = threading.Lock()
_profile_dirs: dict[int, Path] = {}


def soffice_binary() -> str:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    raise ProgramMissing(
        "LibreOffice (soffice) が見つかりません: apt-get install libreoffice-writer-nogui",
        program="soffice",
    )


def _profile_dir() -> Path:
    pid = os.getpid()
    if pid not in _profile_dirs:
        _profile_dirs[pid] = Path(tempfile.mkdtemp(prefix=f"madoguchi-lo-{pid}-"))
    return _profile_dirs[pid]


def convert_to_pdf(sources: Sequence[Path], outdir: Path, *, timeout: float = 180.0) -> list[Path]:
    """Convert documents to PDF in one LibreOffice start; returns the PDFs in source order.

    Sources whose names collide (same stem) are converted in separate starts so that no output
    overwrites another.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    batches: list[list[Path]] = []
    for src in sources:
        for batch in batches:
            if all(p.stem != src.stem for p in batch):
                batch.append(src)
                break
        else:
            batches.append([src])
    for batch in batches:
        _run_batch(batch, outdir, timeout=timeout)
    results = [outdir / f"{src.stem}.pdf" for src in sources]
    missing = [str(p) for p, src in zip(results, sources) if not p.exists()]
    if missing:
        raise ProgramFailed(f"LibreOffice did not produce {', '.join(missing)}", outputs=missing)
    return results


def _run_batch(batch: list[Path], outdir: Path, *, timeout: float) -> None:
    binary = soffice_binary()
    with _lock:
        profile = _profile_dir()
        cmd = [
            binary,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "pdf:writer_pdf_Export",
            "--outdir",
            str(outdir),
            *[str(p) for p in batch],
        ]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired as exc:
            raise ProgramTimeout(
                f"LibreOffice did not finish converting {len(batch)} document(s) in {timeout:.0f} s",
                program="soffice",
            ) from exc
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ProgramFailed(
            f"LibreOffice failed (exit {proc.returncode}): {stderr[-1] if stderr else 'no message'}",
            program="soffice",
        )
