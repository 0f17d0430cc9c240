"""Stored results of mutating API calls, keyed by `Idempotency-Key`."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, OnDelete, Text, Varchar
from piccolo.columns.reference import LazyTableReference

from refurb.timestamps import Timestamped

USER = LazyTableReference("User", module_path="refurb.accounts.tables")  # accounts sit above the web helpers

__all__ = ("TABLES", "IdempotencyRecord")


class IdempotencyRecord(Timestamped):
    """A key seen from one user: in flight, or done with the response to replay.

    (user, key) is unique: an index made by the raw-SQL migration, since SQLite
    cannot add constraints to an existing table.
    """

    user = ForeignKey(references=USER, on_delete=OnDelete.cascade, null=False)
    key = Varchar(length=255)
    fingerprint = Varchar(length=64)
    state = Varchar(length=10, default="in_flight")
    response_status = Integer(null=True, default=None)
    response_content_type = Varchar(length=100, null=True, default=None)
    response_body = Text(null=True, default=None)
    response_headers = JSON(default={})


#: This area's tables, registered with the database by `wiring` (in dependency order).
TABLES = (IdempotencyRecord,)
