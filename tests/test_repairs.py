"""Repairs of what scans do to values (extract/repairs.py), one misreading at a time."""

from __future__ import annotations

import pytest

from extract.repairs import repair_domain, tidy_text
from extract.result import ExtractedField
from forms.catalogue import get_form


@pytest.mark.parametrize(
    ("read", "right"),
    [
        ("shop@example.co.jd", "shop@example.co.jp"),
        # regression (unseen scans): the j of jp read twice, with or without a d
        ("shop@akagi-farm.co.jjdp", "shop@akagi-farm.co.jp"),
        ("sales@shibukawa-foods.jjp", "sales@shibukawa-foods.jp"),
        ("https://shibukawa-foods.jjp/", "https://shibukawa-foods.jp/"),
        ("a@example.jpp", "a@example.jp"),
    ],
)
def test_garbled_domain_ends_are_repaired(read: str, right: str) -> None:
    assert repair_domain(read) == right


@pytest.mark.parametrize("kept", ["https://example.jobs/", "shop@example.co.jp", "https://example.jp/"])
def test_right_domains_are_kept(kept: str) -> None:
    assert repair_domain(kept) == kept


def _spec_field(value: str, source: str = "ocr") -> ExtractedField:
    return ExtractedField(value=value, raw=value, confidence=0.9, source=source, page=1)


@pytest.fixture(scope="module")
def spec_row():
    form = get_form("shibukawa.form1")
    return next(r for r in form.rows() if any(f.key == "product_spec" for f in r.fields))


@pytest.mark.parametrize(
    ("read", "right"),
    [
        # regression (unseen scans): the tail of a g read as a 9
        ("ロースハム400g9・ベーコン300g", "ロースハム400g・ベーコン300g"),
        ("ロースハム400g・ベーコン300g", "ロースハム400g・ベーコン300g"),
        ("肩ロース500g(化粧箱入り)", "肩ロース500g(化粧箱入り)"),
        ("1L×6本", "1L×6本"),
        ("500g2パック", "500g2パック"),
    ],
)
def test_a_digit_glued_to_a_unit_is_dropped_on_scans(spec_row, read: str, right: str) -> None:
    assert tidy_text(_spec_field(read), spec_row, ()).value == right


def test_a_typed_value_is_not_repaired(spec_row) -> None:
    assert tidy_text(_spec_field("400g9・", source="text"), spec_row, ()).value == "400g9・"
