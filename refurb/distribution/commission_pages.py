"""The commission's pages (usable on a projector: large type, keyboard navigation) and matching pages.

Thin: every decision goes through `commission.decide`, every reservation through
`matching` (and so through the devices service).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
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


#: A household's compact F code, as the agenda's items carry it in their ids.
_ITEM = re.compile(r"[A-Z0-9]{1,16}")
_MAX_OFFSET = 10_000_000


@dataclass(frozen=True, slots=True)
class Refused:
    """A decision the service refused, as typed: the agenda shows it again beside its household."""

    household: str
    kind: str
    reason: str
    quantities: dict[str, str]
    field: str  # "reason", "lines" or "" (the message says it all)


def _offset(text: str) -> int:
    return int(text) if text.isdigit() and int(text) <= _MAX_OFFSET else 0


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
        self,
        request: Request[Any, Any, Any],
        session_id: int,
        offset: int,
        error: str | None = None,
        refused: Refused | None = None,
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
            refused=refused,
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
        """One decision, then the agenda where it was, the next household in hand.

        Refused, the agenda says why beside that household, with what was typed (the
        decision chosen, the quantities, the reason) and the field to correct in hand;
        nothing changes.
        """
        kind = _text(data, "kind")
        offset = _offset(_text(data, "offset"))
        quantities = {k.value: _text(data, f"q_{k.value}") for k in DeviceKind}
        lines = []
        if kind == DecisionKind.MODIFY.value:
            for name, quantity in quantities.items():
                if quantity and quantity != "0":
                    lines.append(LineIn(kind=name, quantity=int(quantity) if quantity.isdigit() else -1))
        household = _text(data, "household")
        try:
            given = DecisionIn(household=household, kind=kind, reason=_text(data, "reason"), lines=lines)
            await commission.decide(session_id, given, principal_of(request))
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            if isinstance(error, DomainError):
                field = str(error.extra.get("field", ""))
            else:
                field = str(error.errors()[0].get("loc", ("",))[0])
            refused = Refused(household, kind, _text(data, "reason"), quantities, field)
            response = await self._agenda(request, session_id, offset, error=message, refused=refused)
            response.status_code = status
            return response
        path = f"/commission/{session_id}" + (f"?offset={offset}" if offset else "")
        following = _text(data, "next")
        if _ITEM.fullmatch(following):
            path += f"#item-{following}"
        return Redirect(path=path, status_code=303)


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
