"""JSON API of the workshop: checklists, bench passes, the configurable lists, the workshop view."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from pydantic import BaseModel

from refurb.accounts.guards import allow, principal_of
from refurb.core.roles import SUPERVISION, WORKSHOP, Role
from refurb.devices.api import IdempotencyKey
from refurb.web.context import current_request_id
from refurb.web.params import RowId
from refurb.workshop import choices, overview
from refurb.workshop import service as workshop
from refurb.workshop.schemas import (
    ChecklistOut,
    ChoiceIn,
    ChoiceList,
    ChoiceOut,
    ReconditioningIn,
    ReconditioningOut,
    RecordedOut,
    WorkshopView,
)

__all__ = ("WorkshopController",)

READERS = (*WORKSHOP, Role.COORDINATOR, Role.AUDITOR)


class ChoicePatch(BaseModel):
    """Withdraw an entry from a list, or bring it back."""

    active: bool


class WorkshopController(Controller):
    """Reconditioning by the workshops."""

    path = "/api/v1/workshop"
    tags = ["workshop"]  # noqa: RUF012 - Litestar reads this class attribute
    guards = allow(*READERS)

    @get("/checklists/{kind:str}", summary="What a bench tests on a device of this kind")
    async def checklist(self, kind: FromPath[str]) -> ChecklistOut:
        """Functions (optional ones may be `absent`), battery measures, grades with their definitions."""
        return await workshop.checklist(kind)

    @post("/reconditionings", summary="Record a pass over the bench", guards=allow(*WORKSHOP))
    async def record(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ReconditioningIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RecordedOut]:
        """201 when recorded, 200 when already done.

        `refurbished` needs every function `ok` (or `absent` when optional), the battery
        measured, a grade and an OS image; `rejected` needs a reason.
        """
        result = await workshop.record(
            data, principal_of(request), request_id=current_request_id(), idempotency_key=idempotency_key
        )
        return Response(result, status_code=201 if result.result == "recorded" else 200)

    @get("/reconditionings", summary="A device's passes over the bench")
    async def passes(
        self, request: Request[Any, Any, Any], device: FromQuery[str]
    ) -> list[ReconditioningOut]:
        """Newest first, with parts and costs."""
        return await workshop.history(device, principal_of(request))

    @get("/choices", summary="OS images and software profiles")
    async def list_choices(self, which: FromQuery[ChoiceList | None] = None) -> list[ChoiceOut]:
        """`which`: os_image or software_profile. Withdrawn entries stay for past passes."""
        return await choices.list_choices(which)

    @post("/choices", summary="Add an OS image or a software profile", guards=allow(*SUPERVISION))
    async def add_choice(self, data: JSONBody[ChoiceIn]) -> ChoiceOut:
        """A name already in the list is refused (409 `choice_exists`)."""
        return await choices.add(data)

    @patch("/choices/{choice_id:int}", summary="Withdraw or restore an entry", guards=allow(*SUPERVISION))
    async def set_choice(self, choice_id: RowId, data: JSONBody[ChoicePatch]) -> ChoiceOut:
        """Withdrawn entries are no longer offered."""
        return await choices.set_active(choice_id, data.active)

    @get("/view", summary="Work in progress, output per technician and day, returns per workshop")
    async def view(self, days: Annotated[int, QueryParameter(ge=1, le=366)] = 14) -> WorkshopView:
        """`days` bounds the per-technician table (1–366)."""
        return await overview.view(days)
