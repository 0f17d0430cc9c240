"""What the printing API reads and returns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from refurb.printing.kinds import LabelKind

__all__ = ("PrintJobIn", "PrintJobOut", "PrinterIn", "PrinterOut")


class PrinterIn(BaseModel):
    """A printer to add."""

    name: str = Field(min_length=1, max_length=100)
    driver: Literal["zpl-tcp", "pdf"]
    host: str | None = Field(
        default=None,
        max_length=253,
        pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9a-fA-F:.]+\]?$",
    )
    port: int = Field(default=9100, ge=1, le=65535)
    stock: str
    dpi: Literal[203, 300] = 203


class PrinterOut(PrinterIn):
    """A printer."""

    active: bool


class PrintJobIn(BaseModel):
    """Labels to print: codes (a batch code stands for its devices' asset tags)."""

    codes: list[str] = Field(min_length=1, max_length=5000, examples=[["D-0001234-5"]])
    kind: LabelKind | None = Field(default=None, description="Default: the usual label of the first code")
    printer: str | None = Field(
        default=None, description="A printer name; without it the document is returned"
    )
    format: Literal["pdf", "zpl"] | None = Field(
        default=None, description="For a download; a printer decides"
    )
    stock: str | None = None
    dpi: Literal[203, 300] | None = None
    start: int = Field(default=1, ge=1, le=500, description="First position on a sheet of labels")
    offset_x: float = Field(default=0.0, ge=-10, le=10, description="Sheet calibration, mm")
    offset_y: float = Field(default=0.0, ge=-10, le=10, description="Sheet calibration, mm")
    crates: int = Field(default=1, ge=1, le=999, description="Pallet labels: how many crates (n/m)")
    station: str | None = Field(default=None, description="The station printing, if any")


class PrintJobOut(BaseModel):
    """A recorded print."""

    id: int
    status: Literal["printed", "failed"]
    kind: LabelKind
    format: str
    stock: str
    dpi: int
    labels: int
    printer: str | None
    reprint: bool
    codes: list[str]
