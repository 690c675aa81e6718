"""Known vocabularies correct OCR's near misses: place names and words with a small kana."""

from __future__ import annotations

import pytest

from extract.recognize import zh_to_ja
from extract.vocabulary import correct_places, has_old_kanji, old_kanji, restore_small_kana_words


@pytest.mark.parametrize(
    ("read", "right"),
    [
        ("波川市石原80番地", "渋川市石原80番地"),
        ("姓馬県渋川市石原80番地", "群馬県渋川市石原80番地"),
        # regression: 栃木県 named elsewhere made 小川市 as near 小山市 as 渋川市; the prefecture
        # written just before it decides
        ("群馬県小川市子持5678番地2", "群馬県渋川市子持5678番地2"),
        # regression: the 市 lost between the city and its district
        ("群馬県渋川石原 80 番地", "群馬県渋川市石原 80 番地"),
        # regression: the district that bears the city's name, one character off (渋 → 小)
        ("群馬県渋川市小川1900番地1", "群馬県渋川市渋川1900番地1"),
        # regression (unseen scans): a character of the city lost, or misread with its 市 lost
        ("群馬県川市小野上3210番地", "群馬県渋川市小野上3210番地"),
        ("群馬県渋川市川1900番地1", "群馬県渋川市渋川1900番地1"),
        ("群馬県小川", "群馬県渋川市"),
    ],
)
def test_misread_place_names_are_corrected(read: str, right: str) -> None:
    assert correct_places(read, ("群馬県", "栃木県")) == right


@pytest.mark.parametrize(
    "text",
    [
        "群馬県渋川市渋川1900番地1",
        "千葉県館山市館山1564番地1",
        "群馬県吾妻郡東吾妻町原町1",
        "栃木県小山市中央町1-1",
        "埼玉県比企郡小川町大塚55",
        "群馬県渋川市川島1",
        "群馬県前橋市前橋町1",  # a district one character longer is another district
        "群馬県太田市本町1",
        "群馬県みどり市",
        # regression (unseen content): a prefecture whose municipalities are not listed names
        # its own, one character off a listed one (鹿沼市 of 栃木県)
        "新潟県南魚沼市",
        "新潟県魚沼市",
    ],
)
def test_names_that_exist_are_left_alone(text: str) -> None:
    assert correct_places(text, ("群馬県",)) == text


def test_known_words_get_their_small_kana_back() -> None:
    assert restore_small_kana_words("こんにやく芋をじつくり煮た") == "こんにゃく芋をじっくり煮た"
    assert restore_small_kana_words("ぎゅうにゆうとシユークリーム") == "ぎゅうにゅうとシュークリーム"
    assert restore_small_kana_words("使いやすい箱") == "使いやすい箱"  # no known word: unchanged


@pytest.mark.parametrize(
    ("read", "right"),
    [
        # regression (unseen certificates of origin): the 町 of a district misread
        ("群馬県渋川市伊香保困", "群馬県渋川市伊香保町"),
        ("群馬県渋川市伊香保果", "群馬県渋川市伊香保町"),
        ("群馬県渋川市赤域町敷島1234番地", "群馬県渋川市赤城町敷島1234番地"),
    ],
)
def test_misread_districts_of_known_municipalities_are_corrected(read: str, right: str) -> None:
    assert correct_places(read, ("群馬県",)) == right


@pytest.mark.parametrize(
    "text",
    [
        "群馬県渋川市伊香保町伊香保541番地",
        "群馬県渋川市上白井1",
        "群馬県渋川市渋川1900番地1",
        "群馬県渋川市有馬1",  # two-character districts are too near each other to guess at
        "群馬県前橋市伊香保困",  # districts of other municipalities are not known
    ],
)
def test_known_districts_and_unknown_municipalities_are_left_alone(text: str) -> None:
    assert correct_places(text, ("群馬県",)) == text


def test_the_old_kanji_are_jis_and_their_new_forms_are_not_old() -> None:
    """Both forms are Japanese characters (the Chinese forms are zh_to_ja's, which maps them),
    and no new form is itself listed as old."""
    table = old_kanji()
    assert len(table) > 200
    for old, new in table.items():
        assert len(old) == len(new) == 1 and old != new
        assert old.encode("euc_jp") and new.encode("euc_jp")  # JIS X 0208 or 0212: raises if neither
        assert new not in table and old not in zh_to_ja(), old


def test_a_value_with_an_old_kanji_is_found_and_one_without_is_not() -> None:
    assert has_old_kanji("代表社員 角田 惠子") and has_old_kanji("純米吟釀 子持山")
    assert not has_old_kanji("代表社員 角田 恵子") and not has_old_kanji("髙橋 一郎")
