"""OCR results cached by content hash: a hit skips the work, a broken entry is recomputed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from extract import cache
from extract.pagemodel import FormValue, Page, Rule, Word


def _pages() -> list[Page]:
    return [
        Page(
            number=1,
            width=595.0,
            height=842.0,
            source="ocr",
            words=[Word("渋川市", 10.0, 20.0, 40.0, 30.0, 0.93), Word("☑", 50.0, 20.0, 58.0, 28.0, 0.8)],
            rules=[Rule(0.0, 100.0, 500.0, 100.0)],
            form_values=[FormValue("agree", True, (1.0, 2.0, 3.0, 4.0))],
            image_path="/tmp/page-0001.png",
        )
    ]


SHA = hashlib.sha256(b"scan").hexdigest()


def test_hit_skips_compute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV_DIR, str(tmp_path))
    calls: list[int] = []

    def compute() -> list[Page]:
        calls.append(1)
        return _pages()

    first = cache.cached_pages(SHA, compute, version="v1")
    second = cache.cached_pages(SHA, compute, version="v1")
    assert calls == [1]
    assert second == first == _pages()
    # another version is another entry
    cache.cached_pages(SHA, compute, version="v2")
    assert calls == [1, 1]
    entries = list((tmp_path / "pages").rglob("*"))
    assert not [p for p in entries if p.name.startswith(".tmp-")]
    assert len([p for p in entries if p.suffix == ".json"]) == 2


def test_round_trip_keeps_every_field() -> None:
    pages = _pages()
    again = cache.pages_from_json(cache.pages_to_json(pages))
    assert again == pages
    assert isinstance(again[0].words[0], Word) and again[0].form_values[0].bbox == (1.0, 2.0, 3.0, 4.0)


def test_corrupt_entry_is_recomputed(tmp_path: Path) -> None:
    path = cache.entry_path(SHA, "v1", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    assert cache.cached_pages(SHA, _pages, version="v1", root=tmp_path) == _pages()
    assert cache.pages_from_json(path.read_text(encoding="utf-8")) == _pages()


def test_off_and_unwritable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV_DIR, "off")
    assert cache.cache_dir() is None
    calls: list[int] = []

    def compute() -> list[Page]:
        calls.append(1)
        return _pages()

    cache.cached_pages(SHA, compute, version="v1")
    cache.cached_pages(SHA, compute, version="v1")
    assert calls == [1, 1]
    # a cache directory that cannot be created is skipped, not an error
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cache.cached_pages(SHA, _pages, version="v1", root=blocker / "sub") == _pages()


def test_default_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cache.ENV_DIR, raising=False)
    assert cache.cache_dir() == Path.home() / ".cache" / "madoguchi"
    assert cache.default_version().startswith(cache.READER_VERSION)


# --- issue 24: an entry is validated in full; whatever is wrong with it is a miss -----------------

import json  # noqa: E402

_GOOD_PAGE = {"number": 1, "width": 595.0, "height": 842.0, "source": "ocr", "words": [], "rules": [], "form_values": []}
_WORD = {"text": "渋川市", "x0": 1.0, "y0": 2.0, "x1": 3.0, "y1": 4.0, "conf": 0.9, "char_confs": [0.9, 0.9, 0.9]}


@pytest.mark.parametrize(
    "entry",
    [
        {"format": 1, "pages": []},  # no pages
        {"format": 1, "pages": [{**_GOOD_PAGE, "words": [{**_WORD, "text": None}]}]},  # null text
        {"format": 1, "pages": [{**_GOOD_PAGE, "width": "wide"}]},
        {"format": 1, "pages": [{**_GOOD_PAGE, "width": -5.0}]},
        {"format": 1, "pages": [{**_GOOD_PAGE, "turn": 45}]},
        {"format": 1, "pages": [{**_GOOD_PAGE, "source": "fax"}]},
        {"format": 1, "pages": [{**_GOOD_PAGE, "words": [{**_WORD, "conf": 7}]}]},
        {"format": 1, "pages": [{**_GOOD_PAGE, "words": [{**_WORD, "x0": "1"}]}]},
        {"format": 1, "pages": [{**_GOOD_PAGE, "rules": [{"x0": 1, "y0": 1, "x1": 2}]}]},
        {"format": 1, "pages": [{**_GOOD_PAGE, "form_values": [{"name": "a", "value": 3, "bbox": None}]}]},
        {"format": 1, "pages": [{**_GOOD_PAGE, "form_values": [{"name": "a", "value": "x", "bbox": [1, 2]}]}]},
        {"format": 1, "pages": [{**_GOOD_PAGE, "unexpected": 1}]},
        {"format": 1, "pages": [_GOOD_PAGE, {**_GOOD_PAGE, "number": 2}]},  # two pages where one is cached
        {"format": 2, "pages": [_GOOD_PAGE]},
        {"format": 1, "pages": {"1": _GOOD_PAGE}},
        [1, 2, 3],
        None,
    ],
)
def test_a_wrong_entry_is_a_miss(tmp_path: Path, entry: object) -> None:
    path = cache.entry_path(SHA, "v1", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(entry), encoding="utf-8")
    calls: list[int] = []

    def compute() -> list[Page]:
        calls.append(1)
        return _pages()

    assert cache.cached_pages(SHA, compute, version="v1", root=tmp_path, expect=1) == _pages()
    assert calls == [1]
    # and the entry is written anew, right
    assert cache.pages_from_json(path.read_text(encoding="utf-8")) == _pages()


def test_nan_and_infinity_are_not_numbers_of_an_entry(tmp_path: Path) -> None:
    text = cache.pages_to_json(_pages()).replace("595.0", "NaN", 1)
    with pytest.raises(ValueError):
        cache.pages_from_json(text)
    text = cache.pages_to_json(_pages()).replace("842.0", "Infinity", 1)
    with pytest.raises(ValueError):
        cache.pages_from_json(text)


def test_bytes_that_are_not_text_are_a_miss(tmp_path: Path) -> None:
    path = cache.entry_path(SHA, "v1", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe\x00{")
    assert cache.cached_pages(SHA, _pages, version="v1", root=tmp_path) == _pages()
