import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pdfplumber
import pytest

from forms.errors import InvalidRecord
from forms.programs import get_program
from generate.published_list import (
    COLUMNS,
    PublishedRow,
    cp932_safe,
    row_from_record,
    to_csv_cp932,
    to_csv_utf8,
    to_html,
    write_published_list,
)

SHIBUKAWA = get_program("shibukawa")
PUBLISHED = date(2025, 6, 2)

CERTIFICATES = [
    {  # a 様式第2号 record: the percentage is computed from A and B
        "product_name": "渋川ブレンド珈琲ギフト",
        "manufacturer_name": "有限会社赤城焙煎所",
        "procurement_cost_a": 8000,
        "outside_cost_b": 3000,
        "manufacturing_place": "群馬県渋川市",
        "general_retail_price": 9800,
    },
    {  # the facts the web layer keeps for an accepted certificate
        "product_name": "𠮷田さんの手づくり味噌〜特選〜",
        "manufacturer_name": "株式会社髙橋醸造 & Co.",
        "percentage": "55.5",
        "manufacturing_place": "in_city",
        "retail_price": "3,240",
        "published_on": "2025-05-20",
    },
]


def _rows() -> list[PublishedRow]:
    return [row_from_record(r, SHIBUKAWA, PUBLISHED) for r in CERTIFICATES]


def test_rows_from_certificates() -> None:
    first, second = _rows()
    assert first.value_added_percent == Decimal("62.5")
    assert (first.published_on, first.municipality, first.retail_price) == (PUBLISHED, "渋川市", 9800)
    assert second.value_added_percent == Decimal("55.5")
    assert second.published_on == date(2025, 5, 20)
    assert second.manufacturing_place == "群馬県渋川市"
    assert second.retail_price == 3240
    assert first.display_cells() == [
        "令和7年6月2日",
        "渋川市",
        "渋川ブレンド珈琲ギフト",
        "有限会社赤城焙煎所",
        "62.5%",
        "群馬県渋川市",
        "9,800円",
    ]
    with pytest.raises(InvalidRecord, match="percentage"):
        row_from_record({"product_name": "x", "manufacturer_name": "y"}, SHIBUKAWA, PUBLISHED)
    with pytest.raises(InvalidRecord, match="manufacturer_name"):
        row_from_record({"product_name": "x", "percentage": 60}, SHIBUKAWA, PUBLISHED)


def test_html_page_escapes_and_lists_every_column() -> None:
    page = to_html(_rows(), title="渋川市 公表")
    assert page.startswith("<!doctype html>") and '<html lang="ja">' in page
    for column in COLUMNS:
        assert f">{column}</th>" in page
    assert "株式会社髙橋醸造 &amp; Co." in page
    assert "令和7年6月2日" in page and "62.5%" in page and "9,800円" in page
    assert "（2件）" in page


def test_csv_utf8_with_bom_for_excel() -> None:
    data = to_csv_utf8(_rows())
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == list(COLUMNS)
    assert table[1] == [
        "2025-06-02",
        "渋川市",
        "渋川ブレンド珈琲ギフト",
        "有限会社赤城焙煎所",
        "62.5",
        "群馬県渋川市",
        "9800",
    ]
    assert table[2][2] == "𠮷田さんの手づくり味噌〜特選〜"  # UTF-8 keeps everything


def test_csv_shift_jis_replaces_and_reports() -> None:
    data, replaced = to_csv_cp932(_rows())
    table = list(csv.reader(io.StringIO(data.decode("cp932"))))
    assert table[0] == list(COLUMNS)
    # 𠮷 is outside cp932: replaced by 〓 and reported; 〜 (U+301C) becomes ～ silently; 髙 is in cp932.
    assert table[2][2] == "〓田さんの手づくり味噌～特選～"
    assert table[2][3] == "株式会社髙橋醸造 & Co."
    assert [(r.row, r.column, r.char, r.replaced_with, r.codepoint) for r in replaced] == [
        (2, "返礼品等の名称", "𠮷", "〓", "U+20BB7")
    ]
    assert "U+20BB7" in str(replaced[0])


def test_cp932_safe_uses_compatible_forms() -> None:
    assert cp932_safe("−10℃〜") == ("－10℃～", [])
    text, replaced = cp932_safe("Café", row=3, column="製造業者")
    assert text == "Caf〓"
    assert replaced[0].row == 3 and replaced[0].char == "é"


def test_write_all_formats_including_pdf(tmp_path: Path) -> None:
    written = write_published_list("shibukawa", CERTIFICATES, tmp_path, published=PUBLISHED)
    assert set(written) == {"html", "csv", "csv_sjis", "docx", "pdf"}
    assert dict(written)["html"].name == "shibukawa-value-added-certificates-20250602.html"
    assert written["csv_sjis"].name.endswith("-sjis.csv")
    assert len(written.replacements) == 1
    # Sorted by 公表年月日.
    assert written.rows[0].product_name.endswith("〜特選〜")
    with pdfplumber.open(written["pdf"]) as pdf:
        page = pdf.pages[0]
        assert page.width > page.height  # landscape
        text = "".join((page.extract_text() or "").split())
        table = [["".join((cell or "").split()) for cell in row] for row in page.extract_table()]
    assert "渋川市返礼品等の付加価値割合に関する証明事項の公表" in text
    assert table[0] == [c.replace("　", "") for c in COLUMNS]
    assert table[2] == [
        "令和7年6月2日",
        "渋川市",
        "渋川ブレンド珈琲ギフト",
        "有限会社赤城焙煎所",
        "62.5%",
        "群馬県渋川市",
        "9,800円",
    ]
    assert table[1][:4] == [
        "令和7年5月20日",
        "渋川市",
        "𠮷田さんの手づくり味噌〜特選〜",
        "株式会社髙橋醸造&Co.",
    ]


def test_write_selected_formats_only(tmp_path: Path) -> None:
    written = write_published_list("shibukawa", _rows(), tmp_path, formats=("csv",), basename="list")
    assert dict(written) == {"csv": tmp_path / "list.csv"}
    with pytest.raises(InvalidRecord, match="formats"):
        write_published_list("shibukawa", _rows(), tmp_path, formats=("xlsx",))
