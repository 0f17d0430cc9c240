"""The workshop station: scan a wiped device, fill its checklist, and it is refurbished or rejected.

The form is built from the device's kind (design §7: the station page renders
whatever form a handler asks for); its flat answers become a `ReconditioningIn`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from refurb.core.codes import CodeType
from refurb.core.errors import BadInput
from refurb.core.i18n import N_, fill
from refurb.core.lifecycle import Action, State
from refurb.core.stages import Stage
from refurb.devices import service as devices
from refurb.devices.schemas import DeviceOut
from refurb.erasure import media
from refurb.printing.kinds import LabelKind
from refurb.stations import service as stations
from refurb.stations.schemas import FieldSpec, FormSpec, PrintNote
from refurb.web.i18n import gettext
from refurb.workshop import checklists, choices
from refurb.workshop import service as workshop
from refurb.workshop.schemas import PartIn, ReconditioningIn

__all__ = ("register",)

#: Parts the form offers, each with a description and a cost field.
FORM_PARTS = ("ram", "ssd", "battery", "keyboard", "charger", "other")


def _select(name: str, label: str, options: list[tuple[str, str]], **extra: Any) -> FieldSpec:
    return FieldSpec(
        name=name,
        label=label,
        type="select",
        options=[{"value": v, "label": lb} for v, lb in options],
        **extra,
    )


#: A pass's measurements and grade are required only for a device that passes (a reject needs none).
_PASSING = {"outcome": ["refurbished"]}


async def _form(device: DeviceOut, device_id: int) -> FormSpec:
    """The checklist of the device's kind, the specs, parts, software, grade, time and outcome.

    Required fields come from `checklists.REQUIRED`, the table `judge` refuses a pass by,
    so what the form marks and what the server asks for cannot drift apart.
    """
    kind = device.kind
    required = checklists.required_fields(kind)

    def needed(name: str) -> dict[str, Any]:
        return {"required": name in required, "required_when": _PASSING if name in required else None}

    results = [("", "—")] + [(r.value, gettext(r.label)) for r in checklists.Result]
    fields: list[FieldSpec] = [
        FieldSpec(
            name="all_works",
            label=gettext("Everything works"),
            type="checkbox",
            required=False,
            help=gettext("Marks every function below as working; one set to faulty or not fitted stays so."),
        )
    ]
    for i, function in enumerate(checklists.CHECKLISTS[kind]):
        options = results if function.optional else [o for o in results if o[0] != checklists.Result.ABSENT]
        fields.append(
            _select(
                f"check_{function.name}",
                gettext(function.label),
                options,
                section=gettext("Every function tested") if i == 0 else None,
            )
        )
    if kind in checklists.BATTERY_KINDS:
        fields.append(
            FieldSpec(
                name="battery_health",
                label=gettext("Battery health (% of design capacity)"),
                type="number",
                minimum=0,
                maximum=100,
                section=gettext("Battery"),
                **needed("battery_health"),
            )
        )
        fields.append(
            FieldSpec(
                name="battery_cycles",
                label=gettext("Charge cycles"),
                type="number",
                minimum=0,
                **needed("battery_cycles"),
            )
        )
    if checklists.needs_os(kind):
        workbench = await media.has_workbench_snapshot(device_id)
        note = gettext("measured by Workbench") if workbench else None
        for i, (name, label, value) in enumerate(
            (
                ("cpu", gettext("Processor"), device.cpu),
                ("ram", gettext("Memory (RAM)"), device.ram),
                ("storage", gettext("Storage"), device.storage),
            )
        ):
            fields.append(
                FieldSpec(
                    name=name,
                    label=label,
                    default=value,
                    required=False,
                    max_length=200,
                    help=note,
                    section=gettext("Specifications") if i == 0 else None,
                )
            )
    for i, kind_name in enumerate(FORM_PARTS):
        label = gettext(checklists.PART_KINDS[kind_name])
        fields.append(
            FieldSpec(
                name=f"part_{kind_name}",
                label=label,
                required=False,
                max_length=200,
                section=gettext("Parts replaced or added (leave empty if none)") if i == 0 else None,
            )
        )
        if kind_name == "ssd":
            fields.append(
                FieldSpec(
                    name="part_ssd_serial", label=gettext("New SSD serial"), required=False, max_length=100
                )
            )
            fields.append(
                FieldSpec(
                    name="part_ssd_capacity_gb",
                    label=gettext("New SSD capacity (GB)"),
                    type="number",
                    required=False,
                    minimum=1,
                )
            )
        fields.append(
            FieldSpec(
                name=f"part_{kind_name}_cost",
                label=fill(N_("{part}: cost (€)"), {"part": label}, gettext),
                type="number",
                required=False,
                minimum=0,
            )
        )
    if checklists.needs_os(kind):
        lists = await choices.active()
        images, profiles = lists["os_image"], lists["software_profile"]
        fields.append(
            _select(
                "os_image",
                gettext("Operating system installed"),
                [("", "—")] + [(n, n) for n in images],
                default=device.os if device.os in images else None,
                section=gettext("Software"),
                **needed("os_image"),
            )
        )
        fields.append(
            _select(
                "software_profile",
                gettext("Software profile"),
                [("", "—")] + [(n, n) for n in profiles],
                required=False,
            )
        )
    fields.append(
        _select(
            "grade",
            gettext("Grade"),
            [("", "—")] + [(g.value, g.value) for g in checklists.GRADES],
            help=" ".join(f"{g.value}: {gettext(r.definition)}" for g, r in checklists.GRADES.items()),
            section=gettext("Result"),
            **needed("grade"),
        )
    )
    fields.append(
        FieldSpec(
            name="minutes", label=gettext("Time spent (minutes)"), type="number", minimum=1, maximum=1440
        )
    )
    fields.append(
        _select(
            "outcome",
            gettext("Outcome"),
            [
                ("refurbished", gettext("Refurbished: every function works")),
                ("parts_harvest", fill(N_("Rejected, {why}"), {"why": N_("kept for parts")}, gettext)),
                ("recycling", fill(N_("Rejected, {why}"), {"why": N_("to recycling")}, gettext)),
            ],
            default="refurbished",
        )
    )
    fields.append(FieldSpec(name="note", label=gettext("Note"), required=False, max_length=500))
    return FormSpec(
        action=Action.REFURBISH.value,
        title=fill(
            N_("{ref} ({kind}): test every function"),
            {"ref": device.display_code, "kind": device.kind},
            gettext,
        ),
        fields=fields,
        submit=gettext("Record the test"),
    )


def _number(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


def _decimal(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        raise BadInput(N_("{field} is not an amount."), code="bad_amount", field=field) from None


def _parts(inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    parts = []
    for kind in FORM_PARTS:
        description = str(inputs.get(f"part_{kind}") or "").strip()
        cost = _number(inputs.get(f"part_{kind}_cost"))
        serial = str(inputs.get(f"part_{kind}_serial") or "").strip() or None
        capacity = _number(inputs.get(f"part_{kind}_capacity_gb"))
        if not (description or cost is not None or serial or capacity is not None):
            continue
        parts.append(
            {
                "kind": kind,
                "description": description,
                "cost": _decimal(cost, f"part_{kind}_cost") if cost is not None else Decimal(0),
                "serial": serial,
                "capacity_gb": capacity,
            }
        )
    return parts


def _ticked(value: Any) -> bool:
    """A checkbox's answer (JSON true, or the text a plain form posts)."""
    return value is True or str(value or "").strip().lower() in ("true", "on", "1", "yes")


def form_field(name: str) -> str:
    """The station form's name of a pass field (`checks.wifi` is the form's `check_wifi`)."""
    return f"check_{name.removeprefix('checks.')}" if name.startswith("checks.") else name


def reading(device_code: str, inputs: Mapping[str, Any]) -> ReconditioningIn:
    """The station form's flat answers as a pass (refusing what cannot be read, naming the field)."""
    outcome = str(inputs.get("outcome") or "refurbished")
    checks = {
        key.removeprefix("check_"): str(value)
        for key, value in inputs.items()
        if key.startswith("check_") and str(value or "")
    }
    body: dict[str, Any] = {
        "device": device_code,
        "checks": checks,
        "all_works": _ticked(inputs.get("all_works")),
        "battery_health": _number(inputs.get("battery_health")),
        "battery_cycles": _number(inputs.get("battery_cycles")),
        "parts": [PartIn.model_validate(p) for p in _parts(inputs)],
        "os_image": str(inputs.get("os_image") or "") or None,
        "software_profile": str(inputs.get("software_profile") or "") or None,
        "grade": str(inputs.get("grade") or "") or None,
        "minutes": _number(inputs.get("minutes")),
        "outcome": "refurbished" if outcome == "refurbished" else "rejected",
        "reason": None if outcome == "refurbished" else outcome,
        "note": str(inputs.get("note") or ""),
    }
    for name in ("cpu", "ram", "storage"):
        if name in inputs:
            body[name] = str(inputs[name] or "")
    try:
        return ReconditioningIn.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        field = form_field(where)
        raise BadInput(
            N_("{field}: {problem}"),
            code="bad_workshop_answer",
            extra={"fields": [field] if field in inputs else []},
            field=where,
            problem=first["msg"],
        ) from None


async def _scanned(request: stations.ScanRequest) -> stations.ScanOutcome:
    """A device at the workshop: its checklist, then the recorded pass and the spec label."""
    if request.action is not Action.REFURBISH:  # the station's reject mode
        return await stations.device_handler(request)
    device = await devices.get(request.code.compact, request.principal)
    if device.state is not State.SANITIZED:
        return await stations.device_handler(request)  # refused with its reason, or already recorded
    if not request.inputs:
        return stations.ScanOutcome(
            "needs_input",
            N_("{ref}: test every function, then record the result."),
            {"ref": device.display_code},
            stations.device_thing(device),
            device,
            form=await _form(device, (await devices.device_ref(device.code, request.principal)).id),
        )
    try:
        recorded = await workshop.record(
            reading(device.code, request.inputs),
            request.principal,
            station_id=request.station.id,
            station_code=request.station.code.compact,
            request_id=request.request_id,
            idempotency_key=request.idempotency_key,
        )
    except BadInput as refused:  # name the form's fields, so the page can point at them
        if "fields" in refused.extra:
            refused.extra["fields"] = [form_field(f) for f in refused.extra["fields"]]
        raise
    device = recorded.device
    printed: PrintNote | None = None
    refurbished = device.state is State.REFURBISHED
    if refurbished and recorded.result == "recorded":
        printed = await stations.print_after_step(request, LabelKind.SPEC)
    if recorded.result == "already_recorded":
        message = N_("{ref} is already {state}: already recorded.")
    elif refurbished:
        message = N_("{ref} is now {state}, grade {grade}.")
    else:
        message = N_("{ref} is now {state}.")
    return stations.ScanOutcome(
        recorded.result,
        message,
        {"ref": device.display_code, "state": device.state, "grade": device.grade or "—"},
        stations.device_thing(device),
        device,
        printed=printed,
    )


def register() -> None:
    """Device scans at a workshop station open the checklist."""
    stations.register_handler(CodeType.DEVICE, _scanned, stage=Stage.WORKSHOP)
    stations.register_stage_label(Stage.WORKSHOP, LabelKind.SPEC.value)
