"""Scanning stations and the log of what was scanned at them."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, OnDelete, Text, Varchar

from refurb.accounts.tables import User
from refurb.core.stages import Stage
from refurb.printing.tables import Printer
from refurb.stock.tables import Location
from refurb.timestamps import Timestamped

__all__ = ("Scan", "Station")


class Station(Timestamped):
    """A bench with a stage and, optionally, the printer its scans print on; an S code."""

    code = Varchar(length=9, unique=True)
    name = Varchar(length=100)
    stage = Varchar(length=16, choices=Stage)
    site = ForeignKey(references=Location, on_delete=OnDelete.restrict, null=True)
    active = Boolean(default=True)
    printer = ForeignKey(references=Printer, on_delete=OnDelete.restrict, null=True)


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
