"""JSON API for the caller's own account."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from pydantic import BaseModel

from refurb.accounts.guards import allow, principal_of
from refurb.core.roles import OrganisationKind, Role

__all__ = ("MeController",)


class MeOut(BaseModel):
    """Who the credentials belong to."""

    username: str
    display_name: str
    role: Role
    organisation: str
    organisation_kind: OrganisationKind


class MeController(Controller):
    """`GET /api/v1/me`: check a token and see what it may do."""

    path = "/api/v1/me"
    tags = ["accounts"]  # noqa: RUF012 - Litestar reads this class attribute
    guards = allow()

    @get("/", summary="The authenticated user")
    async def me(self, request: Request[Any, Any, Any]) -> MeOut:
        """The user, role and organisation behind the session or token."""
        principal = principal_of(request)
        return MeOut(
            username=principal.username,
            display_name=principal.display_name,
            role=principal.role,
            organisation=principal.organisation_name,
            organisation_kind=principal.organisation_kind,
        )
