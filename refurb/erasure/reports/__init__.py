"""Pure parsers for data-wiping reports (nwipe logs, Workbench snapshots, usody-sanitize JSON).

No database, no web framework: bytes in, `ParsedReport` out, so the same code
serves uploads, ShredOS PUTs, tests and benchmarks.
"""

from refurb.erasure.reports.detect import parse_report
from refurb.erasure.reports.model import (
    ParsedErasure,
    ParsedHardware,
    ParsedMedium,
    ParsedReport,
    ReportFormatError,
)

__all__ = (
    "ParsedErasure",
    "ParsedHardware",
    "ParsedMedium",
    "ParsedReport",
    "ReportFormatError",
    "parse_report",
)
