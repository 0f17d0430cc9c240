"""Stock locations: site → zone → shelf → bin, each with an L code."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, OnDelete, Varchar

from refurb.timestamps import Timestamped

__all__ = ("TABLES", "Location")


class Location(Timestamped):
    """A place devices are kept; `capacity` None means unlimited."""

    code = Varchar(length=9, unique=True)
    name = Varchar(length=200)
    kind = Varchar(length=10, default="bin")
    parent = ForeignKey(references="self", on_delete=OnDelete.restrict, null=True)
    capacity = Integer(null=True, default=None)


#: This area's tables, registered with the database by `wiring` (in dependency order).
TABLES = (Location,)
