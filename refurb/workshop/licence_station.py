"""The licensing station and the licence label.

Scanning a refurbished device asks for its pool (the one installing the OS
the workshop put on it comes first) and the COA sticker number; answering
licenses it, shows the key once for typing and prints the licence label
(OS and licence type only).
"""

from __future__ import annotations

from dataclasses import replace

from pydantic import BaseModel

from refurb.core.codes import Code, CodeType, parse_code
from refurb.core.errors import BadInput, NotFound
from refurb.core.i18n import N_
from refurb.core.lifecycle import Action, State
from refurb.core.principal import Principal
from refurb.core.stages import Stage
from refurb.devices import service as devices
from refurb.printing.kinds import LabelKind, LicenceLabel
from refurb.printing.service import LabelContext, register_provider
from refurb.stations import service as stations
from refurb.stations.schemas import FieldSpec, FormSpec
from refurb.web.i18n import gettext, ngettext
from refurb.workshop import licences
from refurb.workshop.licence_schemas import PoolOut

__all__ = ("register",)


def _option(pool: PoolOut) -> dict[str, str]:
    if not pool.needs_key:
        left = gettext("free, no key")
    else:
        left = ngettext("{count} key left", "{count} keys left", pool.available).format(count=pool.available)
    return {"value": str(pool.id), "label": f"{pool.name} — {pool.os} ({left})"}


async def _pool_form(device_id: int) -> FormSpec:
    """The pools to choose from, the one installing the device's OS first (preselected)."""
    pools = await licences.list_pools(usable_only=True)
    if not pools:
        raise BadInput(
            N_("No licence pool is open: a supervisor creates one on the Licences page."),
            code="no_licence_pool",
        )
    os = (await devices.get_facts(device_id)).get("os") or ""
    ordered = licences.assigned_pools(pools, os)
    return FormSpec(
        action=Action.LICENSE.value,
        title=gettext("Which licence?"),
        fields=[
            FieldSpec(
                name="pool",
                label=gettext("Licence pool"),
                type="select",
                options=[_option(p) for p in ordered],
                default=str(ordered[0].id),  # the pool installing the device's OS
            ),
            FieldSpec(
                name="coa", label=gettext("COA sticker number (optional)"), required=False, max_length=60
            ),
        ],
        submit=gettext("License it"),
    )


async def _device_scanned(request: stations.ScanRequest) -> stations.ScanOutcome:
    """License the device from the chosen pool; rejecting (the other mode) goes the usual way."""
    if request.action is not Action.LICENSE:
        return await stations.device_handler(request)
    device = await devices.get(request.code.compact, request.principal)
    voided = False  # licensed, but its lost key was voided: it takes the next one
    if device.state is State.LICENSED:
        ref = await devices.device_ref(device.code, request.principal)
        voided = await licences.live_assignment(ref.id) is None
    if device.state is not State.REFURBISHED and not voided:
        # already licensed (a retry: "already recorded", whatever it chose), or refused with its reason
        return await stations.device_handler(replace(request, inputs={}, idempotency_key=None))
    pool = str(request.inputs.get("pool") or "").strip()
    if not pool:
        return stations.ScanOutcome(
            "needs_input",
            N_("{ref}: choose its licence."),
            {"ref": device.display_code},
            stations.device_thing(device),
            device,
            form=await _pool_form((await devices.device_ref(device.code, request.principal)).id),
        )
    coa = request.inputs.get("coa")
    assigned = await licences.assign(
        device.code,
        pool,
        coa if isinstance(coa, str) else None,
        request.principal,
        station_id=request.station.id,
        station_code=request.station.code.compact,
        request_id=request.request_id,
        idempotency_key=request.idempotency_key,
    )
    licence, result = assigned.licence, assigned.transition
    printed = (
        await stations.print_after_step(request, LabelKind.LICENCE) if result.outcome == "recorded" else None
    )
    if licence.key is not None:
        message = N_("{ref} is now licensed ({os}). Type the key shown, then dismiss it.")
    elif licence.reused:
        message = N_("{ref} is now licensed ({os}): it keeps the licence it already had.")
    else:
        message = N_("{ref} is now licensed ({os}).")
    return stations.ScanOutcome(
        result.outcome,
        message,
        {"ref": result.device.display_code, "os": licence.os},
        stations.device_thing(result.device),
        result.device,
        printed=printed,
        secret=licence.key,
    )


async def licence_labels(code: Code, principal: Principal, context: LabelContext) -> list[BaseModel]:
    """The OS and licence type of the device's licence; never the key."""
    device = await devices.device_ref(code.compact, principal)
    live = await licences.live_assignment(device.id)
    if live is None:
        raise NotFound(
            N_("{ref} holds no licence."), code="licence_not_assigned", ref=parse_code(device.code).display
        )
    return [
        LicenceLabel(
            code=device.code,
            display_code=parse_code(device.code).display,
            os=live["os"],
            licence_type=live["licence_type"],
        )
    ]


def register() -> None:
    """Devices scanned at a licensing station, and the licence label."""
    stations.register_handler(CodeType.DEVICE, _device_scanned, stage=Stage.LICENSING)
    stations.register_stage_label(Stage.LICENSING, LabelKind.LICENCE.value)
    register_provider(LabelKind.LICENCE, licence_labels)
