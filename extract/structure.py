"""The structure of a page: tables of rows and cells, and the lines of text outside them.

Every reader gives words and ruled lines (a DOCX is laid out with a rule round every cell, a
text PDF has its drawn lines, a scan the lines found in its pixels), so one builder serves
all: pdfplumber's stages over the page's rules (edges → merged edges → intersections →
cells → tables), then each word placed in the cell holding its centre. Cells get grid indices
and spans from the table's distinct column and row edges. Words in no cell are lines of text
(paragraphs), segmented at wide gaps as ``extract.layout`` does.

A table that goes on over a page break stays two tables here; the reading order that
``extract.assign`` walks joins them, as it reads the document as one sequence of rows.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells, merge_edges

from extract.layout import Line, build_lines
from extract.pagemodel import BBox, Page, Rule, Word


@dataclass(frozen=True)
class StructureSettings:
    """Tolerances in PDF points."""

    #: Edges closer than this are snapped to one line; gaps up to it are joined.
    snap: float = 3.0
    join: float = 3.0
    #: How far apart a horizontal and a vertical edge may pass and still meet.
    intersect_digital: float = 1.0
    intersect_scan: float = 3.0
    #: Cells smaller than this on either side are no cells (a drawn checkbox, a double rule).
    min_cell: float = 6.0
    #: Distinct column/row edges closer than this are one grid line.
    grid: float = 2.5
    #: More rule crossings than this on a page is graph paper or a pattern, not a form's
    #: tables (a form has a few hundred): no tables are built (the cell search is quadratic).
    max_intersections: int = 3000


SETTINGS = StructureSettings()


@dataclass
class Cell:
    page: int
    bbox: BBox
    row: int
    col: int
    row_span: int = 1
    col_span: int = 1
    lines: list[Line] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def empty(self) -> bool:
        return not any(line.text.strip() for line in self.lines)

    @property
    def last_row(self) -> int:
        return self.row + self.row_span - 1

    @property
    def last_col(self) -> int:
        return self.col + self.col_span - 1


@dataclass
class Table:
    page: int
    bbox: BBox
    cells: list[Cell]
    n_rows: int
    n_cols: int

    def rows(self) -> list[list[Cell]]:
        """The cells that start on each grid row, left to right."""
        out: list[list[Cell]] = [[] for _ in range(self.n_rows)]
        for cell in self.cells:
            out[cell.row].append(cell)
        return [sorted(r, key=lambda c: c.col) for r in out]


@dataclass
class PageStructure:
    page: Page
    tables: list[Table]
    #: Lines of the words outside every table, top to bottom.
    lines: list[Line]


def build_structure(page: Page, settings: StructureSettings = SETTINGS) -> PageStructure:
    boxes = _cell_boxes(page.rules, scan=page.source == "ocr", settings=settings)
    tables = _tables(boxes)
    placed: dict[int, list[Word]] = {}
    outside: list[Word] = []
    all_cells = [(ti, ci, c) for ti, t in enumerate(tables) for ci, c in enumerate(t)]
    for word in page.words:
        cx, cy = (word.x0 + word.x1) / 2, word.cy
        home = None
        for ti, ci, (x0, y0, x1, y1) in all_cells:
            if x0 <= cx <= x1 and y0 <= cy <= y1:
                if home is None or _area((x0, y0, x1, y1)) < _area(tables[home[0]][home[1]]):
                    home = (ti, ci)
        if home is None:
            outside.append(word)
        else:
            placed.setdefault(home[0] * 100_000 + home[1], []).append(word)
    built: list[Table] = []
    for ti, cell_boxes in enumerate(tables):
        cells = [
            _cell(page, box, placed.get(ti * 100_000 + ci, []))
            for ci, box in enumerate(cell_boxes)
        ]
        built.append(_grid(page.number, cells, settings))
    built.sort(key=lambda t: (t.bbox[1], t.bbox[0]))
    lines = build_lines(_sub_page(page, outside)) if outside else []
    return PageStructure(page, built, lines)


def _area(b: BBox) -> float:
    return (b[2] - b[0]) * (b[3] - b[1])


def _sub_page(page: Page, words: list[Word]) -> Page:
    return Page(number=page.number, width=page.width, height=page.height, source=page.source, words=words, rules=page.rules)


def _cell(page: Page, box: BBox, words: list[Word]) -> Cell:
    lines = build_lines(_sub_page(page, words)) if words else []
    return Cell(page=page.number, bbox=box, row=0, col=0, lines=lines)


def _edges(rules: list[Rule]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in rules:
        x0, x1 = sorted((r.x0, r.x1))
        y0, y1 = sorted((r.y0, r.y1))
        if r.horizontal:
            y = (y0 + y1) / 2
            out.append({"x0": x0, "x1": x1, "top": y, "bottom": y, "width": x1 - x0, "height": 0.0, "orientation": "h", "object_type": "line"})
        else:
            x = (x0 + x1) / 2
            out.append({"x0": x, "x1": x, "top": y0, "bottom": y1, "width": 0.0, "height": y1 - y0, "orientation": "v", "object_type": "line"})
    return out


def _cell_boxes(rules: list[Rule], *, scan: bool, settings: StructureSettings) -> list[BBox]:
    edges = [e for e in _edges(rules) if max(e["width"], e["height"]) >= settings.min_cell]
    if not edges:
        return []
    merged = merge_edges(edges, settings.snap, settings.snap, settings.join, settings.join)
    tol = settings.intersect_scan if scan else settings.intersect_digital
    merged = merged + _frames(merged, tol + settings.snap)
    points = edges_to_intersections(merged, tol, tol)
    if len(points) > settings.max_intersections:
        return []
    boxes = intersections_to_cells(points)
    return [b for b in boxes if b[2] - b[0] >= settings.min_cell and b[3] - b[1] >= settings.min_cell]


def _touch(a: dict[str, Any], b: dict[str, Any], tol: float) -> bool:
    return a["x0"] - tol <= b["x1"] and b["x0"] - tol <= a["x1"] and a["top"] - tol <= b["bottom"] and b["top"] - tol <= a["bottom"]


def _frames(edges: list[dict[str, Any]], tol: float) -> list[dict[str, Any]]:
    """The outline of every group of touching rules that has both horizontal and vertical
    ones: a table drawn without its outer border (rules only between rows, or only left of
    each cell) still closes into cells."""
    n = len(edges)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if edges[i]["orientation"] != edges[j]["orientation"] and _touch(edges[i], edges[j], tol):
                parent[find(i)] = find(j)
    groups: dict[int, list[dict[str, Any]]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(edges[i])
    out: list[dict[str, Any]] = []
    for group in groups.values():
        if len({e["orientation"] for e in group}) < 2:
            continue
        x0, x1 = min(e["x0"] for e in group), max(e["x1"] for e in group)
        top, bottom = min(e["top"] for e in group), max(e["bottom"] for e in group)
        for y in (top, bottom):
            out.append({"x0": x0, "x1": x1, "top": y, "bottom": y, "width": x1 - x0, "height": 0.0, "orientation": "h", "object_type": "line"})
        for x in (x0, x1):
            out.append({"x0": x, "x1": x, "top": top, "bottom": bottom, "width": 0.0, "height": bottom - top, "orientation": "v", "object_type": "line"})
    return out


def _tables(boxes: list[BBox]) -> list[list[BBox]]:
    if not boxes:
        return []
    return [list(t) for t in cells_to_tables(boxes)]


def _grid_lines(values: list[float], tol: float) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(v)
    return out


def _index(lines: list[float], v: float) -> int:
    k = bisect.bisect_left(lines, v)
    return min((i for i in (k - 1, k) if 0 <= i < len(lines)), key=lambda i: abs(lines[i] - v))


def _grid(page: int, cells: list[Cell], settings: StructureSettings) -> Table:
    xs = _grid_lines([c.bbox[0] for c in cells] + [c.bbox[2] for c in cells], settings.grid)
    ys = _grid_lines([c.bbox[1] for c in cells] + [c.bbox[3] for c in cells], settings.grid)
    for c in cells:
        c.col, last_x = _index(xs, c.bbox[0]), _index(xs, c.bbox[2])
        c.row, last_y = _index(ys, c.bbox[1]), _index(ys, c.bbox[3])
        c.col_span = max(1, last_x - c.col)
        c.row_span = max(1, last_y - c.row)
    bbox = (min(c.bbox[0] for c in cells), min(c.bbox[1] for c in cells), max(c.bbox[2] for c in cells), max(c.bbox[3] for c in cells))
    cells.sort(key=lambda c: (c.row, c.col))
    return Table(page=page, bbox=bbox, cells=cells, n_rows=max(1, len(ys) - 1), n_cols=max(1, len(xs) - 1))
