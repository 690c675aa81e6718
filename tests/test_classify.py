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


def test_a_title_misread_by_one_character_more_is_recognised_by_the_form_s_labels() -> None:
    """Regression (blind 300 dpi certificate): 納税証明書 read as 疹税証明書 scored 80, under 86,
    and the whole certificate was unknown, all eight values lost, silently."""
    from extract.layout import build_lines
    from tests.pagebuild import make_page

    def lines(rows: list[list[str]]) -> list[Line]:
        return build_lines(make_page(rows, widths=[90, 300], source="ocr", conf=0.8))

    labels = [["交付番号", "第7059号"], ["住所", "群馬県渋川市吹屋58番地2"], ["氏名", "行幸田製麺株式会社"],
              ["税目", "入湯税"], ["未納税額", "0円"], ["滞納なし"], ["上記のとおり相違ないことを証明します。"]]
    assert classify_lines(lines([["疹税証明書（その3）"], *labels]), [FORM1, TAX]).form is TAX
    # the near title alone, or with a few of the labels (a 課税証明書 has an address and a name), is not enough
    assert classify_lines(lines([["疹税証明書（その3）"], ["本文"]]), [FORM1, TAX]).form is None
    assert classify_lines(lines([["課税証明書"], *labels[1:3], ["年度", "令和7年度"]]), [FORM1, TAX]).form is None


def test_a_title_garbled_further_is_recognised_by_half_the_form_s_labels() -> None:
    """Regression (zoo seed 7, 納 税 証 明 書 spaced out and read as 納説証 明): the title alone
    scored 67 and every value of the certificate was lost."""
    from extract.layout import build_lines
    from tests.pagebuild import make_page

    def lines(rows: list[list[str]]) -> list[Line]:
        return build_lines(make_page(rows, widths=[90, 300], source="ocr", conf=0.8))

    body = [["番号", "第8581号"], ["住所（納税地）", "群馬県渋川市北橘町真壁1286番地"], ["氏名（名称）", "伊香保物産株式会社"],
            ["税目", "法人税、消費税及地方消費税"]]
    assert classify_lines(lines([["納説証 明：（その３の３）"], *body]), [FORM1, TAX]).form is TAX
    # a garbled title with a name and an address only is no certificate
    assert classify_lines(lines([["納説証 明："], *body[1:3]]), [FORM1, TAX]).form is None
    # (zoo seed 5) a title read a character long, 納税税証明書, scores 80: near, yet the
    # certificate prints only half the form's labels; half suffice as for a garbled title
    assert classify_lines(lines([["納税税証明書（その３の３）"], *body]), [FORM1, TAX]).form is TAX
