"""Devices and their append-only event history."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.columns.reference import LazyTableReference

from refurb.accounts.tables import Organisation, User
from refurb.core.lifecycle import State
from refurb.timestamps import Timestamped

# Tables of the areas a device points at, named without importing them: the spine never imports an area.
BATCH = LazyTableReference("Batch", module_path="refurb.intake.tables")
LOCATION = LazyTableReference("Location", module_path="refurb.stock.tables")
STATION = LazyTableReference("Station", module_path="refurb.stations.tables")

__all__ = ("TABLES", "Device", "DeviceEvent")


class Device(Timestamped):
    """A donated machine, identified by its D code from the moment it is recorded.

    Only `devices.transitions` writes `state` and `version` (compare-and-set).
    `donor` is the batch's donor, kept on the device so that a donor's view
    needs no other table.
    """

    code = Varchar(length=9, unique=True)
    kind = Varchar(length=20)
    manufacturer = Varchar(length=100, default="")
    model = Varchar(length=200, default="")
    serial = Varchar(length=100, null=True, default=None, index=True)
    asset_tag = Varchar(length=100, null=True, default=None, index=True)
    batch = ForeignKey(references=BATCH, on_delete=OnDelete.restrict, null=True)
    donor = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=True, index=True)
    custodian = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=True)
    location = ForeignKey(references=LOCATION, on_delete=OnDelete.restrict, null=True)
    state = Varchar(length=16, choices=State, index=True)
    version = Integer(default=1)
    in_manifest = Boolean(default=True)  # False: turned up at reception without being declared
    cpu = Varchar(length=200, default="")
    ram = Varchar(length=100, default="")
    storage = Varchar(length=200, default="")
    stocked_at = Timestamptz(null=True, default=None)  # when it last went in stock: its age in stock
    grade = Varchar(length=1, null=True, default=None)  # A/B/C, set by the workshop's passing bench test
    os = Varchar(length=100, default="")  # the OS installed, set by the workshop and the licence


class DeviceEvent(Timestamped):
    """One step in a device's life. Never updated nor deleted (database triggers).

    (device, actor, idempotency_key) is unique: an index made by raw-SQL migrations.
    """

    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, index=True)
    action = Varchar(length=20)
    from_state = Varchar(length=16, null=True, default=None)
    to_state = Varchar(length=16)
    actor = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    actor_name = Varchar(length=80, default="")
    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=True)
    station = ForeignKey(references=STATION, on_delete=OnDelete.restrict, null=True)
    payload = JSON(default={})
    request_id = Varchar(length=64, null=True, default=None)
    idempotency_key = Varchar(length=255, null=True, default=None)


#: This area's tables, registered with the database by `wiring` (in dependency order).
TABLES = (Device, DeviceEvent)
