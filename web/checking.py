"""``madoguchi check FILE... --program ID [--json]``: read the documents, run the program's checks.

The JSON output is ``{"program", "decision", "counts", "findings": [...], "documents": [...]}``;
without ``--json`` a Japanese table of the findings with the decision hint. Errors (unreadable
files, unknown programs) are raised as ``MadoguchiError`` and turned into exit codes by the CLI.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from forms.checks import Case, CaseDocument, CheckReport, run_checks
from forms.programs import get_program
from web.render import display_width, pad

DECISION_LABELS = {
    "approve": "承認相当（不適合・要確認なし）",
    "reject": "不承認相当（不適合あり）",
    "needs_review": "要確認（職員の確認が必要な項目あり）",
}
STATUS_LABELS = {"pass": "適合", "fail": "不適合", "warn": "要確認", "not_applicable": "対象外"}


def case_from_result(result: Any, program: str, today: date | None = None) -> Case:
    """A case from an extraction result (its documents' forms and field values)."""
    return Case(
        program=program,
        today=today,
        documents=[
            CaseDocument(form=d.form, file=d.file, fields={k: f.value for k, f in d.fields.items()})
            for d in result.documents
        ],
    )


def report_json(report: CheckReport, result: Any) -> dict[str, Any]:
    return {
        "program": report.program,
        "decision": report.decision,
        "counts": report.counts(),
        "findings": [f.model_dump(mode="json") for f in report.findings],
        "documents": [
            {"file": d.file, "sha256": d.sha256, "form": d.form, "pages": d.pages, "first_page": d.first_page}
            for d in result.documents
        ],
    }


def run_check_command(
    files: Sequence[Path], program: str, as_json: bool, out: TextIO | None = None, today: date | None = None
) -> int:
    from extract.pipeline import extract_files

    out = out or sys.stdout
    get_program(program)  # an unknown program fails before any file is read
    result = extract_files(list(files), program=None)  # checks run here, once
    report = run_checks(case_from_result(result, program, today))
    if as_json:
        print(json.dumps(report_json(report, result), ensure_ascii=False, indent=2), file=out)
    else:
        print_report(report, result, out)
    return 0


def print_report(report: CheckReport, result: Any, out: TextIO) -> None:
    settings = get_program(report.program)
    print(f"■ {settings.name}（{report.program}）の要件確認", file=out)
    for d in result.documents:
        print(f"  書類: {d.file}  p.{d.first_page}  {d.form or '不明な書類'}", file=out)
    counts = report.counts()
    shown = "、".join(f"{STATUS_LABELS[k]}{v}件" for k, v in counts.items() if v)
    print(f"  判定の目安: {DECISION_LABELS[report.decision]}（{report.decision}）  {shown}", file=out)
    print(file=out)
    rule_width = max([display_width(f.rule) for f in report.findings] + [6])
    clause_width = max([display_width(f.clause) for f in report.findings] + [4])
    print(f"  {pad('結果', 8)} {pad('規則', rule_width)} {pad('根拠', clause_width)} 内容", file=out)
    print(f"  {'-' * 8} {'-' * rule_width} {'-' * clause_width} {'-' * 40}", file=out)
    for f in report.findings:
        print(f"  {pad(STATUS_LABELS[f.status], 8)} {pad(f.rule, rule_width)} {pad(f.clause, clause_width)} {f.message}",
              file=out)  # fmt: skip
