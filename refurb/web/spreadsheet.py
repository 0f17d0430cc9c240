"""Spreadsheets in and out: reading any CSV or XLSX a French office saves, writing CSV Excel opens.

Reading is shared by every importer (donors' manifests, referents' censuses,
licence key files): the format, encoding and separator are sniffed from the
file, rows come out as lists of text cells, and a file that cannot be read
raises `SheetError` with a stable code. Writing makes every text cell inert
(no formula runs when a spreadsheet opens our exports).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from refurb.core.i18n import N_

__all__ = (
    "SNIFF_BYTES",
    "Dialect",
    "Problem",
    "SheetError",
    "cell_text",
    "csv_bytes",
    "inert",
    "is_utf8",
    "normal_header",
    "sheet_rows",
    "sniff",
    "sniff_file",
)

SNIFF_BYTES = 65_536
XLSX_MAGIC = b"PK\x03\x04"
_DELIMITERS = (";", ",", "\t", "|")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- writing -----------------------------------------------------------------


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


# --- reading -----------------------------------------------------------------


class SheetError(Exception):
    """The file as a whole cannot be read (not a table, no usable header…)."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message.format(**params))
        self.code = code
        self.message = message
        self.params = params


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in one cell or row; errors make the row invalid, warnings do not.

    Rows are numbered as a spreadsheet shows them (the header is usually row 1).
    """

    row: int
    column: str | None
    code: str
    message: str  # an English template, a translation id
    params: Mapping[str, Any] = field(default_factory=dict)
    severity: Literal["error", "warning"] = "error"


@dataclass(frozen=True, slots=True)
class Dialect:
    """How the file is written."""

    format: Literal["csv", "xlsx"]
    encoding: str = ""
    delimiter: str = ""


def is_utf8(file: IO[bytes]) -> bool:
    """Whether the whole file decodes as UTF-8 (read in chunks: memory stays flat)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    file.seek(0)
    try:
        while chunk := file.read(SNIFF_BYTES):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        file.seek(0)
    return True


def sniff(head: bytes, utf8: bool = True) -> Dialect:
    """Format, encoding and separator from the start of the file."""
    if head.startswith(XLSX_MAGIC):
        return Dialect("xlsx")
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # Excel's "Unicode text" export (tab-separated)
    else:
        encoding = "utf-8" if utf8 else "cp1252"  # Excel's "CSV (séparateur: point-virgule)" is Windows-1252
    text = head.decode(encoding, errors="replace")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(_DELIMITERS, key=first_line.count)
    if first_line.count(delimiter) == 0:
        delimiter = ","
    return Dialect("csv", encoding, delimiter)


def sniff_file(file: IO[bytes]) -> Dialect:
    """The dialect of a whole file (rewound before and after)."""
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    dialect = sniff(head, head.startswith(XLSX_MAGIC) or is_utf8(file))
    file.seek(0)
    return dialect


def cell_text(value: Any) -> str:
    """An XLSX cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a serial typed as a number in Excel
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _csv_rows(file: IO[bytes], dialect: Dialect) -> Iterator[list[str]]:
    text = io.TextIOWrapper(file, encoding=dialect.encoding, newline="", errors="strict")
    try:
        yield from csv.reader(text, delimiter=dialect.delimiter)
    finally:
        text.detach()


def _xlsx_rows(file: IO[bytes]) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise SheetError(
            "unreadable_file", N_("The spreadsheet cannot be read: {reason}"), reason=str(error)[:200]
        ) from None
    try:
        sheet = workbook.active
        for values in sheet.iter_rows(values_only=True):
            yield [cell_text(value) for value in values]
    finally:
        workbook.close()


def sheet_rows(file: IO[bytes], dialect: Dialect) -> Iterator[list[str]]:
    """The rows of the file's first sheet as text cells, streamed; `SheetError` when it cannot be read."""
    try:
        if dialect.format == "xlsx":
            yield from _xlsx_rows(file)
        else:
            yield from _csv_rows(file, dialect)
    except UnicodeDecodeError:
        raise SheetError(
            "bad_encoding",
            N_("The file mixes text encodings: save it again as UTF-8 or as CSV (Windows)."),
        ) from None
    except csv.Error as error:
        message = N_("The CSV cannot be read: {reason}")
        raise SheetError("unreadable_file", message, reason=str(error)) from None


# --- headers -----------------------------------------------------------------

_FILLERS = frozenset(
    {"n", "no", "nr", "num", "numero", "number", "de", "des", "du", "d", "le", "la", "les", "of", "the"}
)
# Cyrillic and Greek letters that look Latin, as they slip into translated headers.
_LOOKALIKES = str.maketrans("асеіорхуАСЕІОРХУΑΒΕΗΙΚΜΝΟΡΤΧΥΖ", "aceiopxyACEIOPXYABEHIKMNOPTXYZ")


def normal_header(text: str) -> str:
    """Lower case, no accents, no filler words ("N° de", "number of"…), words separated by single spaces.

    "Numéro de série", "N° série" and "numero serie" all become "serie".
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_LOOKALIKES).casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = re.findall(r"[a-z0-9]+", plain)
    meaningful = [word for word in words if word not in _FILLERS]
    return " ".join(meaningful or words)
