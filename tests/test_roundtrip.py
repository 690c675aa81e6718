"""Round trip: our blank DOCX filled as a user would, printed to PDF by LibreOffice, extracted.

Every field of DESIGN 4.3 must come back equal to what was written, from the DOCX and from
the PDF, and the filled fillable PDF (AcroForm) must read back the same. A guided field
(時期限定（　頃～　頃）, 梱包重量　kg　サイズ) comes back with the spaces the page puts between
its blanks and printed words, so it is compared as the guide filled in (tests/test_golden.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extract.pipeline import extract_files
from forms.catalogue import get_form
from tests.test_golden import comparable
from generate.fill import fill_docx, fill_pdf
from generate.libreoffice import convert_to_pdf

RECORD = Path(__file__).resolve().parents[1] / "samples" / "records" / "form1_wagyu.json"
FORM1 = get_form("shibukawa.form1")

# A second record that exercises the other branch of every choice.
OTHER = {
    "application_date": "2019-05-01",  # 令和元年5月1日
    "applicant_postal_code": "377-0008",
    "applicant_address": "群馬県渋川市渋川1234番地の5",
    "applicant_name": "渋川こんにゃく工房",
    "applicant_representative": "店主 伊香保 次郎",
    "product_name_kana": "テヅクリコンニャクツメアワセ",
    "product_name": "手づくりこんにゃく詰め合わせ",
    "product_spec": "板こんにゃく250g×4、刺身こんにゃく200g×2",
    "product_description": "赤城山麓の水で仕込んだ昔ながらの手づくりこんにゃくです。",
    "donation_amount": 10000,
    "gift_price_excl_tax": 2700,
    "gift_price_incl_tax": 2916,
    "retail_price_excl_tax": 3500,
    "retail_price_incl_tax": 3780,
    "ingredients_origin": "outside",
    "ingredients_origin_detail": "群馬県昭和村",
    "manufacturing_place": "in_city",
    "supply_period": "limited",
    "supply_period_detail": "4月上旬頃~8月下旬頃",
    "acceptance_period": "year_round",
    "supply_quantity": "月50セット",
    "shipping_timing": "毎週火曜日に発送",
    "carriers": ["sagawa"],
    "temperature": "chilled",
    "allergens_present": False,
    "allergens": [],
    "best_before": "製造日から30日",
    "package_size_weight": "梱包重量2.5kg 80サイズ",
    "subscription": "年3回(4月・8月・12月)",
    "contact_department": "製造部",
    "contact_person": "伊香保 花",
    "contact_phone": "090-1234-5678",
    "contact_fax": "0279-23-1111",
    "contact_email": "konnyaku@example.jp",
    "contact_website_present": True,
    "contact_website_url": "https://konnyaku.example.jp/shop",
}


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """name → (record, docx path, pdf path), converted in one LibreOffice start."""
    tmp = tmp_path_factory.mktemp("roundtrip")
    records = {"wagyu": json.loads(RECORD.read_text(encoding="utf-8"))["fields"], "konnyaku": OTHER}
    docs = {}
    for name, record in records.items():
        path = tmp / f"{name}.docx"
        path.write_bytes(fill_docx(FORM1, record))
        docs[name] = path
    pdfs = convert_to_pdf(list(docs.values()), tmp / "pdf")
    return {name: {"record": records[name], "docx": docs[name], "pdf": pdf} for name, pdf in zip(docs, pdfs)}


def _values(path: Path) -> dict:
    [doc] = extract_files([path]).documents
    assert doc.form == "shibukawa.form1"
    return {k: v.value for k, v in doc.fields.items()}


@pytest.mark.parametrize("name", ["wagyu", "konnyaku"])
@pytest.mark.parametrize("kind", ["docx", "pdf"])
def test_every_field_comes_back(filled: dict, name: str, kind: str) -> None:
    record = filled[name]["record"]
    assert comparable(FORM1, _values(filled[name][kind])) == comparable(FORM1, record)


def test_other_record_covers_every_key(filled: dict) -> None:
    keys = set(filled["wagyu"]["record"]) | set(filled["konnyaku"]["record"])
    assert keys == set(FORM1.keys())


def test_acroform_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "filled.pdf"
    path.write_bytes(fill_pdf(FORM1, OTHER))
    [doc] = extract_files([path]).documents
    assert comparable(FORM1, {k: v.value for k, v in doc.fields.items()}) == comparable(FORM1, OTHER)
    assert all(v.source == "acroform" for k, v in doc.fields.items() if k != "allergens")
