"""JSON API of D3E recycling: lots of rejected devices, their handover, the waste register."""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, Field

from refurb.accounts.guards import allow, principal_of
from refurb.core.roles import SUPERVISION, Role
from refurb.web.context import current_request_id
from refurb.web.forms import download
from refurb.web.openapi import files
from refurb.workshop import recycling

__all__ = (
    "LOT_READERS",
    "LOT_WRITERS",
    "REGISTER_READERS",
    "RecyclingLotController",
    "WasteRegisterController",
)

LOT_WRITERS = SUPERVISION
LOT_READERS = (*LOT_WRITERS, Role.AUDITOR)
REGISTER_READERS = (*LOT_READERS, Role.COORDINATOR)
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def today_of(request: Request[Any, Any, Any]) -> datetime.date:
    """Today where the workshop is (the deployment's time zone), not on the server's clock."""
    return datetime.datetime.now(request.app.state.settings.tzinfo).date()


class ScanIn(BaseModel):
    """A scanned D code, serial or donor asset tag."""

    text: str = Field(max_length=200)


class RecyclingLotController(Controller):
    """Pallets of rejected devices for the recycler; a handed-over lot is read-only."""

    path = "/api/v1/recycling-lots"
    tags = ["recycling"]  # noqa: RUF012 - Litestar reads this class attribute
    guards = allow(*LOT_READERS)

    @get("/", summary="List recycling lots with their device counts")
    async def list_lots(
        self, status: Annotated[Literal["open", "handed_over"] | None, QueryParameter()] = None
    ) -> list[recycling.LotOut]:
        """Open lots first, then the handed-over ones, newest first."""
        return await recycling.list_lots(status)

    @post("/", summary="Open a new recycling lot", guards=allow(*LOT_WRITERS), status_code=201)
    async def create(self, request: Request[Any, Any, Any]) -> recycling.LotDetail:
        """Its reference is `LOT-<year>-<nnnn>`, in sequence within the year."""
        return await recycling.create_lot(principal_of(request), today=today_of(request))

    @get("/{reference:str}", summary="A recycling lot with its devices")
    async def read(self, reference: FromPath[str]) -> recycling.LotDetail:
        """Devices with their codes, kinds and states."""
        return await recycling.get_lot(reference)

    @post(
        "/{reference:str}/devices",
        summary="Put a scanned rejected device on the lot",
        guards=allow(*LOT_WRITERS),
    )
    async def add_device(
        self, request: Request[Any, Any, Any], reference: FromPath[str], data: JSONBody[ScanIn]
    ) -> Response[recycling.AddOut]:
        """201 when added; 200 with `outcome: already_on_lot` when scanned again (nothing changes)."""
        result = await recycling.add_device(reference, data.text, principal_of(request))
        return Response(result, status_code=201 if result.outcome == "added" else 200)

    @delete(
        "/{reference:str}/devices/{code:str}",
        summary="Take a device off an open lot",
        guards=allow(*LOT_WRITERS),
    )
    async def remove_device(
        self, request: Request[Any, Any, Any], reference: FromPath[str], code: FromPath[str]
    ) -> None:
        """The device stays rejected; only an open lot changes."""
        await recycling.remove_device(reference, code, principal_of(request))

    @post(
        "/{reference:str}/handover",
        summary="Record the handover to the recycler; every device becomes recycled",
        guards=allow(*LOT_WRITERS),
        status_code=200,
    )
    async def hand_over(
        self, request: Request[Any, Any, Any], reference: FromPath[str], data: JSONBody[recycling.HandoverIn]
    ) -> recycling.LotDetail:
        """All or nothing: one device still holding an unsanitized medium refuses it (409 `lot_not_ready`).

        A waste code ending with `*` (hazardous) needs the BSD reference.
        """
        return await recycling.hand_over(
            reference, data, principal_of(request), today=today_of(request), request_id=current_request_id()
        )


class WasteRegisterController(Controller):
    """The chronological register of outgoing waste (one line per handed-over lot)."""

    path = "/api/v1/waste-register"
    tags = ["recycling"]  # noqa: RUF012 - Litestar reads this class attribute
    guards = allow(*REGISTER_READERS)

    @get("/", summary="The waste register, as JSON or CSV", opt=files("application/json", "text/csv"))
    async def register(
        self,
        start: Annotated[datetime.date | None, QueryParameter(name="from")] = None,
        end: Annotated[datetime.date | None, QueryParameter(name="to")] = None,
        output: Annotated[Literal["json", "csv"], QueryParameter(name="format")] = "json",
    ) -> Response[Any]:
        """Lots shipped between `from` and `to` (both included), oldest first.

        `format=csv`: `;`-separated, UTF-8 with BOM, decimal comma, ISO dates, French headings.
        """
        rows = await recycling.waste_register(start, end)
        if output == "csv":
            name = (
                "registre-dechets"
                + (f"-{start.isoformat()}" if start else "")
                + (f"-{end.isoformat()}" if end else "")
            )
            return download(recycling.register_csv(rows), f"{name}.csv", CSV_MEDIA_TYPE)
        return Response(rows)
