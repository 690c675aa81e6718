"""CPU time of the image work around Tesseract (prepare, rules, checkmarks, masks) per page.

Tesseract itself is replaced by a stub that returns no words (and OSD by "upright"), so what is
timed is only our own OpenCV/numpy work. Prints the best of several runs per page, in CPU
seconds of this process (``time.process_time``), so that other jobs on the machine matter less.

    python bench/prep_profile.py [--repeat N] [--profile] FILE...
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

os.environ.setdefault("MADOGUCHI_CACHE_DIR", "off")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extract import tesseract  # noqa: E402
from extract.readers import image as reader  # noqa: E402


def _frames(path: Path) -> list[tuple[object, float]]:
    data = path.read_bytes()
    if path.suffix.lower() == ".pdf":
        from pypdf import PdfReader

        from extract.pdftoppm import render_pages

        out = []
        for number in range(1, len(PdfReader(io.BytesIO(data)).pages) + 1):
            dpi = reader.render_dpi(data, number)
            (image,) = render_pages(data, [number], dpi=dpi)
            out.append((image, float(dpi)))
        return out
    kind = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}.get(path.suffix.lower(), "tiff")
    return [(f, reader.image_dpi(f)) for f in reader.open_frames(data, kind)]  # type: ignore[arg-type]


def _instrument(spent: dict[str, float]) -> None:
    """Wrap the main steps so that their CPU time adds up in ``spent`` (nested calls included)."""
    import functools

    from extract import checkmarks, prepare

    def wrap(module: object, name: str, label: str) -> None:
        func = getattr(module, name)

        @functools.wraps(func)
        def timed(*a: object, **kw: object) -> object:
            t0 = time.process_time()
            try:
                return func(*a, **kw)
            finally:
                spent[label] = spent.get(label, 0.0) + time.process_time() - t0

        setattr(module, name, timed)

    for name in ("normalize_levels", "despeckle", "estimate_skew", "to_grey"):
        wrap(prepare, name, f"prepare.{name}")
    wrap(reader, "prepare", "prepare.prepare")
    wrap(reader, "ink_mask", "image.ink_mask")
    for name in ("find_rules", "table_lines", "tighten_boxes", "_read_prepared"):
        wrap(reader, name, f"image.{name}")
    for name in ("find_checkboxes", "_find_like", "find_circles", "mask_marks", "stroke_lines"):
        wrap(checkmarks, name, f"checkmarks.{name}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--breakdown", action="store_true", help="CPU time of the main steps (inclusive)")
    args = parser.parse_args()
    spent: dict[str, float] = {}
    if args.breakdown:
        _instrument(spent)
    tesseract.ocr_words = lambda image, **kw: []  # type: ignore[assignment]
    tesseract.osd = lambda image, **kw: None  # type: ignore[assignment]
    tesseract.require = lambda lang: "tesseract"  # type: ignore[assignment]
    pages = [(path, i, im, dpi) for path in args.files for i, (im, dpi) in enumerate(_frames(path), 1)]
    prof = cProfile.Profile() if args.profile else None
    total = 0.0
    for path, i, im, dpi in pages:
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.process_time()
            if prof:
                prof.enable()
            reader.ocr_page_image(im, dpi, i, orientation="none")
            if prof:
                prof.disable()
            best = min(best, time.process_time() - t0)
        total += best
        print(f"{path.name} p{i} {dpi:.0f}dpi {im.size[0]}x{im.size[1]}: {best:.3f} s")
    print(f"{len(pages)} pages, {total / max(1, len(pages)):.3f} s/page (best of {args.repeat}, CPU)")
    for name, secs in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:32s} {secs / max(1, len(pages) * args.repeat):.3f} s/page")
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
