"""Label templates (`labels/templates/*.toml`): a declarative layout per kind, in mm.

A template lists the stocks it suits and one or more layouts; the first layout
whose `min_width`/`min_height` fit the stock is used, so a kind can have a full
and a compact form. Element boxes are placed like CSS absolute positioning:
any two of `left`/`right`/`width` (and of `top`/`bottom`/`height`), in mm or
as a percentage of the label ("40%"). Text is `{placeholder}` formatting over
the kind's data (see `refurb/printing/kinds.py`).
"""

from __future__ import annotations

import os
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from refurb.printing.kinds import KIND_DATA, LabelKind, ManifestLine
from refurb.printing.stock import Stock

__all__ = ("Catalogue", "ElementSpec", "LayoutSpec", "TemplateError", "TemplateSpec", "catalogue")

Length = float | str


class TemplateError(Exception):
    """A template or stock file is wrong; the message names the file."""


class ElementSpec(BaseModel):
    """One thing drawn on a label."""

    type: Literal["text", "paragraph", "barcode", "qr", "line", "rows"]
    left: Length | None = None
    right: Length | None = None
    width: Length | None = None
    top: Length | None = None
    bottom: Length | None = None
    height: Length | None = None
    text: str = ""
    data: str = ""
    size: float = Field(default=2.5, gt=0, description="font size, mm")
    min_size: float | None = Field(default=None, gt=0)
    bold: bool = False
    align: Literal["left", "center", "right"] = "left"
    line_spacing: float = Field(default=1.2, ge=1)
    thickness: float = Field(default=0.3, gt=0)
    optional: bool = False
    max_module: float | None = Field(default=None, gt=0, description="widest bar module, mm (barcodes)")
    error: Literal["l", "m", "q", "h"] = Field(default="m", description="QR error correction level")
    source: str = ""
    row_height: float | None = Field(default=None, gt=0)
    columns: list[ElementSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete(self) -> ElementSpec:
        if self.type in ("text", "paragraph") and not self.text:
            raise ValueError(f"a {self.type} element needs `text`")
        if self.type in ("barcode", "qr") and not self.data:
            raise ValueError(f"a {self.type} element needs `data`")
        if self.type == "rows" and (not self.source or not self.row_height or not self.columns):
            raise ValueError("a rows element needs `source`, `row_height` and `columns`")
        for axis in (("left", "right", "width"), ("top", "bottom", "height")):
            given = sum(getattr(self, name) is not None for name in axis)
            if given > 2:
                raise ValueError(f"give at most two of {', '.join(axis)}")
        return self


class LayoutSpec(BaseModel):
    """The elements of one form of a template."""

    min_width: float = 0
    min_height: float = 0
    elements: list[ElementSpec]


class TemplateSpec(BaseModel):
    """A label kind's template."""

    kind: LabelKind
    title: str
    stocks: list[str] = Field(min_length=1)
    default_stock: str
    layouts: list[LayoutSpec] = Field(min_length=1)

    def layout_for(self, stock: Stock) -> LayoutSpec | None:
        """The first layout that fits the stock."""
        for layout in self.layouts:
            if stock.width >= layout.min_width and stock.height >= layout.min_height:
                return layout
        return None


def _placeholders(text: str) -> set[str]:
    return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(text) if field}


def _check_fields(template: TemplateSpec, path: Path) -> None:
    fields = set(KIND_DATA[template.kind].model_fields) | {"page", "pages"}
    line_fields = set(ManifestLine.model_fields)

    def walk(elements: list[ElementSpec], allowed: set[str]) -> None:
        for element in elements:
            unknown = (_placeholders(element.text) | _placeholders(element.data)) - allowed
            if unknown:
                raise TemplateError(
                    f"{path.name}: unknown placeholder(s) {sorted(unknown)} for {template.kind}"
                )
            if element.type == "rows":
                if element.source not in KIND_DATA[template.kind].model_fields:
                    raise TemplateError(f"{path.name}: no list {element.source!r} in {template.kind} data")
                walk(element.columns, line_fields)

    for layout in template.layouts:
        walk(layout.elements, fields)


def _load(model: type[BaseModel], path: Path) -> BaseModel:
    try:
        with path.open("rb") as handle:
            return model.model_validate(tomllib.load(handle))
    except (tomllib.TOMLDecodeError, ValidationError) as error:
        raise TemplateError(f"{path.name}: {error}") from None


@dataclass(frozen=True)
class Catalogue:
    """Every stock and template, as loaded from `labels/`."""

    stocks: dict[str, Stock]
    templates: dict[LabelKind, TemplateSpec]

    @classmethod
    def load(cls, folder: Path) -> Catalogue:
        """Read and check every file; a broken file is an error naming it."""
        stocks: dict[str, Stock] = {}
        for path in sorted((folder / "stock").glob("*.toml")):
            stock = _load(Stock, path)
            assert isinstance(stock, Stock)
            if stock.name != path.stem:
                raise TemplateError(f"{path.name}: name {stock.name!r} must match the file name")
            stocks[stock.name] = stock
        templates: dict[LabelKind, TemplateSpec] = {}
        for path in sorted((folder / "templates").glob("*.toml")):
            template = _load(TemplateSpec, path)
            assert isinstance(template, TemplateSpec)
            if template.kind in templates:
                raise TemplateError(f"{path.name}: a second template for {template.kind}")
            for name in [*template.stocks, template.default_stock]:
                if name not in stocks:
                    raise TemplateError(f"{path.name}: unknown stock {name!r}")
            if template.default_stock not in template.stocks:
                raise TemplateError(f"{path.name}: default_stock must be one of stocks")
            _check_fields(template, path)
            templates[template.kind] = template
        missing = set(LabelKind) - set(templates)
        if missing:
            raise TemplateError(f"no template for {sorted(missing)} in {folder / 'templates'}")
        return cls(stocks, templates)


_cache: dict[Path, tuple[float, Catalogue]] = {}


def _newest_change(folder: Path) -> float:
    newest = 0.0
    for sub in ("stock", "templates"):
        newest = max(newest, (folder / sub).stat().st_mtime)  # files added or removed
        with os.scandir(folder / sub) as entries:
            for entry in entries:
                newest = max(newest, entry.stat().st_mtime)
    return newest


def catalogue(folder: Path) -> Catalogue:
    """The catalogue of `folder`, reloaded when a file in it changes (edits need no restart)."""
    stamp = _newest_change(folder)
    cached = _cache.get(folder)
    if cached is None or cached[0] != stamp:
        _cache[folder] = (stamp, Catalogue.load(folder))
    return _cache[folder][1]
