"""Japanese era dates (和暦) as printed on official documents.

``format_wareki(date(2019, 5, 1))`` → ``"令和元年5月1日"``: the first year of an era is 元年,
digits are half-width by default (``fullwidth=True`` gives ２０２５-style digits as some
municipalities print in vertical or formal text). ``parse_wareki`` / ``to_date`` read record
values back into dates (ISO dates, 令和7年4月1日, 令和元年…, R7.4.1) with extraction's parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Era:
    name: str
    #: Latin initial used in short forms (R7.4.1).
    initial: str
    start: date


#: Newest first. Meiji is counted from the adoption of the Gregorian calendar (明治6年1月1日).
ERAS: tuple[Era, ...] = (
    Era("令和", "R", date(2019, 5, 1)),
    Era("平成", "H", date(1989, 1, 8)),
    Era("昭和", "S", date(1926, 12, 25)),
    Era("大正", "T", date(1912, 7, 30)),
    Era("明治", "M", date(1873, 1, 1)),
)

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def era_of(day: date) -> tuple[Era, int]:
    """The era of ``day`` and the year within it (1 for 元年)."""
    if isinstance(day, datetime):
        day = day.date()
    for era in ERAS:
        if day >= era.start:
            return era, day.year - era.start.year + 1
    raise ValueError(f"{day.isoformat()} is before the Gregorian calendar was adopted in Japan (1873)")


def _year_text(year: int, fullwidth: bool) -> str:
    if year == 1:
        return "元"
    text = str(year)
    return text.translate(_FULLWIDTH) if fullwidth else text


def format_wareki(day: date, *, fullwidth: bool = False) -> str:
    """``date(2019, 5, 1)`` → ``"令和元年5月1日"``."""
    era, year = era_of(day)
    month, dom = str(day.month), str(day.day)
    if fullwidth:
        month, dom = month.translate(_FULLWIDTH), dom.translate(_FULLWIDTH)
    return f"{era.name}{_year_text(year, fullwidth)}年{month}月{dom}日"


def format_wareki_year(day: date, *, fullwidth: bool = False) -> str:
    """The era year alone: ``date(2025, 6, 1)`` → ``"令和7年"``."""
    era, year = era_of(day)
    return f"{era.name}{_year_text(year, fullwidth)}年"


def format_fiscal_year(fiscal_year: int, *, start_month: int = 4) -> str:
    """A fiscal year named by its first day's era year: 2025 → ``"令和7年度"``, 2019 → ``"令和元年度"``.

    A fiscal year that starts in one era and ends in the next (2018-04 … 2019-03 is 平成30年度;
    2019-04 … 2020-03 is, by the common convention, 令和元年度) is named by its last era.
    """
    last_day = date(fiscal_year + (1 if start_month > 1 else 0), (start_month - 2) % 12 + 1, 28)
    era, _ = era_of(last_day)
    year = fiscal_year - era.start.year + 1
    return f"{era.name}{_year_text(year, False)}年度"


def blank_wareki(era: str = "令和") -> str:
    """The printed blank to fill by hand: ``"令和　　年　　月　　日"``."""
    return f"{era}　　年　　月　　日"


def parse_wareki(text: str) -> date:
    """Read a date as forms print it (和暦 or 西暦); raises ValueError when it is not one.

    The reading is extraction's (``extract.normalize.parse_date``: full-width digits, 元年,
    漢数字, R7.4.1 …), so a value reads the same wherever it comes from.
    """
    from extract.normalize import parse_date

    result = parse_date(text)
    if result is None:
        raise ValueError(f"not a date: {text!r}")
    return result


def to_date(value: object) -> date | None:
    """A record's date value (``date``, ISO string, 和暦 string, or empty) as a date or None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return parse_wareki(value)
    raise ValueError(f"not a date: {value!r}")
