"""One entry point for every format: data + kind + stock + dpi → document bytes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from refurb.printing.kinds import LabelKind
from refurb.printing.layout import LayoutError, Page
from refurb.printing.parallel import compose_all
from refurb.printing.pdf import SheetPlacement, render_pdf
from refurb.printing.png import render_png
from refurb.printing.stock import Stock
from refurb.printing.svg import render_svg
from refurb.printing.templates import Catalogue
from refurb.printing.zpl import render_zpl

__all__ = ("MEDIA_TYPES", "Format", "RenderError", "Rendered", "compose_labels", "render")

ZPL_MAX_WIDTH_MM = 108.0  # the widest thermal print heads take 4.25 in


class Format(StrEnum):
    """Output formats."""

    SVG = "svg"
    PDF = "pdf"
    ZPL = "zpl"
    PNG = "png"


MEDIA_TYPES = {
    Format.SVG: "image/svg+xml",
    Format.PDF: "application/pdf",
    Format.ZPL: "text/plain; charset=utf-8",
    Format.PNG: "image/png",
}


class RenderError(Exception):
    """The request cannot be drawn: the message says why (and `code` which problem)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class _Counter:
    """Counts the pages flowing from composition into the PDF."""

    def __init__(self, pages: Iterator[Page]) -> None:
        self.pages = pages
        self.count = 0

    def __iter__(self) -> Iterator[Page]:
        for page in self.pages:
            self.count += 1
            yield page


@dataclass(frozen=True)
class Rendered:
    """A rendered document."""

    content: bytes
    media_type: str
    extension: str
    pages: int


def _values(item: BaseModel) -> dict[str, Any]:
    values = dict(item)
    for key, value in values.items():
        if isinstance(value, list):
            values[key] = [dict(entry) if isinstance(entry, BaseModel) else entry for entry in value]
    return values


def iter_pages(
    catalogue: Catalogue,
    kind: LabelKind,
    items: Sequence[BaseModel],
    stock: Stock,
    dpi: int,
    *,
    symbols: bool = True,
) -> Iterator[Page]:
    """The pages of every item, in order, composed as they are consumed."""
    template = catalogue.templates[kind]
    layout = template.layout_for(stock)
    if layout is None:
        raise RenderError("stock_too_small", f"no layout of the {kind} template fits the {stock.name} stock")
    try:
        yield from compose_all(layout, stock, dpi, [_values(item) for item in items], symbols=symbols)
    except LayoutError as error:
        raise RenderError("label_does_not_fit", str(error)) from None


def compose_labels(
    catalogue: Catalogue, kind: LabelKind, items: Sequence[BaseModel], stock: Stock, dpi: int
) -> list[Page]:
    """The pages of every item, in order."""
    return list(iter_pages(catalogue, kind, items, stock, dpi))


def render(
    catalogue: Catalogue,
    kind: LabelKind,
    items: Sequence[BaseModel],
    stock: Stock,
    fmt: Format,
    *,
    dpi: int | None = None,
    placement: SheetPlacement | None = None,
    copies: int = 1,
) -> Rendered:
    """Render `items` (one label each) as one document."""
    dpi = dpi or stock.dpi
    if fmt is Format.ZPL and (stock.sheet is not None or stock.width > ZPL_MAX_WIDTH_MM):
        raise RenderError("format_not_for_stock", f"ZPL is for thermal rolls; {stock.name} is not one")
    if stock.sheet is not None and fmt in (Format.SVG, Format.PNG) and placement is not None:
        placement = None  # a preview shows the label itself, not the sheet
    if placement is not None and stock.sheet is not None and not 1 <= placement.start <= stock.sheet.capacity:
        raise RenderError(
            "bad_sheet_position",
            f"the start position must be 1 to {stock.sheet.capacity} on a {stock.name} sheet",
        )
    if fmt is Format.ZPL:
        pages = list(iter_pages(catalogue, kind, items, stock, dpi, symbols=False))
        return Rendered(render_zpl(pages, copies).encode(), MEDIA_TYPES[fmt], "zpl", len(pages))
    if fmt is Format.PDF:
        counted = _Counter(iter_pages(catalogue, kind, items, stock, dpi))
        content = render_pdf(counted, stock, placement)
        return Rendered(content, MEDIA_TYPES[fmt], "pdf", counted.count)
    pages = compose_labels(catalogue, kind, items[:1], stock, dpi)
    if fmt is Format.SVG:
        return Rendered(render_svg(pages[0]).encode(), MEDIA_TYPES[fmt], "svg", len(pages))
    return Rendered(render_png(pages[0]), MEDIA_TYPES[fmt], "png", len(pages))
