"""ZPL II backend: native ^BC / ^BQ symbols, sizes in dots, UTF-8 text (^CI28)."""

from __future__ import annotations

from refurb.printing.layout import Bars, Page, Qr, Rule, Text

__all__ = ("render_zpl",)

# Bytes that would end a ZPL field early are sent hex-escaped under ^FH.
_ESCAPES = str.maketrans({"^": "\\5E", "~": "\\7E", "\\": "\\5C"})


def _page(page: Page, copies: int) -> str:
    fields = [f"^XA^CI28^PW{page.width}^LL{page.height}^LH0,0"]
    for item in page.items:
        if isinstance(item, Bars):
            fields.append(f"^FO{item.x},{item.y}^BY{item.module}^BCN,{item.height},N,N,N,A^FD{item.data}^FS")
        elif isinstance(item, Qr):
            fields.append(
                f"^FO{item.x},{item.y}^BQN,2,{item.module}^FH\\^FD{item.error.upper()}A,{item.data.translate(_ESCAPES)}^FS"
            )
        elif isinstance(item, Rule):
            thickness = min(item.width, item.height)
            fields.append(f"^FO{item.x},{item.y}^GB{item.width},{item.height},{thickness}^FS")
        elif isinstance(item, Text):
            fields.append(
                f"^FT{item.x},{item.baseline}^A0N,{item.size},{item.size}^FH\\^FD{item.text.translate(_ESCAPES)}^FS"
            )
    fields.append(f"^PQ{copies}^XZ")
    return "".join(fields)


def render_zpl(pages: list[Page], copies: int = 1) -> str:
    """One ZPL stream for all pages (one ^XA…^XZ block each)."""
    return "\n".join(_page(page, copies) for page in pages) + "\n"
