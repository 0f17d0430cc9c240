"""JSON API of the allocation commission and of matching: coordinators (and administrators) only.

Every other role gets 403 here, as on the household listing; no answer carries
personal data (F codes, QPV, composition, decisions).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, QueryParameter

from refurb.accounts.guards import allow, principal_of
from refurb.distribution import commission, matching, service
from refurb.distribution.minutes_pdf import render_minutes_pdf
from refurb.distribution.schemas import (
    AgendaOut,
    AllocationOut,
    DecisionIn,
    DecisionOut,
    MatchIn,
    MatchOut,
    ReleaseIn,
    SessionIn,
    SessionOut,
    ShortageOut,
    StockDemandRow,
)
from refurb.web.forms import download
from refurb.web.i18n import gettext
from refurb.web.openapi import files
from refurb.web.params import OptionalQueryId, RowId

__all__ = ("AllocationController", "CommissionController")


class CommissionController(Controller):
    """Commission sessions, their agenda, decisions and minutes."""

    path = "/api/v1/commission-sessions"
    tags = ["distribution"]  # noqa: RUF012 - Litestar reads this class attribute
    guards = allow(*service.HOUSEHOLD_MANAGERS)

    @get("/", summary="Commission sessions, latest first")
    async def list_sessions(self, programme: OptionalQueryId = None) -> list[SessionOut]:
        """Filtered by programme."""
        return await commission.list_sessions(programme)

    @post("/", summary="Open a commission session")
    async def create_session(self, request: Request[Any, Any, Any], data: JSONBody[SessionIn]) -> SessionOut:
        """A programme, a date and the members present."""
        return await commission.create_session(data, service.Actor.of(principal_of(request)))

    @get("/{session_id:int}", summary="One commission session")
    async def get_session(self, session_id: RowId) -> SessionOut:
        """With its number of decisions."""
        return await commission.get_session(session_id)

    @post("/{session_id:int}/close", summary="Close a session", status_code=200)
    async def close_session(self, session_id: RowId) -> SessionOut:
        """No more decisions in it."""
        return await commission.close_session(session_id)

    @get("/{session_id:int}/agenda", summary="The agenda: eligible households by priority, with proposals")
    async def agenda(
        self,
        session_id: RowId,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=commission.MAX_AGENDA_PAGE)] = commission.AGENDA_PAGE,
    ) -> AgendaOut:
        """Reasons in the request's language; the whole programme is ordered, one page is rendered."""
        return await commission.agenda(session_id, gettext, offset=offset, limit=limit)

    @get("/{session_id:int}/decisions", summary="The decisions of a session")
    async def decisions(self, session_id: RowId) -> list[DecisionOut]:
        """In the order taken; each with the proposal and the rule-set version it used."""
        return await commission.decisions(session_id)

    @post("/{session_id:int}/decisions", summary="Decide on a household")
    async def decide(
        self, request: Request[Any, Any, Any], session_id: RowId, data: JSONBody[DecisionIn]
    ) -> DecisionOut:
        """approve, modify (lines + reason), defer (reason) or reject (reason); never changed afterwards."""
        return await commission.decide(session_id, data, principal_of(request))

    @get(
        "/{session_id:int}/minutes.pdf",
        summary="The minutes (PDF, pseudonymous)",
        opt=files("application/pdf"),
    )
    async def minutes(self, session_id: RowId) -> Response[bytes]:
        """F codes, QPV, composition and decisions: never a name."""
        session, entries = await commission.minutes(session_id, gettext)
        content = render_minutes_pdf(session, entries, gettext)
        return download(
            content, f"commission-{session.id}-{session.held_on.isoformat()}.pdf", "application/pdf"
        )


class AllocationController(Controller):
    """Allocations: matching to devices in stock, releasing, the shortage."""

    path = "/api/v1/allocations"
    tags = ["distribution"]  # noqa: RUF012
    guards = allow(*service.HOUSEHOLD_MANAGERS)

    @get("/", summary="Allocations, filtered")
    async def list_allocations(
        self,
        programme: OptionalQueryId = None,
        status: Annotated[str | None, QueryParameter(max_length=20)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 500,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
    ) -> list[AllocationOut]:
        """Oldest first."""
        return await matching.list_allocations(programme=programme, status=status, limit=limit, offset=offset)

    @get("/shortage", summary="Approved allocations without a device, per kind")
    async def shortage(self, programme: OptionalQueryId = None) -> ShortageOut:
        """The shortage, said plainly."""
        return await matching.shortage(programme)

    @get("/stock-demand", summary="Stock against demand, per kind and grade")
    async def stock_demand(self, programme: OptionalQueryId = None) -> list[StockDemandRow]:
        """In stock by grade, reserved, to match, missing."""
        return await matching.stock_demand(programme)

    @post("/match-all", summary="Match every allocation to match", status_code=200)
    async def match_all(self, request: Request[Any, Any, Any], programme: OptionalQueryId = None) -> MatchOut:
        """Oldest suitable stock first; what is left is the shortage."""
        return await matching.match_all(principal_of(request), programme)

    @post("/{allocation_id:int}/match", summary="Reserve a device for one allocation", status_code=200)
    async def match(
        self, request: Request[Any, Any, Any], allocation_id: RowId, data: JSONBody[MatchIn]
    ) -> AllocationOut:
        """The device named, or the oldest suitable one in stock (`reserve`, the allocation as evidence)."""
        return await matching.match(allocation_id, principal_of(request), data.device)

    @post("/{allocation_id:int}/release", summary="Put the reserved device back in stock", status_code=200)
    async def release(
        self, request: Request[Any, Any, Any], allocation_id: RowId, data: JSONBody[ReleaseIn]
    ) -> AllocationOut:
        """With the reason; the allocation is to match again."""
        return await matching.release(allocation_id, data.reason, principal_of(request))
