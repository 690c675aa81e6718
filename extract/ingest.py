"""Ingest: take an upload as bytes, decide what it is by its content, enforce the limits.

Nothing here trusts a file name. A file is sniffed by its magic bytes (a DOCX is a ZIP whose
central directory holds ``word/document.xml``), its size is checked before it is read in full,
and containers are checked for decompression bombs before anyone unpacks them.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import resource
import stat
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field

from forms.errors import (
    BudgetExceeded,
    CorruptFile,
    EmptyFile,
    EncryptedFile,
    FileTooLarge,
    InputError,
    MadoguchiError,
    TooManyPages,
    UnsupportedFileType,
    ZipBomb,
)

MB = 1024 * 1024
#: Pixels of one page image at most while it is worked on (rendered or resampled): A3 at
#: 300 dpi fits; a larger page is rendered or resampled to a lower resolution.
MAX_PAGE_PIXELS = 20_000_000
#: Pixels of one decoded image (a frame of an upload) at most: A3 at 600 dpi, a 48 MP photo fit.
MAX_IMAGE_PIXELS = 64_000_000
ENV_MAX_UPLOAD_MB = "MADOGUCHI_MAX_UPLOAD_MB"
#: The time and memory one document may cost: ``600s``, ``1.5GB``, ``600s,1.5GB`` (also the
#: ``--budget`` flag of ``extract`` and ``check``, which sets it).
ENV_BUDGET = "MADOGUCHI_BUDGET"

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


class Budget(BaseModel):
    """What one document may cost: seconds of work and resident memory (MB) of the process."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seconds: float = Field(default=600.0, gt=0)
    memory_mb: int = Field(default=2048, gt=0)

    @classmethod
    def parse(cls, text: str) -> Budget:
        """``600`` or ``600s`` (seconds), ``10m``, ``1500MB`` or ``1.5GB`` (memory), or both
        joined by a comma; what is not given keeps its default."""
        values: dict[str, float] = {}
        for part in (p.strip() for p in text.split(",")):
            match = _BUDGET_PART.fullmatch(part.lower())
            if not part or match is None:
                raise MadoguchiError(
                    f"{ENV_BUDGET} / --budget: {text!r} is not a budget (e.g. 600s, 1.5GB or 600s,1.5GB)"
                )
            number, unit = float(match[1]), match[2] or "s"
            if not number > 0:
                raise MadoguchiError(f"{ENV_BUDGET} / --budget: {part!r} must be more than zero")
            if unit in ("s", "m"):
                values["seconds"] = number * (60 if unit == "m" else 1)
            else:
                values["memory_mb"] = max(1, int(number * (1024 if unit == "gb" else 1)))
        return cls(**values)  # type: ignore[arg-type]


_BUDGET_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|mb|gb)?")


class Limits(BaseModel):
    """What an upload may cost us. Sizes in bytes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_bytes: int = Field(default=20 * MB, gt=0)
    max_pages: int = Field(default=200, gt=0)
    max_docx_uncompressed: int = Field(default=200 * MB, gt=0)
    max_zip_ratio: float = Field(default=100.0, gt=1)
    max_zip_members: int = Field(default=2000, gt=0)
    #: Pixels of a page worked on (rendered, resampled) and of an image decoded, at most.
    max_page_pixels: int = Field(default=MAX_PAGE_PIXELS, gt=0)
    max_image_pixels: int = Field(default=MAX_IMAGE_PIXELS, gt=0)
    budget: Budget = Field(default_factory=Budget)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        """The defaults, with ``MADOGUCHI_MAX_UPLOAD_MB`` (MiB, may be fractional) and
        ``MADOGUCHI_BUDGET`` applied."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        raw_budget = env.get(ENV_BUDGET, "").strip()
        if raw_budget:
            values["budget"] = Budget.parse(raw_budget)
        raw = env.get(ENV_MAX_UPLOAD_MB, "").strip()
        if raw:
            try:
                mb = float(raw)
            except ValueError:
                mb = -1.0
            if not mb > 0:
                raise MadoguchiError(f"{ENV_MAX_UPLOAD_MB} must be a positive number of MB, not {raw!r}")
            values["max_bytes"] = max(1, int(mb * MB))
        return cls(**values)  # type: ignore[arg-type]


def resident_mb() -> float:
    """This process's resident memory now, MB (its peak where /proc is not there)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / MB
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: Bytes of working memory a page costs per pixel while it is prepared, marked and read
#: (the grey page, its ink and rule masks, the clean copy, the recognizer's input).
BYTES_PER_PAGE_PIXEL = 12


@dataclass
class Deadline:
    """A document's budget as it is spent: started when the document is ingested, checked
    before each costly step (a page rendered, decoded or read)."""

    budget: Budget = field(default_factory=Budget)
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        """Seconds left, never less than one (a program given 0 s would fail for no reason)."""
        return max(1.0, self.budget.seconds - self.elapsed())

    def check(self, what: str = "") -> None:
        """Raise BudgetExceeded once the time or the memory is spent."""
        where = f" ({what})" if what else ""
        if self.elapsed() > self.budget.seconds:
            raise BudgetExceeded(
                f"処理時間の上限（{self.budget.seconds:.0f} 秒）を超えました / The document takes more than its"
                f" budget of {self.budget.seconds:.0f} s{where}",
                seconds=self.budget.seconds,
            )
        used = resident_mb()
        if used > self.budget.memory_mb:
            raise BudgetExceeded(
                f"メモリの上限（{self.budget.memory_mb} MB）を超えました / The document needs more than its"
                f" budget of {self.budget.memory_mb} MB of memory{where}",
                memory_mb=self.budget.memory_mb,
            )

    def allow_pixels(self, pixels: int, what: str = "") -> None:
        """Before an image of ``pixels`` is decoded or made: refused when what it would cost
        (:data:`BYTES_PER_PAGE_PIXEL`) does not fit in the memory left."""
        self.check(what)
        need = pixels * BYTES_PER_PAGE_PIXEL / MB
        if resident_mb() + need > self.budget.memory_mb:
            where = f" ({what})" if what else ""
            raise BudgetExceeded(
                f"画像が大きすぎてメモリの上限（{self.budget.memory_mb} MB）に収まりません / An image of"
                f" {pixels / 1e6:.0f} megapixels does not fit the memory budget of {self.budget.memory_mb} MB{where}",
                memory_mb=self.budget.memory_mb,
            )


@dataclass
class Ingested:
    name: str
    kind: FileKind
    sha256: str
    size: int
    data: bytes
    #: The document's budget, started when it was ingested.
    deadline: Deadline = field(default_factory=Deadline, compare=False, repr=False)


def safe_name(name: str) -> str:
    """A file name as it can be shown and stored: bytes that were not UTF-8 (kept by Python as
    lone surrogates) spelled ``\\xff``, control characters ``\\x1b``, on one line."""
    raw = name.encode("utf-8", "surrogateescape")
    text = raw.decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)


# --- entry points ----------------------------------------------------------------------


def ingest(path: Path, limits: Limits | None = None) -> Ingested:
    """Read a file from disk: size checked before reading, kind judged by content.

    Only a regular file is opened (a FIFO, a device or a directory never is); whatever the
    file system answers (no such file, no permission, a symlink loop, a name too long, an I/O
    error) is an InputError naming the file in a safe spelling."""
    limits = limits or Limits.from_env()
    shown = safe_name(str(path))
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"ファイルではありません / Not a regular file: {shown}")
        _check_size(shown, info.st_size, limits)
        # O_NONBLOCK: a file swapped for a FIFO after the check must not hang the open
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise InputError(f"ファイルではありません / Not a regular file: {shown}")
            data = _read_bounded(fh, shown, limits)
    except FileNotFoundError:
        raise InputError(f"ファイルが見つかりません / File not found: {shown}") from None
    except PermissionError:
        raise InputError(f"ファイルを読めません / Permission denied: {shown}") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"ファイルを読めません / Cannot read {shown}: {reason}") from None
    return ingest_bytes(path.name, data, limits)


def ingest_stream(name: str, stream: BinaryIO, limits: Limits | None = None) -> Ingested:
    """Read an upload stream (an HTTP body) without ever holding more than the limit."""
    limits = limits or Limits.from_env()
    return ingest_bytes(name, _read_bounded(stream, name, limits), limits)


def ingest_bytes(name: str, data: bytes, limits: Limits | None = None) -> Ingested:
    limits = limits or Limits.from_env()
    name = safe_name(name)
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
        deadline=Deadline(limits.budget),
    )


# --- sniffing --------------------------------------------------------------------------


def sniff(data: bytes) -> FileKind:
    """The kind of a file, from its content alone."""
    if not data:
        raise EmptyFile("ファイルが空です / The file is empty")
    # Every signature at its own offset: a format's magic at the start is that format, whatever
    # its content holds further on (a DOCX whose first member is a PDF is a DOCX).
    if data.startswith(_PNG_MAGIC):
        return "png"
    if data.startswith(_JPEG_MAGIC):
        return "jpeg"
    if data.startswith(_TIFF_MAGICS):
        return "tiff"
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
    # A PDF header may follow some junk (a mail header, a BOM); readers accept it within the
    # first 1024 bytes, as Acrobat does.
    if b"%PDF-" in data[:1024]:
        return "pdf"
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


def tiff_frame_count(data: bytes, limit: int) -> int:
    """The frames (pages) of a TIFF counted by walking its chain of directories, nothing
    decoded; the walk stops past ``limit`` (the count is then ``limit + 1``), and a chain that
    loops back is damaged."""
    _check_tiff(data)
    order = "<" if data[:2] == b"II" else ">"
    big = data[2:4] not in (b"*\x00", b"\x00*")
    count_fmt, entry, next_fmt = ("Q", 20, "Q") if big else ("H", 12, "I")
    count_size, next_size = struct.calcsize(count_fmt), struct.calcsize(next_fmt)
    (offset,) = struct.unpack(order + next_fmt, data[8:16] if big else data[4:8])
    seen: set[int] = set()
    frames = 0
    while offset and frames <= limit:
        if offset in seen:
            raise CorruptFile("TIFFのページの連鎖が循環しています / The TIFF's chain of pages loops back on itself")
        if offset + count_size > len(data):
            break  # a last pointer past the end: the frames before it are what there is
        seen.add(offset)
        frames += 1
        (entries,) = struct.unpack(order + count_fmt, data[offset : offset + count_size])
        at = offset + count_size + entries * entry
        if at + next_size > len(data):
            break
        (offset,) = struct.unpack(order + next_fmt, data[at : at + next_size])
    if frames == 0:
        raise _corrupt("TIFF")
    return frames


def check_page_count(name: str, count: int, limits: Limits) -> None:
    """The page limit, applied before any page is decoded."""
    if count > limits.max_pages:
        raise TooManyPages(
            f"ページ数が多すぎます（上限 {limits.max_pages}） / Too many pages: {name} has more than"
            f" {limits.max_pages}" if count == limits.max_pages + 1 else
            f"ページ数が多すぎます（{count}ページ、上限 {limits.max_pages}） / Too many pages:"
            f" {name} has {count}, the limit is {limits.max_pages}",
            pages=count,
            limit=limits.max_pages,
        )
