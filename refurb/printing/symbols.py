"""The symbols themselves: Code 128 modules from python-barcode, QR matrices from zxing-cpp."""

from __future__ import annotations

import re
from functools import lru_cache

import zxingcpp
from barcode import Code128

__all__ = ("bar_runs", "code128_length", "code128_modules", "qr_matrix", "qr_size")

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


#: zxing-cpp's image: 0 is a dark module, 255 a light one.
_DARK = bytes([1] + [0] * 255)


@lru_cache(maxsize=4096)
def qr_matrix(data: str, error: str = "m") -> tuple[bytes, ...]:
    """Rows of a QR symbol (1 = dark) at error correction level `error`; always full QR, never Micro QR.

    zxing-cpp's encoder (C++) takes 0.1 ms a symbol where segno took 0.6 ms with its
    mask fixed (half of an asset tag's time): same version and level for the same
    data, the mask chosen by the standard's penalty rules, and every template is
    decode-tested with a real decoder.
    """
    symbol = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level=error.upper())
    image = symbol.to_image(scale=1, add_quiet_zones=False)
    side = image.shape[1]
    flat = bytes(memoryview(image).cast("B")).translate(_DARK)
    return tuple(flat[row : row + side] for row in range(0, len(flat), side))


def code128_length(data: str) -> int:
    """Modules of `data`'s symbol without encoding it (ZPL lets the printer encode).

    For `[A-Z0-9]` python-barcode's choice of code sets depends only on where
    the digits are, so the length is cached per digit pattern.
    """
    if not _BARCODE_DATA.fullmatch(data):
        raise ValueError(f"barcode data must be [A-Z0-9], got {data!r}")
    return _length_of_shape("".join("0" if char.isdigit() else "A" for char in data))


@lru_cache(maxsize=1024)
def _length_of_shape(shape: str) -> int:
    return len(code128_modules(shape))


_ALPHANUMERIC = re.compile(r"[0-9A-Z $%*+\-./:]*")


def qr_size(data: str, error: str = "m") -> int:
    """Modules per side of `data`'s QR symbol, cached per length and encoding mode."""
    if data.isdigit():
        return _size_of_shape("0" * len(data), error)
    if _ALPHANUMERIC.fullmatch(data):
        return _size_of_shape("A" * len(data), error)
    return _size_of_shape("a" * len(data.encode("utf-8")), error)


@lru_cache(maxsize=1024)
def _size_of_shape(shape: str, error: str) -> int:
    return len(qr_matrix(shape, error))
