"""PDF backend (fpdf2): one label per page at the stock size, or labels placed on A4 sheets.

Bars and QR modules are written as one path of rectangles per label (PDF `re`
operators), which keeps a 1,000-label document fast; text uses the embedded
label font, so accents and any character print as on screen.
"""

from __future__ import annotations

from fpdf import FPDF

from refurb.printing.layout import MM_PER_INCH, Bars, Page, Qr, Rule, Text
from refurb.printing.resources import font_path
from refurb.printing.stock import Stock
from refurb.printing.symbols import bar_runs

__all__ = ("SheetPlacement", "render_pdf")

PT_PER_MM = 72 / MM_PER_INCH
_BITS = bytes.maketrans(b"\x00\x01", b"01")


class SheetPlacement:
    """Where the first label goes on a sheet, and the printer's calibration offsets (mm)."""

    def __init__(self, start: int = 1, offset_x: float = 0.0, offset_y: float = 0.0) -> None:
        self.start = start
        self.offset_x = offset_x
        self.offset_y = offset_y


def _document(width: float, height: float) -> FPDF:
    pdf = FPDF(unit="mm", format=(width, height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font("Label", "", str(font_path(False)))
    pdf.add_font("Label", "B", str(font_path(True)))
    pdf.set_creator("Refurb")
    pdf.set_title("Refurb labels")
    return pdf


def _qr_image(qr: Qr, left: float, top: float, page_height: float, unit: float) -> str:
    """The QR symbol as one inline image mask (1 bit per module, painted in the fill colour)."""
    size = len(qr.matrix)
    pad = (-size) % 8
    data = "".join(
        (int(row.translate(_BITS) or b"0", 2) << pad).to_bytes((size + pad) // 8, "big").hex()
        for row in qr.matrix
    )
    side = size * qr.module * unit * PT_PER_MM
    x_pt = (left + qr.x * unit) * PT_PER_MM
    y_pt = (page_height - top - (qr.y + size * qr.module) * unit) * PT_PER_MM
    return (
        f"q {side:.3f} 0 0 {side:.3f} {x_pt:.3f} {y_pt:.3f} cm "
        f"BI /W {size} /H {size} /IM true /D [1 0] /F /AHx ID {data}> EI Q"
    )


def _draw(pdf: FPDF, page: Page, left: float, top: float, page_height: float) -> None:
    """Draw one label with its top-left corner at (left, top) mm."""
    unit = MM_PER_INCH / page.dpi  # mm per dot
    rects: list[str] = []

    def rect(x: int, y: int, w: int, h: int) -> None:
        x_pt = (left + x * unit) * PT_PER_MM
        y_pt = (page_height - top - (y + h) * unit) * PT_PER_MM
        rects.append(f"{x_pt:.3f} {y_pt:.3f} {w * unit * PT_PER_MM:.3f} {h * unit * PT_PER_MM:.3f} re")

    texts: list[Text] = []
    images: list[str] = []
    for item in page.items:
        if isinstance(item, Bars):
            for start, length in bar_runs(item.modules):
                rect(item.x + start * item.module, item.y, length * item.module, item.height)
        elif isinstance(item, Qr):
            images.append(_qr_image(item, left, top, page_height, unit))
        elif isinstance(item, Rule):
            rect(item.x, item.y, item.width, item.height)
        elif isinstance(item, Text):
            texts.append(item)
    if rects or images:
        # fpdf2 has no public call for a raw path or an inline image; both keep
        # a label to a handful of operators instead of hundreds of rect() calls.
        pdf._out("q 0 g " + " ".join(rects) + (" f " if rects else " ") + " ".join(images) + " Q")
    for text in texts:
        pdf.set_font("Label", "B" if text.bold else "", text.size * unit * PT_PER_MM)
        pdf.text(left + text.x * unit, top + text.baseline * unit, text.text)


def render_pdf(pages: list[Page], stock: Stock, placement: SheetPlacement | None = None) -> bytes:
    """All pages in one PDF: one page per label, or packed on sheets when the stock is a sheet."""
    if stock.sheet is None:
        pdf = _document(stock.width, stock.height)
        for page in pages:
            pdf.add_page()
            _draw(pdf, page, 0.0, 0.0, stock.height)
        return bytes(pdf.output())
    sheet = stock.sheet
    placement = placement or SheetPlacement()
    pdf = _document(sheet.page_width, sheet.page_height)
    index = placement.start - 1
    pdf.add_page()
    for number, page in enumerate(pages):
        if number and index % sheet.capacity == 0:
            pdf.add_page()
        x, y = sheet.position(index)
        _draw(pdf, page, x + placement.offset_x, y + placement.offset_y, sheet.page_height)
        index += 1
    return bytes(pdf.output())
