"""The second reading: the fields a form names for it (``second_reading``), when a scan leaves
them in doubt, are read again by Tesseract's script model for Japanese, and its value is taken
only when it is confident."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

import extract.pipeline as pipeline
from extract.ingest import Ingested
from extract.pagemodel import Page
from extract.result import ExtractedField
from forms.catalogue import get_form
from forms.errors import ProgramMissing
from tests.pagebuild import make_page

REGRESSION = Path(__file__).resolve().parents[1] / "samples" / "scans" / "regression"
TAX = get_form("tax_certificate")


def _certificate(name: str, conf: float, number: int = 1) -> Page:
    return make_page(
        [
            ["納税証明書"],
            ["住所", "群馬県渋川市渋川1900番地1"],
            ["氏名", name],
            ["上記のとおり相違ないことを証明します。"],
            ["令和7年10月8日 前橋税務署長"],
            ["滞納はありません"],
        ],
        conf=conf, source="ocr", number=number,
    )


class _Reader:
    """Stands in for OCR: the pages each model gives, and which pages each was asked for."""

    def __init__(self, pages: dict[str, list[Page]]) -> None:
        self.pages = pages
        self.asked: list[tuple[int, str]] = []

    def __call__(self, doc: Ingested, page: Page, bands: list[tuple[float, float]] | None, lang: str) -> Page:
        self.asked.append((page.number, lang))
        self.bands = bands
        return self.pages[lang][page.number - 1]


def _doc() -> Ingested:
    return Ingested(name="scan.png", kind="png", sha256="0" * 64, size=0, data=b"")


def _with_doubtful_name(monkeypatch: pytest.MonkeyPatch, second: Page) -> _Reader:
    first = _certificate("株式会社小川フーズ", conf=1.0)
    # only the name's word is doubtful in the first reading
    first.words = [w if w.text != "株式会社小川フーズ" else replace(w, conf=0.2) for w in first.words]
    reader = _Reader({"jpn": [first], "Japanese": [second]})
    monkeypatch.setattr(pipeline, "_reread_page", reader)
    monkeypatch.setattr(pipeline, "second_model", lambda: "Japanese")
    return reader


def _fields(reader: _Reader) -> dict:
    pages = [reader.pages["jpn"][0]]
    first = pipeline.locate_fields(TAX, pages)
    return pipeline._second_reading(_doc(), TAX, pages, first)


def test_a_doubtful_required_field_is_taken_from_a_confident_second_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    reader = _with_doubtful_name(monkeypatch, _certificate("株式会社渋川フーズ", conf=0.95))
    first = pipeline.locate_fields(TAX, reader.pages["jpn"])
    assert first["taxpayer_name"].review and first["taxpayer_name"].value == "株式会社小川フーズ"
    fields = _fields(reader)
    assert fields["taxpayer_name"].value == "株式会社渋川フーズ"
    assert not fields["taxpayer_name"].review
    # confident fields of the first reading stay as they were
    assert fields["taxpayer_address"] == first["taxpayer_address"]
    assert reader.asked == [(1, "Japanese")]
    # the rows around the name, not the whole page
    name = first["taxpayer_name"].bbox
    [(top, bottom)] = reader.bands
    assert top < name[1] and name[3] < bottom and bottom - top < 0.5 * reader.pages["jpn"][0].height


def test_an_unsure_second_reading_leaves_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    reader = _with_doubtful_name(monkeypatch, _certificate("株式会社渋川フーズ", conf=0.2))
    fields = _fields(reader)
    assert fields["taxpayer_name"].value == "株式会社小川フーズ"
    assert fields["taxpayer_name"].review


def test_both_in_doubt_the_reading_that_names_a_known_place_wins() -> None:
    def field(value: str, review: bool = True) -> ExtractedField:
        return ExtractedField(value=value, confidence=0.0, page=1, source="ocr", review=review)

    garbled, known = field("群馬県省市伊香保困"), field("群馬県渋川市伊香保町")
    assert pipeline._second_is_better(garbled, known, {1})
    assert not pipeline._second_is_better(known, field("群馬県渋川市伊香保困"), {1})  # both name 渋川市
    assert not pipeline._second_is_better(field("株式会社淡川"), field("株式会社渋川"), {1})  # no place
    assert not pipeline._second_is_better(garbled, known, {2})  # read on a page not read again
    assert pipeline._second_is_better(None, field("株式会社渋川", review=False), {1})


def test_a_confident_reading_is_not_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    sure = _certificate("株式会社渋川フーズ", conf=0.95)
    reader = _Reader({"jpn": [sure], "Japanese": [sure]})
    monkeypatch.setattr(pipeline, "_reread_page", reader)
    monkeypatch.setattr(pipeline, "second_model", lambda: "Japanese")
    _fields(reader)
    assert reader.asked == []


def test_only_the_page_holding_the_doubtful_field_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    cover = make_page([["送付状"], ["株式会社渋川フーズ御中"]], conf=0.95, source="ocr", number=1)
    doubtful = _certificate("株式会社小川フーズ", conf=1.0, number=2)
    doubtful.words = [w if w.text != "株式会社小川フーズ" else replace(w, conf=0.2) for w in doubtful.words]
    reader = _Reader({"jpn": [cover, doubtful], "Japanese": [cover, _certificate("株式会社渋川フーズ", 0.95, 2)]})
    monkeypatch.setattr(pipeline, "_reread_page", reader)
    monkeypatch.setattr(pipeline, "second_model", lambda: "Japanese")
    pages = [cover, doubtful]
    fields = pipeline._second_reading(_doc(), TAX, pages, pipeline.locate_fields(TAX, pages))
    assert reader.asked == [(2, "Japanese")]
    assert fields["taxpayer_name"].value == "株式会社渋川フーズ"
    assert fields["taxpayer_name"].page == 2


def test_a_field_not_found_has_its_whole_pages_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    blank = make_page([["納税証明書"], ["上記のとおり相違ないことを証明します。"]], conf=0.95, source="ocr")
    reader = _Reader({"jpn": [blank], "Japanese": [_certificate("株式会社渋川フーズ", conf=0.95)]})
    monkeypatch.setattr(pipeline, "_reread_page", reader)
    monkeypatch.setattr(pipeline, "second_model", lambda: "Japanese")
    first = pipeline.locate_fields(TAX, [blank])
    assert "taxpayer_name" not in first
    fields = pipeline._second_reading(_doc(), TAX, [blank], first)
    assert reader.asked == [(1, "Japanese")] and reader.bands is None
    assert fields["taxpayer_name"].value == "株式会社渋川フーズ"


def test_text_pages_are_never_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    page = _certificate("株式会社小川フーズ", conf=1.0)
    page.source = "text"
    reader = _Reader({"jpn": [page], "Japanese": [page]})
    monkeypatch.setattr(pipeline, "_reread_page", reader)
    monkeypatch.setattr(pipeline, "second_model", lambda: "Japanese")
    fields = pipeline.locate_fields(TAX, [page])
    del fields["taxpayer_name"]  # even a missing required field
    assert pipeline._second_reading(_doc(), TAX, [page], fields) == fields
    assert reader.asked == []


def test_the_second_model_can_be_turned_off_or_missing(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(pipeline.SECOND_MODEL_ENV, "off")
    assert pipeline.second_model() is None

    def missing(lang: str) -> str:
        raise ProgramMissing(f"no {lang}", program="tesseract", language=lang)

    monkeypatch.setenv(pipeline.SECOND_MODEL_ENV, "Klingon")
    monkeypatch.setattr("extract.tesseract.require", missing)
    with caplog.at_level(logging.WARNING, logger="extract.pipeline"):
        assert pipeline.second_model() is None
        assert pipeline.second_model() is None
    assert [r.getMessage() for r in caplog.records].count(
        "second OCR model Klingon is not installed: scans are read once") == 1


def test_a_second_reading_names_declared_fields_only() -> None:
    from pydantic import ValidationError

    from forms.schema import FormDecl

    data = TAX.model_dump()
    assert "taxpayer_name" in data["second_reading"]
    data["second_reading"] = ["taxpayer_nmae"]
    with pytest.raises(ValidationError, match="second_reading names unknown field 'taxpayer_nmae'"):
        FormDecl.model_validate(data)


def test_the_second_model_is_installed_by_setup() -> None:
    assert pipeline.second_model() == "Japanese"


def test_a_scan_where_jpn_reads_shibukawa_as_ogawa() -> None:
    # regression: at 200 dpi with noise, jpn read 株式会社渋川フーズ as 株式会社小川フーズ (and
    # 渋川市 as 液川市); the script model reads it right
    scan = REGRESSION / "tax_shibukawa_200dpi-noisy.jpg"
    truth = json.loads(scan.with_name(scan.name + ".json").read_text(encoding="utf-8"))["fields"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(pipeline.SECOND_MODEL_ENV, "off")
        mp.setenv("MADOGUCHI_CACHE_DIR", "off")
        once = pipeline.extract_files([scan]).documents[0].fields
    assert once["taxpayer_name"].value != truth["taxpayer_name"]
    assert once["taxpayer_name"].review
    fields = pipeline.extract_files([scan]).documents[0].fields
    assert fields["taxpayer_name"].value == truth["taxpayer_name"]
    for key in ("issue_date", "no_arrears"):
        assert str(fields[key].value) == str(truth[key])
