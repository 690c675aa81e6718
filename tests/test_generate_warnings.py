"""Warnings before an official act (issue 23 (7)): ``generate approval`` for a record whose checks
fail or whose fields are marked for review says so and needs ``--force``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from extract.pipeline import extract_files
from generate import notices
from generate.acts import act_warnings
from generate.records import record_from_json
from web.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def _extracted(name: str, program: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(extract_files([SAMPLES / "golden" / name], program=program).to_json())
    return out


def _stand_in_pdf(sources: list[Path], outdir: Path, **_: object) -> list[Path]:
    """The PDFs are tested elsewhere; here only whether notices are issued at all."""
    pdfs = [outdir / f"{s.stem}.pdf" for s in sources]
    for pdf in pdfs:
        pdf.write_bytes(b"%PDF-1.4 stand-in")
    return pdfs


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MADOGUCHI_DATABASE_URL", raising=False)
    monkeypatch.setattr(notices, "convert_to_pdf", _stand_in_pdf)
    return tmp_path


def test_approval_of_a_record_whose_checks_fail_needs_force(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 焼きまんじゅう: 3,240円 is 32.4% of 10,000円 (004 7(2)); extract --json --program carries the check
    data = data_dir / "yakimanju.json"
    data.write_text(json.dumps(_extracted("shibukawa_form1_yakimanju.pdf", "shibukawa"), ensure_ascii=False), encoding="utf-8")
    out = data_dir / "out"
    args = ["generate", "approval", "--program", "shibukawa", "--data", str(data), "-o", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("madoguchi: approval: 確認が必要な事項が1件あります（return_ratio）")
    assert "--force" in err[-1]
    assert any("要件を満たしていません" in line and "004 7(2)" in line for line in err[:-1])
    assert not out.exists()  # nothing issued, no number taken

    assert main([*args, "--force"]) == 0
    captured = capsys.readouterr()
    assert "return_ratio" not in captured.out and "要件を満たしていません" in captured.err
    assert [Path(p).name for p in captured.out.split()][0].endswith("-0001.docx")

    # a rejection of the same record needs no confirmation
    assert main(["generate", "rejection", "--program", "shibukawa", "--data", str(data), "-o", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_fields_marked_for_review_need_force(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extracted = _extracted("form1_wagyu.pdf", "shibukawa")
    assert not [f for d in extracted["documents"] for f in d["checks"] if f["status"] == "fail"]
    extracted["documents"][0]["fields"]["donation_amount"]["review"] = True  # read unsure, say
    data = data_dir / "wagyu.json"
    data.write_text(json.dumps(extracted, ensure_ascii=False), encoding="utf-8")
    args = ["generate", "approval", "--program", "shibukawa", "--data", str(data), "-o", str(data_dir / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "読取りが要確認のまま: 寄附金額（donation_amount）" in err
    assert main([*args, "--force"]) == 0


def test_act_warnings() -> None:
    failing = {"findings": [{"rule": "tier", "status": "fail", "message": "寄附金額が表と合いません", "clause": "003 5"}]}
    assert [w.subject for w in act_warnings("approval", failing)] == ["tier"]
    assert act_warnings("rejection", failing) == []
    assert act_warnings("withdrawal", {**failing, "review_fields": ["product_name"]}) == []
    # Ehime: only a registration grants something
    assert act_warnings("registration_result", {**failing, "decision": "reject"}) == []
    assert [w.kind for w in act_warnings("registration_result", {**failing, "decision": "approve"})] == ["check_failed"]
    passing = {"findings": [{"rule": "tier", "status": "pass"}, {"rule": "x", "status": "warn"}]}
    assert act_warnings("approval", passing) == []
    record = record_from_json(
        {"form": "gunma-mask.form1", "fields": {"seller_name": {"value": "上州", "confidence": 0.5, "review": True}}}
    )
    [warning] = act_warnings("change_notice", record)
    assert warning.kind == "field_for_review" and "販売事業者名（seller_name）" in warning.message


def test_issue_date_unaffected(data_dir: Path) -> None:
    """run_generate_command keeps taking an issue date (the web's and the tests' path)."""
    from generate.numbering import MemoryNumberSequence
    from web.generating import run_generate_command

    data = data_dir / "r.json"
    data.write_text(json.dumps({"applicant_name": "A社", "product_name": "B"}, ensure_ascii=False), encoding="utf-8")
    code = run_generate_command(
        "approval", "tateyama", [data], data_dir / "o2", numbers=MemoryNumberSequence(), issue_date=date(2026, 5, 1)
    )
    assert code == 0
