"""Pages read from a file, cached by the file's content, so no file is OCR'd twice.

The key is the SHA-256 of the file's bytes plus a version string naming everything that changes
what a reading gives (this module's format, the OCR steps, Tesseract's version). Entries are JSON
files under ``$MADOGUCHI_CACHE_DIR`` (default ``~/.cache/madoguchi``) in ``pages/``, written
atomically (a temporary file renamed into place), so concurrent workers never see half a file.
A cache that cannot be read or written is skipped, never an error. ``MADOGUCHI_CACHE_DIR=off``
turns caching off.
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
from typing import Any

from extract.pagemodel import FormValue, Page, Rule, Word

log = logging.getLogger(__name__)

ENV_DIR = "MADOGUCHI_CACHE_DIR"
#: Bump when the OCR steps change what they produce.
READER_VERSION = "ocr-33"
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


def pages_from_json(text: str) -> list[Page]:
    raw = json.loads(text)
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ValueError("not a cache entry of this format")
    return [_page(p) for p in raw["pages"]]


def _page(d: dict[str, Any]) -> Page:
    return Page(
        number=int(d["number"]),
        width=float(d["width"]),
        height=float(d["height"]),
        source=d["source"],
        words=[Word(**{**w, "char_confs": tuple(w.get("char_confs", ()))}) for w in d.get("words", [])],
        rules=[Rule(**r) for r in d.get("rules", [])],
        form_values=[
            FormValue(name=v["name"], value=v["value"], bbox=tuple(v["bbox"]) if v.get("bbox") else None)
            for v in d.get("form_values", [])
        ],
        image_path=d.get("image_path"),
        turn=int(d.get("turn", 0)),
    )


def cached_pages(
    sha256: str,
    compute: Callable[[], list[Page]],
    *,
    version: str | None = None,
    root: Path | None = None,
) -> list[Page]:
    """The pages cached for this content and version, else ``compute()`` (then cached)."""
    root = root if root is not None else cache_dir()
    if root is None:
        return compute()
    path = entry_path(sha256, version or default_version(), root)
    try:
        return pages_from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable cache entry %s: %s", path, exc)
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
