"""Runs ``madoguchi extract`` on each hostile input in a process of its own, with limits, and
judges what came out (see :func:`judge`).

The child's address space is capped at :data:`ADDRESS_SPACE_MB` (3 GB), its resident peak
(what the issue's 1.5 GB is about) measured by wait4 and judged: ONNX Runtime's arenas and
MeCab's mapped dictionary reserve much more address space than they use, and under a 1.5 GB
address-space cap they failed now and then (std::bad_alloc, a dictionary "not found") on
pages whose resident peak was 0.7 GB.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.hostile.corpus import CASES, SECRET, Case, build_all

REPO = Path(__file__).resolve().parents[2]
#: The issue's bounds for any input: seconds, resident memory.
MAX_SECONDS = 60.0
MAX_MEMORY_MB = 1536
#: The child's address space at most (RLIMIT_AS): a runaway stops here, far from the machine's.
ADDRESS_SPACE_MB = 3072


@dataclass
class Outcome:
    name: str
    code: int
    seconds: float
    peak_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def line(self) -> str:
        return self.stderr.strip().splitlines()[0] if self.stderr.strip() else ""


def _limits(memory_mb: int, cpu_seconds: int) -> None:
    """In the child: its address space and CPU time capped, no core file."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_cli(
    path: Path, env: dict[str, str], *, timeout: float = MAX_SECONDS + 15, memory_mb: int = ADDRESS_SPACE_MB,
    args: Iterable[str] = ("--json",),
) -> Outcome:
    """One run of ``madoguchi extract PATH``: its exit code, wall time and peak resident
    memory (the child's own, from wait4), stdout and stderr."""
    cmd = [sys.executable, "-m", "web.cli", "extract", str(path), *args]
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=REPO, env=env,
        preexec_fn=lambda: _limits(memory_mb, int(timeout) + 10),  # noqa: PLW1509 - no threads in the child yet
    )
    chunks: dict[str, bytes] = {}

    def drain(key: str, stream: object) -> None:
        chunks[key] = stream.read()  # type: ignore[attr-defined]

    readers = [threading.Thread(target=drain, args=(k, s)) for k, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > timeout:
            timed_out = True
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    seconds = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    return Outcome(
        name=Path(path).name,
        code=proc.returncode,
        seconds=seconds,
        peak_mb=usage.ru_maxrss / 1024,
        stdout=chunks.get("out", b"").decode("utf-8", "replace"),
        stderr=chunks.get("err", b"").decode("utf-8", "replace"),
        timed_out=timed_out,
    )


def child_env(root: Path, case: Case) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "MADOGUCHI_CACHE_DIR": "off",  # the real work, every time
        "MADOGUCHI_OCR_WORKERS": "1",  # two inputs run at once on two cores
        "PYTHONPATH": str(REPO),
        "PYTHONIOENCODING": "utf-8",
    })
    env.update({k: v.format(root=root / "inputs") for k, v in case.env.items()})
    return env


def judge(case: Case, out: Outcome) -> list[str]:
    """What is wrong with a run, if anything: the contract of issue 24."""
    problems: list[str] = []
    limit = case.seconds or MAX_SECONDS
    if out.timed_out:
        problems.append(f"killed after {out.seconds:.0f} s")
    elif out.seconds > limit:
        problems.append(f"{out.seconds:.1f} s, over {limit:.0f} s")
    if out.peak_mb > MAX_MEMORY_MB:
        problems.append(f"peak {out.peak_mb:.0f} MB, over {MAX_MEMORY_MB} MB")
    if SECRET in out.stdout or SECRET in out.stderr:
        problems.append("the secret outside the input is in the output")
    if out.code == 0:
        if out.stderr.strip():
            problems.append(f"exit 0 with stderr: {out.stderr.strip()[:300]!r}")
        try:
            result = json.loads(out.stdout)
            docs = result["documents"]
            if not docs or not all(isinstance(d.get("file"), str) and d["file"] for d in docs):
                problems.append("exit 0 without a document named in the result")
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"exit 0 without a JSON result ({type(exc).__name__})")
        if case.expect == "refused":
            problems.append("read, where it should be refused")
    elif out.code in (2, 3, 4):
        lines = out.stderr.splitlines()
        if len(lines) != 1 or not lines[0].startswith("madoguchi: ") or "Traceback" in out.stderr:
            problems.append(f"exit {out.code} without one line on stderr: {out.stderr.strip()[-400:]!r}")
        if case.expect == "ok":
            problems.append(f"refused, where it should be read: {out.line[:200]}")
    else:
        problems.append(f"exit {out.code}: {out.stderr.strip()[-400:]!r}")
    return problems


def run_corpus(root: Path, names: Iterable[str] | None = None, workers: int = 2) -> dict[str, tuple[Case, Outcome]]:
    """Build the corpus under ``root`` and run every case (or those ``names``), ``workers``
    at a time."""
    built, _ = build_all(root)
    wanted = [c for c in CASES if names is None or c.name in set(names)]

    def one(case: Case) -> tuple[Case, Outcome]:
        return case, run_cli(built[case.name], child_env(root, case))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return {case.name: (case, out) for case, out in pool.map(one, wanted)}
