"""``madoguchi`` as the zoo's scorer runs it, keeping each ``extract --json`` result (and its
time) in ``$ZOO_RESULTS`` for bench/zoo_benchmark.py, which reads the review marks from them."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from web.cli import main  # noqa: E402


def run() -> int:
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(sys.argv[1:])
    elapsed = time.perf_counter() - start
    text = out.getvalue()
    sys.stdout.write(text)
    saved = os.environ.get("ZOO_RESULTS")
    files = [a for a in sys.argv[2:] if not a.startswith("-")]
    if saved and code == 0 and len(files) == 1:
        name = Path(files[0]).name
        Path(saved, f"{name}.json").write_text(text, encoding="utf-8")
        Path(saved, f"{name}.seconds").write_text(f"{elapsed:.2f}", encoding="utf-8")
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(run())
