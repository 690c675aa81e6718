"""The scan generator's other layout of 様式第1号 (``--layout city``): the form as if retyped in
the city's own Word file, which the benchmark measures apart."""

from __future__ import annotations

import importlib.util
import io
import random
import re
import sys
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn

from forms.catalogue import get_form
from generate.fill import fill_docx

SCRIPT = Path(__file__).resolve().parents[1] / "samples" / "scans" / "generate.py"
spec = importlib.util.spec_from_file_location("scan_samples", SCRIPT)
assert spec is not None and spec.loader is not None
scan_samples = importlib.util.module_from_spec(spec)
sys.modules.setdefault("scan_samples", scan_samples)
spec.loader.exec_module(scan_samples)


def _filled() -> bytes:
    record = scan_samples.form1_record(random.Random(3))
    return fill_docx(get_form("shibukawa.form1"), record["fields"])


def _grid(doc: Document) -> list[int]:
    return [int(c.get(qn("w:w"))) for c in doc.tables[0]._tbl.tblGrid.findall(qn("w:gridCol"))]


def test_city_layout_changes_font_numbering_and_column_widths_but_not_the_words() -> None:
    ours = Document(io.BytesIO(_filled()))
    city = Document(io.BytesIO(scan_samples.city_layout(_filled())))
    fonts = {f.get(qn("w:eastAsia")) for root in (city.element, city.styles.element) for f in root.iter(qn("w:rFonts"))}
    assert fonts == {scan_samples.CITY_FONT}
    labels = [row.cells[0].text for row in city.tables[0].rows]
    assert labels[0].startswith("（1）商品名") and any(t.startswith("（19）担当者連絡先") for t in labels)
    before, after = _grid(ours), _grid(city)
    assert sum(after) == sum(before) and after[0] > before[0] and after[2] < before[2]
    for tr in city.tables[0]._tbl.findall(qn("w:tr")):  # every cell as wide as the columns it spans
        at = 0
        for tc in tr.findall(qn("w:tc")):
            span = tc.tcPr.find(qn("w:gridSpan"))
            n = int(span.get(qn("w:val"))) if span is not None else 1
            assert int(tc.tcPr.find(qn("w:tcW")).get(qn("w:w"))) == sum(after[at : at + n])
            at += n
    # the words stay as they were, but for the numbering
    texts = lambda d: [re.sub(r"^（(\d+)）", r"\1 ", c.text) for row in d.tables[0].rows for c in row.cells]  # noqa: E731
    assert texts(city) == texts(ours)


def test_without_widths_the_columns_stay_ours() -> None:
    ours = Document(io.BytesIO(_filled()))
    city = Document(io.BytesIO(scan_samples.city_layout(_filled(), widths=False)))
    assert _grid(city) == _grid(ours)
    assert city.tables[0].rows[0].cells[0].text.startswith("（1）")


def test_holdout_content_shares_no_text_with_what_the_readers_were_tuned_on() -> None:
    """The holdout is only a measure of unseen text while none of its values is a base one."""
    base, holdout = scan_samples.BASE, scan_samples.HOLDOUT
    for pool in ("addresses", "companies", "representatives", "people", "departments", "places", "domains",
                 "shipping", "best_before", "packages", "cities", "tax_offices", "tax_kinds", "origin_issuers",
                 "origins", "materials"):
        assert not set(getattr(base, pool)) & set(getattr(holdout, pool)), pool
    for i in range(4):  # name, size and description of the products
        assert not {p[i] for p in base.products} & {p[i] for p in holdout.products}
    record = scan_samples.form1_record(random.Random(3), holdout)
    assert record["fields"]["product_description"] in {p[3] for p in holdout.products}
    assert record["fields"]["applicant_name"] in holdout.companies
