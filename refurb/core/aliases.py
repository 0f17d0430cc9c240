"""Donors' own identifiers (serial numbers, asset tags), written one way so they match.

A serial is compared without case and spaces; a placeholder an OEM left in the
BIOS ("To be filled by O.E.M.", "Default string"…) is no serial at all.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ("is_placeholder_serial", "normal_asset_tag", "normal_serial", "normal_text")

_SPACES = re.compile(r"\s+")
_PLACEHOLDERS = frozenset(
    {
        "",
        "-",
        "--",
        "0",
        "00000000",
        "000000000000",
        "0123456789",
        "1234567890",
        "123456789",
        "NA",
        "N/A",
        "NONE",
        "NULL",
        "NIL",
        "UNKNOWN",
        "INCONNU",
        "DEFAULTSTRING",
        "TOBEFILLEDBYO.E.M.",
        "TOBEFILLEDBYOEM",
        "SYSTEMSERIALNUMBER",
        "NOTSPECIFIED",
        "NOTAPPLICABLE",
        "NOTAVAILABLE",
        "CHASSISSERIALNUMBER",
        "SERIAL",
        "XXXXXXXX",
        "XXXXXXXXXX",
    }
)


def normal_text(value: str) -> str:
    """Trimmed, single spaces, no control characters."""
    if not value.isprintable():  # rare: the per-character filter is for the odd tab, NBSP or ZWSP
        value = "".join(c for c in value if unicodedata.category(c)[0] != "C" or c in " \t")
    return _SPACES.sub(" ", value).strip()


def normal_serial(value: str) -> str:
    """Upper case without any space: how serials are stored and compared."""
    return _SPACES.sub("", normal_text(value)).upper()


def normal_asset_tag(value: str) -> str:
    """Upper case, trimmed, single spaces: how asset tags are stored and compared."""
    return normal_text(value).upper()


def is_placeholder_serial(value: str) -> bool:
    """A value that says "no serial" (OEM placeholders, N/A, zeros…)."""
    return normal_serial(value) in _PLACEHOLDERS
