"""Read a DOCX by synthesizing a page layout that mirrors its structure.

A DOCX has no layout until a word processor computes one, so we compute a rough one: page size
and margins from the section properties, paragraphs wrapped at the text width with approximate
glyph widths (full-width = font size, otherwise half), tables on their grid with the cells' text
top-aligned and ruled lines around every cell. The label-based locator then works on a DOCX as
it does on a PDF: a label and its value in the same table row share a line.

Checkboxes are normalized: a checked content control or legacy form field reads as ☑, an
unchecked one as ☐, whatever glyph the run shows. Content controls with a tag or title, and
legacy form fields with a name, also become FormValues.

The XML is parsed without DTDs, entities or network access, and the archive is checked for
decompression bombs before any member is unpacked.
"""

from __future__ import annotations

import logging
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Literal

from lxml import etree

from extract.ingest import Limits, check_zip_members, open_zip, read_zip_member
from extract.pagemodel import FormValue, Page, Rule, Word
from extract.readers import char_width
from forms.errors import CorruptFile, MadoguchiError, TooManyPages

log = logging.getLogger(__name__)

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_STRICT_NS = "http://purl.oclc.org/ooxml/wordprocessingml/main"
W14_NS = "http://schemas.microsoft.com/office/word/2010/wordml"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
M_NS = "http://schemas.openxmlformats.org/officeDocument/2006/math"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

DEFAULT_SIZE = 10.5  # pt
LINE_FACTOR = 1.5  # line height = 1.5 × font size
A4 = (595.3, 841.9)
DEFAULT_MARGIN = 72.0
CELL_MARGIN = 5.4  # Word's default left/right cell margin (108 twips)
CELL_PAD = 1.5  # above and below a cell's text
TAB_STOP = 36.0  # Word's default tab stops every 0.5 inch
#: Characters laid out at most (a guard against pathological documents).
MAX_CHARS = 2_000_000

#: Characters a Japanese line may not start with (kinsoku): they hang past the margin instead.
_NO_LINE_START = frozenset(
    "、。，．,.）」』】〕〉》｝］)]}・：；:;！？!?ゝゞー々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
)

CHECKED = "☑"
UNCHECKED = "☐"

# Glyphs of the symbol fonts that forms use for boxes and ticks (w:sym, char code without F000).
_SYMBOL_GLYPHS: dict[str, dict[int, str]] = {
    "wingdings": {
        0xA8: "☐", 0x6F: "☐", 0x71: "☐", 0xFE: "☑", 0xFD: "☒", 0x78: "☒",
        0xFC: "✔", 0xFB: "✘", 0x6E: "■", 0x9F: "•", 0x6C: "●",
    },
    "wingdings 2": {0xA3: "☐", 0x2A: "☐", 0x52: "☑", 0x54: "☒", 0x53: "☒", 0x50: "✔", 0x4F: "✘"},
}  # fmt: skip

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


def read_docx(data: bytes, limits: Limits) -> list[Page]:
    """Pages of a synthesized layout of the document body, source ``docx``."""
    with open_zip(data) as zf:
        check_zip_members(zf.infolist(), limits)
        main = _main_part(zf, limits)
        try:
            raw = read_zip_member(zf, main, limits)
        except KeyError:
            raise CorruptFile(f"DOCXに本文（{main}）がありません / The DOCX has no main document ({main})") from None
        root = _parse(raw, main)
        styles = _Styles.load(zf, main, limits)
    ns = etree.QName(root).namespace
    if ns not in (W_NS, W_STRICT_NS) or etree.QName(root).localname != "document":
        raise CorruptFile("DOCXの本文がWord文書ではありません / The DOCX main part is not a Word document")
    body = root.find(f"{{{ns}}}body")
    if body is None:
        raise CorruptFile("DOCXの本文がありません / The DOCX document has no body")
    try:
        parser = _Parser(_X(ns), styles)
        blocks = parser.blocks(body)
        _collect_field_text(blocks, parser.fields)
        layout = _Layout(parser.sections(body), parser.fields, limits)
        layout.run(blocks)
        return layout.finish()
    except MadoguchiError:
        raise
    except RecursionError:
        raise CorruptFile("DOCXの構造が深すぎます / The DOCX is nested too deeply") from None
    except Exception as exc:  # a structure we did not foresee: the file's fault, but log it for us
        log.warning("DOCX layout failed", exc_info=True)
        raise CorruptFile(f"DOCXの構造を解釈できません / Unexpected DOCX structure ({type(exc).__name__})") from None


# --- package -------------------------------------------------------------------------------


def _parse(raw: bytes, name: str) -> etree._Element:
    try:
        root = etree.fromstring(raw, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise CorruptFile(f"DOCXのXMLが壊れています / Broken XML in {name} ({exc})") from None
    if root is None:
        raise CorruptFile(f"DOCXのXMLが空です / Empty XML in {name}")
    return root


def _rels(zf: zipfile.ZipFile, part: str, limits: Limits) -> dict[str, tuple[str, str]]:
    """Relationships of ``part``: id → (type, target part name)."""
    folder, base = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", base + ".rels")
    try:
        raw = read_zip_member(zf, rels_name, limits)
    except KeyError:
        return {}
    try:
        root = etree.fromstring(raw, parser=_PARSER)
    except etree.XMLSyntaxError:
        return {}
    rels: dict[str, tuple[str, str]] = {}
    for rel in root.iter(f"{{{PKG_REL_NS}}}Relationship"):
        target = rel.get("Target") or ""
        if rel.get("TargetMode") == "External" or not target:
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        rels[rel.get("Id") or ""] = (rel.get("Type") or "", path)
    return rels


def _main_part(zf: zipfile.ZipFile, limits: Limits) -> str:
    for rtype, target in _rels(zf, "", limits).values():
        if rtype.endswith("/officeDocument"):
            return target
    return "word/document.xml"


class _Styles:
    """Paragraph and character styles: just enough to know sizes, alignment and spacing."""

    def __init__(self) -> None:
        self.ppr: dict[str, etree._Element] = {}
        self.rpr: dict[str, etree._Element] = {}
        self.based_on: dict[str, str] = {}
        self.default_para: str | None = None
        self.default_rpr: etree._Element | None = None
        self.default_ppr: etree._Element | None = None
        self.ns = W_NS

    @classmethod
    def load(cls, zf: zipfile.ZipFile, main: str, limits: Limits) -> _Styles:
        styles = cls()
        target = next((t for rt, t in _rels(zf, main, limits).values() if rt.endswith("/styles")), None)
        if target is None:
            return styles
        try:
            root = etree.fromstring(read_zip_member(zf, target, limits), parser=_PARSER)
        except (KeyError, etree.XMLSyntaxError):
            log.info("styles part %s missing or broken; using defaults", target)
            return styles
        ns = etree.QName(root).namespace or W_NS
        styles.ns = ns
        w = f"{{{ns}}}"
        defaults = root.find(f"{w}docDefaults")
        if defaults is not None:
            styles.default_rpr = defaults.find(f"{w}rPrDefault/{w}rPr")
            styles.default_ppr = defaults.find(f"{w}pPrDefault/{w}pPr")
        for st in root.iter(f"{w}style"):
            sid = st.get(f"{w}styleId")
            if not sid:
                continue
            if st.get(f"{w}type") == "paragraph" and st.get(f"{w}default") in ("1", "true", "on"):
                styles.default_para = sid
            ppr, rpr, based = st.find(f"{w}pPr"), st.find(f"{w}rPr"), st.find(f"{w}basedOn")
            if ppr is not None:
                styles.ppr[sid] = ppr
            if rpr is not None:
                styles.rpr[sid] = rpr
            if based is not None and based.get(f"{w}val"):
                styles.based_on[sid] = based.get(f"{w}val") or ""
        return styles

    def chain(self, style_id: str | None) -> Iterator[str]:
        seen: set[str] = set()
        sid = style_id
        while sid and sid not in seen and len(seen) < 20:
            seen.add(sid)
            yield sid
            sid = self.based_on.get(sid)

    def find_rpr(self, local: str, style_id: str | None, defaults: bool = True) -> etree._Element | None:
        for sid in self.chain(style_id):
            rpr = self.rpr.get(sid)
            el = rpr.find(f"{{{self.ns}}}{local}") if rpr is not None else None
            if el is not None:
                return el
        if defaults and self.default_rpr is not None:
            return self.default_rpr.find(f"{{{self.ns}}}{local}")
        return None

    def find_ppr(self, local: str, style_id: str | None) -> etree._Element | None:
        for sid in self.chain(style_id or self.default_para):
            ppr = self.ppr.get(sid)
            el = ppr.find(f"{{{self.ns}}}{local}") if ppr is not None else None
            if el is not None:
                return el
        if self.default_ppr is not None:
            return self.default_ppr.find(f"{{{self.ns}}}{local}")
        return None


# --- the parsed document ---------------------------------------------------------------------


@dataclass
class _Tok:
    """One character of text; ``\\n`` is a line break, ``\\f`` a page break, ``\\t`` a tab,
    and the empty string a zero-width marker that only records where a form field is."""

    ch: str
    size: float
    field: int | None = None
    #: A checkbox glyph: always a word of its own, like an AcroForm checkbox.
    alone: bool = False


@dataclass
class _Para:
    toks: list[_Tok]
    size: float = DEFAULT_SIZE
    align: Literal["left", "center", "right"] = "left"
    indent_left: float = 0.0
    indent_right: float = 0.0
    first_line: float = 0.0
    before: float = 0.0
    after: float = 0.0
    page_break_before: bool = False
    #: The paragraph carries the properties of the section it ends.
    ends_section: bool = False


@dataclass
class _Cell:
    paras: list[_Para]
    span: int = 1
    #: A continuation of a vertically merged cell: empty, no border above it.
    merged_above: bool = False


@dataclass
class _Row:
    cells: list[_Cell]
    grid_before: int = 0
    min_height: float = 0.0


@dataclass
class _Table:
    cols: list[float]
    rows: list[_Row]
    indent: float = 0.0
    cell_margin: float = CELL_MARGIN


_Block = _Para | _Table


@dataclass
class _Field:
    name: str
    kind: Literal["text", "checkbox"]
    checked: bool | None = None
    placeholder: bool = False
    chars: list[str] = dc_field(default_factory=list)
    page: int | None = None
    boxes: list[tuple[float, float, float, float]] = dc_field(default_factory=list)


@dataclass
class _FieldState:
    """A legacy field being read: its form field, and whether its displayed result has begun."""

    field: int | None = None
    in_result: bool = False


def _active_field(stack: list[_FieldState]) -> int | None:
    for state in reversed(stack):
        if state.in_result and state.field is not None:
            return state.field
    return None


@dataclass
class _Section:
    width: float = A4[0]
    height: float = A4[1]
    top: float = DEFAULT_MARGIN
    bottom: float = DEFAULT_MARGIN
    left: float = DEFAULT_MARGIN
    right: float = DEFAULT_MARGIN
    continuous: bool = False


class _X:
    """Qualified names in the document's WordprocessingML namespace (transitional or strict)."""

    def __init__(self, ns: str) -> None:
        self.ns = ns

    def __call__(self, local: str) -> str:
        return f"{{{self.ns}}}{local}"

    def val(self, el: etree._Element | None, attr: str = "val") -> str | None:
        return None if el is None else el.get(self(attr))

    def on(self, el: etree._Element | None) -> bool:
        """A toggle property: present and not switched off."""
        return el is not None and (self.val(el) or "true").lower() not in ("0", "false", "off", "none")


def _twips(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value) / 20.0
    except ValueError:
        return None


class _Parser:
    def __init__(self, x: _X, styles: _Styles) -> None:
        self.x = x
        self.styles = styles
        self.fields: list[_Field] = []
        self.chars = 0

    # -- sections --

    def sections(self, body: etree._Element) -> list[_Section]:
        x = self.x
        found = []
        for el in body.iter(x("sectPr")):
            parent = el.getparent()
            if parent is not None and parent.tag in (x("pPr"), x("body")):
                found.append(self._section(el))
        return found or [_Section()]

    def _section(self, el: etree._Element) -> _Section:
        x = self.x
        sec = _Section()
        size = el.find(x("pgSz"))
        if size is not None:
            sec.width = _twips(x.val(size, "w")) or sec.width
            sec.height = _twips(x.val(size, "h")) or sec.height
        mar = el.find(x("pgMar"))
        if mar is not None:
            for side in ("top", "bottom", "left", "right"):
                value = _twips(x.val(mar, side))
                if value is not None:
                    setattr(sec, side, abs(value))
        sec.continuous = x.val(el.find(x("type"))) == "continuous"
        # A broken document must not leave no room for text.
        if sec.left + sec.right > sec.width - 36:
            sec.left = sec.right = min(DEFAULT_MARGIN, sec.width / 4)
        if sec.top + sec.bottom > sec.height - 36:
            sec.top = sec.bottom = min(DEFAULT_MARGIN, sec.height / 4)
        return sec

    # -- blocks --

    def blocks(self, container: etree._Element, field: int | None = None) -> list[_Block]:
        x = self.x
        out: list[_Block] = []
        for el in container:
            tag = el.tag
            if tag == x("p"):
                out.extend(self.paragraph(el, field))
            elif tag == x("tbl"):
                out.append(self.table(el, field))
            elif tag == x("sdt"):
                out.extend(self._sdt_blocks(el, field))
            elif tag in (x("customXml"), x("ins"), x("moveTo")):
                out.extend(self.blocks(el, field))
            elif tag == f"{{{MC_NS}}}AlternateContent":
                chosen = _alternate(el)
                if chosen is not None:
                    out.extend(self.blocks(chosen, field))
        return out

    def _sdt_blocks(self, sdt: etree._Element, field: int | None) -> list[_Block]:
        content = sdt.find(self.x("sdtContent"))
        tag, checkbox = self._sdt_field(sdt)
        if checkbox:
            return [_Para(toks=[_Tok(self._checkbox_glyph(tag), DEFAULT_SIZE, tag, alone=True)])]
        if tag is not None and self.fields[tag].placeholder:
            return [_Para(toks=[_Tok("", DEFAULT_SIZE, tag)])]
        return self.blocks(content, tag if tag is not None else field) if content is not None else []

    # -- paragraphs --

    def paragraph(self, p: etree._Element, field: int | None = None) -> list[_Block]:
        x, st = self.x, self.styles
        ppr = p.find(x("pPr"))
        style = x.val(ppr.find(x("pStyle"))) if ppr is not None else None
        style = style or st.default_para

        def prop(local: str) -> etree._Element | None:
            el = ppr.find(x(local)) if ppr is not None else None
            return el if el is not None else st.find_ppr(local, style)

        mark_rpr = ppr.find(x("rPr")) if ppr is not None else None
        para = _Para(toks=[], size=self._size(mark_rpr, style))
        jc = x.val(prop("jc"))
        if jc in ("center",):
            para.align = "center"
        elif jc in ("right", "end"):
            para.align = "right"
        ind = prop("ind")
        if ind is not None:
            para.indent_left = max(0.0, _twips(x.val(ind, "left") or x.val(ind, "start")) or 0.0)
            para.indent_right = max(0.0, _twips(x.val(ind, "right") or x.val(ind, "end")) or 0.0)
            para.first_line = _twips(x.val(ind, "firstLine")) or -(_twips(x.val(ind, "hanging")) or 0.0)
        spacing = prop("spacing")
        if spacing is not None:
            para.before = min(max(_twips(x.val(spacing, "before")) or 0.0, 0.0), 72.0)
            para.after = min(max(_twips(x.val(spacing, "after")) or 0.0, 0.0), 72.0)
        para.page_break_before = x.on(prop("pageBreakBefore"))
        para.ends_section = ppr is not None and ppr.find(x("sectPr")) is not None

        extra: list[_Block] = []  # text boxes anchored in this paragraph follow it
        self._inline(p, style, field, para.toks, extra, [])
        return [para, *extra]

    def _inline(
        self,
        el: etree._Element,
        style: str | None,
        field: int | None,
        toks: list[_Tok],
        extra: list[_Block],
        fld_stack: list[_FieldState],
    ) -> None:
        x = self.x
        for child in el:
            tag = child.tag
            if tag == x("r"):
                self._run(child, style, field, toks, extra, fld_stack)
            elif tag in (
                x("hyperlink"),
                x("smartTag"),
                x("customXml"),
                x("ins"),
                x("moveTo"),
                x("fldSimple"),
                x("dir"),
                x("bdo"),
            ):
                self._inline(child, style, field, toks, extra, fld_stack)
            elif tag == x("sdt"):
                tag_id, checkbox = self._sdt_field(child)
                content = child.find(x("sdtContent"))
                if checkbox:
                    toks.append(_Tok(self._checkbox_glyph(tag_id), self._size(None, style), tag_id, alone=True))
                elif tag_id is not None and self.fields[tag_id].placeholder:
                    toks.append(_Tok("", self._size(None, style), tag_id))
                elif content is not None:
                    self._inline(content, style, tag_id if tag_id is not None else field, toks, extra, fld_stack)
            elif tag == f"{{{MC_NS}}}AlternateContent":
                chosen = _alternate(child)
                if chosen is not None:
                    self._inline(chosen, style, field, toks, extra, fld_stack)
            elif tag == x("ruby"):
                base = child.find(x("rubyBase"))
                if base is not None:
                    self._inline(base, style, field, toks, extra, fld_stack)
            elif tag in (f"{{{M_NS}}}oMath", f"{{{M_NS}}}oMathPara"):
                size = self._size(None, style)
                for t in child.iter(f"{{{M_NS}}}t"):
                    self._text(t.text or "", size, field, toks)
            # w:del, w:moveFrom, bookmarks, proofing marks: nothing printed

    def _run(
        self,
        r: etree._Element,
        style: str | None,
        field: int | None,
        toks: list[_Tok],
        extra: list[_Block],
        fld_stack: list[_FieldState],
    ) -> None:
        x = self.x
        rpr = r.find(x("rPr"))
        if rpr is not None and x.on(rpr.find(x("vanish"))):
            return  # hidden text is not printed
        size = self._size(rpr, style)
        # Text inside a legacy text form field's result belongs to that field.
        own = _active_field(fld_stack)
        fid = own if own is not None else field
        for child in r:
            tag = child.tag
            if tag == x("t"):
                self._text(child.text or "", size, fid, toks)
            elif tag in (x("tab"), x("ptab")):
                toks.append(_Tok("\t", size, fid))
            elif tag == x("br"):
                kind = x.val(child, "type")
                toks.append(_Tok("\f" if kind == "page" else "\n", size, fid))
            elif tag == x("cr"):
                toks.append(_Tok("\n", size, fid))
            elif tag == x("noBreakHyphen"):
                toks.append(_Tok("-", size, fid))
            elif tag == x("sym"):
                toks.append(_Tok(_symbol(x.val(child, "font"), x.val(child, "char")), size, fid))
            elif tag == x("fldChar"):
                self._field_char(child, size, toks, fld_stack)
                own = _active_field(fld_stack)
                fid = own if own is not None else field
            elif tag == x("ruby"):
                base = child.find(x("rubyBase"))  # the ruby text (w:rt) is a reading aid, not content
                if base is not None:
                    self._inline(base, style, fid, toks, extra, fld_stack)
            elif tag in (x("drawing"), x("pict"), x("object")):
                for box in _outer(child, x("txbxContent")):
                    extra.extend(self.blocks(box, field))
            elif tag == f"{{{MC_NS}}}AlternateContent":
                chosen = _alternate(child)
                if chosen is not None:
                    for box in _outer(chosen, x("txbxContent")):
                        extra.extend(self.blocks(box, field))

    def _text(self, text: str, size: float, field: int | None, toks: list[_Tok]) -> None:
        self.chars += len(text)
        if self.chars > MAX_CHARS:
            raise CorruptFile(f"DOCXの文字数が多すぎます / The DOCX holds more than {MAX_CHARS} characters")
        for ch in text:
            toks.append(_Tok(" " if ch in "\r\n\t" else ch, size, field))

    def _field_char(self, el: etree._Element, size: float, toks: list[_Tok], stack: list[_FieldState]) -> None:
        """Legacy fields: a FORMCHECKBOX shows a box; a FORMTEXT's result is its value."""
        x = self.x
        kind = x.val(el, "fldCharType")
        if kind == "begin":
            state = _FieldState()
            ff = el.find(x("ffData"))
            if ff is not None:
                name = x.val(ff.find(x("name"))) or ""
                box = ff.find(x("checkBox"))
                if box is not None:
                    checked_el = box.find(x("checked"))
                    checked = x.on(checked_el) if checked_el is not None else x.on(box.find(x("default")))
                    glyph_field = self._add_field(name, "checkbox", checked) if name else None
                    toks.append(_Tok(CHECKED if checked else UNCHECKED, size, glyph_field, alone=True))
                elif name:
                    state.field = self._add_field(name, "text")
            stack.append(state)
        elif kind == "separate" and stack:
            stack[-1].in_result = True
        elif kind == "end" and stack:
            stack.pop()

    # -- content controls --

    def _sdt_field(self, sdt: etree._Element) -> tuple[int | None, bool]:
        """Register a content control as a form field; returns (field index, is checkbox)."""
        x = self.x
        pr = sdt.find(x("sdtPr"))
        if pr is None:
            return None, False
        name = x.val(pr.find(x("tag"))) or x.val(pr.find(x("alias"))) or ""
        box = pr.find(f"{{{W14_NS}}}checkbox")
        if box is not None:
            checked_el = box.find(f"{{{W14_NS}}}checked")
            value = (checked_el.get(f"{{{W14_NS}}}val") or "") if checked_el is not None else "0"
            checked = value.strip().lower() in ("1", "true", "on")
            fid = self._add_field(name, "checkbox", checked)
            return fid, True
        if not name:
            return None, False
        fid = self._add_field(name, "text")
        self.fields[fid].placeholder = pr.find(x("showingPlcHdr")) is not None
        return fid, False

    def _add_field(self, name: str, kind: Literal["text", "checkbox"], checked: bool | None = None) -> int:
        self.fields.append(_Field(name=name, kind=kind, checked=checked))
        return len(self.fields) - 1

    def _checkbox_glyph(self, fid: int | None) -> str:
        return CHECKED if fid is not None and self.fields[fid].checked else UNCHECKED

    # -- tables --

    def table(self, tbl: etree._Element, field: int | None) -> _Table:
        x = self.x
        cols = [_twips(x.val(g, "w")) or 0.0 for g in tbl.iterfind(f"{x('tblGrid')}/{x('gridCol')}")]
        pr = tbl.find(x("tblPr"))
        indent = 0.0
        margin = CELL_MARGIN
        if pr is not None:
            ind = pr.find(x("tblInd"))
            if ind is not None and x.val(ind, "type") in (None, "dxa"):
                indent = _twips(x.val(ind, "w")) or 0.0
            mar = pr.find(x("tblCellMar"))
            if mar is not None:
                left = mar.find(x("left"))
                left = left if left is not None else mar.find(x("start"))
                if left is not None and x.val(left, "type") in (None, "dxa"):
                    margin = _twips(x.val(left, "w")) or 0.0
        rows = [self._row(tr, fid) for tr, fid in self._rows(tbl, field)]
        return _Table(cols=cols, rows=rows, indent=indent, cell_margin=margin)

    def _row(self, tr: etree._Element, field: int | None) -> _Row:
        x = self.x
        row = _Row(cells=[])
        pr = tr.find(x("trPr"))
        if pr is not None:
            before = x.val(pr.find(x("gridBefore")))
            row.grid_before = int(before) if before and before.isdigit() else 0
            height = pr.find(x("trHeight"))
            row.min_height = _twips(x.val(height)) or 0.0
        for tc, fid in self._cells(tr, field):
            tcpr = tc.find(x("tcPr"))
            span, merged = 1, False
            if tcpr is not None:
                gs = x.val(tcpr.find(x("gridSpan")))
                span = max(1, int(gs)) if gs and gs.isdigit() else 1
                vm = tcpr.find(x("vMerge"))
                merged = vm is not None and x.val(vm) in (None, "continue")
            paras = [] if merged else self._cell_paras(tc, fid)
            row.cells.append(_Cell(paras=paras, span=min(span, 64), merged_above=merged))
        return row

    def _rows(self, tbl: etree._Element, field: int | None) -> Iterator[tuple[etree._Element, int | None]]:
        """Rows with the content control they sit in (row-level w:sdt, w:customXml unwrapped)."""
        yield from self._wrapped(tbl, self.x("tr"), field)

    def _cells(self, tr: etree._Element, field: int | None) -> Iterator[tuple[etree._Element, int | None]]:
        yield from self._wrapped(tr, self.x("tc"), field)

    def _wrapped(
        self, parent: etree._Element, tag: str, field: int | None
    ) -> Iterator[tuple[etree._Element, int | None]]:
        x = self.x
        for el in parent:
            if el.tag == tag:
                yield el, field
            elif el.tag == x("sdt"):
                fid, _ = self._sdt_field(el)
                inner = el.find(x("sdtContent"))
                if inner is not None:
                    yield from self._wrapped(inner, tag, fid if fid is not None else field)
            elif el.tag == x("customXml"):
                yield from self._wrapped(el, tag, field)

    def _cell_paras(self, tc: etree._Element, field: int | None) -> list[_Para]:
        paras: list[_Para] = []
        for block in self.blocks(tc, field):
            if isinstance(block, _Para):
                paras.append(block)
            else:
                paras.extend(_flatten(block))
        return paras

    # -- sizes --

    def _size(self, rpr: etree._Element | None, style: str | None) -> float:
        x, st = self.x, self.styles
        el = rpr.find(x("sz")) if rpr is not None else None
        if el is None and rpr is not None:
            el = st.find_rpr("sz", x.val(rpr.find(x("rStyle"))), defaults=False)
        if el is None:
            el = st.find_rpr("sz", style)
        try:
            half_points = float(x.val(el) or 0) if el is not None else 0.0
        except ValueError:
            half_points = 0.0
        size = half_points / 2 if half_points > 0 else DEFAULT_SIZE
        return min(max(size, 4.0), 96.0)


def _collect_field_text(blocks: list[_Block], fields: list[_Field]) -> None:
    """The text of each form field, in document order (before wrapping drops any space)."""
    for block in blocks:
        paras = [block] if isinstance(block, _Para) else [p for row in block.rows for c in row.cells for p in c.paras]
        for para in paras:
            for tok in para.toks:
                if tok.field is not None and fields[tok.field].kind == "text" and tok.ch:
                    fields[tok.field].chars.append(" " if tok.ch.isspace() else tok.ch)


def _flatten(table: _Table) -> list[_Para]:
    """A nested table inside a cell: each of its rows becomes one line of the cell."""
    out: list[_Para] = []
    for row in table.rows:
        toks: list[_Tok] = []
        size = DEFAULT_SIZE
        for cell in row.cells:
            for para in cell.paras:
                content = [t for t in para.toks if t.ch not in ("\n", "\f")]
                if content:
                    if toks:
                        toks.append(_Tok(" ", para.size))
                    toks.extend(content)
                    size = para.size
        out.append(_Para(toks=toks, size=size))
    return out


def _alternate(el: etree._Element) -> etree._Element | None:
    """mc:AlternateContent holds the same content twice: take the first choice only."""
    choice = el.find(f"{{{MC_NS}}}Choice")
    return choice if choice is not None else el.find(f"{{{MC_NS}}}Fallback")


def _outer(el: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Descendants with ``tag`` that are not inside another one (text boxes in text boxes)."""
    for found in el.iter(tag):
        parent = found.getparent()
        nested = False
        while parent is not None and parent is not el:
            if parent.tag == tag:
                nested = True
                break
            parent = parent.getparent()
        if not nested:
            yield found


def _symbol(font: str | None, char: str | None) -> str:
    try:
        code = int(char or "", 16)
    except ValueError:
        return "\ufffd"
    plain = code - 0xF000 if code >= 0xF000 else code
    table = _SYMBOL_GLYPHS.get((font or "").strip().lower())
    if table is not None and plain in table:
        return table[plain]
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return "\ufffd"


# --- layout --------------------------------------------------------------------------------


@dataclass
class _Line:
    toks: list[_Tok]
    height: float
    page_break: bool = False  # a page break follows this line


class _Layout:
    def __init__(self, sections: list[_Section], fields: list[_Field], limits: Limits) -> None:
        self.sections = sections
        self.section_index = 0
        self.section = sections[0]
        self.fields = fields
        self.limits = limits
        self.pages: list[Page] = []
        self.page = self._new_page_object()
        self.y = self.section.top
        self.rules: set[tuple[float, float, float, float]] = set()

    # -- pages --

    def _new_page_object(self) -> Page:
        if len(self.pages) >= self.limits.max_pages:
            raise TooManyPages(
                f"ページ数が多すぎます（上限 {self.limits.max_pages}） / Too many pages:"
                f" more than {self.limits.max_pages}",
                limit=self.limits.max_pages,
            )
        page = Page(number=len(self.pages) + 1, width=self.section.width, height=self.section.height, source="docx")
        self.pages.append(page)
        return page

    def new_page(self) -> None:
        self._flush_rules()
        self.page = self._new_page_object()
        self.y = self.section.top

    @property
    def bottom(self) -> float:
        return self.section.height - self.section.bottom

    @property
    def empty(self) -> bool:
        return self.y <= self.section.top + 0.01

    def _flush_rules(self) -> None:
        self.page.rules = _merge_rules(self.rules)
        self.rules = set()

    def finish(self) -> list[Page]:
        self._flush_rules()
        for f in self.fields:
            if f.page is None or f.page > len(self.pages):
                continue
            page = self.pages[f.page - 1]
            bbox = None
            if f.boxes:
                bbox = (
                    min(b[0] for b in f.boxes),
                    min(b[1] for b in f.boxes),
                    max(b[2] for b in f.boxes),
                    max(b[3] for b in f.boxes),
                )
            if f.kind == "checkbox":
                value: str | bool | None = bool(f.checked)
            elif f.placeholder:
                value = None
            else:
                value = " ".join("".join(f.chars).split()) or None
            page.form_values.append(FormValue(name=f.name, value=value, bbox=bbox))
        return self.pages

    # -- blocks --

    def run(self, blocks: list[_Block]) -> None:
        for block in blocks:
            if isinstance(block, _Table):
                self.table(block)
            else:
                self.paragraph(block)
                if block.ends_section and self.section_index + 1 < len(self.sections):
                    self.section_index += 1
                    self.section = self.sections[self.section_index]
                    if not self.section.continuous:
                        self.new_page()

    @property
    def text_left(self) -> float:
        return self.section.left

    @property
    def text_width(self) -> float:
        return self.section.width - self.section.left - self.section.right

    def paragraph(self, para: _Para) -> None:
        if para.page_break_before and not self.empty:
            self.new_page()
        x0 = self.text_left + para.indent_left
        width = max(self.text_width - para.indent_left - para.indent_right, 24.0)
        if not self.empty:
            self.y += para.before
        for line in _wrap(para, width):
            if self.y + line.height > self.bottom and not self.empty:
                self.new_page()
            self.place_line(line, para, x0, width, self.y)
            self.y += line.height
            if line.page_break:
                self.new_page()
        self.y += para.after

    def place_line(self, line: _Line, para: _Para, x0: float, width: float, top: float) -> None:
        used = _line_width(line.toks, x0)
        x = x0
        if para.align == "center":
            x += max(0.0, (width - used) / 2)
        elif para.align == "right":
            x += max(0.0, width - used)
        cy = top + line.height / 2
        current: list[_Tok] = []
        start = x

        def flush(end: float) -> None:
            if current:
                h = max(t.size for t in current)
                text = "".join(t.ch for t in current)
                word = Word(text=text, x0=start, y0=cy - h / 2, x1=max(end, start + 0.1), y1=cy + h / 2)
                self.page.words.append(word)
                current.clear()

        for tok in line.toks:
            if tok.field is not None:
                self._mark_field(tok, x, cy)
            if tok.ch == "":
                continue
            if tok.ch == "\t":
                flush(x)
                x = _next_tab(x, x0)
                continue
            w = char_width(tok.ch, tok.size)
            if tok.ch.isspace():
                flush(x)
                x += w
                continue
            if tok.alone:
                flush(x)
            if not current:
                start = x
            current.append(tok)
            x += w
            if tok.alone:
                flush(x)
            if tok.field is not None and self.fields[tok.field].page == self.page.number:
                self.fields[tok.field].boxes.append((x - w, cy - tok.size / 2, x, cy + tok.size / 2))
        flush(x)

    def _mark_field(self, tok: _Tok, x: float, cy: float) -> None:
        f = self.fields[tok.field] if tok.field is not None else None
        if f is None:
            return
        if f.page is None:
            f.page = self.page.number

    # -- tables --

    def table(self, table: _Table) -> None:
        cols = self._columns(table)
        origin = self.text_left + table.indent
        edges = [origin]
        for w in cols:
            edges.append(edges[-1] + w)
        for r, row in enumerate(table.rows):
            nxt = table.rows[r + 1] if r + 1 < len(table.rows) else None
            merged_below = _merged_starts(nxt) if nxt is not None else set()
            self._row(row, edges, table.cell_margin, merged_below)

    def _columns(self, table: _Table) -> list[float]:
        needed = max((row.grid_before + sum(c.span for c in row.cells) for row in table.rows), default=0)
        cols = [c for c in table.cols if c > 0] if len(table.cols) >= needed else []
        if not cols or sum(cols) <= 0:
            n = max(needed, 1)
            cols = [self.text_width / n] * n
        avail = self.section.width - self.text_left - table.indent - 9.0
        total = sum(cols)
        if total > avail > 0:
            cols = [c * avail / total for c in cols]
        return cols

    def _row(self, row: _Row, edges: list[float], margin: float, merged_below: set[int]) -> None:
        slots: list[tuple[_Cell, float, float, int]] = []
        col = row.grid_before
        for cell in row.cells:
            last = min(col + cell.span, len(edges) - 1)
            first = min(col, len(edges) - 2)
            slots.append((cell, edges[first], edges[last], col))
            col += cell.span
        # Lines of every cell, wrapped at the cell's width.
        cell_lines: list[list[tuple[_Line, _Para]]] = []
        for cell, x0, x1, _ in slots:
            width = max(x1 - x0 - 2 * margin, 12.0)
            lines: list[tuple[_Line, _Para]] = []
            for para in cell.paras:
                inner = max(width - para.indent_left - para.indent_right, 12.0)
                lines.extend((ln, para) for ln in _wrap(para, inner))
            cell_lines.append(lines)
        content = max((sum(ln.height for ln, _ in lines) for lines in cell_lines), default=0.0)
        height = max(row.min_height, content + 2 * CELL_PAD)
        page_room = self.bottom - self.section.top
        if self.y + height > self.bottom and not self.empty and height <= page_room:
            self.new_page()
        # Place the row, splitting it across pages only when it is taller than a page.
        first_chunk = True
        cursors = [0] * len(slots)
        while True:
            top = self.y
            limit = self.bottom - CELL_PAD
            ends: list[float] = []
            for i, (_, x0, x1, _) in enumerate(slots):
                yy = top + CELL_PAD
                lines = cell_lines[i]
                while cursors[i] < len(lines):
                    line, para = lines[cursors[i]]
                    if yy + line.height > limit and yy > top + CELL_PAD:
                        break  # continued on the next page (at least one line per page)
                    lx = x0 + margin + para.indent_left
                    inner = max(x1 - x0 - 2 * margin - para.indent_left - para.indent_right, 12.0)
                    self.place_line(line, para, lx, inner, yy)
                    yy += line.height
                    cursors[i] += 1
                ends.append(yy)
            done = all(cursors[i] >= len(cell_lines[i]) for i in range(len(slots)))
            bottom = max(ends, default=top) + CELL_PAD
            if first_chunk and done:
                bottom = max(bottom, top + height)
            self._cell_rules(slots, top, bottom, first_chunk=first_chunk, merged_below=merged_below if done else set())
            self.y = bottom
            if done:
                return
            self.new_page()
            first_chunk = False

    def _cell_rules(
        self,
        slots: list[tuple[_Cell, float, float, int]],
        top: float,
        bottom: float,
        *,
        first_chunk: bool,
        merged_below: set[int],
    ) -> None:
        for cell, x0, x1, col in slots:
            if not (cell.merged_above and first_chunk):
                self._rule(x0, top, x1, top)
            if col not in merged_below:
                self._rule(x0, bottom, x1, bottom)
            self._rule(x0, top, x0, bottom)
            self._rule(x1, top, x1, bottom)

    def _rule(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.rules.add((round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2)))


def _merge_rules(segments: set[tuple[float, float, float, float]]) -> list[Rule]:
    """Join collinear touching segments: the cells' borders become a row's and a column's lines."""
    horizontal: dict[float, list[tuple[float, float]]] = {}
    vertical: dict[float, list[tuple[float, float]]] = {}
    for x0, y0, x1, y1 in segments:
        if y0 == y1:
            horizontal.setdefault(y0, []).append((min(x0, x1), max(x0, x1)))
        else:
            vertical.setdefault(x0, []).append((min(y0, y1), max(y0, y1)))
    rules: list[Rule] = []
    for y, spans in horizontal.items():
        rules.extend(Rule(a, y, b, y) for a, b in _merge_spans(spans))
    for x, spans in vertical.items():
        rules.extend(Rule(x, a, x, b) for a, b in _merge_spans(spans))
    return sorted(rules, key=lambda r: (r.y0, r.x0, r.y1, r.x1))


def _merge_spans(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + 0.01:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _merged_starts(row: _Row) -> set[int]:
    starts: set[int] = set()
    col = row.grid_before
    for cell in row.cells:
        if cell.merged_above:
            starts.add(col)
        col += cell.span
    return starts


def _next_tab(x: float, origin: float) -> float:
    steps = int((x - origin) // TAB_STOP) + 1
    return origin + steps * TAB_STOP


def _tok_width(tok: _Tok) -> float:
    return char_width(tok.ch, tok.size) if tok.ch else 0.0


def _wide(tok: _Tok) -> bool:
    return bool(tok.ch) and char_width(tok.ch, 1.0) >= 1.0


def _line_width(toks: list[_Tok], origin: float) -> float:
    x = origin
    end = origin
    for tok in toks:
        if tok.ch == "\t":
            x = _next_tab(x, origin)
            continue
        x += _tok_width(tok)
        if tok.ch and not tok.ch.isspace():
            end = x
    return end - origin


WRAP_SLACK = 1.06


def _wrap(para: _Para, width: float) -> list[_Line]:
    """Break a paragraph into lines no wider than ``width``.

    Lines break after whitespace, or anywhere between full-width characters (Japanese text has
    no spaces); a word longer than the line is broken where it overflows.
    """
    lines: list[_Line] = []
    current: list[_Tok] = []
    x = 0.0
    first = True
    break_at = -1  # index in ``current`` after which the line may break

    def limit() -> float:
        # Our widths are estimates (real fonts are a little narrower, and Word squeezes
        # punctuation), so wrap late rather than split a word the real layout keeps whole.
        return WRAP_SLACK * max(width - para.first_line if first else width, 12.0)

    def emit(toks: list[_Tok], page_break: bool = False) -> None:
        nonlocal first
        while toks and toks[-1].ch.isspace() and toks[-1].ch not in ("\f",):
            toks = toks[:-1]
        sizes = [t.size for t in toks if t.ch]
        h = LINE_FACTOR * (max(sizes) if sizes else para.size)
        lines.append(_Line(toks=toks, height=h, page_break=page_break))
        first = False

    for tok in para.toks:
        if tok.ch in ("\n", "\f"):
            emit(
                current + ([_Tok("", tok.size, tok.field)] if tok.field is not None else []), page_break=tok.ch == "\f"
            )
            current, x, break_at = [], 0.0, -1
            continue
        w = (_next_tab(x, 0.0) - x) if tok.ch == "\t" else _tok_width(tok)
        wide = _wide(tok)
        if current and not tok.ch.isspace() and tok.ch not in _NO_LINE_START and x + w > limit():
            if break_at >= 0:
                head, tail = current[: break_at + 1], current[break_at + 1 :]
            else:
                head, tail = current, []
            emit(head)
            current = list(tail)
            while current and current[0].ch.isspace():
                current.pop(0)
            x = sum(_tok_width(t) for t in current)
            break_at = max((k for k, t in enumerate(current) if t.ch.isspace() or _wide(t)), default=-1)
        if not current and tok.ch.isspace() and lines and tok.ch != "\t":
            continue  # no leading space on a wrapped line
        current.append(tok)
        x += w
        if tok.ch.isspace() or wide:
            break_at = len(current) - 1
    if current or not lines:
        emit(current)
    return lines
