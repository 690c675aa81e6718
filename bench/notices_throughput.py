"""Throughput of official notices (DOCX + PDF): batch conversion against one LibreOffice start per document.

    .venv/bin/python bench/notices_throughput.py [--count 100] [--single 10] [--workers 2]

Renders ``--count`` approval notices (承認書, half of them with conditions) with
``render_notices`` — every DOCX first, then one LibreOffice start for all (the default: the
batch merged into one document and the PDF split per notice; and the files converted as they
are) — and, in the same run, ``--single`` notices one ``render_notices`` call (so one
LibreOffice start) each, and prints documents per second for each. With ``--workers N`` > 1 it
also measures the files split over N LibreOffice processes. A warm-up conversion first creates this process's
LibreOffice profile, so that neither figure pays that one-off cost. Target: 100 notices in
under 20 s. The batch takes its numbers as the installation does: reserved and committed in
an SQLite counter (``SqliteNumberSequence``) only once the notices exist. Last, the size of
the fillable 様式第1号 PDF (its field font is the whole IPAexGothic) is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generate.libreoffice import convert_to_pdf
from generate.notices import render_notices
from generate.numbering import MemoryNumberSequence, SqliteNumberSequence

TARGET_SECONDS = 20.0


def make_records(n: int) -> list[dict[str, object]]:
    records = []
    for i in range(n):
        record: dict[str, object] = {
            "applicant_name": f"株式会社渋川フーズ{i + 1:03d}",
            "applicant_representative": "代表取締役　渋川　太郎",
            "product_name": f"渋川産こしひかり 5kg 第{i + 1}便",
            "application_date": "2025-04-10",
        }
        if i % 2:
            record["conditions"] = ["発送前に検品を行うこと。", "欠品の際は速やかに報告すること。"]
        records.append(record)
    return records


def run(count: int, single: int, workers: int) -> int:
    issue = date(2025, 5, 1)
    with tempfile.TemporaryDirectory(prefix="madoguchi-bench-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        [warm] = render_notices(
            "approval", "shibukawa", make_records(1), root / "warmup", formats=("docx",), issue_date=issue
        )
        convert_to_pdf([warm.paths["docx"]], root / "warmup")
        cold = time.perf_counter() - t0

        rows: list[tuple[str, int, float]] = []
        numbers = MemoryNumberSequence()

        t0 = time.perf_counter()
        batch = render_notices(
            "approval", "shibukawa", make_records(count), root / "batch",
            numbers=SqliteNumberSequence(root / "numbers"), issue_date=issue,
        )  # fmt: skip
        rows.append(("batch merged into 1 document, 1 start", len(batch), time.perf_counter() - t0))
        assert all(n.pdf and n.pdf.stat().st_size > 0 for n in batch)

        t0 = time.perf_counter()
        files = render_notices(
            "approval", "shibukawa", make_records(count), root / "files", numbers=numbers, issue_date=issue,
            merge=False,
        )  # fmt: skip
        rows.append(("batch of files, 1 start", len(files), time.perf_counter() - t0))

        if workers > 1:
            t0 = time.perf_counter()
            par = render_notices(
                "approval", "shibukawa", make_records(count), root / "parallel", numbers=numbers,
                issue_date=issue, merge=False, pdf_workers=workers,
            )  # fmt: skip
            rows.append((f"batch of files, {workers} starts in parallel", len(par), time.perf_counter() - t0))

        t0 = time.perf_counter()
        done = 0
        for i, record in enumerate(make_records(single)):
            render_notices(
                "approval", "shibukawa", [record], root / "single" / str(i), numbers=numbers, issue_date=issue
            )
            done += 1
        rows.append(("one LibreOffice start per document", done, time.perf_counter() - t0))

    print(
        f"Notices (DOCX + PDF), Shibukawa 承認書; {os.cpu_count()} CPUs; load average "
        f"{os.getloadavg()[0]:.2f}; first LibreOffice start with a new profile: {cold:.2f} s"
    )
    print(f"{'mode':40} {'docs':>5} {'seconds':>8} {'docs/s':>7} {'100 docs':>9}")
    for mode, n, seconds in rows:
        rate = n / seconds
        print(f"{mode:40} {n:5d} {seconds:8.2f} {rate:7.2f} {100 / rate:8.1f}s")
    batch_rate = rows[0][1] / rows[0][2]
    single_rate = rows[-1][1] / rows[-1][2]
    print(f"batch is {batch_rate / single_rate:.1f}x faster than one start per document")
    hundred = 100 / batch_rate
    verdict = "meets" if hundred < TARGET_SECONDS else "MISSES"
    print(
        f"100 notices in {hundred:.1f} s with batch conversion: {verdict} the target of {TARGET_SECONDS:.0f} s"
    )
    from forms.catalogue import get_form
    from generate.blank_forms import blank_pdf
    from generate.fonts import japanese_font_file

    size = len(blank_pdf(get_form("shibukawa.form1")))
    print(
        f"fillable 様式第1号 PDF: {size / 1e6:.2f} MB (whole field font {japanese_font_file().name}, "
        f"{japanese_font_file().stat().st_size / 1e6:.2f} MB uncompressed)"
    )
    return 0 if hundred < TARGET_SECONDS else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="notices in the batch")
    parser.add_argument("--single", type=int, default=10, help="notices converted one start each")
    parser.add_argument("--workers", type=int, default=1, help="also measure N parallel LibreOffice starts")
    args = parser.parse_args()
    return run(args.count, args.single, args.workers)


if __name__ == "__main__":
    sys.exit(main())
