"""Ingest: take an upload as bytes, decide what it is by its content, enforce the limits.

Nothing here trusts a file name. A file is sniffed by its magic bytes (a DOCX is a ZIP whose
central directory holds ``word/document.xml``), its size is checked before it is read in full,
and containers are checked for decompression bombs before anyone unpacks them.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field

from forms.errors import (
    CorruptFile,
    EmptyFile,
    EncryptedFile,
    FileTooLarge,
    InputError,
    MadoguchiError,
    UnsupportedFileType,
    ZipBomb,
)

MB = 1024 * 1024
ENV_MAX_UPLOAD_MB = "MADOGUCHI_MAX_UPLOAD_MB"

FileKind = Literal["pdf", "png", "jpeg", "tiff", "docx"]

#: ZIP members smaller than this are not judged by their compression ratio: they cannot hurt.
_RATIO_MIN_MEMBER = 1 * MB

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DOCX_MAIN = "word/document.xml"
_DOCX_CONTENT_TYPE = b"wordprocessingml.document.main+xml"


class Limits(BaseModel):
    """What an upload may cost us. Sizes in bytes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_bytes: int = Field(default=20 * MB, gt=0)
    max_pages: int = Field(default=200, gt=0)
    max_docx_uncompressed: int = Field(default=200 * MB, gt=0)
    max_zip_ratio: float = Field(default=100.0, gt=1)
    max_zip_members: int = Field(default=2000, gt=0)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        """The defaults, with ``MADOGUCHI_MAX_UPLOAD_MB`` (MiB, may be fractional) applied."""
        env = os.environ if environ is None else environ
        raw = env.get(ENV_MAX_UPLOAD_MB, "").strip()
        if not raw:
            return cls()
        try:
            mb = float(raw)
        except ValueError:
            mb = -1.0
        if not mb > 0:
            raise MadoguchiError(f"{ENV_MAX_UPLOAD_MB} must be a positive number of MB, not {raw!r}")
        return cls(max_bytes=max(1, int(mb * MB)))


@dataclass
class Ingested:
    name: str
    kind: FileKind
    sha256: str
    size: int
    data: bytes


# --- entry points ----------------------------------------------------------------------


def ingest(path: Path, limits: Limits | None = None) -> Ingested:
    """Read a file from disk: size checked before reading, kind judged by content."""
    limits = limits or Limits.from_env()
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InputError(f"ファイルではありません / Not a file: {path}")
        _check_size(path.name, size, limits)
        with path.open("rb") as fh:
            data = _read_bounded(fh, path.name, limits)
    except FileNotFoundError:
        raise InputError(f"ファイルが見つかりません / File not found: {path}") from None
    except PermissionError:
        raise InputError(f"ファイルを読めません / Permission denied: {path}") from None
    return ingest_bytes(path.name, data, limits)


def ingest_stream(name: str, stream: BinaryIO, limits: Limits | None = None) -> Ingested:
    """Read an upload stream (an HTTP body) without ever holding more than the limit."""
    limits = limits or Limits.from_env()
    return ingest_bytes(name, _read_bounded(stream, name, limits), limits)


def ingest_bytes(name: str, data: bytes, limits: Limits | None = None) -> Ingested:
    limits = limits or Limits.from_env()
    _check_size(name, len(data), limits)
    kind = sniff(data)
    if kind == "docx":
        check_zip(data, limits)
    elif kind == "png":
        _check_png(data)
    elif kind == "jpeg":
        _check_jpeg(data)
    elif kind == "tiff":
        _check_tiff(data)
    return Ingested(
        name=name,
        kind=kind,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        data=data,
    )


# --- sniffing --------------------------------------------------------------------------


def sniff(data: bytes) -> FileKind:
    """The kind of a file, from its content alone."""
    if not data:
        raise EmptyFile("ファイルが空です / The file is empty")
    head = data[:1024]
    if data.startswith(_PNG_MAGIC):
        return "png"
    if data.startswith(_JPEG_MAGIC):
        return "jpeg"
    if data.startswith(_TIFF_MAGICS):
        return "tiff"
    # A PDF header may follow some junk; readers accept it within the first 1024 bytes.
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(_ZIP_MAGICS):
        return _sniff_zip(data)
    if data.startswith(_OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise EncryptedFile(
                "パスワード付きのOfficeファイルは読めません / Password-protected Office files cannot be read"
            )
        raise UnsupportedFileType(
            "旧形式のWord/Excelファイルです。DOCXまたはPDFで保存してください"
            " / Legacy .doc/.xls file: save it as DOCX or PDF"
        )
    raise UnsupportedFileType(
        "対応していないファイル形式です（PDF・PNG・JPEG・TIFF・DOCX） / Unsupported file type:"
        " PDF, PNG, JPEG, TIFF and DOCX are accepted"
    )


def _sniff_zip(data: bytes) -> FileKind:
    zf = open_zip(data)
    with zf:
        names = set(zf.namelist())
        if _DOCX_MAIN in names:
            return "docx"
        if "[Content_Types].xml" in names:
            info = zf.getinfo("[Content_Types].xml")
            if info.file_size <= MB and _DOCX_CONTENT_TYPE in read_zip_member(zf, info.filename, Limits()):
                return "docx"
    raise UnsupportedFileType(
        "DOCX以外のZIPファイルには対応していません / A ZIP file that is not a DOCX is not supported"
    )


# --- ZIP ---------------------------------------------------------------------------------


def open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise CorruptFile(
            f"ZIP/DOCXファイルが壊れているか途中で切れています / The ZIP/DOCX file is damaged or truncated ({exc})"
        ) from None


def check_zip(data: bytes, limits: Limits) -> None:
    """Refuse archives whose declared content is too large, too compressed or too numerous."""
    with open_zip(data) as zf:
        check_zip_members(zf.infolist(), limits)


def check_zip_members(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(infos) > limits.max_zip_members:
        raise ZipBomb(
            f"ZIPのファイル数が多すぎます / Too many members in the archive ({len(infos)} > {limits.max_zip_members})"
        )
    total = 0
    for info in infos:
        total += info.file_size
        if total > limits.max_docx_uncompressed:
            raise ZipBomb(
                "展開後のサイズが大きすぎます / The archive expands to more than"
                f" {limits.max_docx_uncompressed // MB} MB"
            )
        if info.file_size >= _RATIO_MIN_MEMBER:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_zip_ratio:
                raise ZipBomb(f"圧縮率が異常です / Suspicious compression ratio {ratio:.0f}:1 for {info.filename!r}")


def read_zip_member(zf: zipfile.ZipFile, name: str, limits: Limits) -> bytes:
    """One member's bytes, never more than the archive limit (declared sizes can lie)."""
    try:
        with zf.open(name) as fh:
            data = fh.read(limits.max_docx_uncompressed + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression method.
        raise CorruptFile(f"ZIP/DOCXの内容を読めません / Cannot read {name!r} from the archive ({exc})") from None
    if len(data) > limits.max_docx_uncompressed:
        raise ZipBomb(f"展開後のサイズが大きすぎます / {name!r} expands beyond the limit")
    return data


# --- size and truncation -------------------------------------------------------------------


def _check_size(name: str, size: int, limits: Limits) -> None:
    if size == 0:
        raise EmptyFile(f"ファイルが空です / The file is empty: {name}")
    if size > limits.max_bytes:
        raise FileTooLarge(
            f"ファイルが大きすぎます（上限 {_fmt_mb(limits.max_bytes)}） / File too large:"
            f" {name} is {_fmt_mb(size)}, the limit is {_fmt_mb(limits.max_bytes)}",
            size=size,
            limit=limits.max_bytes,
        )


def _fmt_mb(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB // 10 else f"{n} bytes"


def _read_bounded(fh: BinaryIO, name: str, limits: Limits) -> bytes:
    data = fh.read(limits.max_bytes + 1)
    _check_size(name, len(data), limits)
    return data


def _corrupt(kind: str) -> CorruptFile:
    return CorruptFile(f"{kind}ファイルが壊れているか途中で切れています / The {kind} file is damaged or truncated")


def _check_png(data: bytes) -> None:
    """Walk the chunks up to IEND: a truncated PNG ends before it."""
    pos = len(_PNG_MAGIC)
    first = True
    while True:
        if pos + 8 > len(data):
            raise _corrupt("PNG")
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        if first and ctype != b"IHDR":
            raise _corrupt("PNG")
        first = False
        end = pos + 8 + length + 4
        if end > len(data):
            raise _corrupt("PNG")
        if ctype == b"IEND":
            return
        pos = end


def _check_jpeg(data: bytes) -> None:
    """A complete JPEG ends with EOI (FFD9); some writers append a little padding after it."""
    if b"\xff\xd9" not in data[-4096:]:
        raise _corrupt("JPEG")


def _check_tiff(data: bytes) -> None:
    if len(data) < 16:
        raise _corrupt("TIFF")
    order = "<" if data[:2] == b"II" else ">"
    if data[2:4] in (b"*\x00", b"\x00*"):
        (ifd,) = struct.unpack(order + "I", data[4:8])
    else:  # BigTIFF
        (ifd,) = struct.unpack(order + "Q", data[8:16])
    if ifd < 8 or ifd >= len(data):
        raise _corrupt("TIFF")
