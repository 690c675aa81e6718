"""OCR benchmark: field accuracy on scans, seconds per page and memory, for each OCR engine.

Three configurations are measured in one run, each in a process of its own (so that its peak
memory is its own): ``tesseract`` (MADOGUCHI_OCR_ENGINE=tesseract), ``rapidocr`` (the default
engine alone) and ``combination`` (rapidocr, with the values it reads unsure or not as their
type read again by Tesseract: MADOGUCHI_OCR_SECOND_OPINION=on). Each reads, cache off:

- the project's scans: every sample of ``samples/scans/build`` (made by
  ``samples/scans/generate.py``; ``--generate`` makes them first), the whole extraction
  (``extract.pipeline.extract_files``) compared with the sample's truth: field exact match
  overall, per field type, checkbox fields apart, per box; for 様式第1号 by scan quality;
  certificates whose name, date and no-arrears status / origin are all right; review marks
  (the share of wrong values marked 要確認, and of right values marked);
- zoo scans (``--zoo DIR``, made by ``../shared/zoo/make_zoo.py DIR --media scan``): the
  scanned cases scored as ``../shared/zoo/score.py`` scores them, by resolution, and the tax
  certificates whose name, date and arrears status are all right;
- seconds per page, timed started (one untimed extraction first loads the libraries and the
  engine), against plain engines on the same pages in the same process: plain ``tesseract
  PAGE out -l jpn`` (OMP_THREAD_LIMIT=1, as ours runs it) and plain full-page ``rapidocr``
  (its defaults: detection limit_type min 736, angle classifier on; one ONNX Runtime thread);
- peak memory (the process's maximum resident set).

Text compares after NFKC with all white space removed (an OCR'd space is not an error);
lists compare as sets. Run:

    .venv/bin/python bench/ocr_benchmark.py [--generate] [--samples DIR] [--zoo DIR ...]
        [--configs tesseract,rapidocr,combination] [--limit N] [--no-plain] [-v]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
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
ZOO = ROOT.parent / "shared" / "zoo"
KEY_FIELDS = {
    "tax_certificate": ("taxpayer_name", "issue_date", "no_arrears"),
    "origin_certificate": ("product_name", "issue_date", "origin"),
}
CONFIGS = {
    "tesseract": {"MADOGUCHI_OCR_ENGINE": "tesseract", "MADOGUCHI_OCR_SECOND_OPINION": "off"},
    "rapidocr": {"MADOGUCHI_OCR_ENGINE": "rapidocr", "MADOGUCHI_OCR_SECOND_OPINION": "off"},
    "combination": {"MADOGUCHI_OCR_ENGINE": "rapidocr", "MADOGUCHI_OCR_SECOND_OPINION": "on"},
}
#: Pages are read one at a time, as the plain engines are, so that seconds per page compare like
#: for like (``--workers`` to read them as the service does).
WORKERS = "1"


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


def _zoo_score() -> Any:
    """../shared/zoo/score.py, for its comparison (``same``) and its cases (``load_cases``)."""
    spec = importlib.util.spec_from_file_location("zoo_score", ZOO / "score.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _images(path: Path) -> list[tuple[Any, float]]:
    """The page images of a scan file and their resolutions, as the extraction reads them."""
    from extract.readers.image import image_dpi, open_frames, render_dpi

    data = path.read_bytes()
    if path.suffix.lower() == ".pdf":
        from pypdf import PdfReader

        from extract.pdftoppm import render_pages

        import io

        out = []
        for n in range(1, len(PdfReader(io.BytesIO(data)).pages) + 1):
            dpi = render_dpi(data, n)
            (image,) = render_pages(data, [n], dpi=dpi)
            out.append((image, float(dpi)))
        return out
    kind = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff"}[path.suffix.lower()]
    return [(frame, image_dpi(frame)) for frame in open_frames(data, kind)]  # type: ignore[arg-type]


class Plain:
    """Plain engines timed on the same pages: ``tesseract PAGE out -l jpn`` with one thread,
    and full-page ``rapidocr`` with its defaults and one ONNX Runtime thread."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.seconds = 0.0
        self._rapid: Any = None

    def time(self, path: Path) -> None:
        from extract import tesseract

        with tempfile.TemporaryDirectory(prefix="madoguchi-bench-") as tmp:
            for n, (image, dpi) in enumerate(_images(path), start=1):
                if self.engine == "tesseract":
                    png = Path(tmp) / f"page-{n}.png"
                    image.save(png, dpi=(dpi, dpi))
                    self.seconds += tesseract.run_plain(png, threads="1")
                else:
                    import numpy as np

                    rgb = np.asarray(image.convert("RGB"))
                    engine = self._engine()
                    start = time.perf_counter()
                    engine(rgb)
                    self.seconds += time.perf_counter() - start

    def _engine(self) -> Any:
        if self._rapid is None:
            from rapidocr import RapidOCR

            from extract.recognize import _models_dir

            models = _models_dir()
            self._rapid = RapidOCR(params={
                "Global.log_level": "error",
                "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
                "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
                "Cls.model_path": str(models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
                "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            })
        return self._rapid


def child(args: argparse.Namespace) -> int:
    """One configuration (its settings in the environment): every sample and zoo case read and
    scored; the figures printed, then one line ``RESULT {json}`` for the parent."""
    from extract.pipeline import extract_files
    from forms.catalogue import get_form
    from generate.fill import is_ticked

    samples = json.loads((args.samples / "manifest.json").read_text(encoding="utf-8"))
    if args.limit:
        samples = samples[: args.limit]
    zoo = _zoo_score()
    cases = [c for folder in args.zoo for c in zoo.load_cases(folder, "") if c.get("layout", {}).get("media") == "scan"]
    if args.limit:
        cases = cases[: args.limit]
    plain = Plain(args.child)

    by_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_group: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    boxes = [0, 0]
    review_wrong, review_right = [0, 0], [0, 0]
    missing = 0
    certs: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    zoo_groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    ours_s = 0.0
    pages_total = 0
    first = args.samples / samples[0]["file"] if samples else (cases[0]["dir"] / cases[0]["files"][0] if cases else None)
    warm_up = 0.0
    if first is not None:
        start = time.perf_counter()
        extract_files([first])
        warm_up = time.perf_counter() - start

    def run(paths: list[Path]) -> tuple[Any, float, int]:
        nonlocal ours_s, pages_total
        start = time.perf_counter()
        result = extract_files(paths)
        seconds = time.perf_counter() - start
        pages = sum(d.pages for d in result.documents) or 1
        ours_s += seconds
        pages_total += pages
        if not args.no_plain:
            for p in paths:
                plain.time(p)
        return result, seconds, pages

    for sample in samples:
        path = args.samples / sample["file"]
        form = get_form(sample["form"])
        decls = {f.key: f for f in form.fields()}
        result, seconds, pages = run([path])
        doc = next((d for d in result.documents if d.form == sample["form"]), None)
        fields = doc.fields if doc else {}
        group = sample["form"] if sample["form"] != "shibukawa.form1" else (
            "shibukawa.form1 @300dpi" if sample["variant"]["dpi"] >= 300 else "shibukawa.form1 @200dpi+skew+noise"
        )
        if sample.get("layout") == "city":
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
        print(f"  {sample['file']:<46} {pages} p {seconds:6.1f} s  {len(sample['fields']) - len(wrong)}/{len(sample['fields'])} fields", flush=True)
        if args.verbose:
            for line in wrong:
                print("      ", line)

    for case in cases:
        result, seconds, pages = run([case["dir"] / name for name in case["files"]])
        doc = next((d for d in result.documents if d.form == case["form"]), result.documents[0] if result.documents else None)
        got = {k: v.value for k, v in doc.fields.items()} if doc else {}
        dpi = case["layout"].get("scan_dpi", 0)
        kind = "form1" if case["form"] == "shibukawa.form1" else "tax"
        wrong = []
        for key, truth in case["fields"].items():
            ok = zoo.same(key, truth, got.get(key), case.get("also_accept", {}).get(key, ()))
            for name in ("zoo scans", f"zoo scans @{dpi}dpi", f"zoo {kind} @{dpi}dpi"):
                zoo_groups[name][0] += ok
                zoo_groups[name][1] += 1
            if not ok:
                wrong.append(f"{key}: {truth!r} -> {got.get(key)!r}")
        if case["form"] == "tax_certificate":
            right = all(zoo.same(k, case["fields"][k], got.get(k)) for k in KEY_FIELDS["tax_certificate"])
            certs["zoo tax_certificate"][0] += right
            certs["zoo tax_certificate"][1] += 1
        print(f"  {case['name']:<46} {pages} p {seconds:6.1f} s  {len(case['fields']) - len(wrong)}/{len(case['fields'])} fields", flush=True)
        if args.verbose:
            for line in wrong:
                print("      ", line)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = {
        "groups": dict(by_group), "types": dict(by_type), "boxes": boxes, "review_wrong": review_wrong,
        "review_right": review_right, "missing": missing, "certs": dict(certs), "zoo": dict(zoo_groups),
        "seconds": ours_s, "pages": pages_total, "plain": plain.seconds, "warm_up": warm_up, "peak_mb": peak_mb,
    }
    print("RESULT " + json.dumps(summary), flush=True)
    return 0


def pct(v: list[int]) -> str:
    return f"{100.0 * v[0] / v[1]:5.1f}% ({v[0]}/{v[1]})" if v and v[1] else "    -"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES)
    parser.add_argument("--generate", action="store_true", help="(re)make the samples first")
    parser.add_argument("--forms", type=int, default=8)
    parser.add_argument("--certs", type=int, default=6)
    parser.add_argument("--zoo", type=Path, nargs="*", default=[], help="zoo folders (their scan cases are read)")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="of: " + ", ".join(CONFIGS))
    parser.add_argument("--limit", type=int, default=0, help="only the first N samples and N zoo cases")
    parser.add_argument("--no-plain", action="store_true", help="skip timing the plain engines")
    parser.add_argument("--workers", type=int, default=int(WORKERS), help="MADOGUCHI_OCR_WORKERS for ours (default 1)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every wrong field")
    parser.add_argument("--child", choices=sorted({c["MADOGUCHI_OCR_ENGINE"] for c in CONFIGS.values()}), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    manifest = args.samples / "manifest.json"
    if args.generate or not manifest.exists():
        spec = importlib.util.spec_from_file_location("scan_samples", ROOT / "samples" / "scans" / "generate.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["scan_samples"] = module
        spec.loader.exec_module(module)
        module.main(["--out", str(args.samples), "--forms", str(args.forms), "--certs", str(args.certs)])

    results: dict[str, dict[str, Any]] = {}
    for name in args.configs.split(","):
        env = {**os.environ, **CONFIGS[name], "MADOGUCHI_CACHE_DIR": "off", "MADOGUCHI_OCR_WORKERS": str(args.workers)}
        command = [sys.executable, __file__, "--child", CONFIGS[name]["MADOGUCHI_OCR_ENGINE"], "--samples", str(args.samples)]
        command += ["--zoo", *map(str, args.zoo)] if args.zoo else []
        command += ["--limit", str(args.limit)] if args.limit else []
        command += ["--no-plain"] * args.no_plain + ["-v"] * args.verbose
        print(f"\n=== {name} ({', '.join(f'{k}={v}' for k, v in CONFIGS[name].items())})", flush=True)
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("RESULT "):
                results[name] = json.loads(line[len("RESULT "):])
            else:
                print(line, end="", flush=True)
        if proc.wait() != 0:
            print(f"{name}: the run failed (exit {proc.returncode})")

    for name, r in results.items():
        print(f"\n=== {name}: field exact match")
        for group in sorted(r["groups"]):
            print(f"  {group:<40} {pct(r['groups'][group])}")
        print("  by type")
        for kind in sorted(r["types"]):
            print(f"    {kind:<38} {pct(r['types'][kind])}")
        print(f"  boxes (each choice ticked or not)        {pct(r['boxes'])}")
        for group in sorted(r["zoo"]):
            print(f"  {group:<40} {pct(r['zoo'][group])}")
        print("  review marks (要確認)")
        print(f"    wrong values marked                    {pct(r['review_wrong'])}  (besides {r['missing']} not found)")
        print(f"    right values marked                    {pct(r['review_right'])}")
        if r["certs"]:
            print("  certificates with name, date and status/origin all right")
            for cert in sorted(r["certs"]):
                print(f"    {cert:<38} {pct(r['certs'][cert])}")

    print("\n=== Summary")
    print(f"  {'configuration':<12} {'project scans':>22} {'zoo scans':>22} {'s/page':>7} {'plain s/page':>13} {'ratio':>6} {'peak MB':>8}")
    for name, r in results.items():
        pages = r["pages"] or 1
        ratio = f"{r['seconds'] / r['plain']:.2f}" if r["plain"] else "-"
        plain = f"{r['plain'] / pages:.2f}" if r["plain"] else "-"
        print(f"  {name:<12} {pct(r['types'].get('all fields', [0, 0])):>22} {pct(r['zoo'].get('zoo scans', [0, 0])):>22}"
              f" {r['seconds'] / pages:7.2f} {plain:>13} {ratio:>6} {r['peak_mb']:8.0f}")
    print(f"  (s/page: the whole extraction, started, MADOGUCHI_OCR_WORKERS={args.workers}; plain: the"
          " configuration's engine alone on the same pages, one at a time: tesseract with one thread,"
          " rapidocr with its defaults and one ONNX Runtime thread)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
