"""The workshop's part of a device's page: its grade, the tests of its last pass, its OS and licence.

Registered with the spine (`devices.register_section`), which never imports the
workshop. The licence is shown by its pool and whether one is assigned — never its key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.core.principal import Principal
from refurb.db import json_value
from refurb.devices import service as devices
from refurb.devices.schemas import DeviceOut
from refurb.web.i18n import gettext
from refurb.workshop import checklists
from refurb.workshop.tables import LicenceAssignment, Reconditioning

__all__ = ("register", "section")

#: States a device is in before the workshop: without a grade it has no pass nor licence to show.
_BEFORE_WORKSHOP = frozenset({State.DECLARED, State.COLLECTED, State.RECEIVED, State.SANITIZED})
#: How each result is said: an icon beside the words, never colour alone.
_ICONS = {checklists.Result.OK: "✔", checklists.Result.FAULTY: "✘", checklists.Result.ABSENT: "–"}


async def _last_pass(code: str) -> Mapping[str, Any] | None:
    return (
        await Reconditioning.select(
            Reconditioning.kind,
            Reconditioning.checks,
            Reconditioning.battery_health,
            Reconditioning.battery_cycles,
            Reconditioning.os_image,
            Reconditioning.software_profile,
            Reconditioning.grade,
            Reconditioning.outcome,
            Reconditioning.technician_name,
            Reconditioning.created_at,
        )
        .where(Reconditioning.device.code == code)
        .order_by(Reconditioning.id, ascending=False)
        .first()
    )


async def _licence(code: str) -> Mapping[str, Any] | None:
    """The live assignment's pool (no key column is read)."""
    return (
        await LicenceAssignment.select(
            LicenceAssignment.pool.name.as_alias("pool"),
            LicenceAssignment.pool.licence_type.as_alias("licence_type"),
            LicenceAssignment.pool.needs_key.as_alias("needs_key"),
            LicenceAssignment.created_at,
        )
        .where((LicenceAssignment.device.code == code) & LicenceAssignment.unassigned_at.is_null())
        .first()
    )


def _tests(kind: DeviceKind, checks: Mapping[str, str]) -> list[dict[str, str]]:
    tests = []
    for function in checklists.CHECKLISTS[kind]:
        answer = checks.get(function.name)
        result = checklists.Result(answer) if answer in set(checklists.Result) else None
        tests.append(
            {
                "name": function.name,
                "label": gettext(function.label),
                "result": result.value if result else "",
                "icon": _ICONS[result] if result else "?",
                "text": gettext(result.label) if result else gettext("not recorded"),
            }
        )
    return tests


async def section(device: DeviceOut, principal: Principal) -> devices.DeviceSection | None:
    """Grade, tests, OS and licence of a device the workshop has seen (None before it)."""
    if device.grade is None and device.state in _BEFORE_WORKSHOP:
        return None  # nothing recorded yet, and no query spent to say so
    passed = await _last_pass(device.code)
    licence = await _licence(device.code)
    if passed is None and licence is None and not device.grade and not device.os:
        return None
    data: dict[str, Any] = {
        "grade": device.grade,
        "grade_definition": (
            gettext(checklists.GRADES[checklists.Grade(device.grade)].definition) if device.grade else None
        ),
        "os": device.os or (passed["os_image"] if passed else ""),
        "software_profile": passed["software_profile"] if passed else "",
        "licence": (
            {"pool": licence["pool"], "type": licence["licence_type"], "with_key": licence["needs_key"]}
            if licence
            else None
        ),
        "licence_expected": checklists.needs_os(device.kind),
        "pass": None,
    }
    if passed is not None:
        kind = DeviceKind(passed["kind"]) if passed["kind"] in set(DeviceKind) else device.kind
        data["pass"] = {
            "at": passed["created_at"],
            "technician": passed["technician_name"],
            "outcome": passed["outcome"],
            "battery_health": passed["battery_health"],
            "battery_cycles": passed["battery_cycles"],
            "tests": _tests(kind, dict(json_value(passed["checks"], {}))),
        }
    return devices.DeviceSection(gettext("Workshop"), "workshop/device_section.html", data)


def register() -> None:
    """The device page shows what the workshop recorded."""
    devices.register_section("workshop", section)
