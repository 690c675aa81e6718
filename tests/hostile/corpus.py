"""A corpus of hostile and odd inputs, made by code (nothing binary is kept in the repository).

Each :class:`Case` writes its input into a directory and says what a run of
``madoguchi extract`` on it may end in: ``ok`` (exit 0 with a result), ``refused`` (exit 2-4,
one line on stderr) or ``either``. The inputs cover the rows of issue 24's table (page sizes,
pixel bombs, many frames, blank pages, many fields, odd names, special files, a DOCX holding a
PDF, wrong cache entries) and the families that already passed (XXE, entity expansion, zip
bombs, loops, deep nesting, odd page boxes, wrong extensions, encryption, 16-bit and CMYK
images, G4 TIFFs). Some refer to a secret file outside the input: nothing of it may show.

``python -m tests.hostile.corpus DIR`` writes the corpus to DIR and lists it.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Expect = Literal["ok", "refused", "either"]

#: What the secret file outside every input holds: no output may contain it.
SECRET = "MADOGUCHI-OUTSIDE-SECRET-7f3a9c"


@dataclass(frozen=True)
class Ctx:
    """Where a case writes its input; the secret file it may point at."""

    root: Path
    secret: Path


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Ctx], Path]
    expect: Expect
    family: str
    #: Environment for this run beyond the runner's (a smaller budget, a cache directory).
    env: dict[str, str] = field(default_factory=dict)
    #: Seconds this input must finish in (the issue's bound for it), else the runner's.
    seconds: float | None = None


# --- PDF by hand -------------------------------------------------------------------------------


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def raw_pdf(objs: dict[int, bytes], *, root: int = 1, trailer: bytes = b"", header: bytes = b"%PDF-1.7\n") -> bytes:
    """A PDF of numbered objects with a correct cross-reference table."""
    out = bytearray(header + b"%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    xref = len(out)
    size = max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for i in range(1, size):
        out += b"%010d 00000 n \n" % offsets[i] if i in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (size, root, trailer, xref)
    return bytes(out)


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
INK = b"0 0 0 RG 4 w 60 60 m 400 60 l S 60 120 m 400 120 l S 60 60 m 60 120 l S"
TEXT = b"BT /F1 18 Tf 72 700 Td (Hostile corpus page) Tj ET"


def page_pdf(
    mediabox: bytes = b"0 0 595 842", content: bytes = TEXT, *, page_extra: bytes = b"", objs: dict[int, bytes] | None = None,
    catalog_extra: bytes = b"", trailer: bytes = b"",
) -> bytes:
    """One page: catalog 1, pages 2, page 3, content 4, font 5; more objects from 6."""
    base = {
        1: b"<< /Type /Catalog /Pages 2 0 R %s>>" % catalog_extra,
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [%s] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> %s>>"
        % (mediabox, page_extra),
        4: stream(content),
        5: FONT,
    }
    base.update(objs or {})
    return raw_pdf(base, trailer=trailer)


def pages_pdf(count: int, content: bytes = b"") -> bytes:
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(count))
    objs = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
        3: stream(content),
    }
    for i in range(count):
        objs[4 + i] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>"
    return raw_pdf(objs)


def flate_bomb(total: int) -> bytes:
    comp = zlib.compressobj(9)
    chunk = b"\x00" * (1 << 20)
    out = bytearray()
    for _ in range(total >> 20):
        out += comp.compress(chunk)
    return bytes(out + comp.flush())


def reportlab_pdf(draw: Callable[[object], None], pagesize: tuple[float, float] = (595.0, 842.0)) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=pagesize)
    draw(c)
    c.save()
    return buf.getvalue()


def blank_pages_pdf(count: int) -> bytes:
    def draw(c: object) -> None:
        for _ in range(count):
            c.showPage()  # type: ignore[attr-defined]

    return reportlab_pdf(draw)


def fields_pdf(count: int) -> bytes:
    """A page with ``count`` filled AcroForm text fields."""
    refs = b" ".join(b"%d 0 R" % (6 + i) for i in range(count))
    objs = {6 + i: b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (f%d) /V (v%d) /Rect [%d %d %d %d] /P 3 0 R >>"
            % (i, i, 20 + (i % 20) * 28, 20 + (i // 20) % 40 * 20, 46 + (i % 20) * 28, 34 + (i // 20) % 40 * 20)
            for i in range(count)}
    return page_pdf(page_extra=b"/Annots [%s]" % refs, catalog_extra=b"/AcroForm << /Fields [%s] /DA (/Helv 6 Tf 0 g) >> " % refs,
                    objs=objs)


def encrypted_pdf(user: str, owner: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(page_pdf())))
    writer.encrypt(user_password=user, owner_password=owner, algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# --- images --------------------------------------------------------------------------------------


def _save(image: object, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kw)  # type: ignore[attr-defined]
    return buf.getvalue()


def text_image(mode: str = "L", size: tuple[int, int] = (1240, 600)) -> object:
    """A small page of printed words (PIL's own font, scaled up): something to read."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    draw.text((60, 80), "INVOICE 2024-04-01", fill=0, font=font)
    draw.text((60, 200), "TOTAL 12,345 YEN", fill=0, font=font)
    if min(size) > 100:
        draw.rectangle((40, 40, size[0] - 40, size[1] - 40), outline=0, width=4)
    return image.convert(mode) if mode not in ("L", "I;16") else image


def png_header_bomb(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` × ``height`` over a few bytes of data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b"")


def png_chunk_bomb(kind: bytes) -> bytes:
    base = _save(text_image(), "PNG")
    payload = b"k\x00\x00" + flate_bomb(64 << 20) if kind == b"zTXt" else b"icc\x00\x00" + flate_bomb(64 << 20)
    body = struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    return base[:33] + body + base[33:]


def jpeg_sized(data: bytes, width: int, height: int) -> bytes:
    """A JPEG whose frame header (SOF0) declares another size than its data holds."""
    at = data.index(b"\xff\xc0") + 5
    return data[:at] + struct.pack(">HH", height, width) + data[at + 4 :]


def tiff_frames(count: int, *, ink: bool = False, size: tuple[int, int] = (2480, 3508)) -> bytes:
    """A ``count``-page 1-bit G4 TIFF of A4 pages at 300 dpi (blank unless ``ink``)."""
    from PIL import Image, ImageDraw

    page = Image.new("1", size, 1)
    if ink:
        draw = ImageDraw.Draw(page)
        for y in range(300, 3200, 120):
            draw.rectangle((200, y, 2200, y + 40), fill=0)
    frames = [page] * count
    return _save(frames[0], "TIFF", compression="group4", save_all=True, append_images=frames[1:], dpi=(300, 300))


def tiff_patch(data: bytes, tag: int, value: int) -> bytes:
    """The first IFD's entry ``tag`` given ``value`` (a SHORT or LONG in place)."""
    order = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", data[4:8])
    (n,) = struct.unpack(order + "H", data[ifd : ifd + 2])
    out = bytearray(data)
    for i in range(n):
        at = ifd + 2 + 12 * i
        t, typ, _ = struct.unpack(order + "HHI", data[at : at + 8])
        if t == tag:
            out[at + 8 : at + 12] = struct.pack(order + ("H" if typ == 3 else "I"), value).ljust(4, b"\x00")
    return bytes(out)


def tiff_ifd_loop() -> bytes:
    data = bytearray(_save(text_image("1", (400, 300)), "TIFF"))
    order = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", data[4:8])
    (n,) = struct.unpack(order + "H", data[ifd : ifd + 2])
    data[ifd + 2 + 12 * n : ifd + 6 + 12 * n] = struct.pack(order + "I", ifd)  # next IFD: itself
    return bytes(data)


# --- DOCX ----------------------------------------------------------------------------------------

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
    ' Target="word/document.xml"/></Relationships>'
)


def document_xml(body: str, doctype: str = "") -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<w:document {W_NS}><w:body>{body}</w:body></w:document>'


def para(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def docx(document: str | bytes, extra: dict[str, str | bytes] | None = None, *, first: dict[str, bytes] | None = None,
         method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in (first or {}).items():
            zf.writestr(zipfile.ZipInfo(name), data)  # stored, first: its bytes stand right after the header
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("word/document.xml", document)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def zip_size_lie(data: bytes, member: str = "word/document.xml") -> bytes:
    """The archive with ``member``'s uncompressed size declared as 10 bytes, in its local
    header and in the central directory, whatever it really holds."""
    out = bytearray(data)
    name = member.encode()
    for sig, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = out.find(sig)
        while at != -1:
            (length,) = struct.unpack("<H", out[at + name_len_at : at + name_len_at + 2])
            if out[at + name_at : at + name_at + length] == name:
                out[at + size_at : at + size_at + 4] = struct.pack("<I", 10)
            at = out.find(sig, at + 4)
    return bytes(out)


def simple_docx() -> bytes:
    return docx(document_xml(para("申込書") + para("事業者名：株式会社テスト")))


# --- the cases -----------------------------------------------------------------------------------

CASES: list[Case] = []


def case(name: str, expect: Expect, family: str, **kw: object) -> Callable[[Callable[[Ctx], bytes | Path]], None]:
    """Register a builder: one returning bytes is written to ``name``; one returning a Path
    made it itself."""
    def register(fn: Callable[[Ctx], bytes | Path]) -> None:
        def build(ctx: Ctx) -> Path:
            made = fn(ctx)
            if isinstance(made, Path):
                return made
            path = ctx.root / name
            path.write_bytes(made)
            return path

        CASES.append(Case(name, build, expect, family, **kw))  # type: ignore[arg-type]

    return register


def simple(name: str, expect: Expect, family: str, make: Callable[[], bytes], **kw: object) -> None:
    case(name, expect, family, **kw)(lambda ctx: make())


# page sizes and boxes (issue 24's first rows)
simple("page_14400pt_square.pdf", "refused", "page size", lambda: page_pdf(b"0 0 14400 14400", INK))
simple("page_14400pt_square_text.pdf", "either", "page size", lambda: page_pdf(b"0 0 14400 14400"))
simple("page_0.2pt_wide.pdf", "refused", "page size", lambda: page_pdf(b"0 0 0.2 842", INK))
simple("page_5000pt_square.pdf", "refused", "page size", lambda: page_pdf(b"0 0 5000 5000", INK))
simple("page_3000pt_square_blank.pdf", "ok", "page size", lambda: page_pdf(b"0 0 3000 3000", b""))
simple("page_3000pt_square_ink.pdf", "ok", "page size", lambda: page_pdf(b"0 0 3000 3000", INK))
simple("page_box_1e30.pdf", "refused", "page size", lambda: page_pdf(b"0 0 1e30 1e30", INK))
simple("page_box_negative.pdf", "ok", "odd page box", lambda: page_pdf(b"-300 -400 295 442"))
simple("page_box_zero.pdf", "either", "odd page box", lambda: page_pdf(b"0 0 0 0", INK))
simple("page_box_inverted.pdf", "either", "odd page box", lambda: page_pdf(b"595 842 0 0", INK))
simple("page_box_names.pdf", "either", "odd page box", lambda: page_pdf(b"/a /b /c /d", INK))
simple("page_box_short.pdf", "either", "odd page box", lambda: page_pdf(b"0 0 595", INK))
simple("page_cropbox_outside.pdf", "either", "odd page box", lambda: page_pdf(page_extra=b"/CropBox [9000 9000 9999 9999]"))
simple("page_rotate_45.pdf", "either", "odd page box", lambda: page_pdf(page_extra=b"/Rotate 45"))
simple("page_rotate_90_ink.pdf", "ok", "odd page box", lambda: page_pdf(content=INK, page_extra=b"/Rotate 90"))
simple("page_userunit_75000.pdf", "either", "odd page box", lambda: page_pdf(content=INK, page_extra=b"/UserUnit 75000"))

# many pages, blank pages, many fields
simple("blank_150_pages.pdf", "ok", "blank pages", lambda: blank_pages_pdf(150), seconds=20)
simple("blank_201_pages.pdf", "refused", "page limit", lambda: blank_pages_pdf(201))
simple("ink_150_pages_small_budget.pdf", "refused", "budget", lambda: pages_pdf(150, INK), env={"MADOGUCHI_BUDGET": "4s"})
simple("fields_10000.pdf", "refused", "many fields", lambda: fields_pdf(10000), seconds=15)
simple("fields_400.pdf", "ok", "many fields", lambda: fields_pdf(400))

# PDF structure: loops, nesting, bombs
simple("xref_prev_loop.pdf", "either", "loops", lambda: page_pdf().replace(b"trailer\n<< ", b"trailer\n<< /Prev 0 "))
simple("page_tree_cycle.pdf", "refused", "loops", lambda: raw_pdf({
    1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
    3: b"<< /Type /Pages /Kids [2 0 R] /Parent 2 0 R /Count 1 >>"}))
simple("page_parent_loop_fields.pdf", "ok", "loops", lambda: page_pdf(page_extra=b"/Annots [6 0 R]", objs={
    6: b"<< /Type /Annot /Subtype /Widget /Rect [10 10 100 30] /Parent 7 0 R /T (a) /FT /Tx /V (x) >>",
    7: b"<< /Parent 6 0 R /T (b) /Kids [6 0 R] >>"}))
simple("form_xobject_self.pdf", "either", "loops", lambda: page_pdf(
    content=b"/X1 Do " + TEXT, page_extra=b"", objs={
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
           b" /Resources << /Font << /F1 5 0 R >> /XObject << /X1 6 0 R >> >> >>",
        6: stream(b"/X1 Do", b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X1 6 0 R >> >>")}))
simple("deep_array_100000.pdf", "either", "deep nesting", lambda: page_pdf(page_extra=b"/Deep " + b"[" * 100_000 + b"]" * 100_000))
simple("deep_dict_100000.pdf", "either", "deep nesting", lambda: page_pdf(page_extra=b"/Deep " + b"<< /A " * 100_000 + b"1" + b" >>" * 100_000))
simple("deep_content_100000.pdf", "either", "deep nesting", lambda: page_pdf(content=b"q " * 100_000 + TEXT + b" Q" * 100_000))
simple("content_flate_bomb.pdf", "either", "zip bombs", lambda: page_pdf(objs={4: stream(flate_bomb(64 << 20), b"/Filter /FlateDecode")}))
simple("image_xobject_bomb.pdf", "refused", "pixel bombs", lambda: page_pdf(
    content=b"q 595 0 0 842 0 0 cm /Im1 Do Q", objs={
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /XObject << /Im1 6 0 R >> >> >>",
        6: stream(flate_bomb(64 << 20), b"/Type /XObject /Subtype /Image /Width 100000 /Height 100000 /BitsPerComponent 1"
                  b" /ColorSpace /DeviceGray /Filter /FlateDecode")}))
simple("inline_image_huge.pdf", "either", "pixel bombs", lambda: page_pdf(
    content=b"q 595 0 0 842 0 0 cm BI /W 30000 /H 30000 /BPC 1 /CS /G ID \x00\x00\x00 EI Q"))
simple("many_glyphs.pdf", "either", "deep nesting", lambda: page_pdf(content=b"BT /F1 2 Tf 0 0 Td " + b"(ABCDEFGHIJ) Tj " * 1000 + b"ET"))

# encryption, truncation, headers
simple("encrypted_user_password.pdf", "refused", "encrypted", lambda: encrypted_pdf("secret", "owner"))
simple("encrypted_owner_only.pdf", "ok", "encrypted", lambda: encrypted_pdf("", "owner"))
simple("encrypted_unknown_filter.pdf", "refused", "encrypted", lambda: page_pdf(
    objs={6: b"<< /Filter /NoSuchHandler /V 9 /R 9 /O <00> /U <00> /P -1 >>"}, trailer=b"/Encrypt 6 0 R /ID [<00><00>] "))
simple("truncated_half.pdf", "refused", "truncated", lambda: page_pdf()[:300])
simple("no_eof_marker.pdf", "refused", "truncated", lambda: page_pdf().replace(b"%%EOF", b""))
simple("junk_before_header.pdf", "ok", "wrong extension", lambda: b"Received: by mail\r\n" * 20 + page_pdf())
simple("header_only.pdf", "refused", "truncated", lambda: b"%PDF-1.7\n%%EOF\n")
simple("zero_pages.pdf", "refused", "truncated", lambda: raw_pdf({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [] /Count 0 >>"}))
simple("count_lies.pdf", "either", "loops", lambda: page_pdf().replace(b"/Count 1", b"/Count 99999999"))
simple("xref_size_huge.pdf", "either", "loops", lambda: page_pdf().replace(b"trailer\n<< /Size 6", b"trailer\n<< /Size 2147483647"))

# things outside the input
case("external_stream.pdf", "either", "outside the input")(lambda ctx: page_pdf(objs={
    4: b"<< /Length 0 /F (%s) >>\nstream\n\nendstream" % str(ctx.secret).encode()}))
case("launch_and_uri.pdf", "ok", "outside the input")(lambda ctx: page_pdf(
    catalog_extra=b"/OpenAction << /S /Launch /F (%s) >> " % str(ctx.secret).encode(),
    page_extra=b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A << /S /URI /URI (file://%s) >> >>]"
    % str(ctx.secret).encode()))
case("xfa_xxe.pdf", "ok", "XXE")(lambda ctx: page_pdf(
    catalog_extra=b"/AcroForm << /Fields [] /XFA 6 0 R >> ", objs={6: stream(
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://%s">]><xdp>&e;</xdp>' % str(ctx.secret).encode())}))
simple("embedded_file_js.pdf", "ok", "outside the input", lambda: page_pdf(
    catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >> /Names << /EmbeddedFiles << /Names [(a.txt) 6 0 R] >> >> ",
    objs={6: b"<< /Type /Filespec /F (a.txt) /EF << /F 7 0 R >> >>", 7: stream(b"inside the input")}))

# images: pixel bombs and sizes
simple("png_header_100000_square.png", "refused", "pixel bombs", lambda: png_header_bomb(100_000, 100_000))
simple("png_header_12000_square.png", "refused", "pixel bombs", lambda: png_header_bomb(12_000, 12_000))
simple("png_1x1.png", "refused", "pixel bombs", lambda: png_header_bomb(1, 1))
simple("png_10x5000.png", "refused", "pixel bombs", lambda: _save(text_image("L", (10, 5000)), "PNG"))
simple("jpeg_header_65000_square.jpg", "refused", "pixel bombs", lambda: jpeg_sized(_save(text_image("L"), "JPEG"), 65000, 65000))
simple("tiff_header_100000_square.tif", "refused", "pixel bombs",
       lambda: tiff_patch(tiff_patch(_save(text_image("1", (400, 300)), "TIFF"), 256, 100_000), 257, 100_000))
simple("png_ztxt_bomb.png", "either", "zip bombs", lambda: png_chunk_bomb(b"zTXt"))
simple("png_iccp_bomb.png", "either", "zip bombs", lambda: png_chunk_bomb(b"iCCP"))

# images: modes and codecs
simple("png_16bit_grey.png", "ok", "16-bit and CMYK", lambda: _save(
    __import__("PIL.Image", fromlist=["Image"]).fromarray(
        (__import__("numpy").asarray(text_image("L"), dtype="uint16") * 257)), "PNG"))
simple("png_palette_transparent.png", "ok", "image modes", lambda: _save(text_image("P"), "PNG", transparency=255))
simple("png_la.png", "ok", "image modes", lambda: _save(text_image("LA"), "PNG"))
simple("png_rgba_all_transparent.png", "ok", "image modes", lambda: _save(
    __import__("PIL.Image", fromlist=["Image"]).new("RGBA", (800, 600), (0, 0, 0, 0)), "PNG"))
simple("png_black_page.png", "ok", "blank pages", lambda: _save(__import__("PIL.Image", fromlist=["Image"]).new("L", (1240, 1754), 0), "PNG"))
simple("png_blank_a4.png", "ok", "blank pages", lambda: _save(__import__("PIL.Image", fromlist=["Image"]).new("L", (2480, 3508), 255), "PNG", dpi=(300, 300)))
simple("apng_two_frames.png", "ok", "image modes", lambda: _save(text_image("L"), "PNG", save_all=True,
       append_images=[text_image("L")]))
simple("png_truncated.png", "refused", "truncated", lambda: _save(text_image(), "PNG")[:2000])
simple("png_bad_crc.png", "either", "truncated", lambda: (lambda d: d[:29] + b"\x00\x00\x00\x00" + d[33:])(_save(text_image(), "PNG")))
simple("jpeg_cmyk.jpg", "ok", "16-bit and CMYK", lambda: _save(text_image("CMYK"), "JPEG"))
simple("jpeg_progressive.jpg", "ok", "image modes", lambda: _save(text_image("RGB"), "JPEG", progressive=True))
simple("jpeg_truncated.jpg", "refused", "truncated", lambda: _save(text_image("RGB"), "JPEG")[:3000])
simple("jpeg_exif_rotated.jpg", "ok", "image modes", lambda: _save(text_image("RGB"), "JPEG",
       exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"))
simple("tiff_g4_a4_text.tif", "ok", "G4 TIFF", lambda: tiff_frames(1, ink=True))
simple("tiff_g3.tif", "ok", "G4 TIFF", lambda: _save(text_image("1"), "TIFF", compression="group3"))
simple("tiff_cmyk_lzw.tif", "ok", "16-bit and CMYK", lambda: _save(text_image("CMYK"), "TIFF", compression="tiff_lzw"))
simple("tiff_16bit.tif", "ok", "16-bit and CMYK", lambda: _save(text_image("I;16"), "TIFF"))
simple("tiff_float.tif", "either", "image modes", lambda: _save(text_image("F"), "TIFF"))
simple("tiff_200_pages_a4.tif", "ok", "many frames", lambda: tiff_frames(200), seconds=60)
simple("tiff_200_pages_ink_small_budget.tif", "refused", "budget", lambda: tiff_frames(200, ink=True),
       env={"MADOGUCHI_BUDGET": "4s"})
simple("tiff_500_pages.tif", "refused", "many frames", lambda: tiff_frames(500, size=(800, 1100)), seconds=10)
simple("tiff_ifd_loop.tif", "either", "loops", tiff_ifd_loop)
simple("tiff_strips_out_of_range.tif", "refused", "truncated",
       lambda: tiff_patch(_save(text_image("L", (400, 300)), "TIFF"), 273, 0x7FFFFFF0))
simple("tiff_unknown_compression.tif", "refused", "truncated", lambda: tiff_patch(_save(text_image("L", (400, 300)), "TIFF"), 259, 60000))
simple("tiff_zero_width.tif", "refused", "truncated", lambda: tiff_patch(_save(text_image("L", (400, 300)), "TIFF"), 256, 0))
simple("bigtiff.tif", "either", "image modes", lambda: _save(text_image("L"), "TIFF", big_tiff=True))

# DOCX: entities, bombs, outside references
case("docx_xxe_file.docx", "ok", "XXE")(lambda ctx: docx(document_xml(
    para("A&xxe;B"), f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{ctx.secret}">]>')))
case("docx_xxe_parameter.docx", "either", "XXE")(lambda ctx: docx(document_xml(
    para("x"), f'<!DOCTYPE d [<!ENTITY % p SYSTEM "file://{ctx.secret}"> %p;]>')))
simple("docx_billion_laughs.docx", "either", "entity expansion", lambda: docx(document_xml(
    para("&l9;"), "<!DOCTYPE d [" + '<!ENTITY l0 "ha">' + "".join(
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)) + "]>")))
simple("docx_quadratic_blowup.docx", "either", "entity expansion", lambda: docx(document_xml(
    para("&a;" * 20000), '<!DOCTYPE d [<!ENTITY a "' + "x" * 50000 + '">]>')))
simple("docx_zip_bomb.docx", "refused", "zip bombs", lambda: docx(document_xml(para("x") + " " * (64 << 20))))
simple("docx_ratio_bomb_member.docx", "refused", "zip bombs", lambda: docx(document_xml(para("x" * 100)), {"word/big.xml": b" " * (8 << 20)}))
simple("docx_size_lie.docx", "refused", "zip bombs", lambda: zip_size_lie(docx(document_xml(para("申込書" * 2000)))))
simple("docx_3000_members.docx", "refused", "zip bombs", lambda: docx(document_xml(para("x")), {f"m/{i}.xml": b"<a/>" for i in range(3000)}))
simple("docx_first_member_is_pdf.docx", "ok", "wrong extension", lambda: docx(
    document_xml(para("申込書")), first={"a.pdf": page_pdf()}, method=zipfile.ZIP_STORED))
case("docx_external_image.docx", "ok", "outside the input")(lambda ctx: docx(
    document_xml(para("x") + '<w:p><w:r><w:drawing><a:blip xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
                 ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:link="rId9"/></w:drawing></w:r></w:p>'),
    {"word/_rels/document.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
     f'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="file://{ctx.secret}"'
     ' TargetMode="External"/></Relationships>'}))
case("docx_xinclude.docx", "ok", "XXE")(lambda ctx: docx(document_xml(
    para("x") + f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{ctx.secret}" parse="text"/>')))
simple("docx_deep_100000.docx", "either", "deep nesting", lambda: docx(document_xml("<w:p>" * 100_000 + "</w:p>" * 100_000),
       method=zipfile.ZIP_STORED))  # stored: past the ratio check, to the XML parser
simple("docx_path_traversal.docx", "ok", "wrong extension", lambda: docx(document_xml(para("x")), {"../../../etc/evil.xml": b"<a/>"}))
simple("docx_truncated.docx", "refused", "truncated", lambda: simple_docx()[:400])
simple("docx_encrypted_ole.docx", "refused", "encrypted",
       lambda: bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le"))
simple("docx_no_document_part.docx", "refused", "wrong extension", lambda: (lambda b: b)(
    (lambda buf: (zipfile.ZipFile(buf, "w").writestr("[Content_Types].xml", CONTENT_TYPES), buf.getvalue())[1])(io.BytesIO())))
simple("docx_utf16.docx", "either", "image modes", lambda: docx(document_xml(para("申込書")).replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")))
simple("docx_table_3000_rows.docx", "either", "many fields", lambda: docx(document_xml(
    "<w:tbl>" + "<w:tr><w:tc><w:p><w:r><w:t>項目</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>値</w:t></w:r></w:p></w:tc></w:tr>" * 3000 + "</w:tbl>")))

# wrong extensions and other formats
simple("pdf_named.png", "ok", "wrong extension", page_pdf)
simple("png_named.pdf", "ok", "wrong extension", lambda: _save(text_image(), "PNG"))
simple("docx_named.pdf", "ok", "wrong extension", simple_docx)
simple("text_named.pdf", "refused", "wrong extension", lambda: "令和7年4月1日\n申込書\n".encode())
simple("random_bytes.bin", "refused", "wrong extension", lambda: bytes((i * 7919 + 13) % 256 for i in range(4096)))
simple("zip_not_docx.docx", "refused", "wrong extension", lambda: (lambda buf: (zipfile.ZipFile(buf, "w").writestr("a.txt", "x"), buf.getvalue())[1])(io.BytesIO()))
simple("legacy.doc", "refused", "wrong extension", lambda: bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504)
simple("image.gif", "refused", "wrong extension", lambda: _save(text_image("P"), "GIF"))
simple("image.bmp", "refused", "wrong extension", lambda: _save(text_image("L"), "BMP"))
simple("image.webp", "refused", "wrong extension", lambda: _save(text_image("RGB"), "WEBP"))
case("svg_xxe.svg", "refused", "XXE")(lambda ctx: f'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY e SYSTEM "file://{ctx.secret}">]><svg>&e;</svg>'.encode())
simple("empty.pdf", "refused", "truncated", lambda: b"")
simple("too_large_21mb.pdf", "refused", "size", lambda: page_pdf() + b"%" + b"x" * (21 << 20) + b"\n%%EOF\n")


# special files and names


@case("name_ff_fe.pdf", "ok", "names")
def _name_undecodable(ctx: Ctx) -> Path:
    path = Path(os.fsdecode(os.fsencode(str(ctx.root)) + b"/\xff\xfe-name.pdf"))
    path.write_bytes(page_pdf())
    return path


@case("name_newline.pdf", "ok", "names")
def _name_newline(ctx: Ctx) -> Path:
    path = ctx.root / "two\nlines\x1b[31m.pdf"
    path.write_bytes(page_pdf())
    return path


@case("symlink_loop.pdf", "refused", "special files")
def _symlink_loop(ctx: Ctx) -> Path:
    a, b = ctx.root / "loop_a.pdf", ctx.root / "loop_b.pdf"
    a.symlink_to(b)
    b.symlink_to(a)
    return a


@case("dangling_symlink.pdf", "refused", "special files")
def _dangling(ctx: Ctx) -> Path:
    path = ctx.root / "dangling.pdf"
    path.symlink_to(ctx.root / "nowhere.pdf")
    return path


@case("directory.pdf", "refused", "special files")
def _directory(ctx: Ctx) -> Path:
    path = ctx.root / "directory.pdf"
    path.mkdir()
    return path


@case("fifo.pdf", "refused", "special files", seconds=10)
def _fifo(ctx: Ctx) -> Path:
    path = ctx.root / "fifo.pdf"
    os.mkfifo(path)
    return path


@case("dev_zero_link.pdf", "refused", "special files", seconds=10)
def _dev_zero(ctx: Ctx) -> Path:
    path = ctx.root / "dev_zero_link.pdf"
    path.symlink_to("/dev/zero")
    return path


@case("name_too_long.pdf", "refused", "special files")
def _too_long(ctx: Ctx) -> Path:
    return ctx.root / ("x" * 300 + ".pdf")


@case("path_through_a_file.pdf", "refused", "special files")
def _not_a_dir(ctx: Ctx) -> Path:
    parent = ctx.root / "plain_file"
    parent.write_bytes(b"x")
    return parent / "child.pdf"


# wrong cache entries (the table's last row): a scan's page cached as something else
def _cache_case(name: str, entry: Callable[[], str]) -> None:
    def build(ctx: Ctx) -> Path:
        from extract.cache import default_version, entry_path

        from extract.recognize import engine_tag

        data = _save(text_image(), "PNG")
        path = ctx.root / name
        path.write_bytes(data)
        import hashlib

        key = f"{hashlib.sha256(data).hexdigest()}-p1-{engine_tag()}"
        target = entry_path(key, default_version(), ctx.root / f"cache-{name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(entry(), encoding="utf-8")
        return path

    CASES.append(Case(name, build, "ok", "cache", env={"MADOGUCHI_CACHE_DIR": f"{{root}}/cache-{name}"}))


_PAGE = {"number": 1, "width": 595.0, "height": 842.0, "source": "ocr", "words": [], "rules": [], "form_values": []}
_cache_case("cache_no_pages.png", lambda: '{"format": 1, "pages": []}')
_cache_case("cache_null_text.png", lambda: __import__("json").dumps({"format": 1, "pages": [
    {**_PAGE, "words": [{"text": None, "x0": 1, "y0": 1, "x1": 2, "y1": 2}]}]}))
_cache_case("cache_wrong_types.png", lambda: __import__("json").dumps({"format": 1, "pages": [{**_PAGE, "width": "wide", "turn": 45}]}))
_cache_case("cache_two_pages.png", lambda: __import__("json").dumps({"format": 1, "pages": [_PAGE, {**_PAGE, "number": 2}]}))
_cache_case("cache_not_json.png", lambda: "\x00\xff{")


def build_all(root: Path) -> tuple[dict[str, Path], Path]:
    """Write every case under ``root``: (input path by case name, the secret file)."""
    outside = root / "outside"
    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "secret.txt"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    inputs = root / "inputs"
    inputs.mkdir(exist_ok=True)
    ctx = Ctx(inputs, secret)
    return {c.name: c.build(ctx) for c in CASES}, secret


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    built, _ = build_all(target)
    for c in CASES:
        print(f"{c.expect:8} {c.family:18} {c.name}")
    print(f"{len(built)} inputs in {target}")
