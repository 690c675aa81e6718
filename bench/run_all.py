"""Runs every benchmark in bench/ one after the other (`make bench`); each prints its figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = [
    "notices_throughput.py", "ocr_benchmark.py", "zoo_benchmark.py", "load_extract.py", "multipage_scan.py",
    "hostile_table.py", "fuzz_inputs.py", "mail_figures.py",
]


def main() -> int:
    failed = 0
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        failed += subprocess.call([sys.executable, str(HERE / name)]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
