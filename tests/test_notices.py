"""Notices from records: every template rendered to DOCX and PDF, read back with pdfplumber.

The PDFs of the whole module are made in one LibreOffice start (a module-scoped fixture).
The Shibukawa approval is also rendered to PNG in ``artifacts/notices/`` for a person to look at.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from docx import Document
from PIL import Image
from pypdf import PdfReader

from forms.errors import InvalidRecord, UnknownForm
from forms.programs import get_program
from generate.libreoffice import convert_to_pdf
from generate.notices import (
    RenderedNotice,
    format_percent,
    kinds_for,
    merged_pdfs,
    record_from_json,
    records_from_json,
    rejection_reasons,
    render_notices,
    repayment_claim,
    template_path,
    value_added_percent,
    wording_for,
)
from generate.numbering import MemoryNumberSequence

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "notices"
ISSUED = date(2025, 5, 1)
ISSUED_W = "令和7年5月1日"

APPLICANT = {
    "applicant_postal_code": "377-0008",
    "applicant_address": "群馬県渋川市渋川1234番地",
    "applicant_name": "株式会社渋川フーズ",
    "applicant_representative": "代表取締役　渋川　太郎",
    "product_name": "渋川産こしひかり 5kg & <特選>",
    "product_name_kana": "シブカワサンコシヒカリ",
    "application_date": "2025-04-10",
    "contact_department": "営業部",
    "contact_person": "伊香保 花子",
    "contact_phone": "0279-00-0000",
}
FAILED = [
    {
        "rule": "return_ratio",
        "status": "fail",
        "message": "返礼品の価格が寄附金額の30%を超えています",
        "clause": "004 7(2)",
    },
    {"rule": "tax", "status": "pass", "message": "市税の滞納はありません", "clause": "004 3(1)"},
    {"rule": "origin", "status": "fail", "message": "原産地証明書がありません", "clause": "004 7(1)ウ"},
]
APPROVED = {**APPLICANT, "approval_date": "2025-05-01", "approval_number": "渋広第12号"}
STORE = {  # keys of 申請様式1 (ehime-voucher.form1)
    "store_name": "とべ農産物直売所",
    "operator_name": "株式会社とべ産直",
    "representative": "代表取締役 砥部花子",
    "store_address": "愛媛県伊予郡砥部町1-1",
    "application_date": "2024-01-10",
    "received_date": "2024-01-11",  # the application's 受付日, not the day of a fraudulent receipt
    "registration_type": "use_and_sales",
}


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    program: str
    record: dict[str, Any]
    expected: tuple[str, ...]
    issue_date: date = ISSUED


CASES = [
    Case(
        "shibukawa-rejection",
        "rejection",
        "shibukawa",
        {**APPLICANT, "findings": FAILED},
        (
            "株式会社渋川フーズ",
            "渋川産こしひかり",
            "渋広第14号",
            ISSUED_W,
            "令和7年4月10日付け",
            "返礼品の価格が寄附金額の30%を超えています（募集要項7(2)）",
            "原産地証明書がありません（募集要項7(1)ウ）",
            "異議申し立ては受け付けません",
            "返礼品不承認書",
            "様式第4号",
        ),
    ),
    Case(
        "shibukawa-change_notice",
        "change_notice",
        "shibukawa",
        {
            **APPROVED,
            "change_content": "寄附金額を12,000円から13,000円に変更します。",
            "change_reason": "送料の改定のため。",
        },
        (
            "株式会社渋川フーズ",
            "渋川産こしひかり",
            "渋広第15号",
            ISSUED_W,
            "＜変更内容＞",
            "13,000円に変更します",
            "＜変更理由＞",
            "送料の改定のため",
            "返礼品取扱変更通知書",
            "様式第7号",
        ),
    ),
    Case(
        "shibukawa-withdrawal",
        "withdrawal",
        "shibukawa",
        {**APPROVED, "withdrawal_reason": "原材料の調達が困難となったため", "withdrawal_date": "2025-07-01"},
        (
            "株式会社渋川フーズ",
            "渋川産こしひかり",
            "渋広第12号",
            ISSUED_W,
            "渋川市長様",
            "辞退届",
            "様式第6号",
            "令和7年7月1日から",
            "原材料の調達が困難となったため",
            "令和7年5月1日付け渋広第12号で承認",
        ),
    ),
    Case(
        "shibukawa-change_application",
        "change_application",
        "shibukawa",
        {**APPROVED, "changes": {"donation_amount": 13000, "temperature": "frozen"}},
        (
            "株式会社渋川フーズ",
            "渋川産こしひかり",
            "渋広第12号",
            ISSUED_W,
            "返礼品変更申請書",
            "様式第5号",
            "令和7年5月1日付け渋広第12号で承認された提供商品",
            "13,000円",
            "■冷凍",
            "伊香保花子",
        ),
    ),
    Case(
        "shibukawa-value_added_certificate",
        "value_added_certificate",
        "shibukawa",
        {
            **APPLICANT,
            "manufacturer_name": "有限会社赤城製作所",
            "manufacturer_address": "群馬県前橋市元総社町1-2-3",
            "manufacturer_representative": "代表取締役 赤城一郎",
            "procurement_cost_a": 8000,
            "outside_cost_b": 3000,
            "method": "standard",
            "manufacturing_place": "群馬県渋川市",
            "general_retail_price": 9800,
        },
        (
            "渋川市長殿",
            "有限会社赤城製作所",
            "渋川産こしひかり",
            ISSUED_W,
            "様式第2号",
            "価値の62.5%が生じている",
            "8,000円",
            "3,000円",
            "■総務大臣が定める標準的な算出方法",
            "製造・加工地※1は群馬県渋川市",
            "9,800円",
        ),
    ),
    Case(
        "tateyama-approval",
        "approval",
        "tateyama",
        {
            "applicant_name": "館山水産株式会社",
            "applicant_representative": "代表取締役 館山一郎",
            "product_name": "館山産 あじの干物セット",
            "application_date": "2025-04-20",
        },
        (
            "館山水産株式会社",
            "館山産あじの干物セット",
            "館行財第1号",
            ISSUED_W,
            "館山市長",
            "館山市ふるさと納税返礼品採用決定通知書",  # 003 9: 採用可否を決定し…通知する
            "次のとおり採用することに決定しましたので通知します。",
            "■1申請のとおり採用します。",
            "委託事業者と返礼品の提供に係る契約を締結してください（募集要項9、10(1)(2)）",
        ),
    ),
    Case(
        "shika-rejection",
        "rejection",
        "shika",
        {
            "applicant_name": "志賀町かき工房",
            "applicant_representative": "代表 能登太郎",
            "product_name": "能登かき 1kg",
            "reasons": ["寄附金額の設定が1,000円単位の切り上げになっていません（001 5(3)）"],
        },
        (
            "志賀町かき工房",
            "能登かき1kg",
            "志企第1号",
            ISSUED_W,
            "志賀町長",
            "志賀町ふるさと納税返礼品不承認書",
            "1,000円単位の切り上げ",
        ),
    ),
    Case(
        "gunma-mask-change_notice",
        "change_notice",
        "gunma-mask",
        {
            "applicant_name": "上州マスク株式会社",
            "applicant_representative": "代表取締役 上州次郎",
            "product_name": "県産不織布マスク 50枚入",
            "change_content": "販売数量の上限を1人2箱に変更",
            "change_reason": "在庫の逼迫のため",
        },
        (
            "上州マスク株式会社",
            "県産不織布マスク50枚入",
            "群マ第1号",
            ISSUED_W,
            "群馬県知事",
            "販売計画取扱変更通知書",
        ),
    ),
    Case(
        "ehime-voucher-registration_result",
        "registration_result",
        "ehime-voucher",
        {**STORE, "registered": True, "registration_number": "E-0123"},
        (
            "株式会社とべ産直",
            "とべ農産物直売所",
            "食ブ第1号",
            "令和6年4月15日",
            "愛媛県「農林水産物直売所プレミアム付商品券」事業事務局印",  # 002 2(5): the 事務局 notifies
            "参加店舗登録結果通知書",
            "登録しましたので通知します",
            "利用店舗・販売所",
            "E-0123",
            "年3分",
        ),
        date(2024, 4, 15),
    ),
    Case(
        "ehime-voucher-registration_refused",
        "registration_result",
        "ehime-voucher",
        {
            **STORE,
            "decision": "reject",
            "findings": [
                {
                    "rule": "producer_share",
                    "status": "fail",
                    "clause": "002 3(3)",
                    "message": "生産者等が自ら価格を付けて販売する商品の売上額が30%未満です",
                }
            ],
        },
        (
            "株式会社とべ産直",
            "とべ農産物直売所",
            "食ブ第2号",
            "令和6年4月15日",
            "登録できませんので通知します",
            "売上額が30%未満です（参加店舗募集要項3(3)）",
            "登録不可",
        ),
        date(2024, 4, 15),
    ),
    Case(
        "ehime-voucher-fraud_repayment",
        "fraud_repayment",
        "ehime-voucher",
        {
            **STORE,
            "fraud_amount": 100000,
            "fraud_received_date": "2024-04-01",
            "payment_due_date": "2024-05-31",
            "fraud_description": "実際の取引がないにもかかわらず商品券を換金した",
        },
        (
            "株式会社とべ産直",
            "とべ農産物直売所",
            "食ブ第3号",
            "令和6年4月15日",
            "不正受給額等返還請求書",
            "100,000円",
            "20,000円",
            "493円",
            "60日",
            "令和6年4月2日～令和6年5月31日",
            "120,493円",
            "納付期限令和6年5月31日",
        ),
        date(2024, 4, 15),
    ),
]

APPROVALS = [
    {**APPLICANT, "conditions": ["発送前に検品を行うこと。", "欠品の際は速やかに報告すること。"]},
    {**APPLICANT, "applicant_name": "合同会社伊香保", "product_name": "伊香保温泉まんじゅう 12個入"},
]


def _squash(text: str) -> str:
    return "".join(text.split())


def _pdf_text(pdf: Path) -> str:
    with pdfplumber.open(pdf) as doc:
        return _squash("".join(page.extract_text() or "" for page in doc.pages))


@dataclass
class Rendered:
    approvals: list[RenderedNotice]
    cases: dict[str, RenderedNotice]
    numbers: MemoryNumberSequence


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    out = tmp_path_factory.mktemp("notices")
    numbers = MemoryNumberSequence({("shibukawa", 2025): 11})
    # Every DOCX first, then one LibreOffice start for all of them (render_notices' own PDF step
    # is exercised by tests/test_generate_command.py).
    approvals = render_notices(
        "approval", "shibukawa", APPROVALS, out, formats=("docx",), numbers=numbers, issue_date=ISSUED
    )
    cases: dict[str, RenderedNotice] = {}
    for case in CASES:
        [notice] = render_notices(
            case.kind,
            case.program,
            [case.record],
            out / case.name,
            formats=("docx",),
            numbers=numbers,
            issue_date=case.issue_date,
        )
        cases[case.name] = notice
    everything = [*approvals, *cases.values()]
    pdfs = convert_to_pdf([n.paths["docx"] for n in everything], out / "pdf")
    for notice, pdf in zip(everything, pdfs):
        notice.paths["pdf"] = pdf
    return Rendered(approvals, cases, numbers)


def _assert_fonts_embedded_japanese(pdf: Path) -> None:
    for page in PdfReader(pdf).pages:
        for ref in page["/Resources"].get_object()["/Font"].values():
            font = ref.get_object()
            assert "IPAex" in str(font["/BaseFont"]), f"{pdf.name}: fallback font {font['/BaseFont']}"
            descriptor = font["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, f"{pdf.name}: font not embedded"


def test_approval_batch_numbers_dates_and_conditions(rendered: Rendered) -> None:
    first, second = rendered.approvals
    assert (first.doc_number, second.doc_number) == ("渋広第12号", "渋広第13号")
    assert (first.number, first.fiscal_year, first.issue_date) == (12, 2025, ISSUED)
    assert first.pdf is not None and first.pdf.name == "shibukawa-approval-2025-0012.pdf"
    assert first.paths["docx"].name == "shibukawa-approval-2025-0012.docx"
    assert first.docx is not None and first.docx.is_file()
    text = _pdf_text(first.pdf)
    for expected in (
        "株式会社渋川フーズ",
        "代表取締役渋川太郎様",
        "渋川産こしひかり5kg&<特選>",
        "渋広第12号",
        ISSUED_W,
        "様式第3号",
        "渋川市ふるさと応援寄附金（ふるさと納税）返礼品承認書",
        "渋川市長印",
        "令和7年4月10日付けで申請のありました下記の返礼品について、次のとおり承認し、令和7年5月1日から適用します。",
        "□1申請のとおり承認します。",  # 様式第3号 lists both options, the chosen one marked
        "■2次の条件を付して承認します。",
        "（1）発送前に検品を行うこと。",
        "（2）欠品の際は速やかに報告すること。",
        "（担当）渋川市総合戦略部広報室",
    ):
        assert _squash(expected) in text, expected
    # as seed 004 prints it: the title first, above the number and the date
    assert text.index("返礼品承認書") < text.index("渋広第12号") < text.index(ISSUED_W)
    second_text = _pdf_text(second.pdf)  # type: ignore[arg-type]
    assert "■1申請のとおり承認します。" in second_text and "合同会社伊香保" in second_text
    assert "□2次の条件を付して承認します。" in second_text
    _assert_fonts_embedded_japanese(first.pdf)


def test_approval_png_artifact(rendered: Rendered) -> None:
    pdf = rendered.approvals[0].pdf
    assert pdf is not None
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / "shibukawa-approval"
    subprocess.run(
        [shutil.which("pdftoppm") or "pdftoppm", "-r", "100", "-png", "-singlefile", str(pdf), str(target)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    shutil.copyfile(pdf, ARTIFACTS / "shibukawa-approval.pdf")
    with Image.open(target.with_suffix(".png")) as image:
        gray = image.convert("L")
        assert gray.size[0] == 827 and gray.size[1] in (1169, 1170)  # A4 at 100 dpi
        # Ink in the title band (the centred title) and none in the bottom margin.
        title_band = gray.crop((100, 300, 727, 420))
        assert sum(title_band.histogram()[:128]) > 500
        assert sum(gray.crop((0, 1120, 827, 1165)).histogram()[:200]) == 0


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_template_reads_back(rendered: Rendered, case: Case) -> None:
    notice = rendered.cases[case.name]
    assert notice.pdf is not None and notice.pdf.is_file()
    text = _pdf_text(notice.pdf)
    for expected in case.expected:
        assert _squash(expected) in text, f"{case.name}: {expected!r} not in {text}"
    _assert_fonts_embedded_japanese(notice.pdf)


def test_numbers_only_for_notices_the_municipality_issues(rendered: Rendered) -> None:
    cases = rendered.cases
    assert cases["shibukawa-withdrawal"].doc_number is None
    assert cases["shibukawa-value_added_certificate"].number is None
    assert cases["shibukawa-rejection"].doc_number == "渋広第14号"
    assert rendered.numbers.next("shibukawa", 2025) == 16  # 12–15 taken, nothing else
    assert cases["shibukawa-withdrawal"].paths["docx"].name == "shibukawa-withdrawal-20250501-001.docx"


def test_batch_pdfs_are_split_per_notice(tmp_path: Path) -> None:
    """render_notices merges a batch into one document for LibreOffice and splits the PDF back."""
    names = ["株式会社一番", "株式会社二番", "株式会社三番"]
    records = [
        {**APPROVED, "applicant_name": n, "approval_number": f"渋広第{i + 1}号"} for i, n in enumerate(names)
    ]
    rendered = render_notices("change_application", "shibukawa", records, tmp_path, issue_date=ISSUED)
    for notice, name in zip(rendered, names):
        assert notice.pdf is not None
        reader = PdfReader(notice.pdf)
        assert len(reader.pages) == 2  # 様式第5号 takes two pages
        assert not reader.outline  # the merge's bookmarks stay in the merged file
        text = _pdf_text(notice.pdf)
        assert name in text and all(other not in text for other in names if other != name)
        assert f"渋広第{notice.index + 1}号で承認された" in text
        _assert_fonts_embedded_japanese(notice.pdf)
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".docx"] * 3 + [".pdf"] * 3
    # The DOCX files are not touched by the merge (no outline marks added).
    assert "outlineLvl" not in Document(str(rendered[0].paths["docx"])).element.xml


def test_merge_declines_documents_it_cannot_merge_safely(tmp_path: Path) -> None:
    a = Document()
    a.add_paragraph("一")
    b = Document()
    b.add_paragraph("二")
    b.sections[0].left_margin = b.sections[0].left_margin + 1000  # another page setup
    paths = [tmp_path / "a.docx", tmp_path / "b.docx"]
    a.save(str(paths[0]))
    b.save(str(paths[1]))
    assert merged_pdfs(paths, tmp_path / "out") is None
    c = Document()
    c.add_paragraph("三", style="List Number")  # list numbering would run on across notices
    c.save(str(paths[1]))
    assert merged_pdfs(paths, tmp_path / "out") is None


def test_docx_holds_the_filled_values_and_escapes(rendered: Rendered) -> None:
    doc = Document(str(rendered.cases["shibukawa-rejection"].paths["docx"]))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "株式会社渋川フーズ\n代表取締役　渋川　太郎　様" in text
    assert "{{" not in text and "{%" not in text
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "渋川産こしひかり 5kg & <特選>" in cells


def test_change_notice_from_a_change_application(tmp_path: Path) -> None:
    record = {
        **APPROVED,
        "new_donation_amount": 13000,
        "new_best_before": "製造後90日",
        "change_reason": "送料改定",
    }
    [notice] = render_notices(
        "change_notice", "shibukawa", [record], tmp_path, formats=("docx",), issue_date=ISSUED
    )
    paragraphs = [p.text for p in Document(str(notice.paths["docx"])).paragraphs]
    # one paragraph a line, left-aligned: a justified paragraph would stretch each broken line
    start = paragraphs.index("＜変更内容＞")
    assert paragraphs[start + 1 : start + 3] == ["寄附金額：13,000円", "消費期限・賞味期限：製造後90日"]
    doc = Document(str(notice.paths["docx"]))
    line = next(p for p in doc.paragraphs if p.text == "寄附金額：13,000円")
    assert line.paragraph_format.alignment is None or line.paragraph_format.alignment == 0
    with pytest.raises(InvalidRecord, match="change_content"):
        render_notices(
            "change_notice", "shibukawa", [{**APPROVED, "change_reason": "x"}], tmp_path, formats=("docx",)
        )


def test_record_from_extract_json() -> None:
    extracted = {
        "documents": [
            {
                "file": "tax.pdf",
                "form": "tax_certificate",
                "fields": {
                    "taxpayer_name": {"value": "株式会社渋川フーズ", "confidence": 0.9},
                    "product_name": {"value": "別の名前"},
                },
                "checks": [],
            },
            {
                "file": "scan.pdf",
                "form": "shibukawa.form1",
                "fields": {
                    "applicant_name": {
                        "value": "株式会社渋川フーズ",
                        "confidence": 0.97,
                        "page": 1,
                        "bbox": [1, 2, 3, 4],
                        "source": "ocr",
                    },
                    "product_name": {"value": "渋川産こしひかり", "confidence": 0.9},
                    "donation_amount": {"value": 12000},
                    "applicant_representative": {"value": ""},
                },
                "checks": [FAILED[0]],
            },
        ],
        "decision": "reject",
    }
    record = record_from_json(extracted)
    assert record["product_name"] == "渋川産こしひかり"  # the program's form wins over others
    assert record["taxpayer_name"] == "株式会社渋川フーズ"
    assert record["donation_amount"] == 12000
    assert "applicant_representative" not in record
    assert record["findings"] == [FAILED[0]]
    assert record["decision"] == "reject"
    assert record["forms"]["tax_certificate"]["product_name"] == "別の名前"
    flat = record_from_json(
        {"applicant_name": {"value": "A", "confidence": 1.0}, "changes": {"value": 1, "x": 2}}
    )
    assert flat == {"applicant_name": "A", "changes": {"value": 1, "x": 2}}
    assert len(records_from_json([flat, flat])) == 2
    assert len(records_from_json({"records": [flat]})) == 1
    with pytest.raises(InvalidRecord):
        record_from_json(["not", "a", "record"])
    with pytest.raises(InvalidRecord):
        record_from_json({"documents": "nope"})


def test_bad_record_in_a_batch_takes_no_number(tmp_path: Path) -> None:
    numbers = MemoryNumberSequence()
    good = {**APPLICANT, "findings": FAILED}
    with pytest.raises(InvalidRecord, match="record 2: rejection: no reasons"):
        render_notices(
            "rejection",
            "shibukawa",
            [good, APPLICANT],
            tmp_path,
            formats=("docx",),
            numbers=numbers,
            issue_date=ISSUED,
        )
    assert numbers.next("shibukawa", 2025) == 1
    assert not list(tmp_path.iterdir())
    with pytest.raises(InvalidRecord, match="product_name"):
        render_notices("approval", "shibukawa", [{"applicant_name": "X"}], tmp_path, formats=("docx",))


def test_fraud_claim_needs_the_day_of_the_fraudulent_receipt(tmp_path: Path) -> None:
    # 申請様式1's received_date is the application's 受付日: it must not be taken for the fraud's day.
    record = {**STORE, "fraud_amount": 50_000, "payment_due_date": "2024-05-31"}
    with pytest.raises(InvalidRecord, match="fraud_received_date"):
        render_notices("fraud_repayment", "ehime-voucher", [record], tmp_path, formats=("docx",))


def test_reissue_keeps_its_number_and_drafts_leave_it_blank(tmp_path: Path) -> None:
    numbers = MemoryNumberSequence()
    [again] = render_notices(
        "approval",
        "shibukawa",
        [{**APPLICANT, "document_number": 7}],
        tmp_path,
        formats=("docx",),
        numbers=numbers,
        issue_date=date(2026, 3, 31),
    )
    assert (again.doc_number, again.fiscal_year) == ("渋広第7号", 2025)
    [given] = render_notices(
        "approval",
        "shibukawa",
        [{**APPLICANT, "document_number": "渋広第99号"}],
        tmp_path,
        formats=("docx",),
        numbers=numbers,
        issue_date=ISSUED,
    )
    assert given.doc_number == "渋広第99号" and given.number is None
    assert numbers.next("shibukawa", 2025) == 1
    [draft] = render_notices(
        "approval", "shibukawa", [APPLICANT], tmp_path, formats=("docx",), issue_date=ISSUED
    )
    assert draft.doc_number is None
    paragraphs = [p.text for p in Document(str(draft.paths["docx"])).paragraphs]
    assert "渋広第　　号" in paragraphs
    assert "pdf" not in draft.paths


def test_supplier_forms_leave_the_date_blank_unless_given(tmp_path: Path) -> None:
    [form] = render_notices("withdrawal", "shibukawa", [APPROVED], tmp_path, formats=("docx",))
    assert form.issue_date is None
    paragraphs = [p.text for p in Document(str(form.paths["docx"])).paragraphs]
    assert "令和　　年　　月　　日" in paragraphs


def test_unknown_kinds_and_programs_that_do_not_issue_them(tmp_path: Path) -> None:
    with pytest.raises(UnknownForm, match="unknown notice kind"):
        render_notices("certificate_of_awesome", "shibukawa", [APPLICANT], tmp_path)
    with pytest.raises(UnknownForm, match="no registration_result template"):
        render_notices("registration_result", "tateyama", [APPLICANT], tmp_path)
    only_approvals = get_program("shibukawa").model_copy(update={"notices": ("approval",)})
    with pytest.raises(UnknownForm, match="does not issue"):
        render_notices("rejection", "shibukawa", [APPLICANT], tmp_path, settings=only_approvals)
    with pytest.raises(InvalidRecord, match="formats"):
        render_notices("approval", "shibukawa", [APPLICANT], tmp_path, formats=("odt",))
    assert template_path("approval", "ehime-voucher").parent.name == "common"
    assert template_path("fraud_repayment", "ehime-voucher").parent.name == "ehime-voucher"
    assert kinds_for("shibukawa") == get_program("shibukawa").notices
    assert kinds_for("tateyama") == get_program("tateyama").notices
    assert "registration_result" not in kinds_for("tateyama")


def test_warnings_for_late_withdrawal_and_small_value_added_share(tmp_path: Path) -> None:
    [late] = render_notices(
        "withdrawal",
        "shibukawa",
        [{**APPROVED, "withdrawal_date": "2025-05-20"}],
        tmp_path,
        formats=("docx",),
        issue_date=ISSUED,
    )
    assert any("40日" in w for w in late.warnings)
    [small] = render_notices(
        "value_added_certificate",
        "shibukawa",
        [
            {
                "product_name": "X",
                "procurement_cost_a": 10000,
                "outside_cost_b": 5000,
                "value_added_percent": 60,
            }
        ],
        tmp_path,
        formats=("docx",),
        issue_date=ISSUED,
    )
    assert any("過半" in w for w in small.warnings)
    assert any("一致しません" in w for w in small.warnings)


def test_wording_per_program() -> None:
    shibukawa, tateyama, gunma = wording_for("shibukawa"), wording_for("tateyama"), wording_for("gunma-mask")
    assert shibukawa.form_numbers["approval"] == "様式第3号"
    assert tateyama.form_numbers == {} and tateyama.no_objection_note == ""
    assert tateyama.titles["approval"] == "{name}返礼品採用決定通知書"  # 003 9
    assert tateyama.titles["withdrawal"] == "辞　退　届"
    assert gunma.item == "販売計画" and gunma.titles["rejection"] == "{name} 販売計画不承認書"
    assert gunma.titles["withdrawal"] == "辞　退　届"  # defaults kept where the program does not override


def test_rejection_reasons_prefer_the_clerks_words() -> None:
    settings, wording = get_program("shibukawa"), wording_for("shibukawa")
    assert rejection_reasons({"reasons": "理由一\n理由二"}, settings, wording) == ["理由一", "理由二"]
    assert rejection_reasons({"findings": FAILED + FAILED[:1]}, settings, wording) == [
        "返礼品の価格が寄附金額の30%を超えています（募集要項7(2)）",
        "原産地証明書がありません（募集要項7(1)ウ）",
    ]
    other = [{"status": "fail", "message": "告示に反します。", "clause": "総務省告示第179号第5条"}]
    # the citation inside the sentence, before its 。
    assert rejection_reasons({"findings": other}, settings, wording) == [
        "告示に反します（総務省告示第179号第5条）。"
    ]


def test_value_added_percent() -> None:
    assert value_added_percent(8000, 3000) == Decimal("62.5")
    assert value_added_percent(3, 1) == Decimal("66.6")  # truncated, never overstated
    assert value_added_percent(1000, 0) == Decimal("100.0")
    assert format_percent(Decimal("60.0")) == "60"
    assert format_percent(Decimal("50.09")) == "50"
    assert format_percent(62.5) == "62.5"
    for a, b in ((0, 0), (100, 101), (100, -1)):
        with pytest.raises(InvalidRecord):
            value_added_percent(a, b)


def test_repayment_claim() -> None:
    claim = repayment_claim(100_000, date(2024, 4, 1), date(2024, 5, 31))
    assert (claim.surcharge, claim.late_days, claim.late_charge, claim.total) == (20_000, 60, 493, 120_493)
    assert claim.late_from == date(2024, 4, 2) and claim.late_to == date(2024, 5, 31)
    leap = repayment_claim(100_000, date(2024, 1, 1), date(2025, 1, 1))
    assert (leap.late_days, leap.late_charge) == (366, 3008)  # a 365-day year, also in leap years
    same_day = repayment_claim(12_345, date(2024, 4, 1), date(2024, 4, 1))
    assert (same_day.surcharge, same_day.late_charge, same_day.total) == (2_469, 0, 14_814)
    with pytest.raises(InvalidRecord):
        repayment_claim(100, date(2024, 4, 2), date(2024, 4, 1))
    with pytest.raises(InvalidRecord):
        repayment_claim(0, date(2024, 4, 1), date(2024, 4, 1))


def test_change_notice_prints_choices_of_form5_as_words(tmp_path: Path) -> None:
    """様式第5号's rows 7-15 (choices, the allergen grid) as the notice prints them, not as keys."""
    record = {
        **APPROVED,
        "new_manufacturing_place": "outside",
        "new_manufacturing_place_detail": "群馬県前橋市",
        "new_carriers": ["yamato", "sagawa"],
        "new_allergens_present": True,
        "new_allergens": ["乳", "小麦"],
        "new_supply_period_detail": "4月上旬頃～8月下旬頃",
        "change_reason": "製造委託先の変更",
    }
    [notice] = render_notices("change_notice", "shibukawa", [record], tmp_path, formats=("docx",), issue_date=ISSUED)
    paragraphs = [p.text for p in Document(str(notice.paths["docx"])).paragraphs]
    start = paragraphs.index("＜変更内容＞")
    assert paragraphs[start + 1 : start + 6] == [
        "製造場所：市外（群馬県前橋市）",
        "運送便：ヤマト運輸、佐川急便",
        "アレルギー品目：あり",
        "アレルギー品目（該当品目）：乳、小麦",
        "提供可能期間：4月上旬頃～8月下旬頃",
    ]
