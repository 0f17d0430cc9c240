"""The workshop's records: bench passes, parts, configurable lists, licences, recycling lots."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)

from refurb.accounts.tables import Organisation, User
from refurb.devices.tables import Device
from refurb.stations.tables import Station
from refurb.timestamps import Timestamped

__all__ = (
    "TABLES",
    "LicenceAssignment",
    "LicenceKey",
    "LicencePool",
    "Part",
    "Reconditioning",
    "RecyclingLot",
    "RecyclingLotDevice",
    "WorkshopChoice",
)


class WorkshopChoice(Timestamped):
    """An entry of a list the workshop configures: OS images, software profiles."""

    list = Varchar(length=20)  # "os_image" | "software_profile"
    name = Varchar(length=100)
    active = Boolean(default=True)


class Reconditioning(Timestamped):
    """One pass of a device over the bench: every function tested, the outcome, the time spent."""

    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, index=True)
    technician = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    technician_name = Varchar(length=80, default="")
    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=True)
    station = ForeignKey(references=Station, on_delete=OnDelete.restrict, null=True)
    kind = Varchar(length=20)
    checks = JSON(default={})  # function → "ok" | "faulty" | "absent"
    battery_health = Integer(null=True, default=None)  # percent of design capacity
    battery_cycles = Integer(null=True, default=None)
    cpu = Varchar(length=200, default="")
    ram = Varchar(length=100, default="")
    storage = Varchar(length=200, default="")
    specs_source = Varchar(length=10, default="form")  # "workbench" | "form"
    os_image = Varchar(length=100, default="")
    software_profile = Varchar(length=100, default="")
    grade = Varchar(length=1, null=True, default=None)
    minutes = Integer(default=0)
    outcome = Varchar(length=10)  # "passed" | "failed"
    reason = Varchar(length=20, null=True, default=None)  # failed: "parts_harvest" | "recycling"
    note = Text(default="")
    parts_cost_cents = Integer(default=0)


class Part(Timestamped):
    """A part replaced or added during a pass, with what it cost."""

    reconditioning = ForeignKey(
        references=Reconditioning, on_delete=OnDelete.restrict, null=False, index=True
    )
    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=20)  # ram, ssd, hdd, battery, keyboard, screen, charger, other
    description = Varchar(length=200, default="")
    cost_cents = Integer(default=0)
    serial = Varchar(length=100, null=True, default=None)


class LicencePool(Timestamped):
    """Licences bought (or free) for one OS under one programme; a free OS has no keys."""

    name = Varchar(length=120, unique=True)
    os = Varchar(length=100)  # the OS image it licenses, e.g. "Windows 11 Pro"
    licence_type = Varchar(length=60)  # printed on the licence label, e.g. "MAR Citizenship"
    programme = Varchar(length=100, default="")
    supplier = Varchar(length=200, default="")
    unit_cost_cents = Integer(default=0)
    quantity = Integer(null=True, default=None)  # keys bought; None for a free OS
    expires_on = Date(null=True, default=None)
    needs_key = Boolean(default=True)
    low_stock = Integer(default=10)  # warn when fewer keys than this are left
    active = Boolean(default=True)


class LicenceKey(Timestamped):
    """One product key, encrypted; its fingerprint recognises a second import."""

    pool = ForeignKey(references=LicencePool, on_delete=OnDelete.restrict, null=False, index=True)
    secret = Text()  # Fernet token of the key
    fingerprint = Varchar(length=64, unique=True)  # HMAC-SHA256 of the key
    status = Varchar(length=10, default="available", index=True)  # available | assigned | void


class LicenceAssignment(Timestamped):
    """A licence given to a device: the key (if the pool has keys), the COA sticker, who and when."""

    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, index=True)
    pool = ForeignKey(references=LicencePool, on_delete=OnDelete.restrict, null=False)
    key = ForeignKey(references=LicenceKey, on_delete=OnDelete.restrict, null=True)
    coa = Varchar(length=60, null=True, default=None)
    assigned_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    assigned_by_name = Varchar(length=80, default="")
    station = ForeignKey(references=Station, on_delete=OnDelete.restrict, null=True)
    unassigned_at = Timestamptz(null=True, default=None)
    unassign_reason = Varchar(length=500, default="")


class RecyclingLot(Timestamped):
    """A pallet of rejected devices handed to a recycler: one line of the waste register."""

    reference = Varchar(length=30, unique=True)
    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=True)
    status = Varchar(length=12, default="open")  # open | handed_over
    recycler = Varchar(length=200, default="")
    recycler_siret = Varchar(length=14, default="")
    eco_organism = Varchar(length=100, default="")
    carrier = Varchar(length=200, default="")
    handed_over_on = Date(null=True, default=None)
    weight_kg = Numeric(digits=(10, 1), null=True, default=None)
    waste_code = Varchar(length=10, default="")  # European waste list, e.g. "16 02 14" or "16 02 13*"
    treatment_code = Varchar(length=5, default="")  # R/D code of the treatment, e.g. "R4"
    bsd = Varchar(length=40, default="")  # hazardous-waste tracking slip (Trackdéchets) reference
    created_by_name = Varchar(length=80, default="")


class RecyclingLotDevice(Timestamped):
    """A rejected device on a recycling lot (one lot per device)."""

    lot = ForeignKey(references=RecyclingLot, on_delete=OnDelete.restrict, null=False, index=True)
    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, unique=True)


#: This area's tables, registered with the database by `wiring` (in dependency order).
TABLES = (
    WorkshopChoice,
    Reconditioning,
    Part,
    LicencePool,
    LicenceKey,
    LicenceAssignment,
    RecyclingLot,
    RecyclingLotDevice,
)
