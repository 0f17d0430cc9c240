"""Text metrics shared by every format, so text is broken and shrunk the same way everywhere.

Widths are Helvetica's (the PDF core font, the shape of Zebra's font 0 and of
Arial on screens): the widest of the faces the backends draw with. Characters
Helvetica lacks in a PDF (outside Latin-1) are drawn, and measured, with the
bundled DejaVu Sans Condensed, which the PNG backend uses throughout.
"""

from __future__ import annotations

from functools import lru_cache

from fpdf import FPDF
from PIL import ImageFont

from refurb.printing.resources import font_path

__all__ = ("ASCENT", "fit_text", "text_width", "wrap_text")

# Baseline sits this far below the top of a text box, as a share of the font size.
ASCENT = 0.8
_REFERENCE = 1000  # measure at 1000 px per em, then scale
ELLIPSIS = "..."
# Typographic punctuation outside Latin-1, printed with its plain equivalent so
# the PDF keeps the core font (and every backend shows the same characters).
PLAIN = str.maketrans(
    {
        "\u2026": "...",  # ellipsis
        "\u2014": "-",  # em dash
        "\u2013": "-",  # en dash
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u203a": ">",
        "\u2039": "<",
        "\u0153": "oe",
        "\u0152": "OE",
        "\u00a0": " ",  # no-break spaces
        "\u202f": " ",
    }
)


@lru_cache(maxsize=2)
def _font(bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(bold)), _REFERENCE)


@lru_cache(maxsize=2)
def _advances(bold: bool) -> dict[str, float]:
    """Helvetica's widths (1/1000 em) as fpdf2 knows them, for Latin-1."""
    pdf = FPDF()
    pdf.set_font("helvetica", "B" if bold else "")
    return {char: width / 1000 for char, width in pdf.current_font.cw.items()}


@lru_cache(maxsize=8192)
def _em_width(text: str, bold: bool) -> float:
    """Sum of the characters' advances, without kerning: never narrower than a backend draws it."""
    advances = _advances(bold)
    total = 0.0
    for char in text:
        advance = advances.get(char)
        if advance is None:
            advance = advances[char] = _font(bold).getlength(char) / _REFERENCE
        total += advance
    return total


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of `text` at font size `size` (same unit as `size`)."""
    return _em_width(text, bold) * size


def fit_text(text: str, width: float, size: float, min_size: float, bold: bool = False) -> tuple[str, float]:
    """Shrink to fit `width`, down to `min_size`; beyond that, cut with an ellipsis."""
    natural = _em_width(text, bold)
    if natural * size <= width:
        return text, size
    if natural * min_size <= width:
        return text, width / natural
    cut = text
    while cut and _em_width(cut + ELLIPSIS, bold) * min_size > width:
        cut = cut[:-1]
    return (cut.rstrip() + ELLIPSIS) if cut else "", min_size


def wrap_text(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Break into lines at spaces (and explicit newlines) so each fits `width`."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if text_width(candidate, size, bold) <= width or not current:
                current = candidate
            else:
                lines.append(current)
                current = word
        lines.append(current)
    return lines
