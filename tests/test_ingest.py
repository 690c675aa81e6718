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


# --- issue 24: the file system, names, signatures at their offsets, the budget ---------------------

import struct  # noqa: E402
import time  # noqa: E402

from extract.ingest import Budget, Deadline, safe_name, tiff_frame_count  # noqa: E402
from forms.errors import BudgetExceeded, InputError, TooManyPages  # noqa: E402


def test_a_symlink_loop_is_one_line_of_bad_input(tmp_path: Path) -> None:
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(InputError) as err:  # was OSError errno 40, a traceback
        ingest(a, Limits())
    assert "a.pdf" in str(err.value) and "\n" not in str(err.value)


def test_a_fifo_is_refused_without_being_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "scan.pdf"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(InputError, match="Not a regular file"):
        ingest(fifo, Limits())  # opening it would wait for a writer forever
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("make", ["directory", "too_long", "through_a_file", "dev_null"])
def test_what_the_file_system_answers_is_bad_input(tmp_path: Path, make: str) -> None:
    path = {
        "directory": tmp_path,
        "too_long": tmp_path / ("x" * 300),  # ENAMETOOLONG
        "through_a_file": tmp_path / "plain" / "child.pdf",  # ENOTDIR
        "dev_null": Path("/dev/null"),
    }[make]
    (tmp_path / "plain").write_bytes(b"x")
    with pytest.raises(InputError) as err:
        ingest(path, Limits())
    assert "\n" not in str(err.value)


def test_an_undecodable_file_name_is_spelled_safely(tmp_path: Path, external: Path) -> None:
    path = Path(os.fsdecode(os.fsencode(str(tmp_path)) + b"/\xff\xfe.pdf"))
    path.write_bytes((external / "pdf" / "simple3.pdf").read_bytes())
    doc = ingest(path, Limits())
    assert doc.name == "\\xff\\xfe.pdf"
    doc.name.encode("utf-8")  # was a PydanticSerializationError in the JSON result
    assert safe_name("a\nb\x1b.pdf") == "a\\nb\\x1b.pdf"
    assert safe_name("申込書.pdf") == "申込書.pdf"


def test_a_docx_whose_first_member_holds_a_pdf_is_a_docx(docx_from_body, external: Path) -> None:  # type: ignore[no-untyped-def]
    inner = zipfile.ZipFile(io.BytesIO(docx_from_body("<w:p><w:r><w:t>申込書</w:t></w:r></w:p>")))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("attachment.pdf"), (external / "pdf" / "simple3.pdf").read_bytes())  # stored
        for info in inner.infolist():
            zf.writestr(info.filename, inner.read(info.filename))
    data = buf.getvalue()
    assert b"%PDF-" in data[:1024]
    assert sniff(data) == "docx"  # was "pdf", then a damaged PDF


def test_a_pdf_after_some_junk_is_still_a_pdf(external: Path) -> None:
    assert sniff(b"From: scanner@example.org\r\n\r\n" + (external / "pdf" / "simple3.pdf").read_bytes()) == "pdf"


def test_budget_parsing() -> None:
    assert Budget.parse("90") == Budget(seconds=90)
    assert Budget.parse("10m, 1.5GB") == Budget(seconds=600, memory_mb=1536)
    assert Budget.parse("800MB") == Budget(memory_mb=800)
    for bad in ("soon", "0s", "", "10s,", "-5"):
        with pytest.raises(MadoguchiError):
            Budget.parse(bad)
    assert Limits.from_env({"MADOGUCHI_BUDGET": "30s"}).budget.seconds == 30
    assert Limits.from_env({}).budget == Budget()


def test_deadline_refuses_past_its_time_and_memory() -> None:
    spent = Deadline(Budget(seconds=0.05))
    spent.check("page 1")
    time.sleep(0.06)
    with pytest.raises(BudgetExceeded, match="budget of 0 s"):
        spent.check("page 2")
    with pytest.raises(BudgetExceeded, match="memory"):
        Deadline(Budget(memory_mb=1)).check()  # this process holds more than 1 MB
    roomy = Deadline(Budget(memory_mb=100_000))
    roomy.allow_pixels(10_000_000)
    with pytest.raises(BudgetExceeded, match="megapixels"):
        roomy.allow_pixels(20_000_000_000)
    assert Deadline(Budget(seconds=0.01)).remaining() == 1.0  # never less than a second for a program


def _tiff(frames: int) -> bytes:
    buf = io.BytesIO()
    page = Image.new("1", (400, 300), 1)
    page.save(buf, "TIFF", compression="group4", save_all=True, append_images=[page] * (frames - 1))
    return buf.getvalue()


def test_tiff_frames_are_counted_without_decoding() -> None:
    assert tiff_frame_count(_tiff(7), 200) == 7
    assert tiff_frame_count(_tiff(30), 10) == 11  # the walk stops past the limit
    data = bytearray(_tiff(1))
    (ifd,) = struct.unpack("<I", data[4:8])
    (n,) = struct.unpack("<H", data[ifd : ifd + 2])
    data[ifd + 2 + 12 * n : ifd + 6 + 12 * n] = struct.pack("<I", ifd)  # the next directory: itself
    with pytest.raises(CorruptFile, match="loops"):
        tiff_frame_count(bytes(data), 200)


def test_the_page_limit_comes_before_any_frame_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import ImageFile

    from extract.readers.image import count_frames

    def no_decoding(self: object) -> None:
        raise AssertionError("a frame was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(TooManyPages):
        count_frames(_tiff(60), "tiff", Limits(max_pages=50))
    assert count_frames(_tiff(3), "tiff", Limits()) == 3
