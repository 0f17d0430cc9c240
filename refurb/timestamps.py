"""The created/updated columns every table carries."""

from __future__ import annotations

import datetime

from piccolo.columns import Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

__all__ = ("Timestamped", "as_utc", "utcnow")


def utcnow() -> datetime.datetime:
    """Now, timezone-aware, for `auto_update`."""
    return datetime.datetime.now(tz=datetime.UTC)


def as_utc(value: datetime.datetime | str) -> datetime.datetime:
    """A timestamp column as an aware datetime: SQLite gives ISO text, and a naive value is UTC."""
    moment = datetime.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


class Timestamped(Table):
    """Mixin: `created_at` set on insert, `updated_at` on every update."""

    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=utcnow)
