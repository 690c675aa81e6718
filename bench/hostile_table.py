"""Issue 24's table: every hostile input of the corpus (tests/hostile/corpus.py) run as
``madoguchi extract`` in a process of its own (address space capped at 3 GB, resident peak
judged against 1.5 GB), with its outcome, exit code, seconds and peak resident memory, and what is wrong with it if anything.

    .venv/bin/python bench/hostile_table.py [NAME ...]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile.runner import judge, run_corpus  # noqa: E402


def main(names: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        results = run_corpus(Path(tmp), names or None)
    bad = 0
    print(f"| input | expected | exit | seconds | peak MB | outcome |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, (case, out) in results.items():
        problems = judge(case, out)
        bad += bool(problems)
        said = "result" if out.code == 0 else out.line.removeprefix("madoguchi: ")[:90]
        if problems:
            said = "**" + "; ".join(problems)[:200] + "**"
        print(f"| {name!r:.60} | {case.expect} | {out.code} | {out.seconds:.1f} | {out.peak_mb:.0f} | {said} |".replace("'", "`"))
    total = sum(o.seconds for _, o in results.values())
    print(f"\n{len(results)} inputs, {bad} with a problem; {total:.0f} s of runs,"
          f" slowest {max(o.seconds for _, o in results.values()):.1f} s,"
          f" most memory {max(o.peak_mb for _, o in results.values()):.0f} MB")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
