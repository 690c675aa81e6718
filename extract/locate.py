"""Locate a form's fields on its pages: the orchestration of the reading's last stages.

The fields are found by their label paths in the pages' structure (``extract.assign``: label
cells and inline keys, one assignment of rows and fields to them, values from their cells);
here the values become result fields (confidence from the reading, the text's recognition
and how clearly the label won), the checks between values run (a 税抜/税込 pair, an e-mail's
domain and the website's), a form's own fields (AcroForm) are taken as they are, and values
implied by others are added (未納税額 0 円: no arrears).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from extract import normalize
from extract.lexicon import is_kanji
from extract.normalize import BOX_GLYPHS, nfkc
from extract.pagemodel import Page
from extract.repairs import (
    CONFIRMED_PAIR,
    repair_kana_reading,
    repair_mail_domain,
    repair_tax_pairs,
    snap_to_known,
    tidy_text,
)
from extract.result import ExtractedField
from extract.vocabulary import has_old_kanji, prefectures_in
from forms.schema import FormDecl, Implication, widget_name

__all__ = ["BOX_GLYPHS", "REVIEW_THRESHOLD", "Located", "apply_implications", "locate_all", "locate_fields"]

#: Fields under this confidence are marked for review.
REVIEW_THRESHOLD = 0.8


@dataclass(frozen=True)
class Located:
    #: The values found, by key.
    fields: dict[str, ExtractedField]
    #: Text found where a field's value stands that did not read as its type (an e-mail
    #: address with a character misread): value None, with the text, page and box, so that a
    #: second reading knows where to look.
    unparsed: dict[str, ExtractedField]
    #: Declared fields without a value: key → reason (label_not_found, empty, unparsed).
    missing: dict[str, str] = field(default_factory=dict)


def locate_fields(form: FormDecl, pages: list[Page]) -> dict[str, ExtractedField]:
    return locate_all(form, pages).fields


def locate_all(form: FormDecl, pages: list[Page]) -> Located:
    """The form's fields read from the structure of its pages (``extract.assign``), then the
    document-wide readings: statements anywhere (滞納はありません), the form's own fields
    (AcroForm), values implied by others."""
    from extract.assign import read_form

    structured = read_form(form, pages)
    prefer = prefectures_in(nfkc("\n".join(page.text for page in pages)))
    rows = {f.key: r for r in form.rows() for f in r.fields}
    result: dict[str, ExtractedField] = {}
    for key, found in structured.found.items():
        extracted = _from_structure(found)
        f = form.field(key)
        if f.type == "text" and isinstance(extracted.value, str):
            if extracted.source == "ocr":
                extracted = tidy_text(extracted, rows[key], prefer, key)
            extracted = snap_to_known(_known_list(extracted, f.known), f.known)
            if not extracted.value:
                continue
            if extracted.source == "ocr" and (normalize.has_stray_point(extracted.value) or has_old_kanji(extracted.value)):
                extracted = _doubted(extracted)
        result[key] = extracted
    unparsed = {k: _from_structure(v) for k, v in structured.unparsed.items()}
    # values whose text did not read as it stood (a digit put right, a speck dropped)
    repaired = frozenset(k for k, found in structured.found.items() if found.reading.fit < 1.0)
    repair_tax_pairs(form, result, repaired)
    repair_mail_domain(form, result)
    repair_kana_reading(form, result)
    _apply_form_values(form, pages, result)
    apply_implications(form.implications, result, pages)
    missing = {k: reason for k, reason in structured.missing.items() if k not in result}
    return Located(result, {k: v for k, v in unparsed.items() if k not in result}, missing)


#: The character confidence at which an OCR'd character counts as sure (scaled to 1.0), by the
#: kind of character. The recognizer's confidence tells a misread kana or mark (ツ for ッ, . for
#: ・) far better than a misread kanji, digit or Latin letter: on zoo scans (5 seeds, 4,900
#: values) a value whose least sure kana or mark read under 0.68 was wrong one time in ten;
#: one whose least sure kanji, digit or letter read 0.5–0.68, one time in thirty-five, as often
#: as any value; under 0.5, one time in seven.
OCR_SURE = 0.85
OCR_SURE_SHAPES = 0.625

#: How much a label that won by a hair (a tie with another cell) lowers a value's confidence.
CLOSE_CALL = 0.85


def _from_structure(found: Any) -> ExtractedField:
    from extract.assign import bbox_of, conf_of

    reading = found.reading
    page, bbox = bbox_of(reading.parts)
    if found.source != "ocr":
        ocr_conf = reading.conf if reading.conf is not None else conf_of(reading.parts)
    elif reading.conf is not None:  # a choice's marks
        ocr_conf = min(1.0, reading.conf / OCR_SURE)
    else:
        ocr_conf = _calibrated_conf(reading.parts)
    label = 0.75 + 0.25 * found.label_score / 100
    if found.margin < 1.0 and found.label_score < 100:
        label *= CLOSE_CALL
    confidence = round(max(0.0, min(1.0, reading.fit * ocr_conf * label)), 3)
    if found.source == "ocr" and reading.fit < normalize.CONTEXT_FIT:
        # a scanned value that read as its type only once a character was put right (13:000
        # 円) is for a person; one with text round it (申込日 令和7年…) or a part implied is not
        # (zoo scans: 293 such values, 3 wrong, fewer than of those read as they stood)
        confidence = _for_review(confidence)
    return ExtractedField(
        value=reading.value,
        confidence=confidence,
        page=page or found.page,
        bbox=[round(v, 1) for v in bbox] if bbox else None,
        source=found.source,
        review=confidence < REVIEW_THRESHOLD,
        raw=reading.raw,
    )


def _doubted(extracted: ExtractedField) -> ExtractedField:
    """A value its reading shows doubtful somewhere (a stray point; a kanji in its old form,
    which the recognizer reads for the new one now and then, and a name may also be written
    in), for a person to look at."""
    return extracted.model_copy(update={"confidence": _for_review(extracted.confidence), "review": True})


def _for_review(confidence: float) -> float:
    """A confidence under the review threshold, however sure the characters were read."""
    return min(confidence, round(REVIEW_THRESHOLD - 0.01, 3))


def _calibrated_conf(parts: list[Any]) -> float:
    """The least of the characters' confidences, each scaled by how sure its kind is read."""
    sure = 1.0
    for part in parts:
        line = part.line
        for i in range(part.start, part.end):
            char = line.text[i]
            if char.isspace():
                continue
            folded = nfkc(char)
            scale = OCR_SURE_SHAPES if is_kanji(char) or (folded.isascii() and folded.isalnum()) else OCR_SURE
            sure = min(sure, line.span_conf(i, i + 1) / scale)
    return min(1.0, sure)


_LIST_SEPARATORS = re.compile(r"\s*[、，,・／/]\s*")


def _known_list(extracted: ExtractedField, known: tuple[str, ...]) -> ExtractedField:
    """A list of known values (法人税、消費税及地方消費税) written with ・ between them."""
    if not known or not isinstance(extracted.value, str):
        return extracted
    parts = [p for p in _LIST_SEPARATORS.split(extracted.value) if p]
    if len(parts) < 2:
        return extracted
    return extracted.model_copy(update={"value": "・".join(parts)})


def _apply_form_values(form: FormDecl, pages: list[Page], result: dict[str, ExtractedField]) -> None:
    """AcroForm fields named after our keys are read directly: they cannot be misplaced."""
    values = {fv.name: fv for page in pages for fv in page.form_values}
    if not values:
        return
    page_of = {fv.name: page.number for page in pages for fv in page.form_values}
    for f in form.fields():
        if f.choices:
            on: list[Any] = []
            named = False
            for c in f.choices:
                name = widget_name(f, c)
                if name in values:
                    named = True
                    if values[name].value is True:
                        on.append(c.value)
            if not named:
                continue
            if f.type == "multi_choice":
                value: Any = on
            elif len(on) == 1:
                value = on[0]
            else:
                continue
            name = next(n for n in values if n.startswith(f.key + "."))
        else:
            fv = values.get(f.key)
            if fv is None or not isinstance(fv.value, str) or not fv.value.strip():
                continue
            norm = normalize.normalize_value(f.type, fv.value)
            if norm.value is None:
                continue
            value, name = norm.value, f.key
        fv = values[name]
        result[f.key] = ExtractedField(
            value=value,
            confidence=1.0,
            page=page_of[name],
            bbox=[round(v, 1) for v in fv.bbox] if fv.bbox else None,
            source="acroform",
            raw=fv.value if isinstance(fv.value, str) else None,
        )


def apply_implications(rules: tuple[Implication, ...], result: dict[str, ExtractedField], pages: list[Page]) -> None:
    """A value a found value implies, where none was found (未納税額 0 円: no arrears); and two
    values that imply each other, read apart on a scan and agreeing, confirm each other."""
    _confirm_equivalents(rules, result)
    for imp in rules:
        if imp.then in result or imp.when not in result:
            continue
        have = result[imp.when]
        if _holds(imp, have.value):
            result[imp.then] = ExtractedField(
                value=imp.value,
                confidence=have.confidence,
                page=have.page,
                bbox=have.bbox,
                source=have.source,
                review=have.review,
                raw=have.raw,
            )


def _confirm_equivalents(rules: tuple[Implication, ...], result: dict[str, ExtractedField]) -> None:
    """Two values that imply each other both ways (未納税額 0 円 and 滞納はありません), each read
    from its own place on a scan and agreeing, are sure (:data:`CONFIRMED_PAIR`), as a
    税抜/税込 pair a tax apart is: a misread of either would not keep them agreeing. One way
    only (some allergen ticked, so あり) confirms nothing: which allergens is not implied."""
    for imp in rules:
        a, b = result.get(imp.when), result.get(imp.then)
        if a is None or b is None or "ocr" not in (a.source, b.source) or a.bbox == b.bbox:
            continue
        back = [r for r in rules if r.when == imp.then and r.then == imp.when and _holds(r, b.value) and r.value == a.value]
        if not (_holds(imp, a.value) and b.value == imp.value and back):
            continue
        for key, value in ((imp.when, a), (imp.then, b)):
            if value.confidence < CONFIRMED_PAIR:
                result[key] = value.model_copy(update={"confidence": CONFIRMED_PAIR, "review": False})


def _holds(imp: Implication, actual: Any) -> bool:
    """Whether a value meets an implication's condition; a list (the allergens ticked) is
    compared by its length (``allergens > 0``: some allergen is ticked)."""
    if imp.op == "==":
        return bool(actual == imp.equals)
    if isinstance(actual, list):
        actual = len(actual)
    if isinstance(actual, bool) or not isinstance(actual, int) or isinstance(imp.equals, (bool, str)):
        return False
    return actual > imp.equals
