"""Rendering pages with what every template needs."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request
from litestar.response import Template
from markupsafe import Markup, escape

from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import DomainError
from refurb.web.i18n import current_locale

__all__ = ("code_link", "code_url", "page")

#: Where each kind of thing has its page (round pages do not exist yet).
CODE_PAGES = {
    CodeType.DEVICE: "/devices/{code}",
    CodeType.BATCH: "/batches/{code}",
    CodeType.LOCATION: "/stock/locations#{code}",
    CodeType.STATION: "/stations/{code}",
    CodeType.CERTIFICATE: "/verify/{code}",
    CodeType.HOUSEHOLD: "/households/{code}",
}


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


def code_url(text: str | None) -> str | None:
    """The page of the thing a code names, or None (not a code, or no page for its kind)."""
    if not text:
        return None
    try:
        code = parse_code(str(text))
    except DomainError:
        return None
    pattern = CODE_PAGES.get(code.type)
    return pattern.format(code=code.compact) if pattern else None


def code_link(text: str | None, name: str | None = None) -> Markup:
    """A code as people read it (`B-0000001-8`), or the thing's name, linked to its page.

    With a name (*Bac A3*, *Atelier 1*) the name is shown and the code stays in
    the link's title, so a reader can still match it against the label. Text
    that is not a code is shown as it is; nothing is shown for None.
    """
    if not text:
        return escape(name or "")
    try:
        code = parse_code(str(text))
    except DomainError:
        return escape(name or text)
    shown = (
        Markup('<span class="code-name">{}</span>').format(name)
        if name
        else Markup("<code>{}</code>").format(code.display)
    )
    pattern = CODE_PAGES.get(code.type)
    if pattern is None:
        return shown
    return Markup('<a href="{}" title="{}" data-code="{}">{}</a>').format(
        pattern.format(code=code.compact), code.display, code.compact, shown
    )
