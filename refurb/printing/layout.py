"""From a template, a stock and data to pages of positioned items, in printer dots.

Everything is decided here, once, in whole dots at the target resolution: bar
and QR module widths, positions, font sizes, where text is cut. The SVG, PDF,
PNG and ZPL backends only draw what this says, so all four have one geometry.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from refurb.printing import fonts
from refurb.printing.stock import Stock
from refurb.printing.symbols import code128_length, code128_modules, qr_matrix, qr_size
from refurb.printing.templates import ElementSpec, LayoutSpec

__all__ = ("Bars", "LayoutError", "Page", "Qr", "Rule", "Text", "compose", "compose_many", "min_module")

BARCODE_QUIET = 10  # modules of blank space on each side of a Code 128 symbol
QR_QUIET = 4  # modules around a QR symbol (ISO/IEC 18004)
MM_PER_INCH = 25.4


class LayoutError(Exception):
    """The data cannot be drawn on this stock (e.g. the barcode does not fit)."""


def min_module(dpi: int) -> int:
    """Narrowest bar in dots: 0.25 mm at 203 dpi (2 dots), 0.254 mm at 300 dpi (3 dots)."""
    return 2 if dpi < 250 else 3


def _max_module(dpi: int) -> int:
    return 4 if dpi < 250 else 6


@dataclass(frozen=True, slots=True)
class Text:
    """One line of text; (x, baseline) in dots, already cut and sized to fit."""

    x: int
    baseline: int
    size: int
    text: str
    bold: bool
    width: int  # the box it was fitted into, for backends that clip


@dataclass(frozen=True, slots=True)
class Bars:
    """A Code 128 symbol: bars of whole dots."""

    x: int
    y: int
    module: int
    height: int
    modules: str
    data: str


@dataclass(frozen=True, slots=True)
class Qr:
    """A QR symbol; (x, y) is its top-left dark-module corner, quiet zone outside."""

    x: int
    y: int
    module: int
    matrix: tuple[bytes, ...]
    data: str
    error: str = "m"


@dataclass(frozen=True, slots=True)
class Rule:
    """A filled rectangle (a line)."""

    x: int
    y: int
    width: int
    height: int


@dataclass
class Page:
    """One label (or one page of a document)."""

    width: int
    height: int
    dpi: int
    width_mm: float
    height_mm: float
    items: list[Text | Bars | Qr | Rule] = field(default_factory=list)
    vector: str | None = None  # the PDF operators of its graphics, when prepared in advance


def _length(value: float | str | None, total: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            return total * float(text[:-1]) / 100
        return float(text)
    return float(value)


def _axis(start: float | None, end: float | None, size: float | None, total: float) -> tuple[float, float]:
    if start is not None and size is not None:
        return start, size
    if start is not None and end is not None:
        return start, total - start - end
    if end is not None and size is not None:
        return total - end - size, size
    if start is not None:
        return start, total - start
    if end is not None:
        return 0.0, total - end
    return 0.0, size if size is not None else total


@dataclass(frozen=True, slots=True)
class _Box:
    x: float
    y: float
    w: float
    h: float


def _box(spec: ElementSpec, outer: _Box) -> _Box:
    """The element's box inside `outer`; a text without a height is one line high."""
    left, width = _axis(
        _length(spec.left, outer.w), _length(spec.right, outer.w), _length(spec.width, outer.w), outer.w
    )
    top, bottom = _length(spec.top, outer.h), _length(spec.bottom, outer.h)
    height = _length(spec.height, outer.h)
    if height is None and (top is None or bottom is None) and spec.type == "text":
        height = spec.size
    top, height = _axis(top, bottom, height, outer.h)
    return _Box(outer.x + left, outer.y + top, width, height)


class _Formatter(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _fill(template: str, values: Mapping[str, Any]) -> str:
    return template.format_map(_Formatter({k: "" if v is None else v for k, v in values.items()}))


class _Composer:
    def __init__(self, dpi: int, symbols: bool = True) -> None:
        self.dpi = dpi
        self.scale = dpi / MM_PER_INCH
        self.symbols = symbols  # False for ZPL: the printer encodes, only sizes are needed
        self.boxes: dict[tuple[int, _Box], _Box] = {}  # one layout, many labels: place once

    def dots(self, mm: float) -> int:
        return round(mm * self.scale)

    def element(self, spec: ElementSpec, outer: _Box, values: Mapping[str, Any], page: Page) -> None:
        key = (id(spec), outer)
        box = self.boxes.get(key)
        if box is None:
            box = self.boxes[key] = _box(spec, outer)
        if spec.type == "text":
            self.text(spec, box, _fill(spec.text, values), page)
        elif spec.type == "paragraph":
            self.paragraph(spec, box, _fill(spec.text, values), page)
        elif spec.type == "barcode":
            self.barcode(box, _fill(spec.data, values), page, spec.max_module)
        elif spec.type == "qr":
            self.qr(spec, box, _fill(spec.data, values), page)
        elif spec.type == "line":
            thickness = max(1, self.dots(spec.thickness))
            page.items.append(Rule(self.dots(box.x), self.dots(box.y), self.dots(box.w), thickness))

    def text(self, spec: ElementSpec, box: _Box, text: str, page: Page) -> None:
        text = " ".join(text.translate(fonts.PLAIN).split())
        if not text:
            return
        min_size = spec.min_size or spec.size * 0.7
        fitted, size = fonts.fit_text(text, box.w, spec.size, min(min_size, spec.size), spec.bold)
        if not fitted:
            return
        # Whole dots, rounded down, so the drawn text never leaves its box.
        size_dots = max(1, math.floor(size * self.scale))
        box_x, box_width = self.dots(box.x), math.floor(box.w * self.scale)
        width = math.ceil(fonts.text_width(fitted, size_dots, spec.bold))
        x = box_x
        if spec.align == "center":
            x = box_x + (box_width - width) // 2
        elif spec.align == "right":
            x = box_x + box_width - width
        size = size_dots / self.scale
        top = box.y + max(0.0, (box.h - size) / 2) if box.h > size else box.y
        page.items.append(
            Text(x, self.dots(top + fonts.ASCENT * size), size_dots, fitted, spec.bold, box_width)
        )

    def paragraph(self, spec: ElementSpec, box: _Box, text: str, page: Page) -> None:
        lines = fonts.wrap_text(text.translate(fonts.PLAIN), box.w, spec.size, spec.bold)
        step = spec.size * spec.line_spacing
        fitting = max(0, int((box.h - spec.size) // step) + 1) if box.h >= spec.size else 0
        if len(lines) > fitting:
            lines = lines[:fitting]
            if lines:
                lines[-1] = lines[-1] + " " + fonts.ELLIPSIS
        for index, line in enumerate(lines):
            line_box = _Box(box.x, box.y + index * step, box.w, spec.size)
            self.text(
                spec.model_copy(update={"min_size": spec.size * 0.85, "type": "text"}), line_box, line, page
            )

    def barcode(self, box: _Box, data: str, page: Page, max_module_mm: float | None = None) -> None:
        if not data:
            raise LayoutError("a barcode has no data")
        try:
            modules = code128_modules(data) if self.symbols else ""
            count = len(modules) if self.symbols else code128_length(data)
        except ValueError as error:
            raise LayoutError(f"a barcode cannot carry {data!r}: {error}") from None
        width = self.dots(box.w)
        widest = (
            max(min_module(self.dpi), self.dots(max_module_mm)) if max_module_mm else _max_module(self.dpi)
        )
        module = min(widest, width // (count + 2 * BARCODE_QUIET))
        if module < min_module(self.dpi):
            needed = (count + 2 * BARCODE_QUIET) * min_module(self.dpi) / self.scale
            raise LayoutError(
                f"the barcode of {data} needs {needed:.1f} mm with its quiet zones; the box is {box.w:.1f} mm"
            )
        height = self.dots(box.h)
        if height < self.dots(4):
            raise LayoutError(
                f"the barcode of {data} needs at least 4 mm of height; the box is {box.h:.1f} mm"
            )
        x = self.dots(box.x) + (width - count * module) // 2
        page.items.append(Bars(x, self.dots(box.y), module, height, modules, data))

    def qr(self, spec: ElementSpec, box: _Box, data: str, page: Page) -> None:
        if not data:
            return
        matrix = qr_matrix(data, spec.error) if self.symbols else ()
        size = len(matrix) if self.symbols else qr_size(data, spec.error)
        side = min(self.dots(box.w), self.dots(box.h))
        # ZPL's ^BQ magnification stops at 10 dots a module.
        module = min(_max_module(self.dpi) * 2, 10, side // (size + 2 * QR_QUIET))
        if module < 2:
            if spec.optional:
                return
            raise LayoutError(f"the QR code of {data!r} does not fit a {min(box.w, box.h):.1f} mm box")
        symbol = module * size
        x = self.dots(box.x) + (self.dots(box.w) - symbol) // 2
        y = self.dots(box.y) + (self.dots(box.h) - symbol) // 2
        page.items.append(Qr(x, y, module, matrix, data, spec.error))


def compose(
    layout: LayoutSpec, stock: Stock, dpi: int, data: Mapping[str, Any], *, symbols: bool = True
) -> list[Page]:
    """Pages for `data` (one, except for documents whose rows need more).

    `symbols=False` sizes barcodes and QR codes without encoding them (for ZPL).
    """
    return list(compose_many(layout, stock, dpi, [data], symbols=symbols))


def compose_many(
    layout: LayoutSpec, stock: Stock, dpi: int, items: Iterable[Mapping[str, Any]], *, symbols: bool = True
) -> Iterator[Page]:
    """The pages of every item, in order, with one composer (positions are worked out once)."""
    composer = _Composer(dpi, symbols)
    label = _Box(0.0, 0.0, stock.width, stock.height)
    rows = next((e for e in layout.elements if e.type == "rows"), None)
    row_box = _box(rows, label) if rows is not None else None
    for data in items:
        yield from _pages(composer, layout, stock, label, rows, row_box, data)


def _pages(
    composer: _Composer,
    layout: LayoutSpec,
    stock: Stock,
    label: _Box,
    rows: ElementSpec | None,
    row_box: _Box | None,
    data: Mapping[str, Any],
) -> Iterator[Page]:
    per_page = 1
    lines: Sequence[Mapping[str, Any]] = ()
    if rows is not None and row_box is not None:
        assert rows.row_height is not None
        lines = data.get(rows.source) or []
        per_page = max(1, int(row_box.h // rows.row_height))
    total = max(1, math.ceil(len(lines) / per_page)) if rows is not None else 1
    for number in range(total):
        page = Page(
            composer.dots(stock.width), composer.dots(stock.height), composer.dpi, stock.width, stock.height
        )
        values = {**data, "page": number + 1, "pages": total} if rows is not None else data
        for spec in layout.elements:
            if spec.type != "rows":
                composer.element(spec, label, values, page)
        if rows is not None and row_box is not None:
            assert rows.row_height is not None
            for index, line in enumerate(lines[number * per_page : (number + 1) * per_page]):
                cell = _Box(row_box.x, row_box.y + index * rows.row_height, row_box.w, rows.row_height)
                for column in rows.columns:
                    composer.element(column, cell, line, page)
        yield page
