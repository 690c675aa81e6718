"""Layout benchmark: field accuracy on documents laid out by another generator (the zoo).

For each seed, ``../shared/zoo/make_zoo.py`` writes forms and 納税証明書 in many layouts with
their truth, and the zoo's own scorer (``score.py``) runs ``madoguchi extract --json`` on every
case and prints accuracy overall, per layout axis, per wording and per field. The extractor is
run through a shim that keeps each JSON result, so that the same run also gives what the
scorer does not print: the share of wrong values marked 要確認 (review) and the share of right
values marked (the marks' cost to the clerk), and seconds per case by medium.

Pick seeds you never tuned on for figures you report. Run:

    .venv/bin/python bench/zoo_benchmark.py [--seeds 91,92] [--cases 40] [--media docx,pdf,scan]
        [--zoo ../shared/zoo] [--jobs 2] [--verbose]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ZOO = ROOT.parent / "shared" / "zoo"
SHIM = Path(__file__).with_name("zoo_cli.py")


def _scorer(zoo: Path) -> Any:
    spec = importlib.util.spec_from_file_location("zoo_score", zoo / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _marks(out: Path, saved: Path, scorer: Any) -> tuple[list[int], list[int], dict[str, list[float]], list[str]]:
    """(wrong marked, wrong), (right marked, right), seconds by medium, and the wrong values
    that carry no mark (case, field, truth, value read, confidence)."""
    wrong, right = [0, 0], [0, 0]
    unmarked: list[str] = []
    seconds: dict[str, list[float]] = defaultdict(list)
    for truth_path in sorted(out.glob("zoo_*.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        if "files" not in truth:
            continue
        docs: list[dict[str, Any]] = []
        for name in truth["files"]:
            result = saved / f"{name}.json"
            if result.exists():
                docs += json.loads(result.read_text(encoding="utf-8")).get("documents", [])
            timing = saved / f"{name}.seconds"
            if timing.exists():
                seconds[truth["layout"]["media"]].append(float(timing.read_text()))
        doc = next((d for d in docs if d.get("form") == truth["form"]), docs[0] if docs else {})
        fields = doc.get("fields") or {}
        for key, want in truth["fields"].items():
            if want is None or key not in fields:
                continue
            got = fields[key]
            ok = scorer.same(key, want, got.get("value"), truth.get("also_accept", {}).get(key, []))
            tally = right if ok else wrong
            tally[0] += bool(got.get("review"))
            tally[1] += 1
            if not ok and not got.get("review"):
                unmarked.append(
                    f"{truth_path.stem:16} {key:26} truth={json.dumps(want, ensure_ascii=False)}"
                    f"  got={json.dumps(got.get('value'), ensure_ascii=False)}  confidence={got.get('confidence')}"
                )
    return wrong, right, seconds, unmarked


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="91,92")
    ap.add_argument("--cases", type=int, default=40)
    ap.add_argument("--media", default="docx,pdf,scan")
    ap.add_argument("--zoo", type=Path, default=DEFAULT_ZOO)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if not (args.zoo / "make_zoo.py").exists():
        print(f"zoo_benchmark: no zoo at {args.zoo} (--zoo DIR); skipped")
        return 0
    scorer = _scorer(args.zoo)
    python = sys.executable
    for seed in args.seeds.split(","):
        with tempfile.TemporaryDirectory(prefix=f"zoo-{seed}-") as tmp:
            out, saved = Path(tmp) / "zoo", Path(tmp) / "results"
            saved.mkdir()
            t0 = time.time()
            subprocess.run(
                [python, str(args.zoo / "make_zoo.py"), str(out), "--cases", str(args.cases), "--seed", seed, "--media", args.media],
                check=True, stdout=subprocess.DEVNULL,
            )
            print(f"\n## seed {seed}: {args.cases} cases ({args.media}) made in {time.time() - t0:.0f} s", flush=True)
            env = dict(os.environ, ZOO_RESULTS=str(saved), MADOGUCHI_CACHE_DIR="off")
            cmd = [python, str(args.zoo / "score.py"), str(out), "--cmd", f"{python} {SHIM}", "--jobs", str(args.jobs)]
            if args.verbose:
                cmd.append("--verbose")
            subprocess.run(cmd, check=True, env=env)
            wrong, right, seconds, unmarked = _marks(out, saved, scorer)
            print("\nreview marks (要確認):")
            print(f"  wrong values marked   {wrong[0]}/{wrong[1]}" + (f"  {100 * wrong[0] / wrong[1]:.1f}%" if wrong[1] else ""))
            if args.verbose:
                print("".join(f"    not marked: {line}\n" for line in unmarked), end="")
            print(f"  right values marked   {right[0]}/{right[1]}" + (f"  {100 * right[0] / right[1]:.1f}%" if right[1] else ""))
            for medium, values in sorted(seconds.items()):
                print(f"  seconds per {medium} file  {sum(values) / len(values):.1f} (max {max(values):.1f}, {len(values)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
