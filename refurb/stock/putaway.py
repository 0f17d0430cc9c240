"""The put-away station: scan a location, then the devices that go there.

Each device scanned goes `in_stock` at the location scanned last, until
another location is scanned; a device already in stock elsewhere is moved
(its history says from where to where). A full location refuses with its numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import BadInput, GuardRefused, NotFound
from refurb.core.i18n import N_, Np_, fill
from refurb.core.lifecycle import Action, Check, State
from refurb.core.stages import Stage
from refurb.db import write_transaction
from refurb.devices import service as devices
from refurb.devices.service import CheckContext, register_check
from refurb.stations import service as stations
from refurb.stations.schemas import ContextOut, ThingOut
from refurb.stock import holdings
from refurb.stock import service as stock
from refurb.stock.service import LocationOut
from refurb.timestamps import utcnow
from refurb.web.i18n import gettext

__all__ = ("register",)

#: Devices that take a place at their location.
OCCUPYING = (State.IN_STOCK, State.RESERVED)


def _thing(location: LocationOut) -> ThingOut:
    return ThingOut(
        type="location",
        code=location.code,
        display_code=location.display_code,
        title=location.name,
        state=location.kind,
        url=None,
    )


async def _room(code_text: str) -> int:
    """Lock the location and say how many devices it holds; refuse when it is full."""
    location, held = await stock.location_with_room(code_text, OCCUPYING)
    if location.capacity is not None and held >= location.capacity:
        raise GuardRefused(
            Np_(
                "{name} ({ref}) is full: {held} of {capacity} places taken. Scan another location.",
                "{name} ({ref}) is full: {held} of {capacity} places taken. Scan another location.",
                key="held",
            ),
            code="location_full",
            name=location.name,
            ref=location.display_code,
            held=held,
            capacity=location.capacity,
        )
    return held


async def _location_capacity(context: CheckContext) -> None:
    """The lifecycle check of `stock`: a location is scanned and has room."""
    text = str(context.payload.get("location") or "")
    if not text:
        raise GuardRefused(
            N_("Scan the location (its L code) before putting {ref} away."),
            code="location_required",
            ref=parse_code(context.device.code).display,
        )
    await _room(text)


async def _place(context: CheckContext) -> dict[str, int]:
    """The effect of `stock`: the device is where the scanned location says (checked by its capacity)."""
    text = str(context.payload.get("location", ""))
    location_id = await stock.location_id(text)
    if location_id is None:  # the capacity check found it in this transaction: never in practice
        raise NotFound(N_("No location {ref} is known."), ref=parse_code(text).display)
    await devices.place(context.device.id, location_id, stocked_at=utcnow())
    return {"location_id": location_id}


async def _location_scanned(request: stations.ScanRequest) -> stations.ScanOutcome:
    """A location label: the next devices scanned go there."""
    location = await stock.get_location(request.code.compact)
    held = await holdings.count_at(location.id, OCCUPYING)
    capacity = "∞" if location.capacity is None else str(location.capacity)
    return stations.ScanOutcome(
        "found",
        Np_(
            "{name} ({ref}): {held} of {capacity} places taken. Scan the devices to put here.",
            "{name} ({ref}): {held} of {capacity} places taken. Scan the devices to put here.",
            key="held",
        ),
        {"name": location.name, "ref": location.display_code, "held": held, "capacity": capacity},
        _thing(location),
        context={"location": location.code},
    )


async def _device_scanned(request: stations.ScanRequest) -> stations.ScanOutcome:
    """A device: into stock at the current location, or moved there if it is in stock elsewhere."""
    if request.action is not Action.STOCK:  # e.g. marking it missing
        return await stations.device_handler(request)
    where = request.context.get("location")
    if not where:
        raise BadInput(
            N_("Scan a location first: its label says where the next devices go."), code="location_required"
        )
    device = await devices.get(request.code.compact, request.principal)
    if device.state is State.IN_STOCK:
        location = await stock.get_location(where)
        async with write_transaction():
            if device.location == location.code:
                moved = False
            else:
                await _room(location.code)
                moved = await devices.move(
                    device.code,
                    location.id,
                    request.principal,
                    station_id=request.station.id,
                    request_id=request.request_id,
                )
        device = await devices.get(device.code, request.principal)
        return stations.ScanOutcome(
            "recorded" if moved else "already_recorded",
            N_("{ref} moved to {name}.") if moved else N_("{ref} is already in {name}."),
            {"ref": device.display_code, "name": location.name},
            stations.device_thing(device),
            device,
            context={"location": location.code},
        )
    request = stations.ScanRequest(
        request.station,
        request.principal,
        request.text,
        request.code,
        request.action,
        {**request.inputs, "location": where},
        request.request_id,
        request.idempotency_key,
        request.base_url,
        request.context,
    )
    outcome = await stations.device_handler(request)
    return stations.ScanOutcome(
        outcome.result,
        outcome.message,
        outcome.params,
        outcome.thing,
        outcome.device,
        outcome.form,
        {"location": where},
        outcome.printed,
    )


async def _context(context: Mapping[str, str], principal: Any) -> ContextOut | None:
    """The put-away bar: the location being filled and its places taken."""
    code = context.get("location")
    if not code:
        return None
    location = await stock.get_location(code)
    held = await holdings.count_at(location.id, OCCUPYING)
    capacity = "∞" if location.capacity is None else str(location.capacity)
    return ContextOut(
        code=location.code,
        display_code=location.display_code,
        title=location.name,
        heading=gettext("Putting away in"),
        progress=fill(
            Np_("{held} of {capacity} places taken", "{held} of {capacity} places taken", key="held"),
            {"held": held, "capacity": capacity},
            gettext,
        ),
        done=held,
        total=location.capacity,
        leave=gettext("Done with this location"),
    )


def register() -> None:
    """Location labels and devices mean something at the put-away station."""
    register_check(Check.LOCATION_CAPACITY, _location_capacity)
    devices.register_effect(Action.STOCK, _place)
    stations.register_handler(CodeType.LOCATION, _location_scanned, stage=Stage.STOCK)
    stations.register_handler(CodeType.DEVICE, _device_scanned, stage=Stage.STOCK)
    stations.register_context_reader(Stage.STOCK, _context)
