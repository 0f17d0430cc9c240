"""Recycling pages: the lots, a lot's scanning page with its handover form, the waste register.

Plain forms (POST, then redirect); a refused form is shown again in place with
its message, and a refused handover lists every device that holds it back.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from pydantic import ValidationError

from refurb.accounts.guards import allow, principal_of
from refurb.core.codes import parse_code
from refurb.core.errors import BadInput, DomainError
from refurb.core.i18n import N_
from refurb.core.lifecycle import State
from refurb.web.forms import Form, form_error
from refurb.web.i18n import gettext
from refurb.web.render import page
from refurb.workshop import recycling
from refurb.workshop.recycling_api import LOT_READERS, LOT_WRITERS, REGISTER_READERS, today_of

__all__ = ("RecyclingPages",)

HANDOVER_FIELDS = (
    "recycler", "recycler_siret", "eco_organism", "carrier", "handed_over_on", "weight_kg", "waste_code",
    "treatment_code", "bsd",
)  # fmt: skip
NOTICES = {
    "added": N_("{ref} is on the lot."),
    "already_on_lot": N_("{ref} was already on this lot."),
    "removed": N_("{ref} was taken off the lot."),
    "handed_over": N_("Lot handed over: its devices are recycled."),
}


def _handover_in(form: dict[str, Any]) -> recycling.HandoverIn:
    """The form's fields as the service wants them: empty means not given, a decimal comma is a point."""
    values = {name: str(form.get(name, "")).strip() for name in HANDOVER_FIELDS}
    values["weight_kg"] = values["weight_kg"].replace(",", ".").replace(" ", "")
    cleaned = {name: value for name, value in values.items() if value}
    if "weight_kg" in cleaned:
        try:
            float(cleaned["weight_kg"])
        except ValueError:
            raise BadInput(
                N_("The weight must be more than 0 kg (to the tenth of a kilogram)."), code="bad_weight"
            ) from None
    return recycling.HandoverIn.model_validate(cleaned)


def _notice(done: str | None, device: str | None) -> str | None:
    if done not in NOTICES:
        return None
    try:
        ref = parse_code(device or "").display
    except DomainError:
        ref = ""
    return gettext(NOTICES[done]).format(ref=ref)


class RecyclingPages(Controller):
    """Rejects to D3E recycling, for the workshop supervisor."""

    path = "/recycling"
    include_in_schema = False

    @get("/", guards=allow(*LOT_READERS))
    async def lots_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Open lots (being filled) and the ones handed over."""
        lots = await recycling.list_lots()
        return page(
            request,
            "workshop/recycling_lots.html",
            open_lots=[lot for lot in lots if lot.status == "open"],
            closed_lots=[lot for lot in lots if lot.status != "open"],
            can_write=principal_of(request).role in LOT_WRITERS,
        )

    @post("/new", guards=allow(*LOT_WRITERS), status_code=303)
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Open a lot, then go scan into it."""
        lot = await recycling.create_lot(principal_of(request), today=today_of(request))
        return Redirect(path=f"/recycling/{lot.reference}", status_code=303)

    @get("/register", guards=allow(*REGISTER_READERS))
    async def register_page(
        self,
        request: Request[Any, Any, Any],
        start: Annotated[datetime.date | None, QueryParameter(name="from")] = None,
        end: Annotated[datetime.date | None, QueryParameter(name="to")] = None,
    ) -> Response[Any]:
        """The chronological register of outgoing waste, and its CSV."""
        query = "&".join(f"{name}={day.isoformat()}" for name, day in (("from", start), ("to", end)) if day)
        return page(
            request,
            "workshop/waste_register.html",
            rows=await recycling.waste_register(start, end),
            start=start,
            end=end,
            csv_url="/api/v1/waste-register?format=csv" + (f"&{query}" if query else ""),
        )

    async def _lot(
        self,
        request: Request[Any, Any, Any],
        reference: str,
        *,
        status_code: int = 200,
        scan_error: str | None = None,
        handover_error: str | None = None,
        refused: list[dict[str, Any]] | None = None,
        values: dict[str, Any] | None = None,
        notice: str | None = None,
    ) -> Response[Any]:
        lot = await recycling.get_lot(reference)
        return page(
            request,
            "workshop/recycling_lot.html",
            status_code=status_code,
            lot=lot,
            can_write=principal_of(request).role in LOT_WRITERS,
            scan_error=scan_error,
            handover_error=handover_error,
            refused=refused or [],
            values=values or {"handed_over_on": today_of(request).isoformat()},
            notice=notice,
            waste_codes=recycling.WASTE_CODES,
            state_labels={s.value: s.label for s in State},
            today=today_of(request).isoformat(),
        )

    @get("/{reference:str}", guards=allow(*LOT_READERS))
    async def lot_page(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        done: Annotated[str | None, QueryParameter()] = None,
        device: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        """Scan rejected devices onto the lot; once weighed and picked up, record the handover."""
        return await self._lot(request, reference, notice=_notice(done, device))

    @post("/{reference:str}/devices", guards=allow(*LOT_WRITERS), status_code=303)
    async def add_device(
        self, request: Request[Any, Any, Any], reference: FromPath[str], data: Form
    ) -> Response[Any]:
        """One scan; the page comes back with the scanner's focus for the next one."""
        try:
            added = await recycling.add_device(reference, str(data.get("text", "")), principal_of(request))
        except DomainError as error:
            message, status = form_error(error)
            return await self._lot(request, reference, status_code=status, scan_error=message)
        return Redirect(
            path=f"/recycling/{added.lot}?done={added.outcome}&device={added.device.code}", status_code=303
        )

    @post("/{reference:str}/devices/{code:str}/remove", guards=allow(*LOT_WRITERS), status_code=303)
    async def remove_device(
        self, request: Request[Any, Any, Any], reference: FromPath[str], code: FromPath[str]
    ) -> Response[Any]:
        """Take a device off the lot."""
        try:
            await recycling.remove_device(reference, code, principal_of(request))
        except DomainError as error:
            message, status = form_error(error)
            return await self._lot(request, reference, status_code=status, scan_error=message)
        return Redirect(
            path=f"/recycling/{quote(reference)}?done=removed&device={quote(code)}", status_code=303
        )

    @post("/{reference:str}/handover", guards=allow(*LOT_WRITERS), status_code=303)
    async def hand_over(
        self, request: Request[Any, Any, Any], reference: FromPath[str], data: Form
    ) -> Response[Any]:
        """Record the pickup; refused, the form comes back filled with what holds it back."""
        values = {name: str(data.get(name, "")) for name in HANDOVER_FIELDS}
        try:
            await recycling.hand_over(
                reference, _handover_in(data), principal_of(request), today=today_of(request)
            )
        except (DomainError, ValidationError) as error:
            message, status = form_error(error)
            refused = error.extra.get("refused", []) if isinstance(error, DomainError) else []
            return await self._lot(
                request, reference, status_code=status, handover_error=message, refused=refused, values=values
            )
        return Redirect(path=f"/recycling/{quote(reference)}?done=handed_over", status_code=303)
