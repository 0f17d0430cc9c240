"""The rounds' pages for coordinators and bus staff: plan a round, convoke, follow it live, close it.

Thin: every change goes through `rounds` and `handover`; a refused form comes
back on the round's page with the reason, and nothing changes.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from pydantic import ValidationError

from refurb.accounts.guards import allow, principal_of
from refurb.core.errors import BadInput, DomainError, NotFound
from refurb.core.i18n import N_
from refurb.core.roles import Role
from refurb.distribution import handover, rounds, service
from refurb.distribution.bus import AppointmentStatus, RoundStatus
from refurb.distribution.round_schemas import AppointmentIn, RoundIn, StopIn
from refurb.web.forms import Form, form_error
from refurb.web.params import RowId
from refurb.web.render import page

__all__ = ("RoundPages",)

SERVICE_WORKER = Path(__file__).resolve().parent.parent / "web" / "static" / "js" / "handover-sw.js"
_WINDOW = re.compile(r"\s*(\d{1,2}[:hH]\d{2})\s*[-–à]\s*(\d{1,2}[:hH]\d{2})\s*")


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    return str(value[-1] if isinstance(value, list) else value).strip()


def parse_stops(text: str) -> list[StopIn]:
    """One stop per line: `place; QPV; partner; 09:00-11:00; slot minutes; households per slot`."""
    stops = []
    for number, line in enumerate((t for t in text.splitlines() if t.strip()), start=1):
        parts = [p.strip() for p in line.split(";")]
        parts += [""] * (6 - len(parts))
        window = _WINDOW.fullmatch(parts[3])
        if not parts[0] or window is None:
            raise BadInput(
                N_("Stop line {line}: write it as place; QPV; partner; 09:00-11:00; 30; 4."),
                code="bad_stop_line",
                line=number,
                extra={"field": "stops"},
            )
        try:
            stops.append(
                StopIn(
                    place=parts[0],
                    qpv_code=parts[1],
                    partner=parts[2],
                    starts_at=window.group(1).replace("h", ":").replace("H", ":"),
                    ends_at=window.group(2).replace("h", ":").replace("H", ":"),
                    slot_minutes=int(parts[4]) if parts[4].isdigit() else 30,
                    slot_capacity=int(parts[5]) if parts[5].isdigit() else 4,
                )
            )
        except ValidationError:
            raise BadInput(
                N_("Stop line {line}: write it as place; QPV; partner; 09:00-11:00; 30; 4."),
                code="bad_stop_line", line=number, extra={"field": "stops"},
            ) from None  # fmt: skip
    return stops


class RoundPages(Controller):
    """`/rounds`: the list and the planning form; `/rounds/{code}`: one round, live."""

    path = "/rounds"
    include_in_schema = False
    guards = allow(*service.HOUSEHOLD_MANAGERS, Role.BUS_STAFF)

    async def _list(
        self,
        request: Request[Any, Any, Any],
        error: str | None = None,
        status: int = 200,
        form: dict[str, str] | None = None,
    ) -> Any:
        principal = principal_of(request)
        return page(
            request,
            "distribution/rounds.html",
            status_code=status,
            rounds=await rounds.list_rounds(principal),
            programmes=await service.list_programmes()
            if principal.role in service.HOUSEHOLD_MANAGERS
            else [],
            today=datetime.date.today(),
            error=error,
            form=form or {},
        )

    @get("/")
    async def list_rounds(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Rounds, latest first, and (for coordinators) the form to plan one."""
        return await self._list(request)

    @post("/", status_code=303)
    async def create(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        """Plan a round; the stops one per line."""
        try:
            given = RoundIn(
                programme=int(_text(data, "programme") or 0) if _text(data, "programme").isdigit() else 0,
                held_on=_text(data, "held_on") or None,  # type: ignore[arg-type]
                vehicle=_text(data, "vehicle"),
                staff=[s for s in re.split(r"[\s,;]+", _text(data, "staff")) if s],
                stops=parse_stops(_text(data, "stops")),
            )
            made = await rounds.create_round(given, principal_of(request))
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            typed = {k: _text(data, k) for k in ("vehicle", "staff", "stops", "held_on")}
            return await self._list(request, message, status, typed)
        return Redirect(path=f"/rounds/{made.code}", status_code=303)

    async def _round(
        self, request: Request[Any, Any, Any], code: str, error: str | None = None, status: int = 200
    ) -> Any:
        principal = principal_of(request)
        progress = await rounds.progress(code, principal)
        listed = await rounds.appointments(code, principal)
        following = None
        if progress.round.report and progress.round.report.next_round:
            following = progress.round.report.next_round
        return page(
            request,
            "distribution/round.html",
            status_code=status,
            progress=progress,
            round=progress.round,
            appointments=listed,
            conflicts=await handover.list_conflicts(principal, code),
            manager=principal.role in service.HOUSEHOLD_MANAGERS,
            statuses=RoundStatus,
            appointment_label=lambda s: AppointmentStatus(s).label,
            round_label=lambda s: RoundStatus(s).label,
            next_round=following,
            error=error,
        )

    @get("/sw.js")
    async def service_worker(self) -> Response[bytes]:
        """The hand-over pages' service worker: served from /rounds/ so that its scope covers them."""
        return Response(
            SERVICE_WORKER.read_bytes(),
            media_type="text/javascript; charset=utf-8",
            headers={"cache-control": "no-cache", "service-worker-allowed": "/rounds/"},
        )

    @get("/{code:str}/handover")
    async def handover_page(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[Any]:
        """The tablet's hand-over page: works offline from the round pack (bus staff of the round, admins)."""
        principal = principal_of(request)
        ref = await rounds.round_ref(code, principal)
        if principal.role not in (Role.BUS_STAFF, Role.ADMIN):
            raise NotFound(N_("No round {ref} is known."), ref=ref.display)
        return page(
            request,
            "distribution/handover.html",
            round=await rounds.get_round(ref.code, principal),
            headers={"cache-control": "no-cache"},
        )

    @get("/{code:str}")
    async def show(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[Any]:
        """Progress per stop, convocations, conflicts, receipts; the day's actions."""
        return await self._round(request, code)

    async def _act(self, request: Request[Any, Any, Any], code: str, action: Any, anchor: str = "") -> Any:
        try:
            await action()
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            return await self._round(request, code, message, status)
        return Redirect(path=f"/rounds/{code}{anchor}", status_code=303)

    @post("/{code:str}/status", status_code=303)
    async def set_status(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: Form
    ) -> Response[Any]:
        """Start loading, leave, or close the round."""
        target = _text(data, "status")
        principal = principal_of(request)
        if target == RoundStatus.CLOSED.value:
            return await self._act(request, code, lambda: rounds.close_round(code, principal))
        return await self._act(request, code, lambda: rounds.set_status(code, target, principal))

    @post("/{code:str}/fill", status_code=303)
    async def fill(self, request: Request[Any, Any, Any], code: FromPath[str], data: Form) -> Response[Any]:
        """Convoke the approved households of these QPVs (default: the stops')."""
        qpvs = [q for q in re.split(r"[\s,;]+", _text(data, "qpvs")) if q]
        return await self._act(
            request, code, lambda: rounds.fill(code, qpvs, principal_of(request)), "#convocations"
        )

    @post("/{code:str}/appointments", status_code=303)
    async def add(self, request: Request[Any, Any, Any], code: FromPath[str], data: Form) -> Response[Any]:
        """Convoke one household at a stop and a slot."""

        async def convoke() -> Any:
            stop = _text(data, "stop")
            given = AppointmentIn(
                household=_text(data, "household"),
                stop=int(stop) if stop.isdigit() else 1,
                slot=_text(data, "slot"),
            )
            return await rounds.add_appointment(code, given, principal_of(request))

        return await self._act(request, code, convoke, "#convocations")

    @post("/{code:str}/reconvoke-absent", status_code=303)
    async def reconvoke(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: Form
    ) -> Response[Any]:
        """Offer the absent households the round chosen."""
        target = _text(data, "round")
        return await self._act(
            request, code, lambda: rounds.reconvoke_absent(code, target, principal_of(request))
        )

    @post("/{code:str}/conflicts/{conflict_id:int}", status_code=303)
    async def resolve(
        self, request: Request[Any, Any, Any], code: FromPath[str], conflict_id: RowId, data: Form
    ) -> Response[Any]:
        """Say what was done about an offline conflict."""
        text = _text(data, "resolution")
        return await self._act(
            request,
            code,
            lambda: handover.resolve_conflict(conflict_id, text, principal_of(request)),
            "#conflicts",
        )
