"""The commission's pages (usable on a projector: large type, keyboard navigation) and matching pages.

Thin: every decision goes through `commission.decide`, every reservation through
`matching` (and so through the devices service).
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect
from pydantic import ValidationError

from refurb.accounts.guards import allow, principal_of
from refurb.core.errors import DomainError
from refurb.core.kinds import DeviceKind
from refurb.distribution import commission, matching, service
from refurb.distribution.model import DecisionKind
from refurb.distribution.schemas import DecisionIn, LineIn, SessionIn
from refurb.web.forms import Form, form_error
from refurb.web.i18n import gettext
from refurb.web.params import RowId
from refurb.web.render import page

__all__ = ("AllocationPages", "CommissionPages")


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    return str(value[-1] if isinstance(value, list) else value).strip()


class CommissionPages(Controller):
    """Sessions and the agenda of one, decided item by item."""

    path = "/commission"
    include_in_schema = False
    guards = allow(*service.HOUSEHOLD_MANAGERS)

    @get("/")
    async def sessions(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Sessions, and the form to open one."""
        return await self._sessions(request)

    async def _sessions(self, request: Request[Any, Any, Any], error: str | None = None) -> Response[Any]:
        return page(
            request,
            "distribution/commission_sessions.html",
            sessions=await commission.list_sessions(),
            programmes=await service.list_programmes(),
            today=datetime.date.today(),
            error=error,
        )

    @post("/", status_code=303)
    async def open_session(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        """Open a session; the members one per line."""
        try:
            given = SessionIn.model_validate(
                {
                    "programme": _text(data, "programme") or 0,
                    "held_on": _text(data, "held_on") or None,
                    "members": _text(data, "members").splitlines(),
                }
            )
            made = await commission.create_session(given, service.Actor.of(principal_of(request)))
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            response = await self._sessions(request, error=message)
            response.status_code = status
            return response
        return Redirect(path=f"/commission/{made.id}", status_code=303)

    async def _agenda(
        self, request: Request[Any, Any, Any], session_id: int, offset: int, error: str | None = None
    ) -> Response[Any]:
        agenda = await commission.agenda(session_id, gettext, offset=offset)
        return page(
            request,
            "distribution/commission.html",
            agenda=agenda,
            decided=await commission.decisions(session_id),
            kinds=[k for k in DeviceKind if k is not DeviceKind.OTHER],
            decision_kinds=DecisionKind,
            error=error,
            page_size=commission.AGENDA_PAGE,
        )

    @get("/{session_id:int}")
    async def agenda(
        self,
        request: Request[Any, Any, Any],
        session_id: RowId,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
    ) -> Response[Any]:
        """The agenda, one page; each household focusable, decided with keys or buttons."""
        return await self._agenda(request, session_id, offset)

    @post("/{session_id:int}/decisions", status_code=303)
    async def decide(self, request: Request[Any, Any, Any], session_id: RowId, data: Form) -> Response[Any]:
        """One decision; refused, the agenda says why and nothing changes."""
        kind = _text(data, "kind")
        lines = []
        if kind == DecisionKind.MODIFY.value:
            for name in (k.value for k in DeviceKind):
                quantity = _text(data, f"q_{name}")
                if quantity and quantity != "0":
                    lines.append(LineIn(kind=name, quantity=int(quantity) if quantity.isdigit() else -1))
        try:
            given = DecisionIn(
                household=_text(data, "household"), kind=kind, reason=_text(data, "reason"), lines=lines
            )
            await commission.decide(session_id, given, principal_of(request))
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            response = await self._agenda(request, session_id, 0, error=message)
            response.status_code = status
            return response
        return Redirect(path=f"/commission/{session_id}", status_code=303)


class AllocationPages(Controller):
    """Allocations to match, the match-all button, the shortage, stock against demand."""

    path = "/allocations"
    include_in_schema = False
    guards = allow(*service.HOUSEHOLD_MANAGERS)

    @get("/")
    async def allocations(
        self,
        request: Request[Any, Any, Any],
        done: Annotated[int | None, QueryParameter(ge=0, le=10_000_000)] = None,
    ) -> Response[Any]:
        """What waits for a device, and the shortage."""
        return page(
            request,
            "distribution/allocations.html",
            allocations=await matching.list_allocations(status="to_match", limit=200),
            reserved=await matching.list_allocations(status="reserved", limit=200),
            shortage=await matching.shortage(),
            done=done,
            kind_label=lambda k: gettext(DeviceKind(k).label),
        )

    @post("/match-all", status_code=303)
    async def match_all(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Match every allocation, oldest stock first."""
        result = await matching.match_all(principal_of(request))
        return Redirect(path=f"/allocations?done={result.reserved}", status_code=303)

    @get("/stock-demand")
    async def stock_demand(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Per kind: in stock by grade, reserved, to match, missing."""
        return page(
            request,
            "distribution/stock_demand.html",
            rows=await matching.stock_demand(),
            kind_label=lambda k: gettext(DeviceKind(k).label),
        )
