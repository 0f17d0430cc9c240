"""JSON API for scanning: what a station page does, for programs too."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, HeaderParameter, JSONBody
from pydantic import BaseModel

from refurb.accounts.guards import allow, principal_of
from refurb.core.roles import STAFF, SUPERVISION
from refurb.stations import service
from refurb.stations.schemas import ContextOut, ScanIn, ScanLogOut, ScanOut, StationOut, ThingOut
from refurb.web.context import current_request_id

__all__ = ("CodeController", "ScanController", "StationController")


class StationPrinterIn(BaseModel):
    """The printer a station prints on (a printer name), or null for none."""

    printer: str | None


class ScanController(Controller):
    """`POST /api/v1/scans`: the station page's one call."""

    path = "/api/v1/scans"
    tags = ["stations"]  # noqa: RUF012 - Litestar reads this class attribute

    @post(
        "/", summary="Scan a code at a station", guards=allow(*service.roles_at_stations()), status_code=200
    )
    async def scan(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ScanIn],
        idempotency_key: Annotated[str | None, HeaderParameter(name="idempotency-key")] = None,
    ) -> Response[ScanOut]:
        """Results: `recorded`, `already_recorded` (nothing changed), `needs_input` (answer in `inputs`).

        A refusal is a problem (e.g. `invalid_transition`, `bad_check_digit`); every
        scan, refused or not, is kept in the station's log. An answer with a `secret`
        (a licence key, shown once) is `Cache-Control: no-store` and never replayed.
        """
        out = await service.scan(
            data.station,
            data.text,
            principal_of(request),
            action=data.action,
            inputs=data.inputs,
            request_id=current_request_id(),
            idempotency_key=idempotency_key,
            base_url=request.app.state.settings.base_url,
            context=data.context,
        )
        return Response(out, headers={"cache-control": "no-store"} if out.secret else None)


class StationController(Controller):
    """Stations and their recent scans."""

    path = "/api/v1/stations"
    tags = ["stations"]  # noqa: RUF012
    guards = allow(*STAFF)

    @get("/", summary="List stations")
    async def list_stations(self) -> list[StationOut]:
        """Every station with its stage and the actions it performs."""
        return await service.list_stations()

    @get("/{code:str}", summary="Read one station")
    async def read(self, code: FromPath[str]) -> StationOut:
        """A station by its S code."""
        return await service.get_station(code)

    @put("/{code:str}/printer", summary="Set a station's printer", guards=allow(*SUPERVISION))
    async def set_printer(self, code: FromPath[str], data: JSONBody[StationPrinterIn]) -> StationOut:
        """With a printer, the station's scans print their labels without a click; `null` removes it."""
        return await service.set_printer(code, data.printer)

    @get("/{code:str}/context", summary="What a station works on, and its progress")
    async def context(self, request: Request[Any, Any, Any], code: FromPath[str]) -> ContextOut | None:
        """The query is the `context` a scan answered (e.g. `?batch=B…`); null when it designates nothing."""
        wanted = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
        return await service.station_context(code, wanted, principal_of(request))

    @get("/{code:str}/scans", summary="Recent scans at a station")
    async def scans(self, code: FromPath[str]) -> list[ScanLogOut]:
        """The last ten scans, newest first."""
        return await service.recent_scans(code)


class CodeController(Controller):
    """Resolve any scanned text without acting on it."""

    path = "/api/v1/codes"
    tags = ["codes"]  # noqa: RUF012
    guards = allow()

    @get("/{text:path}", summary="Resolve a code, a QR URL, an asset tag or a serial")
    async def resolve(self, request: Request[Any, Any, Any], text: FromPath[str]) -> ThingOut:
        """Checks the code's digit before any lookup; a URL is URL-encoded into the path."""
        return await service.resolve(text.lstrip("/"), principal_of(request))
