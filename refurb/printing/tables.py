"""Printers, and the record of every print."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, OnDelete, Text, Varchar

from refurb.accounts.tables import User
from refurb.timestamps import Timestamped

__all__ = ("TABLES", "PrintJob", "PrintedLabel", "Printer")


class Printer(Timestamped):
    """A label printer: raw ZPL over TCP (port 9100), or PDF for the browser's print dialog."""

    name = Varchar(length=100, unique=True)
    driver = Varchar(length=10)  # "zpl-tcp" | "pdf"
    host = Varchar(length=255, null=True, default=None)
    port = Integer(default=9100)
    stock = Varchar(length=40)
    dpi = Integer(default=203)
    active = Boolean(default=True)


class PrintJob(Timestamped):
    """One print request: who, what, where, reprint or not, and whether it printed."""

    user = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    printer = ForeignKey(references=Printer, on_delete=OnDelete.restrict, null=True)
    station = Integer(null=True, default=None)
    kind = Varchar(length=20)
    format = Varchar(length=4)
    stock = Varchar(length=40)
    dpi = Integer()
    codes = JSON(default=[])
    labels = Integer(default=0)
    reprint = Boolean(default=False)
    status = Varchar(length=10)  # "printed" (sent or downloaded) | "failed"
    error = Text(default="")


class PrintedLabel(Timestamped):
    """A code whose label of some kind was printed: the evidence the lifecycle checks read."""

    job = ForeignKey(references=PrintJob, on_delete=OnDelete.restrict, null=False)
    code = Varchar(length=9, index=True)
    kind = Varchar(length=20)


#: This area's tables, registered with the database by `wiring` (in dependency order).
TABLES = (Printer, PrintJob, PrintedLabel)
