"""CSV files a French spreadsheet opens as a table, and that cannot run formulas typed into our data."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ("csv_bytes", "inert")

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """Text a spreadsheet would take for a formula (`=HYPERLINK(…)`) gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """`;`-separated, CRLF, UTF-8 with a BOM (so Excel reads the accents), every text cell inert."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([inert(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
