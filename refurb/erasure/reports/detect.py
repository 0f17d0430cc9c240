"""Which tool wrote a report: decided from the content, never from the file name alone."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from refurb.erasure.reports.model import EMPTY, MALFORMED, UNRECOGNISED, ParsedReport, ReportFormatError
from refurb.erasure.reports.nwipe import looks_like_nwipe, parse_nwipe
from refurb.erasure.reports.usody import is_usody, parse_usody
from refurb.erasure.reports.workbench import is_workbench_v10, is_workbench_v11, parse_workbench

__all__ = ("decode_text", "parse_report")

# Keys that name a known JSON shape even when the JSON around them is broken.
_JSON_MARKERS = ('"device_info"', '"devices:Snapshot"', '"components"', '"@type"', '"overwriting_steps"')
_STAMPED = re.compile(r"\[\d{4}/\d{2}/\d{2} ")
_BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"PK\x03\x04", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b")


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM is dropped), else latin-1, which decodes any byte: old logs are not always UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_report(data: bytes, filename: str = "") -> ParsedReport:
    """Parse an nwipe log, a Workbench snapshot or a usody-sanitize report.

    Raises ReportFormatError: `report_empty`, `report_unrecognised` (not a
    known format) or `report_malformed` (a known format that is broken).
    A cut nwipe log is not an error: its `problems` say what is missing.
    """
    name = filename or "the file"
    if not data.strip():
        raise ReportFormatError(EMPTY, f"{name} is empty")
    if data.startswith(_BINARY_MAGIC) or b"\x00" in data[:4096]:
        raise ReportFormatError(UNRECOGNISED, f"{name} is a binary file, not a wiping report")
    text = decode_text(data)
    first = text.lstrip()[:1]
    if first == "{" or (first == "[" and not _STAMPED.match(text.lstrip())):
        return _parse_json(text, name)  # nwipe lines start with "[2024/07/30 10:25:26]"
    if looks_like_nwipe(text):
        return parse_nwipe(text, filename)
    raise ReportFormatError(UNRECOGNISED, f"{name} is neither an nwipe log nor a known JSON report")


def _parse_json(text: str, name: str) -> ParsedReport:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        known = any(marker in text for marker in _JSON_MARKERS)
        code = MALFORMED if known else UNRECOGNISED
        where = (
            f"line {error.lineno}, column {error.colno}"
            if isinstance(error, json.JSONDecodeError)
            else "nesting"
        )
        raise ReportFormatError(code, f"{name} is not valid JSON ({where})") from error
    if isinstance(data, list) and len(data) == 1:
        data = data[0]  # usody-sanitize's API returns a list of reports
    if not isinstance(data, Mapping):
        raise ReportFormatError(UNRECOGNISED, f"{name} is JSON but not a single report object")
    if is_usody(data):
        return parse_usody(data)
    if is_workbench_v10(data):
        return parse_workbench(data, "workbench_v10")
    if is_workbench_v11(data):
        return parse_workbench(data, "workbench_v11")
    raise ReportFormatError(UNRECOGNISED, f"{name} is JSON of an unknown shape")
