"""Documents made by other software (samples/external/, see its README) are read without a
crash or a hang and reported as unknown documents, with their text available."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract.pipeline import extract_files

EXTERNAL = Path(__file__).resolve().parents[1] / "samples" / "external"
DOCUMENTS = sorted(
    p for p in EXTERNAL.rglob("*") if p.suffix in (".pdf", ".docx", ".png", ".jpg")
)

# Text each file is known to hold (from the README of samples/external/).
KNOWN_TEXT = {
    "multilang.pdf": "こんにちは世界",
    "simple3.pdf": "あいうえお",
    "issue15340.pdf": "一",
}


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_external_document_is_unknown_with_text(path: Path) -> None:
    result = extract_files([path])
    assert result.documents, path.name
    for doc in result.documents:
        assert doc.form is None, f"{path.name} taken for {doc.form}"
        assert doc.fields == {}
        assert doc.text is not None
    if path.name in KNOWN_TEXT:
        assert KNOWN_TEXT[path.name] in "".join(d.text or "" for d in result.documents)


def test_external_set_is_complete() -> None:
    assert len(DOCUMENTS) >= 25
