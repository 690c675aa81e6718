"""Values read again: scanned values read unsure or not as their type are read again from their
cells by the other engine and the readings reconciled (``_unsure_read_again``, ``_reconciled``);
text values with a box in them are read again with the boxes left in (``_boxes_read_as_text``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

import extract.pipeline as pipeline
from extract.ingest import Ingested
from extract.pagemodel import Page, Rule, Word
from extract.result import ExtractedField
from extract.readers.image import read_regions
from forms.catalogue import get_form
from forms.schema import FormDecl
from tests.pagebuild import make_page

GOTHIC = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
FORM = get_form("tateyama.form2")
TAX = get_form("tax_certificate")


def _doc() -> Ingested:
    return Ingested(name="scan.png", kind="png", sha256="1" * 64, size=0, data=b"")


def _proposal(name: str, conf: float) -> Page:
    """A proposal whose 事業者名 is read at ``conf`` (a kanji name counts as unsure under 0.5)."""
    rows = [["館山市ふるさと納税返礼品提案書"], ["事業者名", name], ["1", "返礼品名", "館山の干物セット"]]
    return make_page(rows, conf=conf, source="ocr")


def test_value_region_stops_at_the_rules_of_its_cell() -> None:
    page = Page(
        number=1, width=595, height=842, source="ocr",
        rules=[Rule(100, 90, 100, 130), Rule(300, 90, 300, 130), Rule(250, 200, 250, 240)],
    )
    # a line's height of margin, short of the cell's walls; a rule on another row does not count
    assert pipeline._value_region(page, (104, 100, 280, 110)) == pytest.approx((100.5, 100 - 10 / 3, 290, 110 + 10 / 3))
    assert pipeline._value_region(page, (130, 100, 240, 110)) == pytest.approx((120, 100 - 10 / 3, 250, 110 + 10 / 3))


def test_value_region_of_a_value_on_two_lines_has_a_line_s_margin_within_its_cell() -> None:
    # regression: a value's box ran over two lines and a pen stroke (30 pt); its margins were
    # taken as 30 pt, and the region reached the next row's checkboxes
    page = Page(
        number=1, width=595, height=842, source="ocr",
        words=[
            Word("入金確認後1", 176, 661, 234, 671, 0.9), Word("週間以内", 243, 661, 279, 671, 0.9),
            Word("プ", 261, 686, 265, 691, 0.8),
        ],
        rules=[Rule(52, 658.8, 535, 658.8), Rule(52, 693, 535, 693), Rule(170, 600, 170, 760), Rule(60, 500, 160, 500)],
    )
    assert pipeline._value_region(page, (176, 661, 279, 691)) == pytest.approx((170.5, 659.3, 289, 692.5))


class _Regions:
    """Stands in for reading regions again: gives the words for a region, and counts calls."""

    def __init__(self, text: str, conf: float) -> None:
        self.text, self.conf, self.calls = text, conf, 0

    def __call__(self, clean: np.ndarray, dpi: float, regions: list, *, lang: str, rules: object = (), engine: object = None) -> list[Word]:
        self.calls += 1
        assert lang == "jpn" and engine == "tesseract"  # the other engine
        x0, y0, x1, y1 = regions[0]
        return [Word(self.text, x0 + 2, y0 + 2, x0 + 2 + 10.5 * len(self.text), y0 + 12.5, self.conf)]


def _read_again(monkeypatch: pytest.MonkeyPatch, page: Page, regions: object, form: FormDecl = FORM) -> dict:
    """The values read unsure or not as their type read again by the other engine (Tesseract
    beside rapidocr), ``regions`` standing in for its reading of their cells."""
    monkeypatch.setattr("extract.readers.image.read_regions", regions)
    monkeypatch.setattr(pipeline, "_clean_image", lambda doc, page: (np.zeros((1, 1), np.uint8), 300.0))
    monkeypatch.setattr("extract.recognize.other_engine", lambda engine=None: "tesseract")
    monkeypatch.setenv("MADOGUCHI_CACHE_DIR", "off")
    located = pipeline.locate_all(form, [page])
    return pipeline._unsure_read_again(_doc(), form, [page], located.fields, located.unparsed)


def test_the_more_confident_reading_of_an_unsure_value_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    page = _proposal("小川水産株式会社", 0.45)
    regions = _Regions("渋川水産株式会社", 0.95)
    fields = _read_again(monkeypatch, page, regions)
    assert regions.calls == 1  # the page's unsure values in one call
    assert fields["applicant_name"].value == "渋川水産株式会社"
    assert fields["product_name"].value == "館山の干物セット"


def test_a_less_confident_reading_is_not_taken_and_a_sure_value_is_not_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    page = _proposal("渋川水産株式会社", 0.45)
    fields = _read_again(monkeypatch, page, _Regions("小川水産株式会社", 0.45))
    assert fields["applicant_name"].value == "渋川水産株式会社"
    regions = _Regions("小川水産株式会社", 0.99)
    fields = _read_again(monkeypatch, _proposal("渋川水産株式会社", 0.9), regions)
    assert fields["applicant_name"].value == "渋川水産株式会社" and regions.calls == 0


def test_text_layers_are_not_read_again_nor_anything_with_the_second_opinion_off(monkeypatch: pytest.MonkeyPatch) -> None:
    regions = _Regions("渋川水産株式会社", 0.95)
    text_page = make_page([["館山市ふるさと納税返礼品提案書"], ["事業者名", "小川水産株式会社"]], conf=0.5)
    assert _read_again(monkeypatch, text_page, regions)["applicant_name"].value == "小川水産株式会社"
    monkeypatch.setenv("MADOGUCHI_OCR_SECOND_OPINION", "off")
    page = _proposal("小川水産株式会社", 0.4)
    located = pipeline.locate_all(FORM, [page])
    assert pipeline._read_again(_doc(), FORM, [page], located.fields, located.unparsed)["applicant_name"].value == "小川水産株式会社"
    assert regions.calls == 0


def _render(lines: list[tuple[int, int, str]], size: tuple[int, int] = (1800, 900)) -> np.ndarray:
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(GOTHIC, 44)  # 10.5 pt at 300 dpi
    for x, y, text in lines:
        draw.text((x, y), text, font=font, fill=0)
    return np.asarray(image)


def test_regions_are_read_in_one_call_and_their_words_put_back_on_the_page() -> None:
    clean = _render([(150, 120, "株式会社渋川フーズ"), (900, 600, "代表取締役 赤城一郎"), (150, 400, "読まない行")])
    pt = 72 / 300
    regions = [(130 * pt, 100 * pt, 700 * pt, 190 * pt), (880 * pt, 580 * pt, 1600 * pt, 670 * pt)]
    words = read_regions(clean, 300, regions, lang="jpn")
    text = "".join(w.text for w in words)
    assert "渋川フーズ" in text and "赤城" in text and "読まない" not in text
    for w in words:
        # each word lies inside the region it was read from, where it stands on the page
        assert any(r[0] <= w.x0 and w.x1 <= r[2] and r[1] <= w.y0 and w.y1 <= r[3] for r in regions), w
    first = min(words, key=lambda w: (w.y0, w.x0))  # 株式会社, where it was drawn
    assert first.x0 == pytest.approx(150 * pt, abs=3) and first.y0 == pytest.approx(125 * pt, abs=4)


def test_a_sliver_of_a_character_the_cut_went_through_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # regression: the cut went through the colon after 名称, read as ! before the name
    from extract import tesseract

    read = [
        tesseract.OcrWord("!", (75, 120, 78, 140), 58.0, (1, 1, 1)),
        tesseract.OcrWord("伊香保", (90, 110, 200, 150), 91.0, (1, 1, 1)),
        tesseract.OcrWord("(", (202, 110, 210, 150), 90.0, (1, 1, 1)),  # inside: kept
    ]
    monkeypatch.setattr(tesseract, "ocr_words", lambda image, **kwargs: read)
    clean = np.full((400, 600), 255, np.uint8)
    # the region is cut from x 300 px (72 pt); the stack puts it at x 75 px, a gap in
    words = read_regions(clean, 300, [(72, 24, 144, 48)], lang="jpn_best")
    assert [w.text for w in words] == ["伊香保("]


def test_no_regions_no_reading() -> None:
    assert read_regions(np.full((100, 100), 255, np.uint8), 300, [], lang="jpn") == []


def test_readings_that_differ_only_in_spaces_keep_the_first_text_and_the_surer_confidence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # tessdata_best read こんにゃく詰め合わせ as こんにゃく 詰め合わせ, surer than the fast model
    page = _proposal("館山水産株式会社", 0.4)
    fields = _read_again(monkeypatch, page, _Regions("館山水産 株式会社", 0.95))
    assert fields["applicant_name"].value == "館山水産株式会社"
    assert fields["applicant_name"].confidence > 0.8 and not fields["applicant_name"].review


@pytest.mark.parametrize("name", ["tax_shibukawa_200dpi-noisy.jpg"])
def test_the_image_read_is_made_again_for_a_page_from_the_cache(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    # a page from the cache has no image kept: the same preparation (turn, deskew, despeckle)
    # gives it again, ruled lines whitened
    from pathlib import Path

    from extract.ingest import ingest

    monkeypatch.setenv("MADOGUCHI_CACHE_DIR", "off")
    doc = ingest(Path(__file__).resolve().parents[1] / "samples" / "scans" / "regression" / name)
    pipeline._MARKED.clear()
    page = pipeline._ocr_page(doc, 1)
    kept, dpi = pipeline._clean_image(doc, page)
    pipeline._MARKED.clear()
    again, dpi_again = pipeline._clean_image(doc, page)
    assert dpi_again == dpi and again.shape == kept.shape
    assert float(np.mean(np.abs(again.astype(int) - kept.astype(int)) > 96)) < 0.003


def test_regions_that_overlap_are_joined_so_nothing_is_read_twice() -> None:
    # a date and an issuer on one line, the line below touching the first, one far away
    regions = [(100, 100, 200, 112), (190, 101, 300, 111), (120, 110, 180, 122), (100, 300, 200, 312)]
    assert pipeline._merged(regions) == [(100, 100, 300, 122), (100, 300, 200, 312)]
    assert pipeline._merged([(0, 0, 10, 10), (10, 0, 20, 10)]) == [(0, 0, 10, 10), (10, 0, 20, 10)]  # touching only


# --- text that reads as no value of its type keeps its place, to be read again ---------------

REGISTRATION = get_form("tateyama.form1")


def _registration(email: str, conf: float) -> Page:
    rows = [["館山市ふるさと納税返礼品提供事業者登録申請書"], ["名称", "館山水産株式会社"], ["メールアドレス", email]]
    return make_page(rows, conf=conf, source="ocr")


def test_an_address_that_is_no_address_is_kept_with_its_place_for_a_second_reading() -> None:
    located = pipeline.locate_all(REGISTRATION, [_registration("sales(@ikaho-bussan.Jjp", 0.4)])
    assert "applicant_email" not in located.fields
    unparsed = located.unparsed["applicant_email"]
    # the end of the domain set right (.Jjp), the bracket before the @ no repair knows of
    assert unparsed.value is None and unparsed.raw == "sales(@ikaho-bussan.jp" and unparsed.bbox is not None


REGRESSION = Path(__file__).resolve().parents[1] / "samples" / "scans" / "regression"


def _without_and_with(monkeypatch: pytest.MonkeyPatch, name: str, stage: str) -> tuple[dict, dict, dict]:
    """A regression scan's truth, its fields with one stage of the pipeline left out, and with
    it (cache off)."""
    scan = REGRESSION / name
    truth = json.loads(scan.with_name(scan.name + ".json").read_text(encoding="utf-8"))["fields"]
    monkeypatch.setenv("MADOGUCHI_CACHE_DIR", "off")
    monkeypatch.setenv("MADOGUCHI_OCR_ENGINE", "tesseract")  # these are Tesseract's misreadings
    with monkeypatch.context() as mp:
        mp.setattr(pipeline, stage, lambda doc, form, pages, fields: fields)
        first = pipeline.extract_files([scan]).documents[0].fields
    return truth, first, pipeline.extract_files([scan]).documents[0].fields


def _field(value: str, bbox: tuple[float, float, float, float]) -> ExtractedField:
    return ExtractedField(value=value, confidence=0.8, page=1, bbox=list(bbox), source="ocr", raw=value)


def test_a_character_taken_for_a_box_in_a_text_value_is_read_again_with_the_boxes_left_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression (city layout, seed 6): in a gothic face 個 at the end of 年間300個 passed for a
    ticked box and was whitened before the page was read: the value came out 年間3001☑."""
    truth, first, fields = _without_and_with(monkeypatch, "form1_city_quantity_200dpi.jpg", "_boxes_read_as_text")
    assert "☑" in first["supply_quantity"].value
    assert fields["supply_quantity"].value == truth["supply_quantity"]


def test_a_reading_with_a_box_or_found_elsewhere_does_not_replace_a_boxed_value() -> None:
    boxed = _field("年6 ☑", (175, 100, 215, 110))
    assert pipeline._reading_without_boxes(boxed, _field("年6回", (175, 100, 214, 110))).value == "年6回"
    assert pipeline._reading_without_boxes(boxed, _field("年6☐", (175, 100, 214, 110))).value == "年6 ☑"
    assert pipeline._reading_without_boxes(boxed, _field("年6回", (175, 300, 214, 310))).value == "年6 ☑"
    # regression (city layout, seed 12, 300 dpi): a value of two lines read again as one came
    # out garbled and far less sure; the first reading, one character a box, stays
    fruit = _field("市内の果 ☑園で収穫したりんごだけを搾った果汁100%のジュースです。", (205, 415.7, 528.2, 435.6))
    garbled = _field("す) 中貼の生農園で収穫したりんごだけを搾った果汁100%のジュースで", (165.3, 415.7, 528.2, 435.4))
    garbled = garbled.model_copy(update={"confidence": 0.04})
    assert pipeline._reading_without_boxes(fruit.model_copy(update={"confidence": 0.86}), garbled).value == fruit.value
    # (seed 9, 300 dpi) less sure than the boxed reading, whose box counts as sure, and right
    made = _field("製 ☑ 日から60日", (187, 152, 253, 162)).model_copy(update={"confidence": 0.865})
    read = _field("製造日から60日", (187, 152, 253, 162)).model_copy(update={"confidence": 0.36})
    assert pipeline._reading_without_boxes(made, read).value == "製造日から60日"


def test_a_page_s_image_read_again_is_the_same_whether_its_reading_was_kept_or_not() -> None:
    """Regression: a page just read gave its image with boxes whitened, a page from the cache its
    image with them; a value read again read differently with a warm cache."""
    from extract.ingest import Limits, ingest

    doc = ingest(REGRESSION / "form1_city_quantity_200dpi.jpg")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MADOGUCHI_CACHE_DIR", "off")
        [page] = pipeline.read_pages(doc, Limits.from_env())
    kept, dpi = pipeline._clean_image(doc, page)
    pipeline._MARKED.clear()
    made_again, dpi_again = pipeline._clean_image(doc, page)
    assert dpi == dpi_again
    assert np.array_equal(kept, made_again)


def test_value_region_stops_at_a_rule_just_inside_the_value_s_box() -> None:
    """Regression (city layout, seed 9): the cell's wall and 入 were read as 人入 from left of the
    wall; the region reached a line's height past the wall, and the reading again took the
    label's last character: グ 入金確認後1週間以内."""
    page = Page(
        number=1, width=595, height=842, source="ocr",
        rules=[Rule(170.28, 306, 170.28, 756), Rule(52, 653.4, 535, 653.4), Rule(52, 700, 535, 700)],
    )
    region = pipeline._value_region(page, (169.2, 649.8, 279.0, 668.2))
    assert region[0] == pytest.approx(170.78)
    # a rule across the box's top stays in: the word may be read over two rows
    assert region[1] == pytest.approx(649.8 - 18.4 / 3)
    # a rule in the middle of the value is no wall of its cell
    assert pipeline._value_region(page, (150, 660, 190, 670))[0] == pytest.approx(140)


def test_words_left_in_a_value_s_first_box_outside_its_region_go_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression (city layout, seed 9): 人, the cell's wall read as a character, stood in the
    value's first box but left of the region read again (which stops at the wall), stayed on
    the page and came back before the value read again: 人 入金確認後1週間以内."""
    page = _proposal("小川水産株式会社", 0.45)
    name = next(w for w in page.words if w.text == "小川水産株式会社")
    wall = max(r.x0 for r in page.rules if r.x0 == r.x1 and r.x0 <= name.x0)
    page.words = [*page.words, Word("人", wall - 1.5, name.y0, wall - 1.0, name.y1, 0.6)]
    fields = _read_again(monkeypatch, page, _Regions("渋川水産株式会社", 0.95))
    assert fields["applicant_name"].value == "渋川水産株式会社"


def test_a_box_just_before_a_text_value_in_its_cell_is_found() -> None:
    """Regression (city layout, seed 9): 肩 of 肩ロース in a gothic face passed for a ticked box
    and was trimmed off the value with it: ロース500g."""
    words = [Word("商品規格", 85, 353, 133, 364, 0.5), Word("☑", 176, 353, 184, 362, 1.0),
             Word("ロース", 196.6, 353.2, 211, 362, 0.9), Word("500g", 220, 353, 240, 364, 0.9)]
    rules = [Rule(170.28, 306, 170.28, 756)]
    page = Page(number=1, width=595, height=842, source="ocr", words=words, rules=rules)
    assert pipeline._box_before(page, (196.6, 353.2, 303.1, 364.0)) == words[1]
    # a word between, or the cell's wall, and the box is not the value's
    assert pipeline._box_before(page, (220, 353.2, 303.1, 364.0)) is None
    walled = Page(number=1, width=595, height=842, source="ocr", words=words, rules=[*rules, Rule(190, 306, 190, 756)])
    assert pipeline._box_before(walled, (196.6, 353.2, 303.1, 364.0)) is None


def test_the_reading_from_the_box_on_is_taken_only_with_one_real_character_more() -> None:
    old = _field("ロース 500g(化粧箱入り)", (196.6, 353.2, 303.1, 364.0))
    taken = pipeline._reading_with_its_first_characters(old, _field("肩ロース500g(化粧箱入り)", (175, 353, 303, 364)))
    assert taken.value == "肩ロース500g(化粧箱入り)"
    for reading in ("口ロース500g(化粧箱入り)", "☑ロース500g(化粧箱入り)", "ロース500g(化粧箱入り)", "肩ロース 600g", "(ロース500g(化粧箱入り)"):
        assert pipeline._reading_with_its_first_characters(old, _field(reading, (175, 353, 303, 364))) is old
    assert pipeline._reading_with_its_first_characters(old, _field("肩ロース500g(化粧箱入り)", (175, 500, 303, 510))) is old


def test_a_word_read_from_the_label_into_the_value_keeps_its_label_s_part() -> None:
    word = Word("商品の説明・特城山龍", 84, 415, 184, 437, 0.0)
    [head] = pipeline._parts_outside(word, (155, 410, 300, 440))
    assert (head.text, head.x0, head.x1, head.y0, head.y1) == ("商品の説明・特", 84, 154, 415, 437)
    assert pipeline._parts_outside(word, (80, 410, 300, 440)) == []


def test_a_word_that_ran_on_past_the_value_keeps_what_follows_it() -> None:
    """Regression (blind tax certificate, 300 dpi): the statement was read as one word and the
    region of 滞納はありません read again took it off the page whole; the issuer, found after
    証明します, was then not found again and the first reading's みどり市長 森田 雅 stayed."""
    word = Word("上記のとおり滞納はありませんので証明します。", 72, 209, 292, 219, 0.2)
    head, tail = pipeline._parts_outside(word, (125, 205, 210, 222))  # 10 points a character
    assert (head.text, head.x1) == ("上記のとお", 122)
    assert (tail.text, tail.x0, tail.x1) == ("ので証明します。", 212, 292)


def test_a_value_read_again_whose_first_word_ran_over_its_label_is_found_by_that_label(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression (city layout, seed 6, 200 dpi): 商品の説明・特 and the description were read as
    one word, two lines tall; the value's region read again took the whole word off the page,
    label and all, and the value read right was found nowhere."""
    page = _proposal("小川水産株式会社", 0.45)
    label = next(w for w in page.words if w.text == "事業者名")
    name = next(w for w in page.words if w.text == "小川水産株式会社")
    merged = Word("事業者名小川水産株式会社", label.x0, label.y0, name.x1, name.y1, 0.45)
    page.words = [w for w in page.words if w not in (label, name)] + [merged]
    located = pipeline.locate_all(FORM, [page])
    assert located.fields["applicant_name"].value == "小川水産株式会社"
    fields = _read_again(monkeypatch, page, _Regions("渋川水産株式会社", 0.95))
    assert fields["applicant_name"].value == "渋川水産株式会社"


def test_a_surer_reading_that_lost_characters_over_the_same_width_is_not_taken() -> None:
    """Regression (default layout, seed 2, 200 dpi): tessdata_best read 高橋美咲 as 高橋 over the
    four characters' width, surer of it (0.52 against 0.40), and the given name was lost."""
    first = _field("高橋美咲", (273.2, 247.3, 313.6, 260.6)).model_copy(update={"confidence": 0.4})
    lost = _field("高橋", (273.2, 250.9, 313.6, 260.6)).model_copy(update={"confidence": 0.52})
    assert pipeline._reconciled(first, lost) is first
    # as many characters, surer: taken; fewer over a narrower box (a speck dropped): taken
    assert pipeline._reconciled(first, _field("高橋美咲", (273.2, 247.3, 313.6, 260.6))).confidence == 0.8
    assert pipeline._reconciled(first, _field("渋川美咲", (273.2, 247.3, 313.6, 260.6))).value == "渋川美咲"
    assert pipeline._reconciled(first, _field("高橋", (273.2, 247.3, 293.0, 260.6))).value == "高橋"


def _tax_certificate(row: list[str]) -> Page:
    """A scanned tax certificate with every required field and ``row`` among them."""
    rows = [
        ["納税証明書"],
        ["住所", "群馬県渋川市石原80番地"],
        ["氏名", "株式会社渋川フーズ"],
        row,
        ["上記のとおり証明します。令和8年6月1日 渋川市長 髙木 勉"],
    ]
    return make_page(rows, conf=0.9, source="ocr")


def test_a_certificate_value_that_did_not_parse_is_read_again_by_the_other_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression (seed 401, 200 dpi): 未納税額 0円 read as 円, its 0 lost; only the values
    found were read again, so the amount, and with it whether there are arrears, stayed unread."""
    page = _tax_certificate(["未納税額", "円"])
    located = pipeline.locate_all(TAX, [page])
    assert "unpaid_amount" not in located.fields and "unpaid_amount" in located.unparsed
    where = located.unparsed["unpaid_amount"].bbox
    calls = []

    def read_regions(clean: np.ndarray, dpi: float, regions: list, *, lang: str, rules: object = (), engine: object = None) -> list[Word]:
        # the other engine reads 0円 where 円 stood
        calls.append(engine)
        return [Word("0円", where[0] - 6, where[1], where[2], where[3], 0.9)]

    fields = _read_again(monkeypatch, page, read_regions, TAX)
    assert calls == ["tesseract"]
    assert fields["unpaid_amount"].value == 0
    assert fields["no_arrears"].value is True
    assert all(f.value is not None for f in fields.values())


def test_a_value_both_engines_read_alike_is_as_sure_as_the_surer() -> None:
    """Two engines agreeing: the first reading, as sure as the surer; two that differ: the surer."""
    first = _field("渋川こんにゃく本舗株式会社", (100, 100, 300, 112)).model_copy(update={"confidence": 0.76, "review": True})
    second = first.model_copy(update={"confidence": 0.9})
    taken = pipeline._reconciled(first, second)
    assert taken.confidence == 0.9 and not taken.review and taken.value == first.value
    other = second.model_copy(update={"value": "渋川こんにゃく本舗株式会杜", "confidence": 0.5})
    assert pipeline._reconciled(first, other) is first
    elsewhere = second.model_copy(update={"value": "渋川フーズ", "bbox": [100, 300, 300, 312]})
    assert pipeline._reconciled(first, elsewhere) is first  # found elsewhere: its labels were read otherwise


@pytest.mark.parametrize("choose", [pipeline._reconciled])
def test_a_second_reading_that_only_adds_a_phantom_wa_is_not_taken(choose) -> None:
    """Regression (holdout seed 502, 200 dpi; seed 402): tessdata_best read 和 in the blank
    between 合同会社 and 白井醸造, surer than the fast model's right reading."""
    first = _field("合同会社白井醸造", (100, 100, 300, 112)).model_copy(update={"confidence": 0.07})
    second = first.model_copy(update={"value": "合同会社和白井醸造", "confidence": 0.26})
    assert choose(first, second) is first
    kept = second.model_copy(update={"value": "上州和牛"})  # a 和 that replaces nothing
    assert choose(first.model_copy(update={"value": "上州和邊"}), kept) is kept


def test_values_that_check_one_another_agree_again_after_their_second_readings() -> None:
    """Regression (blind 300 dpi scan): the website read again by itself came back as
    komochi-honeyi.jp, one letter off the surer order@komochi-honey.jp, and was kept: the
    domains were set to agree only before the second readings."""
    form = get_form("shibukawa.form1")
    mail = _field("order@komochi-honey.jp", (272, 320, 404, 330)).model_copy(update={"confidence": 0.88})
    site = _field("https://komochi-honeyi.jp/", (272, 343, 406, 353))
    fields = pipeline._agreeing(form, {"contact_email": mail, "contact_website_url": site})
    assert fields["contact_website_url"].value == "https://komochi-honey.jp/" and fields["contact_website_url"].review
    assert fields["contact_email"] is mail
    assert pipeline._agreeing(form, fields) == fields  # agreeing values are left as they are


def test_box_like_kanji_before_a_value_are_read_again_from_the_first_of_them() -> None:
    """Regression (blind 200 dpi scan): 毎, 曜 and 日 of 毎週火曜日に発送 were taken for ticked
    boxes and whitened, and the value read as に発送, silently."""
    words = [Word("出荷タイミング", 92, 655.6, 157, 665, 0.9), Word("☑", 176.4, 656.6, 184, 664.6, 1.0),
             Word("☑", 208, 656, 215.6, 663.8, 1.0), Word("☑", 218, 656.6, 225.7, 664.6, 1.0),
             Word("に発送", 230, 656, 258, 665.3, 0.95)]
    page = Page(number=1, width=595, height=842, source="ocr", words=words, rules=[Rule(170.3, 600, 170.3, 700)])
    assert pipeline._box_before(page, (230, 656, 258, 665.3)) == words[1]
    old = _field("に発送", (176.4, 656, 258, 665.3))
    for reading, taken in (("毎週火曜日に発送", True), ("曜日に発送", True), ("口日に発送", False), ("毎週火曜日に発進", False)):
        chosen = pipeline._reading_with_its_first_characters(old, _field(reading, (175.3, 656, 258, 665.3)))
        assert (chosen.value == reading) is taken, reading
