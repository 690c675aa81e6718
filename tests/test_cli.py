"""The command line: contracts of DESIGN 4.1 and one-line errors for bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfWriter

from web.cli import main

GOLDEN = Path(__file__).resolve().parents[1] / "samples" / "golden"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_forms_list(capsys):
    code, out, _ = run(capsys, "forms", "list")
    assert code == 0
    for form_id in ("shibukawa.form1", "shibukawa.form2", "shibukawa.form5", "shibukawa.form6", "tax_certificate", "origin_certificate"):
        assert form_id in out


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_forms_download(capsys, tmp_path, fmt):
    target = tmp_path / f"form1.{fmt}"
    code, out, _ = run(capsys, "forms", "download", "shibukawa.form1", "--format", fmt, "-o", str(target))
    assert code == 0
    head = target.read_bytes()[:4]
    assert head == (b"PK\x03\x04" if fmt == "docx" else b"%PDF")


def test_forms_download_unknown_form(capsys, tmp_path):
    code, _, err = run(capsys, "forms", "download", "nosuch.form9", "-o", str(tmp_path / "x.docx"))
    assert code == 2 and "unknown form" in err and err.count("\n") == 1


def test_extract_json_follows_the_contract(capsys):
    code, out, _ = run(capsys, "extract", str(GOLDEN / "form1_wagyu.pdf"), "--json")
    assert code == 0
    doc = json.loads(out)["documents"][0]
    assert doc["form"] == "shibukawa.form1" and doc["pages"] >= 1 and len(doc["sha256"]) == 64
    donation = doc["fields"]["donation_amount"]
    assert donation["value"] == 12000 and donation["source"] == "text"
    assert len(donation["bbox"]) == 4 and donation["page"] >= 1 and 0 < donation["confidence"] <= 1


def test_extract_table(capsys):
    code, out, _ = run(capsys, "extract", str(GOLDEN / "form1_wagyu.docx"))
    assert code == 0
    assert "donation_amount" in out and "12,000" in out


def _encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _no_pages_pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (width, height), 255).save(buf, "PNG")
    return buf.getvalue()


def _zip_bomb_docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"<w:document>" + b" " * (30 * 1024 * 1024) + b"</w:document>")
    return buf.getvalue()


BAD_INPUTS = {
    "not_a_document.pdf": lambda: b"just some text, not a PDF at all\n" * 10,
    "empty.pdf": lambda: b"",
    "truncated.pdf": lambda: (GOLDEN / "form1_wagyu.pdf").read_bytes()[:3000],
    "corrupt.pdf": lambda: b"%PDF-1.7\n" + bytes(range(256)) * 20,
    "encrypted.pdf": _encrypted_pdf,
    "no_pages.pdf": _no_pages_pdf,
    "bomb.docx": _zip_bomb_docx,
    "truncated.png": lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
    # regression: a 1×1 image reached deskewing and OpenCV failed on an empty resize
    "one_pixel.png": lambda: _png(1, 1),
}


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")
    paths = {}
    for name, make in BAD_INPUTS.items():
        path = tmp / name
        path.write_bytes(make())
        paths[name] = path
    return paths


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_2(bad_files, name):
    """Run as a user would: a separate process, so a traceback anywhere would show."""
    proc = subprocess.run(
        [sys.executable, "-m", "web.cli", "extract", str(bad_files[name])],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("madoguchi: ")
    assert proc.stdout == ""


def test_file_over_the_size_limit(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_MAX_UPLOAD_MB", "0.01")
    code, _, err = run(capsys, "extract", str(GOLDEN / "form1_wagyu.pdf"))
    assert code == 2 and err.count("\n") == 1


def test_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "extract", str(tmp_path / "nosuch.pdf"))
    assert code == 2 and err.count("\n") == 1
