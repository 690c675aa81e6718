"""OCR benchmark: field accuracy on generated scans, and time against plain Tesseract.

For every sample of ``samples/scans`` (made by ``samples/scans/generate.py``; ``--generate``
makes them first) the whole extraction (``extract.pipeline.extract_files``, cache off) is run
and timed, and in the same run, on the same pages, plain ``tesseract PAGE out -l jpn`` is timed
(pages of an image-only PDF rendered at 300 dpi beforehand, untimed). Printed:

- field exact-match accuracy: overall, per field type, checkbox fields apart, and per box;
  for 様式第1号 by scan quality (300 dpi / 200 dpi with skew and noise);
- certificates: samples whose name, date and no-arrears status / origin are all right;
- review marks: the share of wrong values marked 要確認 (the rest are silent errors a clerk
  would have to catch alone), and of right values marked (work the marks cost the clerk);
- seconds per page, ours and plain Tesseract's, and their ratio. Ours is timed started, as the
  service runs: one untimed extraction of the first sample loads libraries and models first.
  Plain Tesseract is timed twice: as a shell runs it (OpenMP on every core) and with
  OMP_THREAD_LIMIT=1, the setting ours uses; the second ratio is the like-for-like one.

Text compares after NFKC with all white space removed (an OCR'd space is not an error);
lists compare as sets. Run:

    .venv/bin/python bench/ocr_benchmark.py [--generate] [--samples DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MADOGUCHI_CACHE_DIR", "off")  # every run really reads

DEFAULT_SAMPLES = ROOT / "samples" / "scans" / "build"
KEY_FIELDS = {
    "tax_certificate": ("taxpayer_name", "issue_date", "no_arrears"),
    "origin_certificate": ("product_name", "issue_date", "origin"),
}


def same(truth: Any, got: Any) -> bool:
    if isinstance(truth, list):
        return isinstance(got, list) and sorted(map(str, truth)) == sorted(map(str, got))
    if isinstance(truth, str):
        if not isinstance(got, str):
            return False
        fold = lambda s: "".join(unicodedata.normalize("NFKC", s).split())  # noqa: E731
        return fold(truth) == fold(got)
    if isinstance(truth, bool) or isinstance(got, bool):
        return truth is got
    return truth == got


def plain_seconds(path: Path, threads: str | None) -> tuple[float, int]:
    """Plain ``tesseract PAGE out -l jpn`` on every page of a sample: seconds and pages.

    ``threads``: OMP_THREAD_LIMIT for the run (None: OpenMP's default, as a shell runs it).
    """
    from extract import tesseract
    from extract.pdftoppm import render_pages

    if path.suffix.lower() == ".pdf":
        with tempfile.TemporaryDirectory(prefix="madoguchi-bench-") as tmp:
            total, pages = 0.0, 0
            for n, image in enumerate(render_pages(path, None, dpi=300), start=1):
                png = Path(tmp) / f"page-{n}.png"
                image.save(png, dpi=(300, 300))
                total += tesseract.run_plain(png, threads=threads)
                pages += 1
            return total, pages
    from PIL import Image

    with Image.open(path) as im:
        pages = getattr(im, "n_frames", 1)
    return tesseract.run_plain(path, threads=threads), pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES)
    parser.add_argument("--generate", action="store_true", help="(re)make the samples first")
    parser.add_argument("--forms", type=int, default=8)
    parser.add_argument("--certs", type=int, default=6)
    parser.add_argument("--limit", type=int, default=0, help="only the first N samples")
    parser.add_argument("--no-plain", action="store_true", help="skip timing plain tesseract")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every wrong field")
    args = parser.parse_args(argv)

    manifest = args.samples / "manifest.json"
    if args.generate or not manifest.exists():
        import importlib.util

        spec = importlib.util.spec_from_file_location("scan_samples", ROOT / "samples" / "scans" / "generate.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["scan_samples"] = module
        spec.loader.exec_module(module)
        module.main(["--out", str(args.samples), "--forms", str(args.forms), "--certs", str(args.certs)])
    samples = json.loads(manifest.read_text(encoding="utf-8"))
    if args.limit:
        samples = samples[: args.limit]

    from extract.pipeline import extract_files
    from forms.catalogue import get_form
    from generate.fill import is_ticked

    by_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_group: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    boxes = [0, 0]
    # how well 要確認 (review) tells the wrong values from the right: [marked, values]
    review_wrong, review_right = [0, 0], [0, 0]
    missing = 0
    certs: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    # ours runs Tesseract with one OpenMP thread (extract/tesseract.py); plain Tesseract is timed
    # both as a shell runs it and with that same setting, so the ratio is also like for like
    ours_s = plain_s = single_s = 0.0
    pages_total = 0
    # ours is timed as the service runs, started: one untimed extraction first loads the
    # libraries, the catalogue and the models (plain Tesseract has nothing to start)
    warm_up = 0.0
    if samples:
        # with the cache off, whatever MADOGUCHI_CACHE_DIR says: the timed run of the first
        # sample must not read it back from the cache
        cache = os.environ.get("MADOGUCHI_CACHE_DIR")
        os.environ["MADOGUCHI_CACHE_DIR"] = "off"
        start = time.perf_counter()
        extract_files([args.samples / samples[0]["file"]])
        warm_up = time.perf_counter() - start
        os.environ["MADOGUCHI_CACHE_DIR"] = cache or "off"
    for sample in samples:
        path = args.samples / sample["file"]
        form = get_form(sample["form"])
        decls = {f.key: f for f in form.fields()}
        start = time.perf_counter()
        result = extract_files([path])
        ours = time.perf_counter() - start
        plain, pages = (0.0, 0) if args.no_plain else plain_seconds(path, None)
        single, _ = (0.0, 0) if args.no_plain else plain_seconds(path, "1")
        if args.no_plain:
            pages = sum(d.pages for d in result.documents) or 1
        ours_s += ours
        plain_s += plain
        single_s += single
        pages_total += pages
        doc = next((d for d in result.documents if d.form == sample["form"]), None)
        fields = doc.fields if doc else {}
        group = sample["form"] if sample["form"] != "shibukawa.form1" else (
            "shibukawa.form1 @300dpi" if sample["variant"]["dpi"] >= 300 else "shibukawa.form1 @200dpi+skew+noise"
        )
        if sample.get("layout") == "city":  # retyped in the city's own Word file (generate.py --layout city)
            group = group.replace("shibukawa.form1", "shibukawa.form1 city layout")
        wrong = []
        for key, truth in sample["fields"].items():
            decl = decls.get(key)
            got = fields[key].value if key in fields else None
            ok = same(truth, got)
            kind = "checkbox" if decl is not None and decl.choices else (decl.type if decl else "?")
            for bucket in (by_type[kind], by_group[group], by_type["all fields"]):
                bucket[0] += ok
                bucket[1] += 1
            if decl is not None and decl.choices:
                for choice in decl.choices:
                    boxes[0] += is_ticked(decl, choice, truth) == is_ticked(decl, choice, got)
                    boxes[1] += 1
            if key in fields:
                bucket = review_right if ok else review_wrong
                bucket[0] += fields[key].review
                bucket[1] += 1
            elif not ok:
                missing += 1
            if not ok:
                wrong.append(f"{key}: {truth!r} -> {got!r}" + (" (要確認)" if key in fields and fields[key].review else ""))
        if sample["form"] in KEY_FIELDS:
            right = all(same(sample["fields"][k], fields[k].value if k in fields else None) for k in KEY_FIELDS[sample["form"]])
            certs[sample["form"]][0] += right
            certs[sample["form"]][1] += 1
        ratio = f"{ours / single:.2f}x" if single else "-"
        print(f"{sample['file']:<48} {pages} p  ours {ours:6.1f} s  plain {plain:6.1f} s  "
              f"1 thread {single:6.1f} s  {ratio:>6}  "
              f"{len(sample['fields']) - len(wrong)}/{len(sample['fields'])} fields", flush=True)
        if args.verbose:
            for line in wrong:
                print("      ", line)

    def pct(v: list[int]) -> str:
        return f"{100.0 * v[0] / v[1]:5.1f}% ({v[0]}/{v[1]})" if v[1] else "    -"

    print("\nField exact match")
    for name in sorted(by_group):
        print(f"  {name:<40} {pct(by_group[name])}")
    print("  by type")
    for name in sorted(by_type):
        print(f"    {name:<38} {pct(by_type[name])}")
    print(f"  boxes (each choice ticked or not)        {pct(boxes)}")
    print("Review marks (要確認)")
    print(f"  wrong values marked                      {pct(review_wrong)}  (besides {missing} not found)")
    print(f"  right values marked                      {pct(review_right)}")
    if certs:
        print("Certificates with name, date and status/origin all right")
        for name, v in sorted(certs.items()):
            print(f"  {name:<40} {pct(v)}")
    if pages_total:
        print("Time")
        print(f"  ours  {ours_s / pages_total:6.2f} s/page  (started; the first extraction, untimed, took {warm_up:.2f} s)")
        if plain_s:
            print(f"  plain tesseract -l jpn  {plain_s / pages_total:6.2f} s/page  (OpenMP's default threads)")
            print(f"  plain, OMP_THREAD_LIMIT=1  {single_s / pages_total:6.2f} s/page  (as ours runs it)")
            print(f"  ratio ours/plain  {ours_s / plain_s:5.2f}")
            print(f"  ratio ours/plain with one thread  {ours_s / single_s:5.2f}  (like for like)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
