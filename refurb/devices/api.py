"""JSON API for devices: listing, history, and lifecycle actions."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from refurb.accounts.guards import allow, principal_of
from refurb.core.errors import BadInput
from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.core.roles import Role
from refurb.devices import service
from refurb.devices.schemas import DeviceOut, DevicePage, EventOut, TransitionOut
from refurb.web.context import current_request_id

__all__ = ("DeviceController",)

ACTING_ROLES = (
    Role.ADMIN,
    Role.COORDINATOR,
    Role.TECHNICIAN,
    Role.SUPERVISOR,
    Role.DRIVER,
    Role.BUS_STAFF,
)

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="idempotency-key",
        description="Repeat a request safely: the same key and body give the stored answer.",
    ),
]


class DeviceController(Controller):
    """Donors see only their own organisation's devices; others are 404 to them."""

    path = "/api/v1/devices"
    tags = ["devices"]  # noqa: RUF012 - Litestar reads this class attribute
    guards = allow()

    @get("/", summary="List devices")
    async def list_devices(
        self,
        request: Request[Any, Any, Any],
        state_filter: Annotated[State | None, QueryParameter(name="state")] = None,
        kind: FromQuery[DeviceKind | None] = None,
        batch: Annotated[str | None, QueryParameter(description="Batch code")] = None,
        q: Annotated[
            str | None,
            QueryParameter(
                max_length=service.MAX_SEARCH,
                description="A device's code (any accepted form), serial or donor asset tag; "
                "a batch or location code lists its devices",
            ),
        ] = None,
        page: Annotated[int, QueryParameter(ge=1, le=service.MAX_PAGE)] = 1,
        page_size: Annotated[int | None, QueryParameter(ge=1, le=service.MAX_PAGE_SIZE)] = None,
        limit: Annotated[
            int | None,
            QueryParameter(ge=1, le=service.MAX_PAGE_SIZE, description="Another name for page_size"),
        ] = None,
    ) -> DevicePage:
        """Filter by state, kind, batch and a search; paginated (50 a page unless told), oldest first."""
        if page_size is not None and limit is not None and page_size != limit:
            raise BadInput(
                N_("page_size and limit are the same setting: give one of them."),
                code="conflicting_parameters",
            )
        size = page_size or limit or service.DEFAULT_PAGE_SIZE
        return await service.list_devices(
            principal_of(request),
            state=state_filter,
            kind=kind,
            batch=batch,
            search=q,
            page=page,
            page_size=size,
        )

    @get("/states", summary="Count devices per state")
    async def counts(self, request: Request[Any, Any, Any]) -> dict[str, int]:
        """Every state with its count, zeros included."""
        counts = await service.counts_by_state(principal_of(request))
        return {state.value: count for state, count in counts.items()}

    @get("/{code:str}", summary="Read one device")
    async def read(self, request: Request[Any, Any, Any], code: FromPath[str]) -> DeviceOut:
        """The code may be given in any accepted form (D00012345, D-0001234-5)."""
        return await service.get(code, principal_of(request))

    @get("/{code:str}/events", summary="A device's history")
    async def history(self, request: Request[Any, Any, Any], code: FromPath[str]) -> list[EventOut]:
        """Every event, oldest first; events are never changed or removed."""
        return await service.events(code, principal_of(request))

    @post("/{code:str}/actions/{action:str}", summary="Apply a lifecycle action", guards=allow(*ACTING_ROLES))
    async def act(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        action: FromPath[str],
        idempotency_key: IdempotencyKey = None,
        data: JSONBody[dict[str, Any] | None] = None,
    ) -> Response[TransitionOut]:
        """The body is the action's payload (e.g. `{"reason": "…"}`).

        201 when recorded now; 200 with `outcome: already_recorded` when the
        step was already done (nothing changes, no second event).
        """
        result = await service.transition(
            code,
            action,
            data or {},
            principal_of(request),
            request_id=current_request_id(),
            idempotency_key=idempotency_key,
        )
        return Response(result.out(), status_code=201 if result.outcome == "recorded" else 200)
