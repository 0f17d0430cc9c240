"""The symbols themselves: Code 128 modules from python-barcode, QR matrices from segno."""

from __future__ import annotations

import re
from functools import lru_cache

import segno
from barcode import Code128

__all__ = ("bar_runs", "code128_modules", "qr_matrix")

_BARCODE_DATA = re.compile(r"[A-Z0-9]+")
_RUN = re.compile(r"1+")


def code128_modules(data: str) -> str:
    """The module pattern ('1' = bar) of `data`, checksum and stop included.

    Only `[A-Z0-9]` is encoded: it survives any scanner keyboard layout. A fresh
    Code128 per call: python-barcode 0.16.1's build() is not repeatable on one
    instance. Our codes start with a letter, so its leading-"99" bug never applies.
    """
    if not _BARCODE_DATA.fullmatch(data):
        raise ValueError(f"barcode data must be [A-Z0-9], got {data!r}")
    if data.startswith("99"):
        raise ValueError("python-barcode 0.16.1 drops a leading '99'; Refurb codes start with a letter")
    return Code128(data).build()[0]


def bar_runs(modules: str) -> list[tuple[int, int]]:
    """(first module, width in modules) of every bar."""
    return [(m.start(), m.end() - m.start()) for m in _RUN.finditer(modules)]


QR_MASK = 0


@lru_cache(maxsize=4096)
def qr_matrix(data: str) -> tuple[bytes, ...]:
    """Rows of a QR symbol (1 = dark), error correction M; always full QR, never Micro QR.

    The data mask is fixed: segno's automatic choice scores all eight masks and
    costs 1.8 ms per symbol (5x the rest of an asset tag); any mask is valid for
    decoders, and every template is decode-tested with a real decoder.
    """
    symbol = segno.make_qr(data, error="m", boost_error=False, mask=QR_MASK)
    return tuple(bytes(row) for row in symbol.matrix)
