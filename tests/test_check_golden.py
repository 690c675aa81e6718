"""``madoguchi check`` on the golden samples gives the expected decision for each program (issue 4).

Each case in samples/cases/ names the documents of one application (golden files made by
samples/make_golden.py from samples/records/), the reference date of the checks, the expected
decision hint and the rules expected to fail (and to warn). The command runs end to end: the
files are read by the real extractors and checked by the program's rule pack.

The reference date of each case is given with ``--today``, so the decisions do not change as
the calendar moves on (a licence that expires in 2029 would otherwise turn a case into reject).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from forms.programs import get_program
from web.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
CASES = sorted((SAMPLES / "cases").glob("*.json"))
PROGRAMS = ("shibukawa", "tateyama", "shika", "ehime-voucher", "gunma-mask")


def load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return case


def load_form(path: Path) -> str:
    """The form id of a golden file, from the record beside it."""
    form: str = load(path.with_name(path.name + ".json"))["form"]
    return form


@pytest.fixture
def check_on(capsys: pytest.CaptureFixture[str]) -> Callable[..., dict[str, Any]]:
    """Run ``madoguchi check FILE... --program P --json --today DATE``."""

    def run(files: list[Path], program: str, today: date) -> dict[str, Any]:
        capsys.readouterr()
        args = ["check", *map(str, files), "--program", program, "--json", "--today", today.isoformat()]
        assert main(args) == 0
        out: dict[str, Any] = json.loads(capsys.readouterr().out)
        return out

    return run


def rules_with(report: dict[str, Any], status: str) -> list[str]:
    """The rules with at least one finding of ``status``, each once, in report order."""
    return list(dict.fromkeys(f["rule"] for f in report["findings"] if f["status"] == status))


@pytest.mark.parametrize("case_path", CASES, ids=[p.stem for p in CASES])
def test_check_gives_the_expected_decision(case_path: Path, check_on: Callable[..., dict[str, Any]]) -> None:
    case = load(case_path)
    files = [SAMPLES / f for f in case["files"]]
    report = check_on(files, case["program"], date.fromisoformat(case["today"]))

    assert report["program"] == case["program"]
    # every file was read as one of the program's forms (or a document issued by others)
    assert [Path(d["file"]).name for d in report["documents"]] == [f.name for f in files]
    assert [d["form"] for d in report["documents"]] == [load_form(f) for f in files]

    failing, warning = rules_with(report, "fail"), rules_with(report, "warn")
    assert (report["decision"], failing, warning) == (
        case["decision"], case["failing_rules"], case.get("warning_rules", [])
    ), [f["message"] for f in report["findings"] if f["status"] in ("fail", "warn")]
    for finding in report["findings"]:
        assert finding["clause"] and finding["message"], finding


@pytest.mark.parametrize("case_path", CASES, ids=[p.stem for p in CASES])
def test_case_files_are_consistent(case_path: Path) -> None:
    case = load(case_path)
    assert set(case) <= {"program", "files", "today", "decision", "failing_rules", "warning_rules", "note"}
    get_program(case["program"])
    date.fromisoformat(case["today"])
    assert case["files"] and all((SAMPLES / f).is_file() for f in case["files"])
    # the decision hint follows from the expected findings (forms.checks.decide)
    expected = "reject" if case["failing_rules"] else "needs_review" if case.get("warning_rules") else "approve"
    assert case["decision"] == expected


def test_every_program_has_an_approved_and_a_rejected_case() -> None:
    decisions: dict[str, set[str]] = {p: set() for p in PROGRAMS}
    for path in CASES:
        case = load(path)
        decisions[case["program"]].add(case["decision"])
    assert {p: {"approve", "reject"} <= d for p, d in decisions.items()} == {p: True for p in PROGRAMS}
    assert "needs_review" in decisions["shibukawa"]
