"""One test over the table of known misreads (samples/regressions/regressions.tsv): each row
names a committed file, a field, what it was once read as and what it must read."""

from __future__ import annotations

import json
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from extract.pipeline import extract_files

HERE = Path(__file__).resolve().parents[1] / "samples" / "regressions"


def _rows() -> list[tuple[str, str, str, Any]]:
    out = []
    for line in (HERE / "regressions.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, key, read_as, expected = line.split("\t")
            out.append((name, key, read_as, json.loads(expected)))
    return out


@lru_cache(maxsize=None)
def _fields(name: str) -> dict[str, Any]:
    [doc] = [d for d in extract_files([HERE / name]).documents if d.form]
    return {k: v.value for k, v in doc.fields.items()}


def _fold(value: Any) -> Any:
    return "".join(unicodedata.normalize("NFKC", value).split()) if isinstance(value, str) else value


@pytest.mark.parametrize(("name", "key", "read_as", "expected"), _rows(), ids=lambda v: str(v)[:24])
def test_a_known_misread_stays_put_right(name: str, key: str, read_as: str, expected: Any) -> None:
    got = _fields(name).get(key)
    assert _fold(got) == _fold(expected) and type(got) is type(expected), f"{name} {key}: {got!r} (once {read_as})"
