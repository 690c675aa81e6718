"""``madoguchi check``: the glue from extraction to checks. The extraction is replaced by a fake
returning fixed records, so these tests exercise the command and not the readers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import extract.pipeline
from extract.result import DocumentResult, ExtractedField, ExtractionResult
from web.checking import case_from_result
from web.cli import main

FORM1 = dict(
    application_date="2025-06-01", applicant_postal_code="377-8501", applicant_address="群馬県渋川市石原80番地",
    applicant_name="株式会社渋川フーズ", applicant_representative="代表取締役 渋川太郎", product_name_kana="シブカワミソ",
    product_name="渋川みそ", product_spec="500g×2", product_description="渋川産大豆の手造り味噌", donation_amount=12000,
    gift_price_excl_tax=3334, gift_price_incl_tax=3600, ingredients_origin="in_city", manufacturing_place="in_city",
    supply_period="year_round", acceptance_period="year_round", carriers=["yamato"], temperature="ambient",
    allergens_present=True, allergens=["大豆"], best_before="製造日から180日", shipping_timing="申込み後1週間以内",
    contact_person="渋川花子", contact_phone="0279-22-0000",
)  # fmt: skip


def result_with(fields: dict[str, Any], form: str = "shibukawa.form1") -> ExtractionResult:
    return ExtractionResult(documents=[
        DocumentResult(file="application.pdf", sha256="0" * 64, form=form, pages=1,
                       fields={k: ExtractedField(value=v, confidence=0.99, page=1, source="acroform")
                               for k, v in fields.items()}),
        DocumentResult(file="application.pdf", sha256="0" * 64, form=None, pages=1, first_page=2, text="パンフレット"),
    ])  # fmt: skip


@pytest.fixture
def fake_extraction(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    records = {"application.pdf": FORM1, "over.pdf": {**FORM1, "gift_price_incl_tax": 3610, "gift_price_excl_tax": 3343}}

    def fake(paths: Sequence[Path], program: str | None = None, limits: Any = None) -> ExtractionResult:
        calls.append({"paths": [p.name for p in paths], "program": program})
        return result_with(records[paths[0].name])

    monkeypatch.setattr(extract.pipeline, "extract_files", fake)
    return calls


def test_check_json_gives_the_decision_findings_and_documents(
    fake_extraction: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "application.pdf", "--program", "shibukawa", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["program"] == "shibukawa" and out["decision"] == "approve"
    ratio = next(f for f in out["findings"] if f["rule"] == "return_ratio")
    assert ratio == {"rule": "return_ratio", "status": "pass", "clause": "004 7(2)", "message": ratio["message"],
                     "evidence": ratio["evidence"]}  # fmt: skip
    assert ratio["evidence"]["ratio_percent"] == 30.0
    assert [d["form"] for d in out["documents"]] == ["shibukawa.form1", None]
    assert out["counts"]["fail"] == 0
    assert fake_extraction == [{"paths": ["application.pdf"], "program": None}]


def test_check_json_rejects_a_gift_over_30_percent(
    fake_extraction: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "over.pdf", "--program", "shibukawa", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["decision"] == "reject"
    assert [f["status"] for f in out["findings"] if f["rule"] == "return_ratio"] == ["fail"]


def test_check_table_is_readable_japanese(fake_extraction: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "over.pdf", "--program", "shibukawa"]) == 0
    out = capsys.readouterr().out
    assert "判定の目安: 不承認相当" in out and "(reject)" not in out and "（reject）" in out
    line = next(line for line in out.splitlines() if "return_ratio" in line)
    assert "不適合" in line and "004 7(2)" in line and "30.08%" in line


def test_check_with_an_unknown_program_fails_before_reading(
    fake_extraction: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "application.pdf", "--program", "nowhere"]) == 2
    assert "nowhere" in capsys.readouterr().err
    assert fake_extraction == []


def test_case_from_result_keeps_forms_files_and_values() -> None:
    case = case_from_result(result_with({"donation_amount": 12000}), "shibukawa")
    assert [(d.form, d.file) for d in case.documents] == [("shibukawa.form1", "application.pdf"), (None, "application.pdf")]
    assert case.documents[0].fields == {"donation_amount": 12000}


# --- end to end: a filled form is read and checked ----------------------------------------------


def test_a_filled_sales_plan_is_read_and_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from forms.catalogue import get_form
    from generate.fill import fill_docx

    plan = dict(submission_date="2020-12-25", seller_name="上州衛生株式会社", seller_address="群馬県前橋市大手町1-1-1",
                seller_representative="代表取締役 上州一郎", contact_person="上州花子", contact_phone="027-223-1111",
                sales_month="2021-01-01", item1_name="サージカルマスク50枚入", item1_category="surgical_mask",
                item1_quantity=10000, item1_price=1980, item1_limit=2, resident_only=True,
                delivery_in_prefecture=True)  # fmt: skip
    on_time = tmp_path / "plan.docx"
    on_time.write_bytes(fill_docx(get_form("gunma-mask.form1"), plan))
    late = tmp_path / "late.docx"
    late.write_bytes(fill_docx(get_form("gunma-mask.form1"), {**plan, "submission_date": "2020-12-26"}))

    assert main(["check", str(on_time), "--program", "gunma-mask", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["decision"] == "approve" and out["documents"][0]["form"] == "gunma-mask.form1"
    assert main(["check", str(late), "--program", "gunma-mask", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["decision"] == "reject"
    [deadline] = [f for f in out["findings"] if f["rule"] == "sales_plan_deadline"]
    assert deadline["status"] == "fail" and deadline["evidence"]["deadline"] == "2020-12-25"
