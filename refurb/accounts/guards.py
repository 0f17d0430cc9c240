"""Role guards: every route declares who may call it."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from refurb.core.errors import Forbidden, NotAuthenticated
from refurb.core.i18n import N_
from refurb.core.principal import Principal
from refurb.core.roles import ALL_ROLES, Role

__all__ = ("PUBLIC", "RoleGuard", "allow", "principal_of")

PUBLIC = "public"


class RoleGuard:
    """Admit the listed roles; 401 without a principal, 403 for other roles."""

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles

    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        """Refuse the connection unless its principal has one of the roles."""
        principal = connection.scope.get("user")
        if not isinstance(principal, Principal):
            if connection.scope.get("auth") == "bearer":
                raise NotAuthenticated(
                    N_("The bearer token is unknown, revoked, or its user is disabled."), code="invalid_token"
                )
            raise NotAuthenticated(N_("Log in, or send a valid bearer token."))
        if principal.role not in self.roles:
            raise Forbidden(N_("A {role} may not use this."), role=principal.role)

    def __repr__(self) -> str:
        return f"RoleGuard({sorted(self.roles)})"


def allow(*roles: Role) -> list[RoleGuard]:
    """Guards for a route open to `roles` (every role when none are given)."""
    return [RoleGuard(frozenset(roles) if roles else ALL_ROLES)]


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal a guard already admitted."""
    principal = connection.scope.get("user")
    assert isinstance(principal, Principal)
    return principal
