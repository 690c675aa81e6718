from datetime import date, datetime

import pytest

from generate.wareki import (
    blank_wareki,
    era_of,
    format_fiscal_year,
    format_wareki,
    format_wareki_year,
    parse_wareki,
    to_date,
)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 12, 31), "令和元年12月31日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2020, 1, 1), "令和2年1月1日"),
        (date(2025, 4, 1), "令和7年4月1日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1912, 7, 30), "大正元年7月30日"),
    ],
)
def test_format_wareki_at_era_boundaries(day: date, expected: str) -> None:
    assert format_wareki(day) == expected


def test_format_wareki_fullwidth_and_datetime() -> None:
    assert format_wareki(date(2025, 10, 3), fullwidth=True) == "令和７年１０月３日"
    assert format_wareki(date(2019, 5, 1), fullwidth=True) == "令和元年５月１日"
    assert format_wareki(datetime(2024, 1, 4, 17, 0)) == "令和6年1月4日"


def test_era_of_and_year_forms() -> None:
    era, year = era_of(date(2024, 1, 19))
    assert (era.name, era.initial, year) == ("令和", "R", 6)
    assert format_wareki_year(date(2019, 6, 1)) == "令和元年"
    assert blank_wareki() == "令和　　年　　月　　日"
    with pytest.raises(ValueError, match="1873"):
        era_of(date(1860, 1, 1))


def test_fiscal_year_names() -> None:
    assert format_fiscal_year(2025) == "令和7年度"
    assert format_fiscal_year(2019) == "令和元年度"
    assert format_fiscal_year(2018) == "平成30年度"
    assert format_fiscal_year(2023, start_month=1) == "令和5年度"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和7年4月1日", date(2025, 4, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和７年４月１日", date(2025, 4, 1)),
        ("令和 7 年 4 月 1 日", date(2025, 4, 1)),
        ("R7.4.1", date(2025, 4, 1)),
        ("R7/12/31", date(2025, 12, 31)),
        ("H31/4/30", date(2019, 4, 30)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("2025-04-01", date(2025, 4, 1)),
        ("2025年4月1日", date(2025, 4, 1)),
    ],
)
def test_parse_wareki(text: str, expected: date) -> None:
    assert parse_wareki(text) == expected


@pytest.mark.parametrize("text", ["令和元年4月30日", "平成0年1月1日", "令和7年13月1日", "きのう", ""])
def test_parse_wareki_rejects_what_is_not_a_date(text: str) -> None:
    with pytest.raises(ValueError):
        parse_wareki(text)


def test_to_date_accepts_record_values() -> None:
    assert to_date(None) is None
    assert to_date("") is None
    assert to_date(date(2025, 1, 2)) == date(2025, 1, 2)
    assert to_date(datetime(2025, 1, 2, 9, 30)) == date(2025, 1, 2)
    assert to_date("R6.1.19") == date(2024, 1, 19)
    with pytest.raises(ValueError):
        to_date(20250102)
