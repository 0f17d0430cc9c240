"""Translations: French by default, English available.

Message ids are English. Catalogues are gettext `.po` files in `web/locale/`,
compiled in memory at start-up by Babel, so there is no build step. The locale
of a request is chosen once (cookie, then `Accept-Language`, then the setting)
and kept in a context variable for templates, errors and the domain's messages.
"""

from __future__ import annotations

import datetime
import io
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.dates import format_time as babel_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

from refurb.core.errors import DomainError
from refurb.core.i18n import Plural

__all__ = (
    "LOCALES",
    "LOCALE_COOKIE",
    "current_locale",
    "format_date",
    "format_datetime",
    "format_money",
    "format_number",
    "format_time",
    "gettext",
    "install",
    "ngettext",
    "pick_locale",
    "render_error",
    "set_timezone",
    "use_locale",
)

LOCALES = ("fr", "en")
LOCALE_COOKIE = "refurb_locale"
LOCALE_DIR = Path(__file__).parent / "locale"

_current: ContextVar[str] = ContextVar("refurb_locale", default="fr")
_catalogues: dict[str, NullTranslations] = {}
_timezone: list[datetime.tzinfo] = [ZoneInfo("Europe/Paris")]  # set from the settings by the app


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
    """Translate into the current locale (a counted `Plural` in the form its count needs)."""
    if isinstance(message, Plural) and message.count is not None:
        return ngettext(str(message), message.plural, message.count)
    return _catalogue(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate a message that depends on a count."""
    return _catalogue(_current.get()).ngettext(singular, plural, count)


def set_timezone(tz: datetime.tzinfo) -> None:
    """The zone people read times in (the deployment's `REFURB_TIMEZONE`)."""
    _timezone[0] = tz


def local_today() -> datetime.date:
    """Today where the programme works (the deployment's time zone), not in UTC."""
    return datetime.datetime.now(_timezone[0]).date()


Number = int | float | Decimal


def format_number(value: Number | None, digits: int | None = None) -> str:
    """A number the reader's way (`1 234,5` in French); `digits` fixes the decimals."""
    if value is None:
        return ""
    pattern = None if digits is None else ("#,##0." + "0" * digits if digits else "#,##0")
    return format_decimal(value, format=pattern, locale=current_locale(), decimal_quantization=True)


def format_money(value: Number | None, currency: str = "EUR") -> str:
    """An amount with its currency (`1 234,50 €` in French, `€1,234.50` in English).

    Babel's French uses a narrow no-break space (U+202F) between thousands and
    a no-break space (U+00A0) before the sign, so an amount never breaks a line.
    """
    if value is None:
        return ""
    return format_currency(value, currency, locale=current_locale())


def _aware(value: datetime.datetime) -> datetime.datetime:
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def format_datetime(value: datetime.datetime | None, width: str = "medium") -> str:
    """A moment in the deployment's time zone, the reader's way (`4 déc. 2026, 12:05:00`)."""
    if value is None:
        return ""
    return babel_datetime(_aware(value), width, tzinfo=_timezone[0], locale=current_locale())


def format_date(value: datetime.date | str | None, width: str = "medium") -> str:
    """A day the reader's way (`4 déc. 2026`).

    A moment is first put in the local zone; an ISO day (`2026-12-04`, how some
    services hand days to pages) is read as a day.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value)
    if isinstance(value, datetime.datetime):
        value = _aware(value).astimezone(_timezone[0]).date()
    return babel_date(value, width, locale=current_locale())


def format_time(value: datetime.datetime | None, width: str = "medium") -> str:
    """A time of day in the deployment's time zone."""
    if value is None:
        return ""
    return babel_time(_aware(value), width, tzinfo=_timezone[0], locale=current_locale())


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
    """Give a Jinja environment the current locale's `_()`/`gettext()`/`ngettext()` and formats.

    Filters: `number`, `money`, `date`, `datetime`, `time`; the same functions as
    `format_*` globals for the templates that call them.
    """
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(gettext, ngettext, newstyle=True)
    formats = {
        "number": format_number,
        "money": format_money,
        "date": format_date,
        "datetime": format_datetime,
        "time": format_time,
    }
    environment.filters.update(formats)
    environment.globals.update({f"format_{name}": function for name, function in formats.items()})
