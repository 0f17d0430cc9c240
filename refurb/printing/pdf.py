"""PDF backend (fpdf2): one label per page at the stock size, or labels placed on A4 sheets.

Bars and QR modules are written as one path of rectangles per label (PDF `re`
operators), which keeps a 1,000-label document fast; text uses the embedded
label font, so accents and any character print as on screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fpdf import FPDF

from refurb.printing.layout import MM_PER_INCH, Bars, Page, Qr, Rule, Text
from refurb.printing.resources import font_path
from refurb.printing.stock import Stock
from refurb.printing.symbols import bar_runs

__all__ = ("SheetPlacement", "font_family", "render_pdf", "vector_ops")

PT_PER_MM = 72 / MM_PER_INCH
_BITS = bytes.maketrans(b"\x00\x01", b"01")


class SheetPlacement:
    """Where the first label goes on a sheet, and the printer's calibration offsets (mm)."""

    def __init__(self, start: int = 1, offset_x: float = 0.0, offset_y: float = 0.0) -> None:
        self.start = start
        self.offset_x = offset_x
        self.offset_y = offset_y


def _document(width: float, height: float) -> FPDF:
    """An empty document.

    Text uses the Helvetica core font (nothing to embed: a label renders in a
    millisecond); the bundled TrueType font is added only for text beyond Latin-1.
    """
    pdf = FPDF(unit="mm", format=(width, height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_creator("Refurb")
    pdf.set_title("Refurb labels")
    return pdf


def font_family(pdf: FPDF, text: str) -> str:
    """Helvetica for Latin-1 text, else the bundled Unicode font (added to the document once)."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        if "label" not in pdf.fonts and "labelB" not in pdf.fonts:
            pdf.add_font("Label", "", str(font_path(False)))
            pdf.add_font("Label", "B", str(font_path(True)))
        return "Label"
    return "helvetica"


def _qr_image(qr: Qr, height: float, unit: float) -> str:
    """The QR symbol as one inline image mask (1 bit per module, painted in the fill colour)."""
    size = len(qr.matrix)
    pad = (-size) % 8
    data = "".join(
        (int(row.translate(_BITS) or b"0", 2) << pad).to_bytes((size + pad) // 8, "big").hex()
        for row in qr.matrix
    )
    side = size * qr.module * unit * PT_PER_MM
    x_pt = qr.x * unit * PT_PER_MM
    y_pt = (height - (qr.y + size * qr.module) * unit) * PT_PER_MM
    return (
        f"q {side:.3f} 0 0 {side:.3f} {x_pt:.3f} {y_pt:.3f} cm "
        f"BI /W {size} /H {size} /IM true /D [1 0] /F /AHx ID {data}> EI Q"
    )


def vector_ops(page: Page) -> str:
    """Bars, rules and QR codes as PDF operators, in points from the label's bottom-left corner.

    Pure string work, so big jobs prepare it in the worker processes along with the layout.
    """
    unit = MM_PER_INCH / page.dpi  # mm per dot
    scale = unit * PT_PER_MM
    height = page.height_mm
    rects: list[str] = []
    images: list[str] = []
    for item in page.items:
        if isinstance(item, Bars):
            y_pt = (height - (item.y + item.height) * unit) * PT_PER_MM
            h_pt = item.height * scale
            for start, length in bar_runs(item.modules):
                x = item.x + start * item.module
                rects.append(f"{x * scale:.3f} {y_pt:.3f} {length * item.module * scale:.3f} {h_pt:.3f} re")
        elif isinstance(item, Rule):
            y_pt = (height - (item.y + item.height) * unit) * PT_PER_MM
            rects.append(
                f"{item.x * scale:.3f} {y_pt:.3f} {item.width * scale:.3f} {item.height * scale:.3f} re"
            )
        elif isinstance(item, Qr):
            images.append(_qr_image(item, height, unit))
    return " ".join(rects) + (" f " if rects else " ") + " ".join(images)


def _draw(pdf: FPDF, page: Page, left: float, top: float, page_height: float, state: list[Any]) -> None:
    """Draw one label with its top-left corner at (left, top) mm of the PDF page."""
    ops = page.vector if page.vector is not None else vector_ops(page)
    if ops.strip():
        origin_y = (page_height - top - page.height_mm) * PT_PER_MM
        # fpdf2 has no public call for a raw path or an inline image; both keep a
        # label to a handful of operators instead of hundreds of rect() calls.
        pdf._out(f"q 1 0 0 1 {left * PT_PER_MM:.3f} {origin_y:.3f} cm 0 g {ops} Q")
    unit = MM_PER_INCH / page.dpi
    for item in page.items:
        if isinstance(item, Text):
            font = (font_family(pdf, item.text), "B" if item.bold else "", item.size * unit * PT_PER_MM)
            if state[0] != font or not pdf.current_font_is_set_on_page:
                pdf.set_font(*font)
                state[0] = font
            pdf.text(left + item.x * unit, top + item.baseline * unit, item.text)


def render_pdf(pages: Iterable[Page], stock: Stock, placement: SheetPlacement | None = None) -> bytes:
    """All pages in one PDF: one page per label, or packed on sheets when the stock is a sheet."""
    if stock.sheet is None:
        pdf = _document(stock.width, stock.height)
        state: list[Any] = [None]
        for page in pages:
            pdf.add_page()
            _draw(pdf, page, 0.0, 0.0, stock.height, state)
        return bytes(pdf.output())
    sheet = stock.sheet
    placement = placement or SheetPlacement()
    pdf = _document(sheet.page_width, sheet.page_height)
    index = placement.start - 1
    pdf.add_page()
    state = [None]
    for number, page in enumerate(pages):
        if number and index % sheet.capacity == 0:
            pdf.add_page()
        x, y = sheet.position(index)
        _draw(pdf, page, x + placement.offset_x, y + placement.offset_y, sheet.page_height, state)
        index += 1
    return bytes(pdf.output())
