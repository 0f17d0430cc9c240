"""Rendering pages with what every template needs."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request
from litestar.response import Template

from refurb.web.i18n import current_locale

__all__ = ("page",)


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """A page with the user, the locale and the request in its context."""
    return Template(
        template_name=template,
        context={"user": request.scope.get("user"), "locale": current_locale(), **context},
        status_code=status_code,
        headers=headers,
        media_type=MediaType.HTML,
    )
