from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from extract.ingest import MB, Ingested, Limits, ingest, ingest_bytes, ingest_stream, sniff
from extract.readers.docx import read_docx
from forms.errors import (
    CorruptFile,
    EmptyFile,
    FileTooLarge,
    MadoguchiError,
    UnsupportedFileType,
    ZipBomb,
)


def _image(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buf, format=fmt)
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


# --- sniffing by content ----------------------------------------------------------------


def test_pdf_named_png_is_a_pdf(tmp_path: Path, external: Path) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes((external / "pdf" / "simple3.pdf").read_bytes())
    doc = ingest(path, Limits())
    assert doc.kind == "pdf"
    assert doc.name == "scan.png"


def test_text_named_pdf_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "application.pdf"
    path.write_text("令和7年4月1日\n申込書\n", encoding="utf-8")
    with pytest.raises(UnsupportedFileType) as err:
        ingest(path, Limits())
    assert "\n" not in str(err.value)
    assert "PDF" in str(err.value)


@pytest.mark.parametrize(("fmt", "kind"), [("PNG", "png"), ("JPEG", "jpeg"), ("TIFF", "tiff")])
def test_images_are_sniffed(fmt: str, kind: str) -> None:
    assert ingest_bytes("upload.bin", _image(fmt), Limits()).kind == kind


def test_docx_is_a_zip_with_a_word_document(external: Path) -> None:
    data = (external / "docx" / "test_file_1table_multilingual.docx").read_bytes()
    assert sniff(data) == "docx"


def test_zip_that_is_not_a_docx_is_unsupported() -> None:
    data = _zip({"xl/workbook.xml": b"<workbook/>", "[Content_Types].xml": b"<Types/>"})
    with pytest.raises(UnsupportedFileType):
        sniff(data)


def test_legacy_word_file_is_unsupported() -> None:
    data = bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504
    with pytest.raises(UnsupportedFileType, match="DOCX"):
        ingest_bytes("old.doc", data, Limits())


def test_ingested_record(external: Path) -> None:
    data = (external / "pdf" / "multilang.pdf").read_bytes()
    doc = ingest_bytes("multilang.pdf", data, Limits())
    assert doc == Ingested(
        name="multilang.pdf", kind="pdf", sha256=hashlib.sha256(data).hexdigest(), size=len(data), data=data
    )


# --- empty, too large, truncated ------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(EmptyFile):
        ingest(path, Limits())
    with pytest.raises(EmptyFile):
        ingest_bytes("empty.pdf", b"", Limits())


def test_over_size_with_a_small_limit() -> None:
    with pytest.raises(FileTooLarge) as err:
        ingest_bytes("big.png", _image("PNG") + b"\x00" * 2000, Limits(max_bytes=1000))
    assert err.value.http_status == 413


def test_size_is_checked_before_reading(tmp_path: Path) -> None:
    # A sparse 4 GB file: reading it would take far longer than this test is allowed.
    path = tmp_path / "huge.pdf"
    with path.open("wb") as fh:
        fh.truncate(4 * 1024 * MB)
    with pytest.raises(FileTooLarge):
        ingest(path, Limits())


def test_stream_is_read_only_up_to_the_limit() -> None:
    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b: bytearray) -> int:  # type: ignore[override]
            b[:] = b"%" * len(b)
            return len(b)

    with pytest.raises(FileTooLarge):
        ingest_stream("upload.pdf", io.BufferedReader(Endless()), Limits(max_bytes=64 * 1024))  # type: ignore[type-var]


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(MadoguchiError, match="not found"):
        ingest(tmp_path / "nope.pdf", Limits())


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_image_is_corrupt(fmt: str) -> None:
    data = _image(fmt)
    with pytest.raises(CorruptFile):
        ingest_bytes("cut", data[: len(data) // 2], Limits())


def test_truncated_zip_is_corrupt(external: Path) -> None:
    data = (external / "docx" / "test_file_two_pages_international.docx").read_bytes()
    with pytest.raises(CorruptFile):
        ingest_bytes("cut.docx", data[: len(data) - 100], Limits())


# --- zip bombs -----------------------------------------------------------------------------


def _bomb_docx(member_size: int) -> bytes:
    return _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>',
            "word/media/filler.xml": b"\x00" * member_size,
        }
    )


def test_highly_compressed_member_is_a_zip_bomb() -> None:
    data = _bomb_docx(8 * MB)  # compresses about 1000:1
    with pytest.raises(ZipBomb, match="ratio"):
        ingest_bytes("bomb.docx", data, Limits())
    with pytest.raises(ZipBomb):
        read_docx(data, Limits())  # the reader checks on its own too


def test_declared_uncompressed_total_too_large() -> None:
    data = _zip({"word/document.xml": b"<w:document/>", "word/media/image.bin": os.urandom(2 * MB)})
    with pytest.raises(ZipBomb, match="expands"):
        ingest_bytes("big.docx", data, Limits(max_docx_uncompressed=1 * MB))


def test_too_many_members() -> None:
    data = _zip({"word/document.xml": b"<w:document/>", **{f"word/part{i}.xml": b"<x/>" for i in range(20)}})
    with pytest.raises(ZipBomb, match="members"):
        ingest_bytes("many.docx", data, Limits(max_zip_members=10))


# --- limits -------------------------------------------------------------------------------------


def test_limits_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MADOGUCHI_MAX_UPLOAD_MB", "1.5")
    assert Limits.from_env().max_bytes == int(1.5 * MB)
    monkeypatch.delenv("MADOGUCHI_MAX_UPLOAD_MB")
    assert Limits.from_env().max_bytes == 20 * MB
    monkeypatch.setenv("MADOGUCHI_MAX_UPLOAD_MB", "lots")
    with pytest.raises(MadoguchiError, match="MADOGUCHI_MAX_UPLOAD_MB"):
        Limits.from_env()


def test_ingest_uses_the_env_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MADOGUCHI_MAX_UPLOAD_MB", "0.001")
    with pytest.raises(FileTooLarge):
        ingest_bytes("scan.png", _image("PNG") + b"\x00" * 2048)
