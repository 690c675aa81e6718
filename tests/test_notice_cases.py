"""Notices of Gunma, Shika, Tateyama and Ehime from their own forms' keys (issue 23 (6)).

Each case in ``samples/cases/notices/`` goes the whole way a clerk goes: the filled forms are
checked (``madoguchi check --program P --json --today``: the decision must be the case's),
read (``madoguchi extract --json``), and the extraction with the check's findings and decision
(and what the clerk adds: a registration number) is given to ``madoguchi generate``. The
notice PDF's text, line by line, must be the case's ``expected.lines``; the file name and the
document number too. A PNG of each notice is kept in ``artifacts/notices/cases/``.

After a deliberate change of wording or layout, write the expectations again with
``MADOGUCHI_WRITE_GOLDEN=1`` and read the diff before committing it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from extract.pipeline import extract_files
from generate.numbering import MemoryNumberSequence
from web.cli import main
from web.generating import run_generate_command

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
CASES = sorted((SAMPLES / "cases" / "notices").glob("*.json"))
ARTIFACTS = ROOT / "artifacts" / "notices" / "cases"
WRITE = os.environ.get("MADOGUCHI_WRITE_GOLDEN") == "1"


def _lines(pdf: Path) -> list[str]:
    with pdfplumber.open(pdf) as doc:
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
    return [squashed for squashed in ("".join(line.split()) for line in text.splitlines()) if squashed]


def test_every_other_program_has_its_cases() -> None:
    programs = {json.loads(p.read_text(encoding="utf-8"))["program"] for p in CASES}
    assert programs == {"gunma-mask", "shika", "tateyama", "ehime-voucher"}


@pytest.mark.parametrize("case_path", CASES, ids=[p.stem for p in CASES])
def test_filled_form_through_check_to_notice(
    case_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case: dict[str, Any] = json.loads(case_path.read_text(encoding="utf-8"))
    files = [SAMPLES / f for f in case["files"]]
    program = case["program"]

    capsys.readouterr()
    assert main(["check", *map(str, files), "--program", program, "--json", "--today", case["today"]]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["decision"] == case["decision"]

    extracted = json.loads(extract_files(files).to_json())  # madoguchi extract FILE... --json
    data = {**extracted, "findings": report["findings"], "decision": report["decision"], **case["clerk"]}
    source = tmp_path / "record.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    outdir = tmp_path / "out"
    issue = date.fromisoformat(case["issue_date"])
    assert run_generate_command(case["kind"], program, [source], outdir, numbers=MemoryNumberSequence(), issue_date=issue) == 0
    [pdf] = [Path(p) for p in capsys.readouterr().out.split() if p.endswith(".pdf")]
    lines = _lines(pdf)

    if shutil.which("pdftoppm"):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-singlefile", "-f", "1", "-l", "1", str(pdf), str(ARTIFACTS / case_path.stem)],
            check=True,
            timeout=60,
        )
    if WRITE:
        case["expected"] = {"file": pdf.name, "lines": lines}
        case_path.write_text(json.dumps(case, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return
    expected = case["expected"]
    assert pdf.name == expected["file"]
    assert lines == expected["lines"]
