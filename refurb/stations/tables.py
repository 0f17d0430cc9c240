"""Scanning stations and the log of what was scanned at them."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, OnDelete, Text, Varchar
from piccolo.columns.reference import LazyTableReference

from refurb.accounts.tables import User
from refurb.core.stages import Stage
from refurb.timestamps import Timestamped

# Named without importing them: stations never import printing nor a stage area.
LOCATION = LazyTableReference("Location", module_path="refurb.stock.tables")
PRINTER = LazyTableReference("Printer", module_path="refurb.printing.tables")

__all__ = ("TABLES", "Scan", "Station")


class Station(Timestamped):
    """A bench with a stage and, optionally, the printer its scans print on; an S code."""

    code = Varchar(length=9, unique=True)
    name = Varchar(length=100)
    stage = Varchar(length=16, choices=Stage)
    site = ForeignKey(references=LOCATION, on_delete=OnDelete.restrict, null=True)
    active = Boolean(default=True)
    printer = ForeignKey(references=PRINTER, on_delete=OnDelete.restrict, null=True)


class Scan(Timestamped):
    """One scan at a station and how it ended, newest shown first on the page."""

    station = ForeignKey(references=Station, on_delete=OnDelete.cascade, null=False, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    text = Varchar(length=200)
    code = Varchar(length=9, null=True, default=None)
    action = Varchar(length=20, null=True, default=None)
    result = Varchar(length=24)
    problem_code = Varchar(length=64, null=True, default=None)
    message = Text(default="")


#: This area's tables, registered with the database by `wiring` (in dependency order).
TABLES = (Station, Scan)
