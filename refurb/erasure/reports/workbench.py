"""eReuse Workbench snapshots (v10 `@type` / `erasure`, v11 and DeviceHub "teal" `type` / `actions`).

A snapshot is an inventory of the host with, per disk, what Workbench did:
EraseBasic runs `shred` (no read-back), EraseSectors runs `badblocks -w`,
which reads back every pattern it writes. Disks without an erase action are
only detected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from refurb.erasure.kinds import decide_kind
from refurb.erasure.reports.model import (
    MALFORMED,
    ParsedErasure,
    ParsedHardware,
    ParsedMedium,
    ParsedReport,
    ReportFormatError,
    clean_serial,
    clean_text,
    hardware_kind,
    host_serial_or_none,
    quantity_bytes,
    redaction_warning,
    utc_datetime,
)

__all__ = ("is_workbench_v10", "is_workbench_v11", "parse_workbench")

TOOL = "Workbench"
_DISKS = frozenset({"HardDrive", "SolidStateDrive", "DataStorage"})
_ERASE_TYPES = frozenset({"EraseBasic", "EraseSectors"})
_STEP_PATTERNS = {"Zeros": "zeros", "StepZero": "zeros", "Random": "random", "StepRandom": "random"}
_INTERFACES = {"ata": "ATA", "sata": "SATA", "nvme": "NVMe", "usb": "USB", "scsi": "SCSI", "sas": "SAS"}
_SEVERITY_RESULTS = {"info": "success", "notice": "success", "warning": "success", "error": "failed"}


@dataclass(frozen=True, slots=True)
class _Shape:
    """Where the two snapshot generations keep the same facts."""

    format: str
    type_key: str  # "@type" (v10) or "type" (v11)
    start_key: str
    end_key: str


_V10 = _Shape("workbench_v10", "@type", "startingTime", "endingTime")
_V11 = _Shape("workbench_v11", "type", "startTime", "endTime")


def _components(data: Mapping[str, object]) -> list[Mapping[str, object]]:
    components = data.get("components", [])
    return [c for c in components if isinstance(c, Mapping)] if isinstance(components, list) else []


def is_workbench_v10(data: object) -> bool:
    """A DeviceHub 10 snapshot: `@type: devices:Snapshot`, or components with an `erasure`."""
    if not isinstance(data, Mapping):
        return False
    return data.get("@type") == "devices:Snapshot" or any("erasure" in c for c in _components(data))


def is_workbench_v11(data: object) -> bool:
    """A Workbench 11 / DeviceHub teal snapshot: `type: Snapshot`, or components with `actions`."""
    if not isinstance(data, Mapping):
        return False
    return data.get("type") == "Snapshot" or any("actions" in c for c in _components(data))


def parse_workbench(data: Mapping[str, object], shape_name: str) -> ParsedReport:
    """Parse a decoded snapshot of the given format ("workbench_v10" or "workbench_v11")."""
    shape = _V10 if shape_name == _V10.format else _V11
    if not isinstance(data.get("components", []), list):
        raise ReportFormatError(MALFORMED, "the snapshot's 'components' is not a list")
    version = str(data.get("version") or "").strip()
    tool = clean_text(data.get("software")) or clean_text(data.get("snapshotSoftware")) or TOOL
    erasures: list[ParsedErasure] = []
    disks: list[ParsedMedium] = []
    for component in _components(data):
        if component.get(shape.type_key) not in _DISKS:
            continue
        medium = _medium(component, shape)
        disks.append(medium)
        erasures += [
            _erasure(action, medium, shape, tool, version) for action in _erase_actions(component, shape)
        ]
    device = data.get("device")
    device = device if isinstance(device, Mapping) else {}
    raw_serial = clean_serial(device.get("serialNumber"))
    host_serial = host_serial_or_none(raw_serial)
    warnings = (
        [f"the system serial '{raw_serial}' is a placeholder or redacted"]
        if raw_serial and not host_serial
        else []
    )
    hardware = ParsedHardware(
        kind=hardware_kind(device.get("type"), device.get("chassis"), device.get("@type")),
        manufacturer=clean_text(device.get("manufacturer")),
        model=clean_text(device.get("model")),
        serial=host_serial,
        cpu=_cpu(data, shape),
        ram_bytes=_ram(data, shape),
        disks=tuple(disks),
    )
    problems = [] if disks else ["the snapshot lists no disk"]
    details = {
        k: v
        for k, v in (("uuid", data.get("uuid") or data.get("_uuid")), ("elapsed", data.get("elapsed")))
        if v
    }
    return ParsedReport(
        format=shape.format,
        tool=tool,
        tool_version=version,
        host_serial=host_serial,
        erasures=tuple(erasures),
        detected=tuple(disks),
        hardware=hardware,
        problems=tuple(problems),
        warnings=tuple(warnings),
        details=details,
    )


def _medium(component: Mapping[str, object], shape: _Shape) -> ParsedMedium:
    """A disk: v10 gives its size as a number of MB, v11 as "160042.0 MB" or a number of MB.

    `SolidStateDrive` is a flag (eReuse/workbench `ereuse_workbench/computer.py`, `DataStorage`:
    pySMART's `is_ssd`, from smartctl's "Solid State Device"); `HardDrive` is not: it is what
    Workbench writes when smartctl cannot read the drive, and devicehub's parser
    (`ereuse_devicehub/parser/parser.py`, `get_data_storage_type`) calls every drive without
    NVMe or TRIM a HardDrive. So a HardDrive is a hard disk only when its model says so.
    """
    interface = clean_text(component.get("interface"))
    tool_kind = "ssd" if component.get(shape.type_key) == "SolidStateDrive" else ""
    if interface.lower() == "nvme":
        tool_kind = "nvme"
    model = clean_text(component.get("model"))
    return ParsedMedium(
        kind=decide_kind(tool=tool_kind, model=model).kind,
        interface=_INTERFACES.get(interface.lower(), interface),
        manufacturer=clean_text(component.get("manufacturer")),
        model=model,
        serial=clean_serial(component.get("serialNumber")),
        capacity_bytes=quantity_bytes(component.get("size"), "MB"),
        tool_kind=tool_kind,
    )


def _erase_actions(component: Mapping[str, object], shape: _Shape) -> list[Mapping[str, object]]:
    if shape is _V10:
        erasure = component.get("erasure")
        return [erasure] if isinstance(erasure, Mapping) else []
    actions = component.get("actions", [])
    if not isinstance(actions, list):
        return []
    return [a for a in actions if isinstance(a, Mapping) and a.get("type") in _ERASE_TYPES]


def _steps(action: Mapping[str, object]) -> list[Mapping[str, object]]:
    steps = action.get("steps", [])
    return [s for s in steps if isinstance(s, Mapping)] if isinstance(steps, list) else []


def _erasure(
    action: Mapping[str, object], medium: ParsedMedium, shape: _Shape, tool: str, version: str
) -> ParsedErasure:
    """One EraseBasic / EraseSectors action."""
    kind = clean_text(action.get(shape.type_key))
    steps = _steps(action)
    patterns = [_STEP_PATTERNS.get(clean_text(s.get(shape.type_key)), "other") for s in steps]
    passes = len(steps) or _declared_steps(action)
    result, warnings = _outcome(action, steps, shape)
    sectors = kind == "EraseSectors"
    verification_result = ("passed" if result == "success" else result) if sectors else "not_done"
    if verification_result not in {"passed", "failed", "not_done"}:
        verification_result = "unknown"
    started, ended = utc_datetime(action.get(shape.start_key)), utc_datetime(action.get(shape.end_key))
    warnings += _time_warnings(steps, shape, ended)
    if (redacted := redaction_warning(medium.serial)) is not None:
        warnings.append(redacted)
    if medium.serial is None:
        warnings.append("Workbench gave no serial number for this disk")
    details: dict[str, object] = {"steps": [clean_text(s.get(shape.type_key)) for s in steps]}
    if "severity" in action:
        details["severity"] = action["severity"]
    for key in ("cleanWithZeros", "secureRandomSteps"):
        if key in action:
            details[key] = action[key]
    return ParsedErasure(
        medium=medium,
        technique="overwrite",
        method_label=kind,
        passes=passes,
        pattern="+".join(dict.fromkeys(patterns)),
        verification="all" if sectors else "none",
        verification_result=verification_result,
        tool=tool,
        tool_version=version,
        started_at=started,
        ended_at=ended,
        bytes_erased=None,
        bytes_total=None,
        errors={},
        result=result,
        warnings=tuple(warnings),
        details=details,
    )


def _declared_steps(action: Mapping[str, object]) -> int | None:
    """v10 also states its plan: `secureRandomSteps` random passes, plus zeros when `cleanWithZeros`."""
    random_steps = action.get("secureRandomSteps")
    if not isinstance(random_steps, int):
        return None
    return random_steps + (1 if action.get("cleanWithZeros") is True else 0)


def _outcome(
    action: Mapping[str, object], steps: Sequence[Mapping[str, object]], shape: _Shape
) -> tuple[str, list[str]]:
    """v10: `success` booleans; v11: `severity` (Info, Notice, Warning = done; Error = failed)."""
    if shape is _V10:
        flags = [action.get("success")] + [s.get("success") for s in steps]
        if any(flag is False for flag in flags):
            return "failed", []
        return ("success", []) if action.get("success") is True else ("unknown", [])
    severities = [clean_text(action.get("severity")).lower()] + [
        clean_text(s.get("severity")).lower() for s in steps
    ]
    if "error" in severities:
        return "failed", []
    result = _SEVERITY_RESULTS.get(severities[0], "unknown")
    warnings = ["Workbench flagged the erasure with severity Warning"] if "warning" in severities else []
    return result, warnings


def _time_warnings(steps: Sequence[Mapping[str, object]], shape: _Shape, ended: datetime | None) -> list[str]:
    """Flag an action that ends long after its last step (seen in a DeviceHub example: a year later)."""
    step_ends = [t for s in steps if (t := utc_datetime(s.get(shape.end_key))) is not None]
    if ended is None or not step_ends or ended - max(step_ends) <= timedelta(hours=1):
        return []
    gap = ended - max(step_ends)
    hours = gap.seconds // 3600
    return [
        f"the erasure ends {gap.days} days and {hours} hours after its last step: its end time may be wrong"
    ]


def _cpu(data: Mapping[str, object], shape: _Shape) -> str:
    for component in _components(data):
        if component.get(shape.type_key) == "Processor":
            return clean_text(component.get("model"))
    return ""


def _ram(data: Mapping[str, object], shape: _Shape) -> int | None:
    """Sum of RamModule sizes; bare numbers are MiB (Workbench's "MB" of RAM), strings carry their unit."""
    sizes = [
        quantity_bytes(c.get("size"), "MiB")
        for c in _components(data)
        if c.get(shape.type_key) == "RamModule"
    ]
    known = [size for size in sizes if size is not None]
    return sum(known) if known else None
