"""usody-sanitize JSON reports: one drive, its method, the commands run and a sampled validation.

usody-sanitize (`usody_sanitize/sanitize.py`) writes random data to ten spread
sectors before erasing, then checks after the erasure that they changed:
`validation.result` is that sampled check. When the pre-check fails it stops,
so `steps` stays empty and nothing was erased.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from refurb.erasure.kinds import decide_kind
from refurb.erasure.reports.model import (
    MALFORMED,
    ParsedErasure,
    ParsedMedium,
    ParsedReport,
    ReportFormatError,
    clean_serial,
    clean_text,
    epoch_datetime,
    quantity_bytes,
    redaction_warning,
)

__all__ = ("is_usody", "parse_usody")

TOOL = "usody-sanitize"
_MEDIA = {"hdd": "hdd", "ssd": "ssd", "nvme": "nvme", "emmc": "emmc", "usb": "usb"}
_TRANSPORTS = {
    "sata": "SATA",
    "ata": "ATA",
    "nvme": "NVMe",
    "usb": "USB",
    "sas": "SAS",
    "scsi": "SCSI",
    "mmc": "MMC",
}
_WRITE_TARGET = re.compile(r"\bof=(/dev/\S+)")
_FIRMWARE_TOOLS = frozenset({"hdparm", "nvme"})


def is_usody(data: object) -> bool:
    """A usody-sanitize report has `device_info` and `method` at the top."""
    return isinstance(data, Mapping) and "device_info" in data and "method" in data


def _mapping(value: object, name: str, *, required: bool = False) -> Mapping[str, object]:
    if isinstance(value, Mapping):
        return value
    if required or value is not None:
        raise ReportFormatError(MALFORMED, f"the usody-sanitize report's '{name}' is not an object")
    return {}


def _list(value: object, name: str) -> list[Mapping[str, object]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ReportFormatError(MALFORMED, f"the usody-sanitize report's '{name}' is not a list")
    return [item for item in value if isinstance(item, Mapping)]


@dataclass(frozen=True, slots=True)
class _Report:
    """The parts of the report, checked for shape once."""

    device: Mapping[str, object]
    method: Mapping[str, object]
    steps: list[Mapping[str, object]]
    validation: Mapping[str, object]
    block: Mapping[str, object]
    smart: Mapping[str, object]

    @classmethod
    def of(cls, data: Mapping[str, object]) -> _Report:
        device = _mapping(data.get("device_info"), "device_info", required=True)
        export = _mapping(device.get("export_data"), "device_info.export_data")
        return cls(
            device=device,
            method=_mapping(data.get("method"), "method", required=True),
            steps=_list(data.get("steps"), "steps"),
            validation=_mapping(data.get("validation"), "validation"),
            block=_mapping(export.get("block"), "export_data.block"),
            smart=_mapping(export.get("smart"), "export_data.smart"),
        )


def parse_usody(data: Mapping[str, object]) -> ParsedReport:
    """Parse a decoded usody-sanitize report."""
    report = _Report.of(data)
    medium = _medium(report)
    version = str(data.get("version") or "").strip()
    problems = [] if report.steps else ["no erasure step was recorded"]
    erasure = _erasure(report, medium, version, data.get("result"))
    return ParsedReport("usody_sanitize", TOOL, version, None, (erasure,), (medium,), None, tuple(problems))


def _medium(report: _Report) -> ParsedMedium:
    """The drive, as lsblk named it (its size like "298.1G" is 1024-based and rounded).

    usody/sanitize (`usody_sanitize/sanitize.py`, `ErasureProcess._extract_device_info`) writes
    `storage_medium` "SSD" when smartctl's rotation rate is 0, "HDD" when it is a speed, and
    falls back on lsblk's `rota` (the kernel's guess, wrong behind many USB bridges) when
    smartctl gives none: that "HDD" is not a flag, and the model decides.
    """
    device, block = report.device, report.block
    path = clean_text(block.get("path"))
    medium = clean_text(device.get("storage_medium")).lower()
    rotation = report.smart.get("rotation_rate")
    spins = isinstance(rotation, int) and not isinstance(rotation, bool) and rotation > 0
    tool_kind = _MEDIA.get(medium, "")
    if tool_kind == "hdd" and not spins:
        tool_kind = ""
    if tool_kind == "ssd" and path.startswith("/dev/nvme"):
        tool_kind = "nvme"
    connector = clean_text(device.get("connector")).lower()
    if "usb" in connector.split(":"):
        interface = "USB"
    else:
        transport = (
            clean_text(block.get("tran")).lower()
            or clean_text(_mapping_of(report.smart, "device").get("protocol")).lower()
        )
        interface = _TRANSPORTS.get(transport, transport.upper())
    model = clean_text(device.get("model"))
    return ParsedMedium(
        kind=decide_kind(tool=tool_kind, model=model).kind,
        interface=interface,
        manufacturer=clean_text(device.get("manufacturer")),
        model=model,
        serial=clean_serial(device.get("serial_number")),
        capacity_bytes=quantity_bytes(device.get("size"), "B"),
        device_path=path,
        tool_kind=tool_kind,
    )


def _mapping_of(parent: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = parent.get(key)
    return value if isinstance(value, Mapping) else {}


def _technique(method: Mapping[str, object], tools: list[str]) -> str:
    process = f"{clean_text(method.get('removal_process'))} {clean_text(method.get('name'))}".lower()
    if "crypto" in process:
        return "crypto_erase"
    if tools and all(tool in _FIRMWARE_TOOLS for tool in tools):
        return "firmware_sanitize"
    return "overwrite"


def _erasure(report: _Report, medium: ParsedMedium, version: str, reported: object) -> ParsedErasure:
    method = report.method
    planned = _list(method.get("overwriting_steps"), "method.overwriting_steps")
    tools = [clean_text(step.get("tool")).lower() for step in planned]
    technique = _technique(method, tools)
    patterns = [
        clean_text(step.get("pattern")).lower() for step in planned if clean_text(step.get("pattern"))
    ]
    verifies = method.get("verification_enabled") is True
    steps = report.steps
    started = epoch_datetime(steps[0].get("start_time")) if steps else None
    ended = epoch_datetime(steps[-1].get("end_time")) if steps else None
    return ParsedErasure(
        medium=medium,
        technique=technique,
        method_label=clean_text(method.get("name")),
        passes=len(planned) if technique == "overwrite" and planned else None,
        pattern="+".join(dict.fromkeys(patterns)),
        verification="sample" if verifies else "none",
        verification_result=_verification_result(verifies, report.validation.get("result")),
        tool=TOOL,
        tool_version=version,
        started_at=started,
        ended_at=ended,
        bytes_erased=None,
        bytes_total=None,
        errors={},
        result=_result(reported, steps),
        warnings=tuple(_warnings(report, medium)),
        details=_details(report, tools),
    )


def _verification_result(verifies: bool, validated: object) -> str:
    if not verifies:
        return "not_done"
    return "passed" if validated is True else "failed" if validated is False else "unknown"


def _result(reported: object, steps: list[Mapping[str, object]]) -> str:
    if not steps or reported is False or any(step.get("success") is False for step in steps):
        return "failed"
    return "success" if reported is True else "unknown"


def _warnings(report: _Report, medium: ParsedMedium) -> list[str]:
    warnings: list[str] = []
    if not report.steps and report.validation.get("result") is False:
        warnings.append("the validation before the erasure failed, so usody-sanitize did not erase the drive")
    commands = _list(report.validation.get("commands"), "validation.commands")
    targets = {m.group(1) for c in commands if (m := _WRITE_TARGET.search(clean_text(c.get("command"))))}
    stray = sorted(targets - {medium.device_path}) if medium.device_path else []
    if stray:
        warnings.append(f"the validation wrote to {', '.join(stray)}, not to {medium.device_path}")
    smart_serial = clean_serial(report.smart.get("serial_number"))
    if smart_serial and medium.serial and smart_serial != medium.serial:
        warnings.append(
            f"smartctl reports the serial {smart_serial} but the report names {medium.serial} "
            "(a USB bridge can hide the drive's own serial)"
        )
    if medium.serial is None:
        warnings.append("usody-sanitize gave no serial number for the drive")
    elif (redacted := redaction_warning(medium.serial)) is not None:
        warnings.append(redacted)
    return warnings


def _details(report: _Report, tools: list[str]) -> dict[str, object]:
    method, smart = report.method, report.smart
    capacity = _mapping_of(smart, "user_capacity").get("bytes")
    values: dict[str, object] = {
        "standard": clean_text(method.get("standard")),
        "removal_process": clean_text(method.get("removal_process")),
        "description": clean_text(method.get("description")),
        "tools": tools,
        "commands": [
            clean_text(c.get("command")) for s in report.steps for c in _list(s.get("commands"), "commands")
        ],
        "validation_commands": len(_list(report.validation.get("commands"), "validation.commands")),
        "smart_serial": clean_text(smart.get("serial_number")),
        "smart_model": clean_text(smart.get("model_name")),
        "smart_capacity_bytes": capacity if isinstance(capacity, int) else None,
    }
    return {key: value for key, value in values.items() if value not in (None, "", [])}
