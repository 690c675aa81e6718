"""Fuzzing run (issue 24): mutations of the sample files, each run as ``madoguchi extract`` in a
process of its own with the hostile corpus's limits (tests/hostile/runner.py: 60 s,
1.5 GB resident), judged by the same contract: exit 0 with a JSON result and a quiet stderr, or
exit 2-4 with one line; anything else is a finding. Prints the count, the outcomes and the
findings (with the seed and mutation that made each); ``--keep DIR`` keeps the inputs that
made findings.

    .venv/bin/python bench/fuzz_inputs.py [--count 200] [--seed 24] [--keep DIR]

Mutations: bytes flipped, a range cut out or doubled, the file truncated, random bytes put in,
a PDF's numbers made huge or negative, a PDF's names and keywords swapped, a DOCX's XML
mutated and zipped again (so the damage gets past the ZIP layer), a PNG's chunk mutated with
its CRC made right again.
"""

from __future__ import annotations

import argparse
import io
import random
import re
import struct
import sys
import tempfile
import time
import zipfile
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.hostile.corpus import Case  # noqa: E402
from tests.hostile.runner import child_env, judge, run_cli  # noqa: E402

SEEDS = [
    *sorted((REPO / "samples" / "golden").glob("*.pdf"))[:6],
    *sorted((REPO / "samples" / "golden").glob("*.docx"))[:4],
    *sorted((REPO / "samples" / "external" / "pdf").glob("*.pdf")),
    *sorted((REPO / "samples" / "external" / "docx").glob("*.docx")),
    REPO / "samples" / "scans" / "form1_pen_p2_200dpi.jpg",
    REPO / "samples" / "scans" / "form1_pen_p1_300dpi.png",
    REPO / "samples" / "scans" / "form1_000_300dpi-glyph.tiff",
    REPO / "samples" / "scans" / "form1_001_200dpi-noisy-pen.pdf",
]


def flip(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    out = bytearray(data)
    n = rng.choice((1, 4, 16, 64))
    for _ in range(n):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out), f"{n} bits flipped"


def cut(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    a = rng.randrange(len(data))
    b = min(len(data), a + rng.choice((1, 16, 256, 4096)))
    return data[:a] + data[b:], f"bytes {a}-{b} cut"


def double(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    a = rng.randrange(len(data))
    b = min(len(data), a + rng.choice((16, 512, 8192)))
    return data[:b] + data[a:b] * rng.choice((2, 10, 100)) + data[b:], f"bytes {a}-{b} repeated"


def truncate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    at = rng.randrange(1, len(data))
    return data[:at], f"truncated at {at}"


def insert(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    at = rng.randrange(len(data))
    junk = bytes(rng.randrange(256) for _ in range(rng.choice((1, 8, 128))))
    return data[:at] + junk + data[at:], f"{len(junk)} random bytes at {at}"


_NUMBER = re.compile(rb"(?<![A-Za-z#/])-?\d+(?:\.\d+)?")
_TOKENS = [b"/Kids", b"/Parent", b"/Count", b"/MediaBox", b"/Length", b"/Filter", b"/Contents", b"/Resources",
           b"/Annots", b"/Rect", b"obj", b"endobj", b"stream", b"R", b"/Font", b"/XObject", b"/Width", b"/Height"]
_HUGE = [b"0", b"-1", b"99999999", b"2147483648", b"1e308", b"-0.0", b"4294967296", b"65535"]


def pdf_numbers(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    spots = list(_NUMBER.finditer(data[: 1 << 20]))
    if not spots:
        return flip(data, rng)
    chosen = rng.sample(spots, min(len(spots), rng.choice((1, 4, 20))))
    out = bytearray(data)
    for m in sorted(chosen, key=lambda m: -m.start()):
        out[m.start() : m.end()] = rng.choice(_HUGE)
    return bytes(out), f"{len(chosen)} numbers made odd"


def pdf_tokens(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    a, b = rng.sample(_TOKENS, 2)
    count = data.count(a)
    if not count:
        return pdf_numbers(data, rng)
    nth = rng.randrange(count)
    at = -1
    for _ in range(nth + 1):
        at = data.index(a, at + 1)
    return data[:at] + b + data[at + len(a) :], f"{a.decode()} #{nth} became {b.decode()}"


def docx_xml(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    try:
        src = zipfile.ZipFile(io.BytesIO(data))
        names = [n for n in src.namelist() if n.endswith((".xml", ".rels"))]
    except zipfile.BadZipFile:
        return flip(data, rng)
    target = rng.choice(names)
    body = src.read(target)
    mutator = rng.choice((flip, cut, double, insert))
    changed, how = mutator(body, rng)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info.filename, changed if info.filename == target else src.read(info.filename))
    return buf.getvalue(), f"{target}: {how}"


def png_chunk(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    chunks = []
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append((pos, length))
        pos += 12 + length
    if not chunks:
        return flip(data, rng)
    pos, length = rng.choice(chunks)
    kind = data[pos + 4 : pos + 8]
    body, how = rng.choice((flip, cut, double))(data[pos + 8 : pos + 8 + length] or b"\0", rng)
    chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return data[:pos] + chunk + data[pos + 12 + length :], f"{kind.decode('latin-1')} chunk: {how}, CRC fixed"


def tiff_fields(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """A field of the first directory (size, offsets, counts, compression) given an odd value."""
    order = "<" if data[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack(order + "I", data[4:8])
        (n,) = struct.unpack(order + "H", data[ifd : ifd + 2])
    except struct.error:
        return flip(data, rng)
    if n == 0 or ifd + 2 + 12 * n > len(data):
        return flip(data, rng)
    i = rng.randrange(n)
    at = ifd + 2 + 12 * i
    (tag,) = struct.unpack(order + "H", data[at : at + 2])
    value = rng.choice((0, 1, 65535, 0x7FFFFFFF, 0xFFFFFFFF, len(data), len(data) - 1))
    out = bytearray(data)
    out[at + 8 : at + 12] = struct.pack(order + "I", value)
    return bytes(out), f"TIFF tag {tag} set to {value}"


def mutate(path: Path, data: bytes, rng: random.Random) -> tuple[bytes, str]:
    generic = [flip, cut, double, truncate, insert]
    if path.suffix == ".pdf":
        choices = generic + [pdf_numbers, pdf_numbers, pdf_tokens, pdf_tokens]
    elif path.suffix == ".docx":
        choices = generic + [docx_xml, docx_xml, docx_xml]
    elif path.suffix == ".png":
        choices = generic + [png_chunk, png_chunk]
    elif path.suffix in (".tif", ".tiff"):
        choices = generic + [tiff_fields, tiff_fields]
    else:
        choices = generic
    return rng.choice(choices)(data, rng)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="where to keep the inputs that made findings")
    args = parser.parse_args()

    seeds = [p for p in SEEDS if p.is_file()]
    rng = random.Random(args.seed)
    plans = []
    for i in range(args.count):
        source = rng.choice(seeds)
        data, how = mutate(source, source.read_bytes(), rng)
        plans.append((i, source, data, how))

    case = Case("fuzz", lambda ctx: Path(), "either", "fuzz")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        root = Path(tmp)
        (root / "inputs").mkdir()

        def run(plan: tuple[int, Path, bytes, str]) -> tuple[int, Path, str, bytes, object]:
            i, source, data, how = plan
            path = root / "inputs" / f"{i:04d}{source.suffix}"
            path.write_bytes(data)
            out = run_cli(path, child_env(root, case))
            return i, source, how, data, out

        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            results = list(pool.map(run, plans))

    outcomes: Counter[str] = Counter()
    findings = []
    slowest = max(results, key=lambda r: r[4].seconds)  # type: ignore[attr-defined]
    heaviest = max(results, key=lambda r: r[4].peak_mb)  # type: ignore[attr-defined]
    for i, source, how, data, out in results:
        outcomes["exit 0 (read)" if out.code == 0 else f"exit {out.code}"] += 1  # type: ignore[attr-defined]
        problems = judge(case, out)  # type: ignore[arg-type]
        if problems:
            findings.append((i, source, how, problems))
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                (args.keep / f"{i:04d}-{source.name}").write_bytes(data)

    print(f"fuzz: {len(results)} mutated inputs from {len(seeds)} samples (seed {args.seed}),"
          f" {time.monotonic() - started:.0f} s")
    for what, n in sorted(outcomes.items()):
        print(f"  {what:14} {n}")
    print(f"  slowest {slowest[4].seconds:.1f} s ({slowest[1].name}: {slowest[2]});"  # type: ignore[attr-defined]
          f" most memory {heaviest[4].peak_mb:.0f} MB ({heaviest[1].name})")  # type: ignore[attr-defined]
    print(f"findings: {len(findings)}")
    for i, source, how, problems in findings:
        print(f"  #{i} {source.name} ({how}): {'; '.join(problems)[:400]}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
