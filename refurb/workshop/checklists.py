"""What the bench tests per kind of device, the grades, and whether a pass may be called refurbished.

Pure rules (no database, no web). French law (décret 2022-190) allows the word
"reconditionné" only for equipment whose every function was tested: a pass
records an answer for each function of its kind, and a device passes only
when none is faulty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind

__all__ = (
    "BATTERY_MIN_HEALTH",
    "CHECKLISTS",
    "GRADES",
    "PART_KINDS",
    "Function",
    "Grade",
    "Problem",
    "Result",
    "all_passed",
    "judge",
    "needs_os",
    "required_fields",
)


class Result(StrEnum):
    """The answer for one function."""

    OK = "ok"
    FAULTY = "faulty"
    ABSENT = "absent"  # only for functions a model may simply not have (a webcam, Bluetooth)

    @property
    def label(self) -> str:
        """French-ready label."""
        return _RESULT_LABELS[self]


_RESULT_LABELS = {Result.OK: N_("works"), Result.FAULTY: N_("faulty"), Result.ABSENT: N_("not fitted")}


@dataclass(frozen=True, slots=True)
class Function:
    """One function a technician tests."""

    name: str
    label: str
    optional: bool = False  # may be "not fitted" on some models


def _f(name: str, label: str, *, optional: bool = False) -> Function:
    return Function(name, label, optional)


_BATTERY = _f("battery", N_("Battery holds a charge"))
_WIFI = _f("wifi", N_("Wi-Fi"))
_BLUETOOTH = _f("bluetooth", N_("Bluetooth"), optional=True)
_POWER = _f("power_on", N_("Powers on"))

CHECKLISTS: Mapping[DeviceKind, tuple[Function, ...]] = {
    DeviceKind.LAPTOP: (
        _BATTERY,
        _f("screen", N_("Screen (no dead pixels, backlight even)")),
        _f("keyboard", N_("Keyboard (every key)")),
        _f("touchpad", N_("Touchpad and buttons")),
        _f("webcam", N_("Webcam"), optional=True),
        _f("microphone", N_("Microphone")),
        _f("speakers", N_("Speakers and headphone jack")),
        _WIFI,
        _BLUETOOTH,
        _f("usb_ports", N_("USB ports")),
        _f("video_ports", N_("Video output ports"), optional=True),
        _f("charger", N_("Charger and charging")),
    ),
    DeviceKind.DESKTOP: (
        _f("boot", N_("Boots to the operating system")),
        _f("usb_ports", N_("USB ports")),
        _f("video_ports", N_("Video output ports")),
        _f("network", N_("Wired network")),
        _f("wifi", N_("Wi-Fi"), optional=True),
        _f("audio", N_("Audio output")),
    ),
    DeviceKind.TABLET: (
        _BATTERY,
        _f("screen_touch", N_("Screen and touch (every zone)")),
        _f("cameras", N_("Cameras")),
        _f("charging", N_("Charging port and charging")),
        _WIFI,
        _f("buttons", N_("Buttons (power, volume)")),
    ),
    DeviceKind.PHONE: (
        _BATTERY,
        _f("screen_touch", N_("Screen and touch (every zone)")),
        _f("cameras", N_("Cameras")),
        _f("charging", N_("Charging port and charging")),
        _f("calls", N_("Calls (SIM, microphone, earpiece)")),
        _WIFI,
    ),
    DeviceKind.PRINTER: (
        _POWER,
        _f("test_page", N_("Prints a clean test page")),
        _f("paper_feed", N_("Paper feed (no jam)")),
        _f("connection", N_("Connection (USB or network)")),
        _f("consumables", N_("Ink or toner present")),
    ),
    DeviceKind.MONITOR: (
        _POWER,
        _f("display", N_("Display (no dead pixels, even backlight)")),
        _f("inputs", N_("Video inputs")),
        _f("controls", N_("Buttons and menu")),
    ),
    DeviceKind.CONNECTIVITY: (
        _POWER,
        _f("sim", N_("SIM detected")),
        _f("mobile_data", N_("Mobile data connection")),
        _f("wifi_hotspot", N_("Wi-Fi hotspot"), optional=True),
    ),
    DeviceKind.OTHER: (_POWER, _f("function", N_("Does what it is for"))),
}

#: Kinds whose battery is measured (health % and charge cycles).
BATTERY_KINDS = frozenset({DeviceKind.LAPTOP, DeviceKind.TABLET, DeviceKind.PHONE})
#: Kinds that get an operating system image (and so a licence or a free OS).
_OS_KINDS = frozenset({DeviceKind.LAPTOP, DeviceKind.DESKTOP, DeviceKind.TABLET, DeviceKind.PHONE})
#: A battery below this share of its design capacity must be replaced before the device can pass.
BATTERY_MIN_HEALTH = 50


class Grade(StrEnum):
    """The cosmetic and battery grade a household and a coordinator can rely on."""

    A = "A"
    B = "B"
    C = "C"


@dataclass(frozen=True, slots=True)
class GradeRule:
    """A grade's written definition and the battery health it needs."""

    definition: str
    min_battery: int


GRADES: Mapping[Grade, GradeRule] = {
    Grade.A: GradeRule(N_("Like new: no visible mark, battery at least 80 % of its design capacity."), 80),
    Grade.B: GradeRule(
        N_("Light signs of use (small scratches), battery at least 65 %; everything works."), 65
    ),
    Grade.C: GradeRule(
        N_(
            "Visible wear (marks, worn keys, small dents) that does not affect use, "
            "battery at least 50 %; everything works."
        ),
        BATTERY_MIN_HEALTH,
    ),
}

#: Parts a pass may replace or add; disks become media of the device.
PART_KINDS: Mapping[str, str] = {
    "ram": N_("RAM"),
    "ssd": N_("SSD (new)"),
    "hdd": N_("Hard disk (new)"),
    "battery": N_("Battery"),
    "keyboard": N_("Keyboard"),
    "screen": N_("Screen"),
    "charger": N_("Charger"),
    "other": N_("Other part"),
}
DISK_PARTS = frozenset({"ssd", "hdd"})


def needs_os(kind: DeviceKind) -> bool:
    """Whether a device of this kind gets an operating system (and so a licence)."""
    return kind in _OS_KINDS


def _required(kind: DeviceKind) -> frozenset[str]:
    fields = {"grade"}
    if kind in BATTERY_KINDS:
        fields.add("battery_health")
    if kind is DeviceKind.LAPTOP:
        fields.add("battery_cycles")
    if needs_os(kind):
        fields.add("os_image")
    return frozenset(fields)


#: The measurements and choices a passing pass must carry, per kind (besides an answer for every
#: function). `judge` refuses a pass without them and the station form marks them required: one table.
REQUIRED: Mapping[DeviceKind, frozenset[str]] = {kind: _required(kind) for kind in DeviceKind}


def required_fields(kind: DeviceKind) -> frozenset[str]:
    """The fields a passing pass of this kind must fill (see `REQUIRED`)."""
    return REQUIRED[kind]


def all_passed(kind: DeviceKind, checks: Mapping[str, str]) -> dict[str, str]:
    """Everything works: every function of the kind not answered otherwise is `ok`.

    An answer given explicitly wins (a function marked faulty stays faulty, an
    optional one marked not fitted stays so); names not on the checklist are kept for `judge` to refuse.
    """
    known = {f.name for f in CHECKLISTS[kind]}
    answered = {name: result for name, result in checks.items() if result}
    filled = {f.name: answered.get(f.name) or Result.OK.value for f in CHECKLISTS[kind]}
    return {**filled, **{name: result for name, result in answered.items() if name not in known}}


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a pass cannot be recorded as refurbished, and the fields it names (`checks.<name>`: a function)."""

    code: str
    message: str
    params: Mapping[str, object]
    fields: tuple[str, ...] = ()


def _checks(names: list[str]) -> tuple[str, ...]:
    return tuple(f"checks.{name}" for name in names)


def judge(
    kind: DeviceKind,
    checks: Mapping[str, str],
    *,
    battery_health: int | None,
    battery_cycles: int | None,
    grade: str | None,
    os_image: str | None,
) -> list[Problem]:
    """Everything that stops a pass from being refurbished (empty: it may pass)."""
    problems: list[Problem] = []
    functions = CHECKLISTS[kind]
    required = REQUIRED[kind]
    known = {f.name for f in functions}
    unknown = sorted(set(checks) - known)
    if unknown:
        problems.append(
            Problem(
                "unknown_function",
                N_("{names}: not on the checklist of a {kind}."),
                {"names": ", ".join(unknown), "kind": kind},
                _checks(unknown),
            )
        )
    missing = [f.name for f in functions if checks.get(f.name) in (None, "")]
    if missing:
        problems.append(
            Problem(
                "checklist_incomplete",
                N_("Every function must be tested; not recorded: {names}."),
                {"names": ", ".join(missing)},
                _checks(missing),
            )
        )
    faulty = [f.name for f in functions if checks.get(f.name) == Result.FAULTY]
    if faulty:
        problems.append(
            Problem(
                "function_faulty",
                N_("A device with a faulty function cannot pass: {names}. Repair it or reject it."),
                {"names": ", ".join(faulty)},
                _checks(faulty),
            )
        )
    absent = [f.name for f in functions if checks.get(f.name) == Result.ABSENT and not f.optional]
    if absent:
        problems.append(
            Problem(
                "function_required",
                N_("These functions cannot be 'not fitted' on a {kind}: {names}."),
                {"names": ", ".join(absent), "kind": kind},
                _checks(absent),
            )
        )
    measures = {"battery_health": battery_health, "battery_cycles": battery_cycles}
    unmeasured = tuple(name for name, value in measures.items() if name in required and value is None)
    if unmeasured:
        problems.append(
            Problem(
                "battery_measure_required",
                N_("Measure the battery (health in % and, for a laptop, charge cycles) before it can pass."),
                {},
                unmeasured,
            )
        )
    elif "battery_health" in required and battery_health is not None and battery_health < BATTERY_MIN_HEALTH:
        problems.append(
            Problem(
                "battery_too_weak",
                N_("The battery holds {health} % of its design capacity (at least {minimum} %): replace it."),
                {"health": battery_health, "minimum": BATTERY_MIN_HEALTH},
                ("battery_health",),
            )
        )
    if "grade" in required and grade is None:
        problems.append(Problem("grade_required", N_("Give the device a grade (A, B or C)."), {}, ("grade",)))
    elif (
        grade is not None
        and "battery_health" in required
        and battery_health is not None
        and battery_health >= BATTERY_MIN_HEALTH
    ):
        rule = GRADES[Grade(grade)]
        if battery_health < rule.min_battery:
            problems.append(
                Problem(
                    "grade_battery",
                    N_("Grade {grade} needs a battery of at least {minimum} % (measured: {health} %)."),
                    {"grade": grade, "minimum": rule.min_battery, "health": battery_health},
                    ("grade",),
                )
            )
    if "os_image" in required and not os_image:
        problems.append(
            Problem(
                "os_image_required", N_("Choose the operating system image installed."), {}, ("os_image",)
            )
        )
    return problems
