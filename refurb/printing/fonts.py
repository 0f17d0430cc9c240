"""Text metrics from the label font, so every format breaks and shrinks text the same way."""

from __future__ import annotations

from functools import lru_cache

from PIL import ImageFont

from refurb.printing.resources import font_path

__all__ = ("ASCENT", "fit_text", "text_width", "wrap_text")

# Baseline sits this far below the top of a text box, as a share of the font size.
ASCENT = 0.8
_REFERENCE = 1000  # measure at 1000 px per em, then scale
ELLIPSIS = "…"


@lru_cache(maxsize=2)
def _font(bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(bold)), _REFERENCE)


@lru_cache(maxsize=8192)
def _em_width(text: str, bold: bool) -> float:
    return _font(bold).getlength(text) / _REFERENCE


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
