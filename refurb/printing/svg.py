"""SVG backend: a screen preview with a viewBox in printer dots and the page size in mm."""

from __future__ import annotations

from xml.sax.saxutils import escape

from refurb.printing.layout import Bars, Page, Qr, Rule, Text
from refurb.printing.symbols import bar_runs

__all__ = ("render_svg",)

FONT = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans Condensed', sans-serif"


def _qr_path(qr: Qr) -> str:
    parts = []
    for row_index, row in enumerate(qr.matrix):
        for start, length in bar_runs(row.translate(_BITS).decode()):
            parts.append(
                f"M{qr.x + start * qr.module} {qr.y + row_index * qr.module}"
                f"h{length * qr.module}v{qr.module}h{-length * qr.module}z"
            )
    return "".join(parts)


_BITS = bytes.maketrans(b"\x00\x01", b"01")


def render_svg(page: Page) -> str:
    """One page as a standalone SVG document."""
    dark: list[str] = []
    texts: list[str] = []
    for item in page.items:
        if isinstance(item, Bars):
            for start, length in bar_runs(item.modules):
                x = item.x + start * item.module
                dark.append(f"M{x} {item.y}h{length * item.module}v{item.height}h{-length * item.module}z")
        elif isinstance(item, Qr):
            dark.append(_qr_path(item))
        elif isinstance(item, Rule):
            dark.append(f"M{item.x} {item.y}h{item.width}v{item.height}h{-item.width}z")
        elif isinstance(item, Text):
            weight = ' font-weight="bold"' if item.bold else ""
            position = f'x="{item.x}" y="{item.baseline}" font-size="{item.size}"'
            texts.append(f"<text {position}{weight}>{escape(item.text)}</text>")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{page.width_mm:.2f}mm" height="{page.height_mm:.2f}mm" '
        f'viewBox="0 0 {page.width} {page.height}" shape-rendering="crispEdges">'
        f'<rect width="{page.width}" height="{page.height}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(dark)}"/>'
        f'<g fill="#000" font-family="{FONT}">{"".join(texts)}</g></svg>'
    )
