"""What the workshop API reads and returns."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from refurb.core.kinds import DeviceKind
from refurb.devices.schemas import DeviceOut

__all__ = (
    "ChecklistOut",
    "ChoiceIn",
    "ChoiceOut",
    "FunctionOut",
    "GradeOut",
    "PartIn",
    "PartOut",
    "ReconditioningIn",
    "ReconditioningOut",
    "RecordedOut",
    "WorkshopView",
)

Outcome = Literal["refurbished", "rejected"]
RejectReason = Literal["parts_harvest", "recycling"]
ChoiceList = Literal["os_image", "software_profile"]


class PartIn(BaseModel):
    """A part replaced or added."""

    kind: Literal["ram", "ssd", "hdd", "battery", "keyboard", "screen", "charger", "other"]
    description: str = Field(default="", max_length=200)
    cost: Decimal = Field(default=Decimal(0), ge=0, le=10_000, decimal_places=2, description="Euros")
    serial: str | None = Field(default=None, max_length=100, description="A new disk's serial")
    capacity_gb: int | None = Field(default=None, ge=1, le=100_000, description="A new disk's capacity")


class ReconditioningIn(BaseModel):
    """One pass over the bench: the answer for every function of the device's kind, and the outcome."""

    device: str = Field(max_length=100, description="D code, serial or asset tag")
    checks: dict[str, Literal["ok", "faulty", "absent"]] = Field(
        default_factory=dict, description="Function → result; see GET /api/v1/workshop/checklists/{kind}"
    )
    all_works: bool = Field(
        default=False,
        description="Everything works: each function not answered in `checks` is recorded `ok` "
        "(an explicit `faulty` or `absent` wins)",
    )
    battery_health: int | None = Field(default=None, ge=0, le=100, description="% of design capacity")
    battery_cycles: int | None = Field(default=None, ge=0, le=20_000)
    cpu: str | None = Field(default=None, max_length=200, description="Only without a Workbench snapshot")
    ram: str | None = Field(default=None, max_length=100)
    storage: str | None = Field(default=None, max_length=200)
    parts: list[PartIn] = Field(default_factory=list, max_length=20)
    os_image: str | None = Field(default=None, max_length=100)
    software_profile: str | None = Field(default=None, max_length=100)
    grade: Literal["A", "B", "C"] | None = None
    minutes: int = Field(ge=1, le=24 * 60, description="Time spent on the device")
    outcome: Outcome = "refurbished"
    reason: RejectReason | None = Field(default=None, description="Why a rejected device is rejected")
    note: str = Field(default="", max_length=500)


class PartOut(BaseModel):
    """A part as recorded."""

    kind: str
    description: str
    cost: Decimal
    serial: str | None


class ReconditioningOut(BaseModel):
    """A recorded pass."""

    id: int
    device: str
    kind: DeviceKind
    technician: str
    checks: dict[str, str]
    battery_health: int | None
    battery_cycles: int | None
    cpu: str
    ram: str
    storage: str
    specs_source: Literal["workbench", "form"]
    os_image: str
    software_profile: str
    grade: str | None
    minutes: int
    outcome: str
    reason: str | None
    note: str
    parts: list[PartOut]
    parts_cost: Decimal
    at: datetime.datetime


class RecordedOut(BaseModel):
    """A pass and the device after it."""

    result: Literal["recorded", "already_recorded"]
    reconditioning: ReconditioningOut | None
    device: DeviceOut


class FunctionOut(BaseModel):
    """A function to test."""

    name: str
    label: str
    optional: bool


class GradeOut(BaseModel):
    """A grade and its written definition."""

    grade: str
    definition: str
    min_battery: int


class ChecklistOut(BaseModel):
    """What a bench needs to test a device of this kind."""

    kind: DeviceKind
    functions: list[FunctionOut]
    battery: bool = Field(description="Battery health (%) and, for laptops, cycles are measured")
    needs_os: bool
    grades: list[GradeOut]
    os_images: list[str]
    software_profiles: list[str]


class ChoiceIn(BaseModel):
    """An entry of a configurable list."""

    list: ChoiceList
    name: str = Field(min_length=1, max_length=100)
    active: bool = True


class ChoiceOut(BaseModel):
    """An entry of a configurable list."""

    id: int
    list: ChoiceList
    name: str
    active: bool


class WorkshopView(BaseModel):
    """Work in progress, output per technician and day, non-conformities."""

    in_progress: dict[str, int] = Field(description="Devices per stage waiting in the workshop")
    per_technician: list[dict[str, object]]
    per_workshop: list[dict[str, object]]
    returns: list[dict[str, object]]
