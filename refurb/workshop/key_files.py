"""Reading a supplier's file of licence keys: CSV in any usual encoding and separator.

Pure code, no database. Rows are numbered as a spreadsheet shows them (the
header, if any, is row 1); problems name the row and never the key.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from refurb.core.errors import BadInput
from refurb.core.i18n import N_
from refurb.web.spreadsheet import is_utf8, sniff
from refurb.workshop.licence_keys import normal_key

__all__ = ("KeyFileRefused", "KeyRows", "RowProblem", "read_keys")

MAX_KEY_FILE_BYTES = 2_097_152
MAX_KEY_LENGTH = 64
MIN_KEY_CHARACTERS = 10  # letters and digits, hyphens aside: no product key is shorter
_KEY = re.compile(r"[A-Z0-9-]+")
_HEADERS = frozenset(
    {
        "key", "keys", "cle", "clé", "cles", "clés", "product key", "productkey",
        "licence key", "license key",
        "cle de produit", "clé de produit", "cle produit", "clé produit", "cle de licence", "clé de licence",
        "licence", "license", "serial key", "cd key",
    }
)  # fmt: skip


class KeyFileRefused(BadInput):
    """The file as a whole cannot be read as a list of keys."""

    code = "key_file_unreadable"


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A wrong row: its number, a code and an English message template."""

    row: int
    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class KeyRows:
    """The keys read (row number, normalised key) and the rows that are wrong."""

    keys: list[tuple[int, str]]
    problems: list[RowProblem]


def _header(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").replace("_", " ").strip().lower().split())


def _decode(content: bytes) -> tuple[str, str]:
    """The text and the separator of the file."""
    if len(content) > MAX_KEY_FILE_BYTES:
        raise KeyFileRefused(
            N_("The key file is larger than {limit} bytes."),
            code="key_file_too_large",
            limit=MAX_KEY_FILE_BYTES,
        )
    if not content.strip():
        raise KeyFileRefused(N_("The file holds no key."), code="key_file_empty")
    dialect = sniff(content[:65_536], is_utf8(io.BytesIO(content)))
    if dialect.format != "csv":
        raise KeyFileRefused(
            N_("The key file must be CSV (save the spreadsheet as CSV first)."), code="key_file_not_csv"
        )
    try:
        text = content.decode(dialect.encoding)
    except UnicodeDecodeError:
        raise KeyFileRefused(
            N_("The key file's text encoding cannot be read."), code="key_file_unreadable"
        ) from None
    return text.lstrip("\ufeff"), dialect.delimiter


def _characters(key: str) -> int:
    return sum(1 for c in key if c != "-")


def _looks_like_key(cell: str) -> bool:
    """A product key has no spaces, enough characters and at least one digit; a title has none of that."""
    raw = cell.strip()
    key = normal_key(raw)
    return (
        " " not in raw
        and bool(_KEY.fullmatch(key))
        and _characters(key) >= MIN_KEY_CHARACTERS
        and any(c.isdigit() for c in key)
    )


def read_keys(content: bytes) -> KeyRows:
    """Keys from a CSV: a header with a key column (key, clé, product key, licence key…), or one column."""
    text, delimiter = _decode(content)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        raise KeyFileRefused(N_("The key file is not a readable CSV."), code="key_file_unreadable") from None
    first = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), None)
    if first is None:
        raise KeyFileRefused(N_("The file holds no key."), code="key_file_empty")
    headers = [_header(c) for c in rows[first]]
    column = next((i for i, name in enumerate(headers) if name in _HEADERS), None)
    start = first + 1
    if column is None:
        if sum(1 for c in rows[first] if c.strip()) > 1:
            raise KeyFileRefused(
                N_("No key column: name it 'key' (or 'clé', 'product key'), or give one key per line."),
                code="key_column_not_found",
            )
        column = next(i for i, c in enumerate(rows[first]) if c.strip())
        # one column: the first line is a title ("Product keys", "Série"…) unless it looks like a key
        start = first if _looks_like_key(rows[first][column]) else first + 1
    keys: list[tuple[int, str]] = []
    problems: list[RowProblem] = []
    for index in range(start, len(rows)):
        cells, number = rows[index], index + 1
        if not any(c.strip() for c in cells):
            continue
        key = normal_key(cells[column]) if column < len(cells) else ""
        if not key:
            problems.append(RowProblem(number, "missing_key", N_("Row {row}: the key is empty.")))
        elif len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key) or _characters(key) < MIN_KEY_CHARACTERS:
            problems.append(
                RowProblem(
                    number,
                    "bad_key",
                    N_(
                        "Row {row}: not a product key (letters, digits and hyphens, "
                        "{minimum} to {limit} characters)."
                    ),
                    {"limit": MAX_KEY_LENGTH, "minimum": MIN_KEY_CHARACTERS},
                )
            )
        else:
            keys.append((number, key))
    return KeyRows(keys, problems)
