"""The stages of extract/assign.py on their own: label likeness, choices by their marks,
amounts by their qualifiers, details in brackets, look-alikes of another script."""

from __future__ import annotations

import pytest

from extract.assign import Part, _amount_for, _between, _read_choices, likeness, put_right_lookalikes
from extract.layout import Line
from extract.pagemodel import Word
from forms.catalogue import get_form

FORM1 = get_form("shibukawa.form1")


def _parts(text: str, *, ocr: bool = False) -> list[Part]:
    words = [Word(text, 0.0, 0.0, 10.0 * len(text), 10.0, 0.9 if ocr else 1.0)]
    line = Line(page=1, words=words, text=text, ocr=ocr, owners=[0] * len(text), segment_starts=[0])
    return [Part(line, 0, len(text))]


@pytest.mark.parametrize(
    ("text", "label", "at_least"),
    [
        ("代表者(職・氏名)", "代表者(職・氏名)", 100),
        ("代表者", "代表者(職・氏名)", 90),  # the label printed without its parenthesis
        ("商品規格(ポータルサイト等に転記します)", "商品規格", 100),  # a long note is no part of it
        ("a当該地方団体によ", "a当該地方団体による返礼品等の調達費用", 75),  # cut where it wrapped
        ("税披価格", "税抜価格", 95),  # (zoo seed 5) a kanji read as its look-alike
        ("ふリがな", "ふりがな", 95),  # (zoo seed 5, zoo_019) a hiragana read as its katakana twin
    ],
)
def test_label_likeness(text: str, label: str, at_least: float) -> None:
    assert likeness(text, (label,)) >= at_least


def test_a_look_alike_kanji_costs_less_than_another_and_more_than_none() -> None:
    assert likeness("税抜価格", ("税抜価格",)) > likeness("税披価格", ("税抜価格",)) > likeness("税込価格", ("税抜価格",)) + 20


def test_joined_sub_labels_are_told_apart() -> None:
    """連絡先(所属部署) and 連絡先(ご担当者) are different labels, not both 連絡先."""
    assert likeness("連絡先(ご担当者)", ("連絡先(所属部署)",)) < 84


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("☐市内 ☑市外（群馬県前橋市）", "outside"),
        ("レ市内 □市外（ ）", "in_city"),
        ("市内 市外 ✓（群馬県前橋市）", "outside"),  # a tick after the chosen only
        ("●市内 ○市外", "in_city"),
    ],
)
def test_a_choice_is_read_by_the_mark_beside_its_label(text: str, want: str) -> None:
    assert _read_choices(FORM1.field("ingredients_origin"), _parts(text)).value == want


def test_choices_whose_labels_were_misread_are_aligned_in_order() -> None:
    reading = _read_choices(FORM1.field("carriers"), _parts("☑ゆうパック ☐佐川急便 ☑ヤマト運給", ocr=True))
    assert reading.value == ["japan_post", "yamato"]


def test_a_speck_between_a_label_and_its_tick_does_not_move_the_tick() -> None:
    """Regression (zoo seed 7, 300 dpi): 小麦・√ (a speck read as ・) left 小麦 without its tick,
    so the row read its ticks as standing before their labels: 乳, 小麦, そば for 卵, 乳, 小麦."""
    grid = "卵√乳√小麦・√そば落花生えびかに さけさばあわびいかいくら 牛肉豚肉"
    assert _read_choices(FORM1.field("allergens"), _parts(grid, ocr=True)).value == ["卵", "乳", "小麦"]
    # a dot printed between options stays between them
    assert _read_choices(FORM1.field("ingredients_origin"), _parts("☐市内・☑市外（ ）")).value == "outside"


def test_a_grid_with_nothing_ticked_is_none_chosen() -> None:
    grid = "卵 乳 小麦 そば 落花生 えび かに さけ さば あわび いか いくら 牛肉 豚肉 鶏肉 ゼラチン アーモンド カシューナッツ くるみ 大豆 ごま マカダミアナッツ やまいも オレンジ キウイ バナナ もも りんご"
    assert _read_choices(FORM1.field("allergens"), _parts(grid)).value == []


def test_amounts_in_one_cell_go_by_their_qualifiers() -> None:
    excl, incl = FORM1.field("gift_price_excl_tax"), FORM1.field("gift_price_incl_tax")
    text = "￥3,207（税込価格）、￥2,970（本体価格）"
    assert "2,970" in _amount_for(excl, [excl, incl], text)
    assert "3,207" in _amount_for(incl, [excl, incl], text)


def test_a_detail_keeps_its_own_brackets() -> None:
    assert _between("☐市内 ☑市外（北海道（小豆））", "（", "）") == "北海道(小豆)"


@pytest.mark.parametrize(
    ("read", "meant"),
    [("甘口みそにニ晩漬け", "甘口みそに二晩漬け"), ("第ー回", "第一回"), ("ロ座", "口座")],
)
def test_katakana_read_for_a_kanji_is_put_right(read: str, meant: str) -> None:
    assert put_right_lookalikes(read) == meant


@pytest.mark.parametrize("word", ["子持高原ハム", "ハム", "肩ロース", "ニンジン", "人口", "ロース", "第一回", "コーヒー", "工場", "力士", "カレー", "一括表示", "八幡", "夕方", "ハム", "口座番号", "エコバッグ"])
def test_right_words_are_never_changed(word: str) -> None:
    assert put_right_lookalikes(word) == word


def test_a_scanned_address_loses_marks_its_letters_cannot_have() -> None:
    from extract.assign import Value, read_value

    email = FORM1.field("contact_email")
    reading = read_value(email, Value(_parts("şales@mizusawa-teuchi.co.jp", ocr=True)), [email])
    assert reading.value == "sales@mizusawa-teuchi.co.jp"


def test_an_address_wrapped_in_its_cell_is_one_word_but_the_next_cell_is_not() -> None:
    from extract.assign import _words_unwrapped

    def part(text: str, x: float, y: float) -> Part:
        line = Line(page=1, words=[Word(text, x, y, x + 5 * len(text), y + 10)], text=text, owners=[0] * len(text), segment_starts=[0])
        return Part(line, 0, len(text))

    assert _words_unwrapped([part("order@mizusawa-teuchi.c", 160, 100), part("o.jp", 160, 112)]) == "order@mizusawa-teuchi.co.jp"
    # regression (zoo seed 93, layout f): the label of the next cell read into the address
    assert _words_unwrapped([part("shop@haruna-miso.co.jp", 160, 100), part("Webサイト", 300, 100)]) == "shop@haruna-miso.co.jp Webサイト"


def test_an_inline_key_read_with_a_look_alike_kanji_is_a_key() -> None:
    """Regression (zoo seed 5, zoo_000): 税披価格：2,190円 under 一般小売価格 was no key (the inline
    pass compared characters only), so the group's label took the lines under it as its value and
    its 税込 went to the group above."""
    from extract.assign import SETTINGS, Slot, _inline_key

    [part] = _parts("税披価格：2,190円", ocr=True)
    slot = Slot(1, (0.0, 0.0, 170.0, 10.0), [part])
    key = _inline_key(slot, 0, 0, ("税抜価格", "税込価格"), SETTINGS)
    assert key is not None and key.text == "税披価格" and key.value is not None and key.value.text == "2,190円"


def test_an_inline_key_takes_the_longest_label_read_well() -> None:
    """Regression (zoo seed 5, zoo_039): 17.荷姿.（サイズ・重量) — the short label 荷姿 read
    exactly won over 荷姿（サイズ・重量） read with a speck inside, and （サイズ・重量) went into
    package_size_weight's value."""
    from extract.assign import SETTINGS, Slot, _inline_key

    [part] = _parts("荷姿.（サイズ・重量)　60サイズ・1.3kg", ocr=True)
    slot = Slot(1, (0.0, 0.0, 270.0, 10.0), [part])
    key = _inline_key(slot, 0, 0, ("荷姿", "荷姿(サイズ・重量)"), SETTINGS)  # as folded
    assert key is not None and key.value is not None and key.value.text == "60サイズ・1.3kg"
    # (zoo_004) 代表者（職：氏名）, its ・ read as ：
    [part] = _parts("代表者（職：氏名）：代表取締役狩野", ocr=True)
    slot = Slot(1, (0.0, 0.0, 270.0, 10.0), [part])
    key = _inline_key(slot, 0, 0, ("代表者", "代表者(職・氏名)"), SETTINGS)
    assert key is not None and key.value is not None and key.value.text == "代表取締役狩野"
    # a reading one character longer than the label it reads takes no character of the value
    [part] = _parts("所在地(住所)群馬県渋川市石原96番地", ocr=True)
    slot = Slot(1, (0.0, 0.0, 270.0, 10.0), [part])
    key = _inline_key(slot, 0, 0, ("住所", "所在地(住所)"), SETTINGS)
    assert key is not None and key.value is not None and key.value.text == "群馬県渋川市石原96番地"
    # (zoo seed 98, zoo_036) a group's label with its sub-label, one character short, does not
    # end on the value's first digit: 返礼品価格(調達価格)税抜 read in 返礼品価格(調達価格)1
    [part] = _parts("返礼品価格（調達価格） 13490円 (本体価格)", ocr=True)
    slot = Slot(1, (0.0, 0.0, 270.0, 10.0), [part])
    key = _inline_key(slot, 0, 0, ("返礼品価格(調達価格)", "返礼品価格(調達価格)税抜"), SETTINGS)
    assert key is not None and key.value is not None and key.value.text == "13490円 (本体価格)"


_ALLERGENS = ["卵", "乳", "小麦", "そば", "落花生", "えび", "かに", "さけ", "さば", "あわび", "いか", "いくら", "牛肉", "豚肉",
              "鶏肉", "ゼラチン", "アーモンド", "カシューナッツ", "くるみ", "大豆", "ごま", "マカダミアナッツ", "やまいも",
              "オレンジ", "キウイ", "バナナ", "もも", "りんご"]  # fmt: skip


def _grid(marks: dict[str, str], misread: dict[str, str] | None = None) -> str:
    return " ".join(f"{(misread or {}).get(a, a)} {marks.get(a, '☐')}" for a in _ALLERGENS)


def test_a_box_grid_with_a_label_misread_is_sure_when_every_tick_is_a_label_s() -> None:
    """Zoo seed 5: 18 allergen grids read right were marked for review because one of 28 labels
    was not found. When the grid's boxes are read (empty ones among them) and every ticked box
    stands by a label found, the value is as sure as its marks."""
    allergens = FORM1.field("allergens")
    sure = _read_choices(allergens, _parts(_grid({"小麦": "☑"}, {"ゼラチン": "・"}), ocr=True))
    assert sure.value == ["小麦"] and sure.fit == 1.0
    # a ring round a label leaves no empty box by the others: a label not found may be the one
    ringed = " ".join("☑えび" if a == "えび" else "・" if a == "ゼラチン" else a for a in _ALLERGENS)
    reading = _read_choices(allergens, _parts(ringed, ocr=True))
    assert reading.value == ["えび"] and reading.fit < 1.0


def test_a_katakana_read_among_hiragana_is_the_hiragana_it_looks_like() -> None:
    """The script look-alikes (forms/vocabulary/script_lookalikes.tsv) put right by their
    neighbours: リ between hiragana is り; among katakana it stays."""
    assert put_right_lookalikes("ふリがな") == "ふりがな"
    assert put_right_lookalikes("ブルーベリー") == "ブルーベリー"


@pytest.mark.parametrize(
    ("read", "want"),
    [
        # (zoo seed 5, zoo_034) 、 read as ; between Japanese characters
        ("県産米で醸した;香り高く", "県産米で醸した、香り高く"),
        ("Tel;0279", "Tel;0279"),  # between ASCII it stays
        # (zoo seed 5, zoo_017) a wave dash read as 〜, typed ～ comes out as ~ (NFKC)
        ("ふじ5kg(14〜18玉)", "ふじ5kg(14~18玉)"),
    ],
)
def test_a_scanned_text_value_s_punctuation_as_typed_text_gives_it(read: str, want: str) -> None:
    from extract.assign import _ocr_cleanup

    assert _ocr_cleanup(FORM1.field("product_description"), read) == want
