"""Pages read from a file, cached by the file's content, so no file is OCR'd twice.

The key is the SHA-256 of the file's bytes plus a version string naming everything that changes
what a reading gives (this module's format, the OCR steps, Tesseract's version). Entries are JSON
files under ``$MADOGUCHI_CACHE_DIR`` (default ``~/.cache/madoguchi``) in ``pages/``, written
atomically (a temporary file renamed into place), so concurrent workers never see half a file.
A cache that cannot be read or written is skipped, never an error. ``MADOGUCHI_CACHE_DIR=off``
turns caching off.

An entry is never trusted: it is validated in full (every page, word, rule and value, each of
its type, finite, in range) before it is used, and whatever is wrong with it (not JSON, another
shape, a null where a number goes, no pages, not the pages asked for) makes it a miss: the
pages are read again and the entry written anew.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from extract.pagemodel import FormValue, Page, Rule, Word

log = logging.getLogger(__name__)

ENV_DIR = "MADOGUCHI_CACHE_DIR"
#: Bump when the OCR steps change what they produce.
READER_VERSION = "ocr-52"
FORMAT = 1


def cache_dir() -> Path | None:
    """The cache directory, or None when caching is off."""
    raw = os.environ.get(ENV_DIR)
    if raw is not None and raw.strip().lower() in ("off", "none", "0", "false"):
        return None
    if raw and raw.strip():
        return Path(raw).expanduser()
    return Path.home() / ".cache" / "madoguchi"


def default_version() -> str:
    """The reader's version and Tesseract's, when Tesseract is there."""
    try:
        from extract import tesseract

        tess = tesseract.version()
    except Exception:  # noqa: BLE001 - no tesseract: the key still works for text readers
        tess = "none"
    return f"{READER_VERSION}/tesseract-{tess}/format-{FORMAT}"


def entry_path(sha256: str, version: str, root: Path) -> Path:
    tag = hashlib.sha256(version.encode("utf-8")).hexdigest()[:12]
    return root / "pages" / sha256[:2] / f"{sha256}-{tag}.json"


def pages_to_json(pages: list[Page]) -> str:
    return json.dumps({"format": FORMAT, "pages": [asdict(p) for p in pages]}, ensure_ascii=False)


# --- the shape of an entry, validated before anything is built from it ---------------------

_Finite = Annotated[float, Field(allow_inf_nan=False)]
_Box = tuple[_Finite, _Finite, _Finite, _Finite]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class _WordEntry(_Strict):
    text: str
    x0: _Finite
    y0: _Finite
    x1: _Finite
    y1: _Finite
    conf: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 1.0
    char_confs: list[Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]] = []


class _RuleEntry(_Strict):
    x0: _Finite
    y0: _Finite
    x1: _Finite
    y1: _Finite


class _ValueEntry(_Strict):
    name: str
    value: str | bool | None
    bbox: list[_Finite] | None = Field(default=None, min_length=4, max_length=4)


class _PageEntry(_Strict):
    number: int = Field(ge=1)
    width: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    height: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    source: Literal["acroform", "docx", "text", "ocr"]
    words: list[_WordEntry] = []
    rules: list[_RuleEntry] = []
    form_values: list[_ValueEntry] = []
    image_path: str | None = None
    turn: Literal[0, 90, 180, 270] = 0


class _Entry(_Strict):
    format: Literal[1]
    pages: list[_PageEntry] = Field(min_length=1)


def pages_from_json(text: str) -> list[Page]:
    """The pages of an entry; ValueError (pydantic's ValidationError is one) when it is not
    an entry of this format in every part."""
    entry = _Entry.model_validate_json(text)
    return [_page(p) for p in entry.pages]


def _page(p: _PageEntry) -> Page:
    return Page(
        number=p.number,
        width=p.width,
        height=p.height,
        source=p.source,
        words=[Word(w.text, w.x0, w.y0, w.x1, w.y1, w.conf, char_confs=tuple(w.char_confs)) for w in p.words],
        rules=[Rule(r.x0, r.y0, r.x1, r.y1) for r in p.rules],
        form_values=[
            FormValue(name=v.name, value=v.value, bbox=tuple(v.bbox) if v.bbox else None)  # type: ignore[arg-type]
            for v in p.form_values
        ],
        image_path=p.image_path,
        turn=p.turn,
    )


def cached_pages(
    sha256: str,
    compute: Callable[[], list[Page]],
    *,
    version: str | None = None,
    root: Path | None = None,
    expect: int | None = None,
) -> list[Page]:
    """The pages cached for this content and version, else ``compute()`` (then cached).

    ``expect``: how many pages an entry holds (one for a page's key); an entry with another
    count is a miss like any other entry that is not what it should be."""
    root = root if root is not None else cache_dir()
    if root is None:
        return compute()
    path = entry_path(sha256, version or default_version(), root)
    try:
        pages = pages_from_json(path.read_text(encoding="utf-8"))
        if expect is not None and len(pages) != expect:
            raise ValueError(f"{len(pages)} pages where {expect} were cached")
        return pages
    except FileNotFoundError:
        pass
    except Exception as exc:  # noqa: BLE001 - whatever is wrong with an entry, it is a miss
        log.warning("ignoring unusable cache entry %s: %s", path.name, type(exc).__name__)
    pages = compute()
    _write_atomic(path, pages_to_json(pages))
    return pages


def _write_atomic(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.warning("cannot write cache entry %s: %s", path, exc)
