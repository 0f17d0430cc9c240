"""The loading station: scan the round, then the devices that go on board (or come off, in unload mode).

Scanning a planned round starts its loading. Each device scanned is `dispatch`ed
onto (or `unload`ed off) the round scanned last; the spine's `round_open` check
refuses a device reserved for a household of another round, or not reserved.
The context bar says what is still to load, stop by stop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refurb.core.codes import CodeType
from refurb.core.errors import BadInput, Conflict
from refurb.core.i18n import N_, fill
from refurb.core.lifecycle import Action
from refurb.core.stages import Stage
from refurb.distribution.rounds import RoundRef, convocation_of, round_ref, start_loading, to_load
from refurb.stations import service as stations
from refurb.stations.schemas import ContextOut, ThingOut
from refurb.web.i18n import gettext

__all__ = ("register",)


def _thing(ref: RoundRef) -> ThingOut:
    return ThingOut(
        type="round",
        code=ref.code,
        display_code=ref.display,
        title=ref.display,
        state=ref.status.value,
        url=f"/rounds/{ref.code}",
    )


def _still(lines: list[tuple[str, int, int]]) -> str:
    """What is still to load, stop by stop ("Place: 2 to load")."""
    left = [(place, total - loaded) for place, loaded, total in lines if total > loaded]
    if not left:
        return gettext("everything is on board")
    message = N_("{place}: {count} to load")
    return " · ".join(fill(message, {"place": p, "count": n}, gettext) for p, n in left)


async def _round_scanned(request: stations.ScanRequest) -> stations.ScanOutcome:
    """A round's R code: the next devices scanned go on (or come off) it."""
    ref = await start_loading(await round_ref(request.code.compact))
    lines = await to_load(ref)
    loaded, total = sum(line[1] for line in lines), sum(line[2] for line in lines)
    return stations.ScanOutcome(
        "found",
        N_("Round {ref}: {loaded} of {total} devices on board. Still: {still}."),
        {"ref": ref.display, "loaded": loaded, "total": total, "still": _still(lines)},
        _thing(ref),
        context={"round": ref.code},
    )


async def _device_scanned(request: stations.ScanRequest) -> stations.ScanOutcome:
    """A device: onto the round being loaded, or off it in unload mode."""
    if request.action not in (Action.DISPATCH, Action.UNLOAD):
        return await stations.device_handler(request)
    where = request.context.get("round")
    if not where:
        raise BadInput(N_("Scan the round first (its R code, on the round sheet)."), code="round_required")
    forwarded = stations.ScanRequest(
        request.station,
        request.principal,
        request.text,
        request.code,
        request.action,
        {**request.inputs, "round": where},
        request.request_id,
        request.idempotency_key,
        request.base_url,
        request.context,
    )
    outcome = await stations.device_handler(forwarded)
    return stations.ScanOutcome(
        outcome.result,
        outcome.message,
        outcome.params,
        outcome.thing,
        outcome.device,
        outcome.form,
        {"round": where},
        outcome.printed,
    )


async def _context(context: Mapping[str, str], principal: Any) -> ContextOut | None:
    """The loading bar: the round being loaded, and what is still to load per stop."""
    code = context.get("round")
    if not code:
        return None
    ref = await round_ref(code)
    lines = await to_load(ref)
    loaded, total = sum(line[1] for line in lines), sum(line[2] for line in lines)
    return ContextOut(
        code=ref.code,
        display_code=ref.display,
        title=fill(N_("Round of {date}"), {"date": ref.held_on.isoformat()}, gettext),
        heading=gettext("Loading round"),
        progress=fill(N_("{loaded} of {total} on board"), {"loaded": loaded, "total": total}, gettext),
        done=loaded,
        total=total,
        missing=_still(lines) if loaded < total else None,
        leave=gettext("Done with this round"),
    )


async def _household_scanned(request: stations.ScanRequest) -> stations.ScanOutcome:
    """A family's convocation at a hand-over station: where it is expected, and the page to serve it."""
    place = await convocation_of(request.code.compact)
    if place is None:
        raise Conflict(
            N_("Household {ref} is not convoked on any round."),
            code="household_not_convoked",
            ref=request.code.display,
        )
    ref, stop, slot = place
    return stations.ScanOutcome(
        "found",
        N_("Household {household}: round {ref}, {stop} at {slot}. Serve it on the round's hand-over page."),
        {"household": request.code.display, "ref": ref.display, "stop": stop, "slot": slot},
        ThingOut(
            type="household",
            code=request.code.compact,
            display_code=request.code.display,
            title=request.code.display,
            state=ref.status.value,
            url=f"/rounds/{ref.code}/handover",
        ),
        context={"household": request.code.compact, "round": ref.code},
    )


def register() -> None:
    """Round labels and devices mean something at the loading station; convocations at a hand-over one."""
    stations.register_handler(CodeType.ROUND, _round_scanned, stage=Stage.LOADING)
    stations.register_handler(CodeType.DEVICE, _device_scanned, stage=Stage.LOADING)
    stations.register_context_reader(Stage.LOADING, _context)
    stations.register_handler(CodeType.HOUSEHOLD, _household_scanned, stage=Stage.HANDOVER)
