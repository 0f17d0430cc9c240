"""Translations: French by default, English available.

Message ids are English. Catalogues are gettext `.po` files in `web/locale/`,
compiled in memory at start-up by Babel, so there is no build step. The locale
of a request is chosen once (cookie, then `Accept-Language`, then the setting)
and kept in a context variable for templates, errors and the domain's messages.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from refurb.core.errors import DomainError

__all__ = (
    "LOCALES",
    "LOCALE_COOKIE",
    "current_locale",
    "gettext",
    "install",
    "ngettext",
    "pick_locale",
    "render_error",
    "use_locale",
)

LOCALES = ("fr", "en")
LOCALE_COOKIE = "refurb_locale"
LOCALE_DIR = Path(__file__).parent / "locale"

_current: ContextVar[str] = ContextVar("refurb_locale", default="fr")
_catalogues: dict[str, NullTranslations] = {}


def _load(locale: str) -> NullTranslations:
    path = LOCALE_DIR / f"{locale}.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def _catalogue(locale: str) -> NullTranslations:
    if locale not in _catalogues:
        _catalogues[locale] = _load(locale)
    return _catalogues[locale]


def current_locale() -> str:
    """The locale of the request being served."""
    return _current.get()


def use_locale(locale: str) -> Any:
    """Make `locale` current; returns the token to reset it."""
    return _current.set(locale if locale in LOCALES else LOCALES[0])


def gettext(message: str) -> str:
    """Translate into the current locale."""
    return _catalogue(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate a message that depends on a count."""
    return _catalogue(_current.get()).ngettext(singular, plural, count)


def render_error(error: DomainError) -> str:
    """A domain refusal in the reader's language."""
    return error.render(gettext)


def pick_locale(cookie: str | None, accept_language: str | None, default: str) -> str:
    """Cookie choice first, then the browser's preference, then the deployment default."""
    if cookie in LOCALES:
        return cookie
    if accept_language:
        ranked: list[tuple[float, int, str]] = []
        for position, part in enumerate(accept_language.split(",")):
            tag, _, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    quality = 0.0
            ranked.append((-quality, position, tag.strip().lower()[:2]))
        for negative_quality, _, language in sorted(ranked):
            if negative_quality < 0 and language in LOCALES:
                return language
    return default if default in LOCALES else LOCALES[0]


def install(environment: Any) -> None:
    """Give a Jinja environment `_()`/`gettext()`/`ngettext()` bound to the current locale."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(gettext, ngettext, newstyle=True)
