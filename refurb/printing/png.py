"""PNG backend: the label rasterised at the printer's resolution, one image pixel per dot."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from refurb.printing.layout import Bars, Page, Qr, Rule, Text
from refurb.printing.resources import font_path
from refurb.printing.symbols import bar_runs

__all__ = ("render_image", "render_png")


@lru_cache(maxsize=64)
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(bold)), max(1, size))


def render_image(page: Page) -> Image.Image:
    """The page as a greyscale image (white background)."""
    image = Image.new("L", (page.width, page.height), 255)
    draw = ImageDraw.Draw(image)
    for item in page.items:
        if isinstance(item, Bars):
            for start, length in bar_runs(item.modules):
                x = item.x + start * item.module
                draw.rectangle((x, item.y, x + length * item.module - 1, item.y + item.height - 1), fill=0)
        elif isinstance(item, Qr):
            for row_index, row in enumerate(item.matrix):
                y = item.y + row_index * item.module
                for column, dark in enumerate(row):
                    if dark:
                        x = item.x + column * item.module
                        draw.rectangle((x, y, x + item.module - 1, y + item.module - 1), fill=0)
        elif isinstance(item, Rule):
            draw.rectangle((item.x, item.y, item.x + item.width - 1, item.y + item.height - 1), fill=0)
        elif isinstance(item, Text):
            draw.text(
                (item.x, item.baseline), item.text, font=_font(item.size, item.bold), fill=0, anchor="ls"
            )
    return image


def render_png(page: Page) -> bytes:
    """The page as PNG bytes, with its resolution recorded."""
    buffer = io.BytesIO()
    render_image(page).save(buffer, format="PNG", dpi=(page.dpi, page.dpi), optimize=False)
    return buffer.getvalue()
