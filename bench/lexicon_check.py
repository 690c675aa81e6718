"""How extract/lexicon.py's correct_kanji does: characters it changes in text that is already
right (should be 0), and how many of the misreads seen on scans it fixes; with its load time
and time per field.  `python bench/lexicon_check.py [-v]`"""

from __future__ import annotations

import ast
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEEDS = ROOT.parent / "shared" / "seeds"

# (misread as scanned, what it should read)
MISREADS = [
    ("上州和生すき焼きセット", "上州和牛すき焼きセット"),
    ("渋川市内の牧場で育てた上州和生の肩ロースを、市内の工場で手切りしました。",
     "渋川市内の牧場で育てた上州和牛の肩ロースを、市内の工場で手切りしました。"),
    ("上州和生", "上州和牛"),
    ("赤城高原で育った豚肉を使い、桜のチップでじっくり煙製しました。",
     "赤城高原で育った豚肉を使い、桜のチップでじっくり燻製しました。"),
    ("桜のチップでじっくり燥製しました。", "桜のチップでじっくり燻製しました。"),
    ("桜のチップでじっくり介製しました。", "桜のチップでじっくり燻製しました。"),
    ("桜のチップでじっくり旭製しました。", "桜のチップでじっくり燻製しました。"),
    ("桜のチップでじっくり灯製しました。", "桜のチップでじっくり燻製しました。"),
    ("地元の味噌蔵の味噌に上州豚を潰け込みました。", "地元の味噌蔵の味噌に上州豚を漬け込みました。"),
    ("地元の味噌蔵の味噌に上州豚を注け込みました。", "地元の味噌蔵の味噌に上州豚を漬け込みました。"),
    ("伊香保温泉の名物、黒本の皮でこしあんを包んだ茶色いまんじゅうです。",
     "伊香保温泉の名物、黒糖の皮でこしあんを包んだ茶色いまんじゅうです。"),
    ("伊香保温泉の名物、黒柄の皮でこしあんを包んだ茶色いまんじゅうです。",
     "伊香保温泉の名物、黒糖の皮でこしあんを包んだ茶色いまんじゅうです。"),
    ("渋川こんにゃく本千株式会社", "渋川こんにゃく本舗株式会社"),
    ("赤城山上で育てたこんにゃく芋を使い、昔ながらの製法で仕上げました。",
     "赤城山麓で育てたこんにゃく芋を使い、昔ながらの製法で仕上げました。"),
    ("小川りんごジュース", "渋川りんごジュース"),
]


def correct_lines() -> list[str]:
    """Text that is right: the seeds, the forms' declarations, the generator's strings."""
    texts: list[str] = []
    for path in sorted(SEEDS.glob("*.txt")):
        texts += path.read_text(encoding="utf-8").splitlines()
    for path in sorted((ROOT / "forms").rglob("*.yaml")):
        if path.name != "kanji_neighbours.tsv":
            texts += path.read_text(encoding="utf-8").splitlines()
    tree = ast.parse((ROOT / "samples" / "scans" / "generate.py").read_text(encoding="utf-8"))
    texts += [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    out = []
    for text in texts:
        # fields are short: cut long lines at sentence ends, keep those with kanji
        for piece in re.split(r"(?<=[。．！？])|\t", text):
            piece = piece.strip()
            if re.search(r"[\u4e00-\u9fff]", piece):
                out.append(piece[:200])
    return list(dict.fromkeys(out))


def main() -> int:
    verbose = "-v" in sys.argv
    t0 = time.perf_counter()
    from extract import lexicon

    lexicon.warm_up()
    load = time.perf_counter() - t0

    lines = correct_lines()
    changed_chars = 0
    kanji = sum(lexicon.is_kanji(ch) for line in lines for ch in line)
    times, short = [], []
    for line in lines:
        t = time.perf_counter()
        fixed, corrections = lexicon.correct_kanji(line)
        times.append(time.perf_counter() - t)
        if len(line) <= 60:
            short.append(times[-1])
        if corrections:
            changed_chars += len(corrections)
            if verbose:
                print("  FALSE", line, "->", fixed, [(c.old, c.new, c.word, c.similarity, c.cost_gain) for c in corrections])

    fixed_count = wrong = 0
    for misread, right in MISREADS:
        fixed, corrections = lexicon.correct_kanji(misread)
        if fixed == right:
            fixed_count += 1
        elif corrections:
            wrong += 1
        if verbose:
            mark = "fixed" if fixed == right else ("WRONG" if corrections else "missed")
            print(f"  {mark:6} {misread} -> {fixed}")

    times.sort()
    short.sort()
    print(f"correct text: {len(lines)} lines, {kanji} kanji; characters changed: {changed_chars}")
    print(f"misreads: {len(MISREADS)}; fixed: {fixed_count}; changed wrongly: {wrong}; "
          f"left alone: {len(MISREADS) - fixed_count - wrong}")
    print(f"first load (dictionary, neighbour table, fonts): {load * 1000:.0f} ms")
    print(f"per line: median {times[len(times) // 2] * 1000:.2f} ms, "
          f"p95 {times[int(len(times) * 0.95)] * 1000:.2f} ms, max {times[-1] * 1000:.1f} ms")
    print(f"per field-sized line (<= 60 chars, {len(short)}): median {short[len(short) // 2] * 1000:.2f} ms, "
          f"p95 {short[int(len(short) * 0.95)] * 1000:.2f} ms, max {short[-1] * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
