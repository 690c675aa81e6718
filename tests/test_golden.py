"""Golden samples: each file in samples/golden/ is extracted and compared with its JSON.

The JSON is the ground truth the sample was made from (samples/make_golden.py), so a field
the extractor misses or misreads fails here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from extract.pipeline import extract_files
from forms.catalogue import get_form
from forms.schema import FormDecl

GOLDEN = Path(__file__).resolve().parents[1] / "samples" / "golden"
SAMPLES = sorted(p for p in GOLDEN.iterdir() if p.suffix in (".pdf", ".docx"))


def comparable(form: FormDecl, fields: dict[str, Any]) -> dict[str, Any]:
    """The values as compared: a guided field's (梱包重量　kg　サイズ filled in) as the guide
    filled in, since its blanks and printed words come back with the spaces the page puts
    between them (梱包重量 1.2 kg 60 サイズ from a PDF's text layer, 梱包重量1.2 kg 60サイズ from
    the DOCX, 梱包重量1.2kg 60サイズ in the record): ``FieldDecl.tidy_guided``, as records do."""
    return {k: form.field(k).tidy_guided(v) if k in form.keys() else v for k, v in fields.items()}


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_golden_sample(sample: Path) -> None:
    expected = json.loads(sample.with_name(sample.name + ".json").read_text(encoding="utf-8"))
    [doc] = extract_files([sample]).documents
    assert doc.form == expected["form"]
    got = {k: v.value for k, v in doc.fields.items()}
    form = get_form(expected["form"])
    assert comparable(form, got) == comparable(form, expected["fields"])
    for key, field in doc.fields.items():
        assert field.page is not None and field.page >= 1, key
        assert 0 < field.confidence <= 1, key
        if not isinstance(field.value, bool) and field.value != []:
            assert field.bbox is not None and field.bbox[0] < field.bbox[2], key


def test_golden_covers_every_key_of_form1() -> None:
    """The golden record holds every key of DESIGN 4.3, so the samples test all of them."""
    form = get_form("shibukawa.form1")
    record = json.loads((GOLDEN.parent / "records" / "form1_wagyu.json").read_text(encoding="utf-8"))
    # the details of choices the record does not take: 市内 (not 市外（　）), 通年 (not 時期限定（　頃～　頃）)
    missing = set(form.keys()) - set(record["fields"]) - {"ingredients_origin_detail", "supply_period_detail"}
    assert not missing
