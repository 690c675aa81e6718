"""extract/lexicon.py: misread kanji in free text put right by dictionary and glyph shape."""

from __future__ import annotations

import pytest

from extract.lexicon import GLYPH_THRESHOLD, Correction, correct_kanji, glyph_similarity, neighbours


@pytest.mark.parametrize(
    ("misread", "right"),
    [
        ("上州和生すき焼きセット", "上州和牛すき焼きセット"),
        ("渋川市内の牧場で育てた上州和生の肩ロースを、市内の工場で手切りしました。",
         "渋川市内の牧場で育てた上州和牛の肩ロースを、市内の工場で手切りしました。"),
        ("桜のチップでじっくり煙製しました。", "桜のチップでじっくり燻製しました。"),
        ("桜のチップでじっくり燥製しました。", "桜のチップでじっくり燻製しました。"),
        ("地元の味噌蔵の味噌に上州豚を潰け込みました。", "地元の味噌蔵の味噌に上州豚を漬け込みました。"),
    ],
)
def test_misreads_are_corrected(misread: str, right: str) -> None:
    fixed, corrections = correct_kanji(misread)
    assert fixed == right
    assert len(corrections) == 1
    c = corrections[0]
    assert isinstance(c, Correction)
    assert misread[c.position] == c.old and right[c.position] == c.new
    assert c.new in c.word and c.word in right


@pytest.mark.parametrize(
    "text",
    [
        "上州和牛すき焼きセット",
        "渋川市内の牧場で育てた上州和牛の肩ロースを、市内の工場で手切りしました。",
        "赤城高原で育った豚肉を使い、桜のチップでじっくり燻製しました。",
        "地元の味噌蔵の味噌に上州豚を漬け込みました。焼くだけで食べられます。",
        "伊香保温泉の名物、黒糖の皮でこしあんを包んだ茶色いまんじゅうです。",
        "赤城山麓で育てたこんにゃく芋を使い、昔ながらの製法で仕上げました。",
        "渋川こんにゃく本舗株式会社",
        "代表社員 伊香保花子",
        "館山市ふるさと納税返礼品提供事業者募集要項",
        "市税全税目",
        "上記の者について、令和7年度までの市税に未納の税額はありません。",
        "赤城山上で育てた",  # 山上 is a word: a possible misread of 山麓, but not changed
        "田中和生商店",
    ],
)
def test_correct_text_is_untouched(text: str) -> None:
    assert correct_kanji(text) == (text, [])


@pytest.mark.parametrize("text", ["", "ジョウシュウワギュウ", "すきやき", "ABC-123 x@y.jp", "0279-22-1234", "500g×8"])
def test_kana_latin_digits_untouched(text: str) -> None:
    assert correct_kanji(text) == (text, [])


def test_only_kanji_change_next_to_kana_and_latin() -> None:
    text = "ABC 上州和生 すき焼き 500g"
    fixed, corrections = correct_kanji(text)
    assert fixed == "ABC 上州和牛 すき焼き 500g"
    assert [(c.old, c.new) for c in corrections] == [("生", "牛")]


def test_protect_keeps_a_string() -> None:
    assert correct_kanji("上州和生すき焼き", protect=["和生"]) == ("上州和生すき焼き", [])


@pytest.mark.parametrize("pair", ["生牛", "煙燻", "燥燻", "潰漬", "注漬"])
def test_lookalikes_pass_the_gate(pair: str) -> None:
    assert glyph_similarity(pair[0], pair[1]) >= GLYPH_THRESHOLD
    assert glyph_similarity(pair[1], pair[0]) == glyph_similarity(pair[0], pair[1])


@pytest.mark.parametrize("pair", ["上麓", "大小", "本糖", "千舗", "介燻", "山水", "一鬱"])
def test_dissimilar_glyphs_fail_the_gate(pair: str) -> None:
    assert glyph_similarity(pair[0], pair[1]) < GLYPH_THRESHOLD


def test_dissimilar_glyph_is_not_substituted() -> None:
    # 黒本 → 黒糖 would be a better word, but 本 does not look like 糖; 山上 → 山麓 likewise
    assert correct_kanji("黒本の皮でこしあんを包んだ") == ("黒本の皮でこしあんを包んだ", [])
    assert "糖" not in neighbours("本")
    assert "麓" not in neighbours("上")


def test_neighbours_are_lookalikes() -> None:
    assert "牛" in neighbours("生")
    assert "燻" in neighbours("煙")
    assert "漬" in neighbours("潰")
    assert neighbours("a") == ""
