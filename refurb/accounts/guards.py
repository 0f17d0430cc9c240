"""Role guards: every route declares who may call it."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from refurb.core.errors import Forbidden, NotAuthenticated
from refurb.core.i18n import N_
from refurb.core.principal import Principal
from refurb.core.roles import ALL_ROLES, Role

__all__ = ("PUBLIC", "RoleCheck", "RoleGuard", "allow", "check_roles_in_middleware", "principal_of")

PUBLIC = "public"


class RoleGuard:
    """Admit the listed roles; 401 without a principal, 403 for other roles."""

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles

    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        """Refuse the connection unless its principal has one of the roles."""
        _admit(connection.scope, self.roles)

    def __repr__(self) -> str:
        return f"RoleGuard({sorted(self.roles)})"


def _admit(scope: Any, roles: frozenset[Role]) -> None:
    principal = scope.get("user")
    if not isinstance(principal, Principal):
        if scope.get("auth") == "bearer":
            raise NotAuthenticated(
                N_("The bearer token is unknown, revoked, or its user is disabled."), code="invalid_token"
            )
        raise NotAuthenticated(N_("Log in, or send a valid bearer token."))
    if principal.role not in roles:
        raise Forbidden(N_("A {role} may not use this."), role=principal.role)


_ROLES = "refurb_roles"


def check_roles_in_middleware(app: Litestar) -> None:
    """Hand each route's role guards to `RoleCheck`.

    Litestar copies the route handler for every guard call (a tenth of a simple
    request's time); the same check run by the innermost middleware, at the same
    point of the request, costs nothing. A route with any other guard keeps its guards.
    """
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            guards = handler.resolve_guards()
            if guards and all(isinstance(guard, RoleGuard) for guard in guards):
                roles = frozenset.intersection(*(guard.roles for guard in guards))
                handler.opt = {**handler.opt, _ROLES: roles}
                handler._resolved_guards = []  # Litestar's resolved list: RoleCheck checks instead


class RoleCheck:
    """The role guards of a route, as the innermost middleware (where Litestar runs guards)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse before the handler, as the guard would have."""
        roles = scope["route_handler"].opt.get(_ROLES) if "route_handler" in scope else None
        if roles is not None:
            _admit(scope, roles)
        await self.app(scope, receive, send)


def allow(*roles: Role) -> list[RoleGuard]:
    """Guards for a route open to `roles` (every role when none are given)."""
    return [RoleGuard(frozenset(roles) if roles else ALL_ROLES)]


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal a guard already admitted."""
    principal = connection.scope.get("user")
    assert isinstance(principal, Principal)
    return principal
