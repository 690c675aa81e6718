"""Records in, one contract (issue 23 (1)): ``generate`` takes the real output of ``madoguchi
extract --json`` of every sample case, a golden ``{form, fields}`` file, and plain values.

Every case of ``samples/cases/`` is read as ``madoguchi extract FILE... --program P --json``
reads it (in process: the same ``ExtractionResult.to_json``), and every notice kind its program
issues is rendered from that output through ``madoguchi generate`` (the command's own function),
with only what a clerk adds (a decision's reasons, a change's content) beside it. Each PDF's text
must carry the addressee, the product, the document number and the 和暦 date; a PNG of each is
kept in ``artifacts/notices/records/``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from extract.pipeline import extract_files
from forms.programs import get_program
from generate import notices
from generate.numbering import MemoryNumberSequence
from generate.records import FORM_KEYS, record_from_json
from web.generating import run_generate_command

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
ARTIFACTS = ROOT / "artifacts" / "notices" / "records"
CASES = sorted((SAMPLES / "cases").glob("*.json"))
ISSUED = date(2026, 6, 1)
ISSUED_W = "令和8年6月1日"

#: What a clerk adds to an extraction to issue each kind (never values the documents hold).
CLERK_ADDS: dict[str, dict[str, Any]] = {
    "change_notice": {
        "change_content": {"donation_amount": 13000, "supply_quantity": "年間500個"},
        "change_reason": ["変更申請書による"],
    },
    "fraud_repayment": {
        "fraud_amount": 50000,
        "fraud_received_date": "2024-04-10",
        "payment_due_date": "2024-06-30",
        "fraud_description": "商品券の換金のみを目的とした取引",
    },
    "withdrawal": {"withdrawal_reason": "原材料の調達ができなくなったため", "withdrawal_date": "2026-09-30"},
}


def _case(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _squash(text: str) -> str:
    return "".join(text.split())


def _extract_json(files: list[Path], program: str | None) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(extract_files(files, program=program).to_json())
    return out


@pytest.fixture(scope="module")
def extracted() -> dict[str, dict[str, Any]]:
    """``extract --json --program`` of every case, by case name."""
    return {
        path.stem: _extract_json([SAMPLES / f for f in _case(path)["files"]], _case(path)["program"])
        for path in CASES
    }


def _jobs(extracted: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(case, program, kind, data file content) for every kind each case's program issues."""
    jobs = []
    for path in CASES:
        case = _case(path)
        program, decision = case["program"], case["decision"]
        for kind in notices.kinds_for(program):
            if kind == "rejection" and decision != "reject":
                continue
            if kind in ("approval", "change_notice", "fraud_repayment") and decision == "reject":
                continue
            data = {**extracted[path.stem], **CLERK_ADDS.get(kind, {})}
            if kind == "registration_result":
                data["decision"] = "approve" if decision != "reject" else "reject"
            jobs.append((path.stem, program, kind, data))
    return jobs


@pytest.fixture(scope="module")
def generated(
    extracted: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> list[tuple[str, str, str, dict[str, Any], Path]]:
    """Every job through ``run_generate_command`` with DOCX only, then all PDFs in one LibreOffice start."""
    base = tmp_path_factory.mktemp("records")
    numbers = MemoryNumberSequence()
    done = []
    docx: list[Path] = []
    for n, (case, program, kind, data) in enumerate(_jobs(extracted)):
        src = base / f"{n:03d}-{case}-{kind}.json"
        src.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        rendered = notices.render_notices(
            kind,
            program,
            notices.records_from_json(json.loads(src.read_text(encoding="utf-8"))),
            base / f"{n:03d}",
            formats=("docx",),
            numbers=numbers,
            issue_date=ISSUED,
        )
        [notice] = rendered
        assert notice.docx is not None
        docx.append(notice.docx)
        done.append((case, program, kind, data, notice.docx))
    pdfs = notices.convert_to_pdf(docx, base / "pdf")
    return [(c, p, k, d, pdf) for (c, p, k, d, _), pdf in zip(done, pdfs)]


def test_every_case_and_kind_renders_from_extract_json(
    generated: list[tuple[str, str, str, dict[str, Any], Path]],
) -> None:
    kinds_seen: dict[str, set[str]] = {}
    for case, program, kind, data, pdf in generated:
        kinds_seen.setdefault(program, set()).add(kind)
        record = record_from_json(data)
        settings = get_program(program)
        with pdfplumber.open(pdf) as doc:
            text = _squash("".join(page.extract_text() or "" for page in doc.pages))
        where = f"{case} {kind}"
        addressee = record.get("applicant_name")
        if kind == "value_added_certificate":  # the manufacturer's form: its name when 様式第2号 gave it
            addressee = record.get("manufacturer_name") or record.get("product_name")
        subject = record.get("store_name") if program == "ehime-voucher" else record.get("product_name")
        assert addressee and _squash(str(addressee)) in text, where
        assert subject and _squash(str(subject)) in text, where
        assert ISSUED_W in text, where
        if kind in notices.NUMBERED_KINDS:
            assert f"{settings.doc_number_prefix}第" in text and "号" in text, where
            assert f"{settings.doc_number_prefix}第　　号" not in text, where
    # every kind of every program was made from an extraction
    assert kinds_seen == {p: set(notices.kinds_for(p)) for p in kinds_seen}
    assert set(kinds_seen) == {"shibukawa", "tateyama", "shika", "ehime-voucher", "gunma-mask"}


def test_png_of_each_notice_kept(generated: list[tuple[str, str, str, dict[str, Any], Path]]) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for case, _, kind, _, pdf in generated:
        stem = ARTIFACTS / f"{case}-{kind}"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
            check=True,
            timeout=60,
        )
        assert stem.with_suffix(".png").stat().st_size > 1000


def test_rejections_give_the_failed_checks_of_the_extraction(
    generated: list[tuple[str, str, str, dict[str, Any], Path]],
) -> None:
    rejections = [(c, d, pdf) for c, _, k, d, pdf in generated if k == "rejection"]
    assert rejections
    for case, data, pdf in rejections:
        failed = [
            f["message"] for doc in data["documents"] for f in doc["checks"] if f["status"] == "fail"
        ]
        assert failed, case
        with pdfplumber.open(pdf) as doc:
            text = _squash("".join(page.extract_text() or "" for page in doc.pages))
        # as the notice prints it: dates in 和暦
        assert _squash(notices.wareki_in_text(failed[0]))[:20] in text, case


def test_review_marks_and_checks_are_kept(extracted: dict[str, dict[str, Any]]) -> None:
    data = extracted["shibukawa_approve_local_beef"]
    data["documents"][0]["fields"]["product_name"]["review"] = True
    record = record_from_json(data)
    assert record["review_fields"] == ["product_name"]
    assert record["product_name"] == data["documents"][0]["fields"]["product_name"]["value"]
    assert record["findings"] and all("rule" in f for f in record["findings"])
    assert record["forms"]["shibukawa.form1"]["application_date"] == record["application_date"]


@pytest.mark.parametrize(
    "golden",
    sorted(p for p in (SAMPLES / "golden").glob("*.pdf") if p.with_name(p.name + ".json").is_file()),
    ids=lambda p: p.name,
)
def test_golden_file_reads_as_its_extraction(golden: Path) -> None:
    """A golden ``{form, fields}`` file is the same record as the extraction of its document."""
    expected = json.loads(golden.with_name(golden.name + ".json").read_text(encoding="utf-8"))
    from_golden = record_from_json(expected)
    from_extract = record_from_json(_extract_json([golden], None))  # no checks
    from_extract.pop("review_fields", None)
    from_extract.pop("findings", None)
    assert from_golden == from_extract


def test_plain_values_and_field_objects_read_alike() -> None:
    plain = {"seller_name": "株式会社上州", "submission_date": "2020-12-28", "item1_name": "マスク"}
    wrapped = {k: {"value": v, "confidence": 0.9, "review": k == "seller_name", "raw": v} for k, v in plain.items()}
    a = record_from_json({"form": "gunma-mask.form1", "fields": plain})
    b = record_from_json({"form": "gunma-mask.form1", "fields": wrapped})
    b.pop("review_fields")
    assert a == b
    assert a["applicant_name"] == "株式会社上州" and a["application_date"] == "2020-12-28"
    assert a["product_name"] == "マスク"
    # plain values without a form are taken as they are (no mapping guessed)
    assert record_from_json(plain) == plain
    # a value that is itself an object with other keys is not a field object
    odd = {"change_content": {"value": 1, "unit": "円"}}
    assert record_from_json(odd) == odd


def test_form_keys_name_real_catalogue_keys() -> None:
    from forms.catalogue import get_form

    for form_id, mapping in FORM_KEYS.items():
        keys = {f.key for row in get_form(form_id).rows() for f in row.fields}
        assert set(mapping) <= keys, (form_id, set(mapping) - keys)


def test_generate_command_takes_extract_output_and_golden_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The exact failures of the issue: extract output with ``review`` keys, a golden file."""
    out = _extract_json([SAMPLES / "golden" / "gunma_form1_december.pdf"], "gunma-mask")
    ext = tmp_path / "extract.json"
    ext.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    golden = SAMPLES / "golden" / "gunma_form1_december.pdf.json"
    code = run_generate_command(
        "approval", "gunma-mask", [ext, golden], tmp_path / "o", numbers=MemoryNumberSequence(), issue_date=ISSUED
    )
    assert code == 0
    printed = capsys.readouterr().out.split()
    assert [Path(p).name for p in printed if p.endswith(".docx")] == [
        "gunma-mask-approval-2026-0001.docx",
        "gunma-mask-approval-2026-0002.docx",
    ]


@pytest.mark.parametrize(
    ("golden", "kind", "printed"),
    [
        ("shibukawa_form6_wagyu.pdf", "withdrawal", "令和8年8月20日"),
        ("shibukawa_form5_wagyu.pdf", "change_application", "令和8年6月1日"),
        ("shibukawa_form2_tenugui.pdf", "value_added_certificate", "令和8年3月27日"),
    ],
)
def test_dates_written_on_filed_forms_are_kept(golden: str, kind: str, printed: str) -> None:
    """辞退届, 変更申請書 and 様式第2号 print the date their filer wrote (issue 23: printed blank)."""
    record = record_from_json(_extract_json([SAMPLES / "golden" / golden], None))
    ctx, warnings = notices.notice_context(kind, get_program("shibukawa"), record, issue_date=None)
    assert ctx["issue_date"] == printed
    if kind == "withdrawal":
        # filed 2026-08-20 to withdraw from 2026-09-15: 26 days, not the 40 of 004 12(2)
        assert ctx["withdrawal_date"] == "令和8年9月15日"
        assert warnings == ["辞退する日 令和8年9月15日 は届出日から40日未満です（004 12(2): 40日前までに報告）"]
    # without such a form the date stays blank for the filer to write
    bare = {k: v for k, v in record.items() if k != "forms"}
    ctx, _ = notices.notice_context(kind, get_program("shibukawa"), bare, issue_date=None)
    assert ctx["issue_date"] == "令和　　年　　月　　日"
