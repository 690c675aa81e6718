"""``madoguchi generate``: records from files (flat or extract --json), batches, errors, exit codes."""

import json
from datetime import date
from pathlib import Path

import pdfplumber
import pytest

from generate import notices, published_list
from generate.numbering import MemoryNumberSequence, fiscal_year_of
from web.cli import main
from web.generating import installation_numbers, load_records, run_generate_command

APPLICATION = {
    "applicant_name": "株式会社渋川フーズ",
    "applicant_representative": "代表取締役 渋川太郎",
    "product_name": "渋川産こしひかり 5kg",
    "application_date": "令和7年4月10日",
}
EXTRACTED = {
    "documents": [
        {
            "file": "scan.pdf",
            "form": "shibukawa.form1",
            "pages": 1,
            "fields": {
                "applicant_name": {
                    "value": "合同会社伊香保",
                    "confidence": 0.95,
                    "page": 1,
                    "bbox": [0, 0, 1, 1],
                    "source": "ocr",
                },
                "applicant_representative": {"value": "代表社員 伊香保次郎", "confidence": 0.9},
                "product_name": {"value": "伊香保温泉まんじゅう", "confidence": 0.93},
                "application_date": {"value": "2025-04-12", "confidence": 0.99},
            },
            "checks": [
                {
                    "rule": "return_ratio",
                    "status": "fail",
                    "message": "返礼品の価格が寄附金額の30%を超えています",
                    "clause": "004 7(2)",
                    "evidence": {},
                },
            ],
        }
    ]
}


def _write(path: Path, obj: object) -> Path:
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return path


def test_batch_of_files_one_flat_one_extracted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flat = _write(tmp_path / "flat.json", {**APPLICATION, "reasons": ["書類に不備があります"]})
    extracted = _write(tmp_path / "extracted.json", EXTRACTED)
    numbers = MemoryNumberSequence()
    code = run_generate_command(
        "rejection",
        "shibukawa",
        [flat, extracted],
        tmp_path / "out",
        numbers=numbers,
        issue_date=date(2025, 5, 1),
    )
    assert code == 0
    printed = capsys.readouterr().out.split()
    assert [Path(p).name for p in printed] == [
        "shibukawa-rejection-2025-0001.docx",
        "shibukawa-rejection-2025-0001.pdf",
        "shibukawa-rejection-2025-0002.docx",
        "shibukawa-rejection-2025-0002.pdf",
    ]
    with pdfplumber.open(printed[3]) as pdf:
        text = "".join(pdf.pages[0].extract_text().split())
    assert "合同会社伊香保" in text and "伊香保温泉まんじゅう" in text and "渋広第2号" in text
    assert "返礼品の価格が寄附金額の30%を超えています（募集要項7(2)）" in text
    assert "令和7年4月12日付け" in text


def _fake_pdf(sources: list[Path], outdir: Path, **_: object) -> list[Path]:
    """Stands in for LibreOffice where a test is about something else (the PDFs are tested elsewhere)."""
    pdfs = [outdir / f"{s.stem}.pdf" for s in sources]
    for pdf in pdfs:
        pdf.write_bytes(b"%PDF-1.4 stand-in")
    return pdfs


def test_published_list_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(published_list, "convert_to_pdf", _fake_pdf)
    data = _write(
        tmp_path / "certs.json",
        [
            {
                "product_name": "渋川ブレンド珈琲",
                "manufacturer_name": "有限会社赤城焙煎所",
                "procurement_cost_a": 8000,
                "outside_cost_b": 3000,
                "manufacturing_place": "群馬県渋川市",
                "general_retail_price": 9800,
            },
            {
                "product_name": "𠮷田味噌",
                "manufacturer_name": "株式会社髙橋醸造",
                "percentage": 55,
                "manufacturing_place": "群馬県渋川市",
                "retail_price": 3240,
            },
        ],
    )
    out = tmp_path / "pub"
    assert run_generate_command("published_list", "shibukawa", [data], out, issue_date=date(2025, 6, 2)) == 0
    captured = capsys.readouterr()
    names = sorted(Path(p).name for p in captured.out.split())
    assert names == sorted(
        f"shibukawa-value-added-certificates-20250602{s}"
        for s in (".html", ".csv", "-sjis.csv", ".docx", ".pdf")
    )
    assert "U+20BB7" in captured.err


def test_numbers_come_from_the_installation_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "var"))

    monkeypatch.setattr(notices, "convert_to_pdf", _fake_pdf)  # this test is about the numbers
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MADOGUCHI_DATABASE_URL", raising=False)
    data = _write(tmp_path / "r.json", APPLICATION)
    fiscal_year = fiscal_year_of(date.today())
    with installation_numbers() as numbers:
        assert numbers.next("tateyama", fiscal_year) == 1  # taken by the web service, say
    assert (
        main(
            [
                "generate",
                "approval",
                "--program",
                "tateyama",
                "--data",
                str(data),
                "-o",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    printed = [Path(p) for p in capsys.readouterr().out.split()]
    assert printed[0].name == f"tateyama-approval-{fiscal_year}-0002.docx"  # not 1 again
    assert printed[1].suffix == ".pdf" and printed[1].is_file()
    assert (tmp_path / "var" / "madoguchi.db").is_file()


def test_errors_are_one_line_with_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json", encoding="utf-8")
    out = str(tmp_path / "out")
    assert main(["generate", "approval", "--program", "shibukawa", "--data", str(bad_json), "-o", out]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert (
        main(
            [
                "generate",
                "approval",
                "--program",
                "shibukawa",
                "--data",
                str(tmp_path / "nope.json"),
                "-o",
                out,
            ]
        )
        == 2
    )
    assert "no such file" in capsys.readouterr().err
    good = _write(tmp_path / "good.json", APPLICATION)
    assert main(["generate", "approval", "--program", "atlantis", "--data", str(good), "-o", out]) == 2
    assert "unknown program" in capsys.readouterr().err
    assert main(["generate", "thank_you_card", "--program", "shibukawa", "--data", str(good), "-o", out]) == 2
    err = capsys.readouterr().err
    assert err.startswith("madoguchi: unknown notice kind") and err.count("\n") == 1
    assert main(["generate", "rejection", "--program", "shibukawa", "--data", str(good), "-o", out]) == 2
    assert "no reasons" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_load_records_accepts_lists_and_record_sets(tmp_path: Path) -> None:
    one = _write(tmp_path / "one.json", APPLICATION)
    many = _write(tmp_path / "many.json", {"records": [APPLICATION, EXTRACTED]})
    records = load_records([one, many])
    assert [r["applicant_name"] for r in records] == [
        "株式会社渋川フーズ",
        "株式会社渋川フーズ",
        "合同会社伊香保",
    ]
    empty = _write(tmp_path / "empty.json", [])
    with pytest.raises(Exception, match="no records"):
        load_records([empty])
