"""Label stock presets: a roll of single labels, or an A4 sheet of them (`labels/stock/*.toml`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

__all__ = ("Sheet", "Stock")


class Sheet(BaseModel):
    """The grid of labels on a sheet, in mm from the top-left corner of the page."""

    page_width: float = Field(gt=0)
    page_height: float = Field(gt=0)
    columns: int = Field(ge=1)
    rows: int = Field(ge=1)
    left: float = Field(ge=0)
    top: float = Field(ge=0)
    pitch_x: float = Field(gt=0)
    pitch_y: float = Field(gt=0)

    @property
    def capacity(self) -> int:
        """Labels per sheet."""
        return self.columns * self.rows

    def position(self, index: int) -> tuple[float, float]:
        """Top-left corner (mm) of the label at `index` (0-based, row by row)."""
        row, column = divmod(index % self.capacity, self.columns)
        return self.left + column * self.pitch_x, self.top + row * self.pitch_y


class Stock(BaseModel):
    """What the labels are printed on."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    width: float = Field(gt=0, description="mm")
    height: float = Field(gt=0, description="mm")
    dpi: Literal[203, 300] = 203
    sheet: Sheet | None = None

    @model_validator(mode="after")
    def _labels_fit_the_sheet(self) -> Stock:
        if self.sheet is not None:
            right = self.sheet.left + (self.sheet.columns - 1) * self.sheet.pitch_x + self.width
            bottom = self.sheet.top + (self.sheet.rows - 1) * self.sheet.pitch_y + self.height
            if right > self.sheet.page_width + 0.01 or bottom > self.sheet.page_height + 0.01:
                raise ValueError(f"the {self.name} grid does not fit its page")
        return self
