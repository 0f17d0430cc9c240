"""JSON API of the bus: rounds, convocations, the round pack, hand-overs and offline conflicts.

Every route is open to every role at the gate; the service then answers 404 to
whoever is not a coordinator, an administrator or bus staff of the round (a
donor, a technician, bus staff of another round), and 403 to bus staff asking
for what only a coordinator does.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from refurb.accounts.guards import allow, principal_of
from refurb.devices.api import IdempotencyKey
from refurb.distribution import bus_labels, handover, round_pack, rounds
from refurb.distribution.round_schemas import (
    AppointmentIn,
    AppointmentOut,
    ConflictOut,
    ConflictResolveIn,
    FillIn,
    FillOut,
    HandoverIn,
    HandoverOut,
    MoveIn,
    ReconvokeIn,
    RoundIn,
    RoundOut,
    RoundPack,
    RoundProgress,
    RoundStatusIn,
)
from refurb.printing import service as printing
from refurb.printing.api import context_of
from refurb.printing.kinds import LabelKind
from refurb.printing.render import Format
from refurb.web.context import current_request_id
from refurb.web.forms import download
from refurb.web.openapi import files
from refurb.web.params import OptionalQueryId, RowId

__all__ = ("AppointmentController", "ConflictController", "HandoverController", "RoundController")


class RoundController(Controller):
    """Bus rounds: planning, convocations, status, the pack, hand-overs on the round."""

    path = "/api/v1/rounds"
    tags = ["distribution"]  # noqa: RUF012 - Litestar reads this class attribute
    guards = allow()

    @get("/", summary="Rounds, latest day first")
    async def list_rounds(
        self,
        request: Request[Any, Any, Any],
        programme: OptionalQueryId = None,
        held_on: FromQuery[datetime.date | None] = None,
        status: Annotated[str | None, QueryParameter(max_length=10)] = None,
    ) -> list[RoundOut]:
        """Every round for coordinators; their own rounds for bus staff; none for other roles."""
        return await rounds.list_rounds(
            principal_of(request), programme=programme, held_on=held_on, status=status
        )

    @post("/", summary="Plan a round")
    async def create(self, request: Request[Any, Any, Any], data: JSONBody[RoundIn]) -> RoundOut:
        """Its programme, day, vehicle, bus staff and stops in order (each cut in slots)."""
        return await rounds.create_round(data, principal_of(request))

    @get("/{code:str}", summary="One round")
    async def get_round(self, request: Request[Any, Any, Any], code: FromPath[str]) -> RoundOut:
        """Its stops and slots, status and, once closed, its report."""
        return await rounds.get_round(code, principal_of(request))

    @post("/{code:str}/status", summary="Start loading, or leave", status_code=200)
    async def set_status(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[RoundStatusIn]
    ) -> RoundOut:
        """Planned → loading → out (back to planned from loading); closing is /close."""
        return await rounds.set_status(code, data.status, principal_of(request))

    @post("/{code:str}/close", summary="Close the round with its report", status_code=200)
    async def close(self, request: Request[Any, Any, Any], code: FromPath[str]) -> RoundOut:
        """Refused while a device is still on board; the convoked households not served are absent."""
        return await rounds.close_round(code, principal_of(request))

    @get("/{code:str}/appointments", summary="The round's convocations")
    async def appointments(
        self, request: Request[Any, Any, Any], code: FromPath[str]
    ) -> list[AppointmentOut]:
        """By stop and slot, with the devices reserved for each household (moved and cancelled ones too)."""
        return await rounds.appointments(code, principal_of(request))

    @post("/{code:str}/appointments", summary="Convoke a household")
    async def add_appointment(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[AppointmentIn]
    ) -> AppointmentOut:
        """An approved household with reserved devices, at a stop and a slot with room."""
        return await rounds.add_appointment(code, data, principal_of(request))

    @post("/{code:str}/fill", summary="Convoke the approved households of these QPVs", status_code=200)
    async def fill(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[FillIn]
    ) -> FillOut:
        """Oldest waiting first, each at a stop of its QPV, respecting each slot's capacity."""
        return await rounds.fill(code, data.qpvs, principal_of(request))

    @post(
        "/{code:str}/reconvoke-absent", summary="Offer the absent households another round", status_code=200
    )
    async def reconvoke(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[ReconvokeIn]
    ) -> FillOut:
        """Each at a stop of its QPV with room (else any stop with room); the rest are counted."""
        return await rounds.reconvoke_absent(code, data.round, principal_of(request))

    @get(
        "/{code:str}/convocations.pdf",
        summary="The round's convocation cards, four A6 cards to an A4 page",
        opt=files("application/pdf"),
    )
    async def convocations(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[bytes]:
        """One card per convoked household, by stop and slot; no family name unless names are printed."""
        context = context_of(request)
        items = await bus_labels.convocation_cards(code, principal_of(request), context)
        rendered = await printing.render_items(
            LabelKind.CONVOCATION, items, Format.PDF, "a4-4xa6", context=context
        )
        return download(rendered.content, f"convocations-{code}.pdf", "application/pdf")

    @get("/{code:str}/manifest.pdf", summary="The round manifest", opt=files("application/pdf"))
    async def manifest(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[bytes]:
        """Stops, slots, F codes and the reserved D codes, each with its barcode."""
        principal = principal_of(request)
        ref = await rounds.round_ref(code, principal)
        rendered = await printing.render_label(
            ref.code, LabelKind.MANIFEST.value, Format.PDF, None, None, None, principal, context_of(request)
        )
        return download(rendered.content, f"manifest-{ref.code}.pdf", "application/pdf")

    @get("/{code:str}/progress", summary="Live progress per stop")
    async def progress(self, request: Request[Any, Any, Any], code: FromPath[str]) -> RoundProgress:
        """Delivered / waiting / absent households, devices to load and loaded, open conflicts, receipts."""
        return await rounds.progress(code, principal_of(request))

    @get("/{code:str}/pack", summary="The round pack a tablet keeps offline")
    async def pack(self, request: Request[Any, Any, Any], code: FromPath[str]) -> RoundPack:
        """For the round's staff and coordinators only (404 otherwise); each read is logged."""
        return await round_pack.round_pack(code, principal_of(request), route=request.url.path)

    @post("/{code:str}/handovers", summary="Hand a device over to its household on this round")
    async def hand_over(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: JSONBody[HandoverIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[HandoverOut]:
        """201 when recorded now; 200 when this hand-over was already recorded.

        With `queued_at`, a refusal is kept in the round's conflict list (its id in the problem's `conflict`).
        """
        out = await handover.hand_over(
            code,
            data,
            principal_of(request),
            idempotency_key=idempotency_key,
            request_id=current_request_id(),
        )
        return Response(out, status_code=201 if out.outcome == "recorded" else 200)

    @get("/{code:str}/conflicts", summary="Offline actions the server refused")
    async def conflicts(
        self, request: Request[Any, Any, Any], code: FromPath[str], open_only: FromQuery[bool] = False
    ) -> list[ConflictOut]:
        """Latest first; the open ones until a coordinator resolves them."""
        return await handover.list_conflicts(principal_of(request), code, open_only=open_only)


class AppointmentController(Controller):
    """Moving or cancelling one convocation."""

    path = "/api/v1/appointments"
    tags = ["distribution"]  # noqa: RUF012
    guards = allow()

    @post("/{appointment_id:int}/move", summary="Convoke the household elsewhere", status_code=200)
    async def move(
        self, request: Request[Any, Any, Any], appointment_id: RowId, data: JSONBody[MoveIn]
    ) -> AppointmentOut:
        """The old convocation stays in the history, `moved`, pointing to the new one."""
        return await rounds.move_appointment(appointment_id, data, principal_of(request))

    @post("/{appointment_id:int}/cancel", summary="Cancel a convocation", status_code=200)
    async def cancel(self, request: Request[Any, Any, Any], appointment_id: RowId) -> AppointmentOut:
        """Kept in the history as `cancelled`."""
        return await rounds.cancel_appointment(appointment_id, principal_of(request))


class HandoverController(Controller):
    """Hand-overs outside a round (at the office), and a device's last hand-over."""

    path = "/api/v1/handovers"
    tags = ["distribution"]  # noqa: RUF012
    guards = allow()

    @post("/", summary="Hand a device over without a round")
    async def hand_over(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[HandoverIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[HandoverOut]:
        """At the office: recorded as without appointment."""
        out = await handover.hand_over(
            None,
            data,
            principal_of(request),
            idempotency_key=idempotency_key,
            request_id=current_request_id(),
        )
        return Response(out, status_code=201 if out.outcome == "recorded" else 200)

    @get("/{code:str}", summary="A device's last hand-over")
    async def get_handover(self, request: Request[Any, Any, Any], code: FromPath[str]) -> HandoverOut:
        """Mode, terms, signature hash, support given, receipt."""
        return await handover.get_handover(code, principal_of(request))


class ConflictController(Controller):
    """Conflicts of every round, for coordinators; resolving one."""

    path = "/api/v1/conflicts"
    tags = ["distribution"]  # noqa: RUF012
    guards = allow()

    @get("/", summary="Offline conflicts")
    async def list_conflicts(
        self, request: Request[Any, Any, Any], open_only: FromQuery[bool] = False
    ) -> list[ConflictOut]:
        """Every round's for coordinators; one's own for bus staff."""
        return await handover.list_conflicts(principal_of(request), open_only=open_only)

    @post("/{conflict_id:int}/resolve", summary="Say what was done about a conflict", status_code=200)
    async def resolve(
        self, request: Request[Any, Any, Any], conflict_id: RowId, data: JSONBody[ConflictResolveIn]
    ) -> ConflictOut:
        """Coordinators only; it leaves the open list."""
        return await handover.resolve_conflict(conflict_id, data.resolution, principal_of(request))
