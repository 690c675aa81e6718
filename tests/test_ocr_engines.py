"""The two OCR engines on committed scans: the values of noisy certificates read right by the
primary engine (a floor that fails CI on a regression, not a timing), and extraction with the primary
engine switched off (MADOGUCHI_OCR_ENGINE=tesseract) on a machine where rapidocr cannot even be
imported, through the library and through the command line."""

from __future__ import annotations

import builtins
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from extract.keys import TO_LARGE
from extract.pipeline import extract_files

ROOT = Path(__file__).resolve().parents[1]
SCANS = ROOT / "samples" / "scans"
KEY_FIELDS = {
    "tax_certificate": ("taxpayer_name", "issue_date", "no_arrears"),
    "origin_certificate": ("product_name", "issue_date", "origin"),
}


def _truth(scan: Path) -> dict[str, Any]:
    return json.loads(scan.with_name(scan.name + ".json").read_text(encoding="utf-8"))


def _same(truth: Any, got: Any) -> bool:
    if isinstance(truth, str) and isinstance(got, str):
        fold = lambda s: "".join(unicodedata.normalize("NFKC", s).split())  # noqa: E731
        return fold(truth) == fold(got)
    return str(truth) == str(got)


#: The noisy 200 dpi certificates and the values they print: PP-OCRv6 read every one of them
#: right when measured (Tesseract's jpn read 渋川 as 小川 and 和牛 as 和邊 on such pages).
NOISY_CERTIFICATES = [
    "tax_001_l1_200dpi-noisy.jpg", "tax_003_l0_200dpi-noisy.jpg", "tax_005_l2_200dpi-noisy.jpg",
    "origin_001_l1_200dpi-noisy.jpg", "origin_003_l0_200dpi-noisy.jpg", "origin_005_l2_200dpi-noisy.jpg",
]
PRINTED = ("taxpayer_name", "taxpayer_address", "certificate_number", "tax_kind", "product_name", "origin")


def test_the_primary_engine_reads_the_values_of_noisy_certificates(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the engine reads, whatever the locator makes of it: each printed value stands in the
    page's text, and so does the certificate's title."""
    from extract.readers.image import read_image_pages

    monkeypatch.setenv("MADOGUCHI_OCR_ENGINE", "rapidocr")
    # a small kana read large (こんにやく) is put right in the values, by the vocabulary
    # (extract/repairs.py): the page's text is compared with small kana as large ones
    fold = lambda s: "".join(unicodedata.normalize("NFKC", s).split()).translate(TO_LARGE)  # noqa: E731
    missed = []
    for name in NOISY_CERTIFICATES:
        truth = _truth(SCANS / name)
        (page,) = read_image_pages((SCANS / name).read_bytes(), "jpeg")
        text = fold("".join(w.text for w in page.words))
        assert "証明書" in text
        missed += [f"{name} {k}: {v}" for k, v in truth["fields"].items() if k in PRINTED and fold(v) not in text]
    assert not missed


def test_extraction_works_with_the_primary_engine_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """MADOGUCHI_OCR_ENGINE=tesseract reads scans with Tesseract alone: rapidocr and ONNX Runtime
    are never imported (a machine without them works)."""
    real_import = builtins.__import__
    asked: list[str] = []

    def without_rapidocr(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in ("rapidocr", "onnxruntime"):
            asked.append(name)
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setenv("MADOGUCHI_OCR_ENGINE", "tesseract")
    monkeypatch.setenv("MADOGUCHI_CACHE_DIR", "off")
    monkeypatch.setattr(builtins, "__import__", without_rapidocr)
    scan = SCANS / "tax_004_l1_300dpi.png"
    truth = _truth(scan)
    (doc,) = extract_files([scan]).documents
    assert doc.form == "tax_certificate" and not asked
    assert all(_same(truth["fields"][k], doc.fields[k].value) for k in ("issue_date", "no_arrears"))


def test_the_command_line_reads_a_scan_with_either_engine(tmp_path: Path) -> None:
    scan = SCANS / "tax_004_l1_300dpi.png"
    truth = _truth(scan)["fields"]
    for engine in ("tesseract", "rapidocr"):
        env = {**os.environ, "MADOGUCHI_OCR_ENGINE": engine, "MADOGUCHI_CACHE_DIR": str(tmp_path / "cache")}
        proc = subprocess.run(
            [sys.executable, "-m", "web.cli", "extract", str(scan), "--json"],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False,
        )
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)["documents"][0]
        assert doc["form"] == "tax_certificate"
        assert doc["fields"]["issue_date"]["value"] == truth["issue_date"], engine
    # the engine is part of the cache key: each engine's reading was cached apart
    entries = list((tmp_path / "cache").rglob("*.json"))
    assert len(entries) >= 2


def test_an_unknown_engine_is_a_one_line_error(tmp_path: Path) -> None:
    env = {**os.environ, "MADOGUCHI_OCR_ENGINE": "paddle", "MADOGUCHI_CACHE_DIR": "off"}
    proc = subprocess.run(
        [sys.executable, "-m", "web.cli", "extract", str(SCANS / "tax_004_l1_300dpi.png")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )
    assert proc.returncode == 4
    assert "MADOGUCHI_OCR_ENGINE" in proc.stderr and proc.stderr.strip().count("\n") == 0
