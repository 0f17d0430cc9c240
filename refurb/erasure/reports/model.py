"""What a parsed wiping report says, tool by tool, before any policy judges it.

The records keep the tool's own words (serials as printed, method labels,
warnings) so that a later policy can refuse what it must refuse, and an
operator can see why. Helpers shared by the parsers live at the bottom.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

__all__ = (
    "ParsedErasure",
    "ParsedHardware",
    "ParsedMedium",
    "ParsedReport",
    "ReportFormatError",
)

MALFORMED = "report_malformed"
UNRECOGNISED = "report_unrecognised"
EMPTY = "report_empty"


class ReportFormatError(ValueError):
    """The bytes are not a report we can read; `code` says why, for the API and the UI."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ParsedMedium:
    """One storage medium as the tool identified it."""

    kind: str  # "hdd", "ssd", "nvme", "emmc", "usb", "sd", "other", "unknown"
    interface: str  # "ATA", "SATA", "NVMe", "USB", "SCSI", "" …
    manufacturer: str
    model: str
    serial: str | None  # as the tool gave it, stripped; None when the tool gave none
    capacity_bytes: int | None
    device_path: str = ""  # "/dev/sda" when the tool says
    tool_kind: str = ""  # what the tool or the bus states explicitly ("" = nothing; see erasure.kinds)


@dataclass(frozen=True, slots=True)
class ParsedErasure:
    """One erasure operation on one medium, with what the tool says of its outcome."""

    medium: ParsedMedium
    technique: str  # "overwrite", "block_erase", "crypto_erase", "firmware_sanitize", "none"
    method_label: str
    passes: int | None
    pattern: str
    verification: str  # "all", "last", "sample", "firmware_status", "none", "unknown"
    verification_result: str  # "passed", "failed", "not_done", "unknown"
    tool: str
    tool_version: str
    started_at: datetime | None
    ended_at: datetime | None
    bytes_erased: int | None
    bytes_total: int | None
    errors: Mapping[str, int]  # keys among "pass", "verify", "sync", "retries"
    result: str  # "success", "failed", "aborted", "partial", "unknown"
    hpa_dco: str = ""
    warnings: tuple[str, ...] = ()
    details: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ParsedHardware:
    """What an inventory tool says of the host device."""

    kind: str  # "laptop", "desktop", "server", "tablet", "other", "unknown"
    manufacturer: str
    model: str
    serial: str | None
    cpu: str
    ram_bytes: int | None
    disks: tuple[ParsedMedium, ...]


@dataclass(frozen=True, slots=True)
class ParsedReport:
    """Everything one report file says; `problems` explains what it cannot say."""

    format: str  # "nwipe_log", "workbench_v10", "workbench_v11", "usody_sanitize"
    tool: str
    tool_version: str
    host_serial: str | None
    erasures: tuple[ParsedErasure, ...]
    detected: tuple[ParsedMedium, ...]
    hardware: ParsedHardware | None
    problems: tuple[str, ...]
    warnings: tuple[str, ...] = ()  # report-wide remarks that are not gaps (redacted host serial…)
    details: Mapping[str, object] = field(default_factory=dict)


# --- helpers shared by the parsers -------------------------------------------------------------

_PLACEHOLDERS = frozenset(
    {
        "",
        "0",
        "00000000",
        "0123456789",
        "123456789",
        "1234567890",
        "base board serial number",
        "chassis serial number",
        "default string",
        "empty",
        "invalid",
        "n/a",
        "na",
        "none",
        "not applicable",
        "not available",
        "not specified",
        "oem",
        "system serial number",
        "to be filled by o.e.m.",
        "to be filled by oem",
        "unknown",
    }
)


def clean_text(value: object) -> str:
    """A stripped string, '' for None or non-strings (reports put null where text is missing)."""
    return value.strip() if isinstance(value, str) else ""


def clean_serial(value: object) -> str | None:
    """A serial as the tool gave it, stripped; None when the tool gave none."""
    text = clean_text(value)
    return text or None


def looks_redacted(serial: str | None) -> bool:
    """True for serials such as XXXXXXXX, ???????? or AAAAAAAA that hide the real one."""
    if not serial or len(serial) < 4:
        return False
    return len(set(serial)) == 1 and (not serial[0].isdigit() or serial[0] == "0")


def host_serial_or_none(value: object) -> str | None:
    """A system serial, or None for BIOS placeholders and redactions (they identify nothing)."""
    serial = clean_serial(value)
    if serial is None or serial.lower() in _PLACEHOLDERS or looks_redacted(serial):
        return None
    return serial


def redaction_warning(serial: str | None) -> str | None:
    """The warning for a serial that hides the real one, if it does."""
    if looks_redacted(serial):
        return f"the serial '{serial}' is anonymised or a placeholder, so it cannot identify the medium"
    return None


def utc_datetime(value: object) -> datetime | None:
    """An ISO 8601 time as aware UTC; naive times are taken as UTC (the tools print local time)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def epoch_datetime(value: object) -> datetime | None:
    """A Unix time (seconds, maybe fractional) as aware UTC."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


_UNITS = {
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "k": 1024,
    "kb": 1000,
    "kilobyte": 1000,
    "kib": 1024,
    "kibibyte": 1024,
    "m": 1024**2,
    "mb": 1000**2,
    "megabyte": 1000**2,
    "mib": 1024**2,
    "mebibyte": 1024**2,
    "g": 1024**3,
    "gb": 1000**3,
    "gigabyte": 1000**3,
    "gib": 1024**3,
    "gibibyte": 1024**3,
    "t": 1024**4,
    "tb": 1000**4,
    "terabyte": 1000**4,
    "tib": 1024**4,
    "tebibyte": 1024**4,
}
_QUANTITY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def quantity_bytes(value: object, default_unit: str) -> int | None:
    """Bytes from "160042.0 MB", "298.1G", "1024.0 mebibyte" or a bare number in `default_unit`.

    Single letters (K, M, G, T) are 1024-based, as lsblk prints them; "MB",
    "GB" are decimal, "MiB", "mebibyte" binary.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number, unit = Decimal(str(value)), default_unit
    elif isinstance(value, str) and (match := _QUANTITY.match(value)):
        number, unit = Decimal(match.group(1)), match.group(2) or default_unit
    else:
        return None
    factor = _UNITS.get(unit.lower())
    if factor is None:
        return None
    try:
        return int((number * factor).to_integral_value())
    except (InvalidOperation, OverflowError, ValueError):  # inf, nan
        return None


_BRANDS = (
    (re.compile(r"^WDC\b|^WD\b|^Western Digital", re.I), "Western Digital"),
    (re.compile(r"^ST\d|^Seagate", re.I), "Seagate"),
    (re.compile(r"^Samsung", re.I), "Samsung"),
    (re.compile(r"^Kingston", re.I), "Kingston"),
    (re.compile(r"^TOSHIBA", re.I), "Toshiba"),
    (re.compile(r"^Hitachi", re.I), "Hitachi"),
    (re.compile(r"^HGST", re.I), "HGST"),
    (re.compile(r"^Crucial|^CT\d", re.I), "Crucial"),
    (re.compile(r"^SanDisk", re.I), "SanDisk"),
    (re.compile(r"^INTEL", re.I), "Intel"),
    (re.compile(r"^Micron", re.I), "Micron"),
)


def brand_from_model(model: str) -> str:
    """The maker a model string names at its start, '' if none (nwipe logs no vendor)."""
    for pattern, brand in _BRANDS:
        if pattern.search(model):
            return brand
    return ""


_HARDWARE_KINDS = (
    ("tablet", ("tablet",)),
    ("laptop", ("laptop", "notebook", "netbook", "portable", "convertible", "detachable", "ultrabook")),
    ("server", ("server", "rack", "blade")),
    (
        "desktop",
        ("desktop", "tower", "microtower", "computer", "all in one", "allinone", "mini pc", "space-saving",
         "lunch box", "pizza box", "sff"),
    ),
)  # fmt: skip


def hardware_kind(*names: object) -> str:
    """Laptop / desktop / server / tablet from the first name that says (Workbench type, DMI chassis…)."""
    for name in names:
        text = clean_text(name).lower()
        if not text:
            continue
        for kind, words in _HARDWARE_KINDS:
            if any(word in text for word in words):
                return kind
    return "other" if any(clean_text(n) for n in names) else "unknown"
