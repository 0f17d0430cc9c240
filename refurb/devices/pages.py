"""Device pages: the list and one device with its history."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from refurb.accounts.guards import allow, principal_of
from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import DomainError
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.devices import service
from refurb.web.render import page

__all__ = ("DevicePages", "DeviceShortLink")

PAGE_SIZE = 50


def _batch_code(text: str | None) -> str | None:
    """A batch filter, or none when the text is not a batch code."""
    if not text:
        return None
    try:
        return parse_code(text, expected=CodeType.BATCH).compact
    except DomainError:
        return None


class DevicePages(Controller):
    """Server-rendered pages over the devices service."""

    path = "/devices"
    include_in_schema = False
    guards = allow()

    @get("/")
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        state_filter: Annotated[str | None, QueryParameter(name="state")] = None,
        kind: Annotated[str | None, QueryParameter()] = None,
        batch: Annotated[str | None, QueryParameter()] = None,
        q: Annotated[str | None, QueryParameter(max_length=service.MAX_SEARCH)] = None,
        page_number: Annotated[int, QueryParameter(name="page", ge=1, le=service.MAX_PAGE)] = 1,
    ) -> Response[Any]:
        """Devices filtered by state and kind and searched; unknown filter values are ignored."""
        chosen_state = State(state_filter) if state_filter in set(State) else None
        chosen_kind = DeviceKind(kind) if kind in set(DeviceKind) else None
        chosen_batch = _batch_code(batch)
        result = await service.list_devices(
            principal_of(request),
            state=chosen_state,
            kind=chosen_kind,
            batch=chosen_batch,
            search=q,
            page=page_number,
            page_size=PAGE_SIZE,
        )
        pages = max(1, -(-result.total // PAGE_SIZE))
        return page(
            request,
            "devices/list.html",
            result=result,
            pages=pages,
            state=chosen_state,
            kind=chosen_kind,
            batch=chosen_batch,
            q=(q or "").strip(),
            max_search=service.MAX_SEARCH,
            states=list(State),
            kinds=list(DeviceKind),
        )

    @get("/{code:str}")
    async def device_page(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[Any]:
        """One device and its event timeline, newest first."""
        principal = principal_of(request)
        device = await service.get(code, principal)
        history = await service.events(code, principal)
        sections = await service.sections_for(device, principal)
        return page(
            request, "devices/device.html", device=device, events=list(reversed(history)), sections=sections
        )


class DeviceShortLink(Controller):
    """`/D/{code}`: what the asset tag's QR code opens (short and in capitals, so the QR stays small)."""

    path = "/D"
    include_in_schema = False

    @get("/{code:str}", opt={"public": True})
    async def follow(self, code: FromPath[str]) -> Redirect:
        """To the device's page (which asks to log in first)."""
        return Redirect(
            path=f"/devices/{parse_code(code, expected=CodeType.DEVICE).compact}", status_code=303
        )
