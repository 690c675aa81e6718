"""Recognising a document by its title (extract.classify)."""

from __future__ import annotations

from extract.classify import classify_lines
from extract.layout import Line
from forms.catalogue import get_form

FORM1 = get_form("shibukawa.form1")
TAX = get_form("tax_certificate")


def _line(text: str) -> Line:
    line = Line(page=1, words=[])
    line.text = text
    return line


def test_a_title_with_characters_read_as_boxes_is_still_recognised() -> None:
    """Regression (unseen content, city layout, 200 dpi): four characters of the bold title were
    taken for ticked boxes, and 86 was just out of reach: the whole application was unknown."""
    read = "渋川市ふるさと応☑ ☑ 寄附金(ふるさと納税)返礼☑ 提供☑ 込書"
    found = classify_lines([_line("様式第1号"), _line(read)], [FORM1, TAX])
    assert found.form is FORM1


def test_a_line_of_boxes_is_no_title() -> None:
    found = classify_lines([_line("☑ ☐ ☑ ☐"), _line("☑ 通年 ☐ 期間限定")], [FORM1, TAX])
    assert found.form is None
