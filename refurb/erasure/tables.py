"""Data-bearing media (the erasure issue adds erasure records, reports and certificates)."""

from __future__ import annotations

from piccolo.columns import BigInt, ForeignKey, OnDelete, Varchar

from refurb.devices.tables import Device
from refurb.timestamps import Timestamped

__all__ = ("Medium",)


class Medium(Timestamped):
    """A disk or other data-bearing part of a device, and where we learnt of it."""

    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=12, default="unknown")  # hdd, ssd, nvme, emmc, usb, sd, other, unknown
    interface = Varchar(length=20, default="")
    manufacturer = Varchar(length=100, default="")
    model = Varchar(length=200, default="")
    serial = Varchar(length=100, null=True, default=None, index=True)
    capacity_bytes = BigInt(null=True, default=None)
    source = Varchar(length=12)  # "declared" (manifest), "detected" (tool report), "technician", "new"
