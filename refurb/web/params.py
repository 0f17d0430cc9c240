"""Numbers in paths and queries, bounded where they are declared.

Row ids are PostgreSQL `serial` columns (32 bits). A larger number was a
different answer per engine — 400 from PostgreSQL, 404 from SQLite, and past 64
bits an `OverflowError` (a 500) from SQLite: the bounds refuse it with 400
before a query runs, the same on both, and the OpenAPI tells clients the limits.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias

from litestar.params import PathParameter, QueryParameter

__all__ = ("MAX_ID", "OptionalQueryId", "RowId")

#: The largest row id (a PostgreSQL `serial`).
MAX_ID = 2**31 - 1

RowId: TypeAlias = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
OptionalQueryId: TypeAlias = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]
