"""A scanned document of many pages read end to end: seconds in all and per page.

Issue 22's target: a 10-page scanned form read in under 20 s on 2 cores. The pages are the
committed scans of ``samples/scans`` (様式第1号 and certificates at 200 and 300 dpi, noise,
pen marks), taken in order until there are ``--pages`` of them, written as one multi-page TIFF
(JPEG inside, as scanners write grey pages), read with ``madoguchi extract`` as a user would,
the page cache off, after one
untimed run of a one-page file (so the engine's loading is not counted twice: it is counted
once, in the first run, and printed apart). Prints the seconds, the pages, the documents found
and the process's peak memory. Run:

    .venv/bin/python bench/multipage_scan.py [--pages 10] [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SCANS = ROOT / "samples" / "scans"
CLI = ROOT / ".venv" / "bin" / "madoguchi"


def page_images(count: int) -> list[Image.Image]:
    """The first ``count`` pages of the committed scans (TIFF and PNG; PDFs rendered at their
    scan's resolution by the reader itself are left out: a TIFF holds images only)."""
    out: list[Image.Image] = []
    for path in sorted(SCANS.iterdir()):
        if path.suffix.lower() not in (".tiff", ".tif", ".png", ".jpg"):
            continue
        with Image.open(path) as image:
            for frame in range(getattr(image, "n_frames", 1)):
                image.seek(frame)
                page = image.convert("L")
                page.info["dpi"] = image.info.get("dpi", (300, 300))
                out.append(page)
                if len(out) == count:
                    return out
    if not out:
        raise SystemExit(f"no scans in {SCANS}")
    while len(out) < count:  # fewer scans than pages asked: the same again
        out.append(out[len(out) % max(1, len(out))])
    return out


def write_tiff(pages: list[Image.Image], path: Path) -> None:
    first, rest = pages[0], pages[1:]
    dpi = first.info.get("dpi", (300, 300))
    # JPEG inside the TIFF, as scanners write grey pages (LZW would pass the 20 MB upload limit)
    first.save(path, save_all=True, append_images=rest, compression="jpeg", quality=85, dpi=dpi)


def run(path: Path) -> tuple[float, str]:
    env = dict(os.environ, MADOGUCHI_CACHE_DIR="off")
    start = time.perf_counter()
    done = subprocess.run([str(CLI), "extract", str(path)], env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"extract failed ({done.returncode}): {done.stderr.strip()[:300]}")
    return seconds, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    pages = page_images(args.pages)
    with tempfile.TemporaryDirectory() as tmp:
        one, many = Path(tmp) / "one.tiff", Path(tmp) / f"scan_{args.pages}p.tiff"
        write_tiff(pages[:1], one)
        write_tiff(pages, many)
        warm, _ = run(one)
        print(f"one page, engine loading included: {warm:.1f} s")
        times = []
        for _ in range(args.runs):
            seconds, out = run(many)
            times.append(seconds)
        documents = sum(1 for line in out.splitlines() if line.startswith("■"))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    best = min(times)
    print(f"{args.pages} scanned pages ({documents} documents found), cores {os.cpu_count()}: "
          f"best {best:.1f} s of {len(times)} runs ({best / args.pages:.2f} s a page), "
          f"all runs {', '.join(f'{t:.1f}' for t in times)} s; target under 20 s")
    print(f"peak memory of a run: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
