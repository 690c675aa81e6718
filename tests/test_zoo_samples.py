"""Forms and certificates laid out by another generator (``../shared/zoo``, seed 5: one file of
each table structure and certificate layout, DOCX and text PDF), each beside its truth: every
field exact, every field the applicant left blank absent and listed as missing."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from extract.pipeline import extract_files

ZOO = Path(__file__).resolve().parents[1] / "samples" / "zoo"
CASES = sorted(ZOO.glob("zoo_*.json"))


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _same(key: str, truth: Any, got: Any, also: list[str]) -> bool:
    """As the zoo's scorer compares: text after NFKC without white space, lists and the
    certified taxes as sets, ints and bools by type."""
    if isinstance(truth, list):
        return isinstance(got, list) and sorted(map(str, truth)) == sorted(map(str, got))
    if key == "tax_kind" and isinstance(got, str):
        split = lambda s: {p for p in _fold(s).replace("、", "・").split("・") if p}  # noqa: E731
        return split(truth) == split(got)
    if isinstance(truth, str):
        return isinstance(got, str) and (_fold(truth) == _fold(got) or any(_fold(a) == _fold(got) for a in also))
    if isinstance(truth, bool) or isinstance(got, bool):
        return truth is got
    return truth == got and type(truth) is type(got)


def test_the_zoo_samples_are_there() -> None:
    structures = {json.loads(p.read_text(encoding="utf-8"))["layout"].get("structure") for p in CASES}
    assert {"a", "b", "c", "d", "e", "f", "g"} <= structures


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_every_field_of_another_layout_is_read(case: Path) -> None:
    truth = json.loads(case.read_text(encoding="utf-8"))
    [doc] = [d for d in extract_files([ZOO / truth["files"][0]]).documents if d.form == truth["form"]]
    missing = {m.field: m.reason for m in doc.missing}
    wrong = {}
    for key, want in truth["fields"].items():
        got = doc.fields[key].value if key in doc.fields else None
        if want is None:
            # left blank on the form: no text from elsewhere, and said to be missing
            assert key not in doc.fields, (key, got)
            assert key in missing, key
        elif not _same(key, want, got, truth.get("also_accept", {}).get(key, [])):
            wrong[key] = (want, got, missing.get(key))
    assert not wrong


BLANKED = ("product_spec", "shipping_timing", "best_before", "contact_department", "supply_quantity")


def _without_values(docx: Path, values: list[str], out: Path) -> list[str]:
    """The DOCX with the given values' text taken out of its runs (the supplier left them
    blank); the values that were found and taken out."""
    import zipfile
    from xml.sax.saxutils import escape

    with zipfile.ZipFile(docx) as zin:
        xml = zin.read("word/document.xml").decode("utf-8")
        taken = []
        for value in values:
            run = f">{escape(value)}</w:t>"
            if xml.count(run) == 1:
                xml = xml.replace(run, "></w:t>")
                taken.append(value)
        with zipfile.ZipFile(out, "w") as zout:
            for item in zin.infolist():
                data = xml.encode("utf-8") if item.filename == "word/document.xml" else zin.read(item.filename)
                zout.writestr(item, data)
    return taken


FORM_DOCX = [p for p in CASES if p.stem.endswith("form1") and (ZOO / f"{p.stem}.docx").exists()]


@pytest.mark.parametrize("case", FORM_DOCX, ids=lambda p: p.stem)
def test_fields_left_blank_are_missing_never_other_text(case: Path, tmp_path: Path) -> None:
    truth = json.loads(case.read_text(encoding="utf-8"))
    values = {k: truth["fields"][k] for k in BLANKED if isinstance(truth["fields"].get(k), str)}
    blanked = tmp_path / "blanked.docx"
    taken = _without_values(ZOO / f"{case.stem}.docx", list(values.values()), blanked)
    assert len(taken) >= 3, "the values to blank were not found as runs"
    [doc] = extract_files([blanked]).documents
    missing = {m.field: m.reason for m in doc.missing}
    for key, value in values.items():
        if value in taken:
            assert key not in doc.fields, (key, doc.fields[key].value)
            assert missing.get(key) == "empty", (key, missing.get(key))
    # the fields around them are still read
    for key in ("product_name", "donation_amount", "contact_phone"):
        assert key in doc.fields, key
