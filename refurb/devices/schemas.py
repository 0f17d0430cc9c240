"""What the devices API reads and returns."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State

__all__ = ("DeviceOut", "DevicePage", "EventOut", "TransitionOut")


class DeviceOut(BaseModel):
    """A device as the API shows it."""

    code: str = Field(examples=["D00012345"])
    display_code: str = Field(examples=["D-0001234-5"])
    kind: DeviceKind
    manufacturer: str
    model: str
    serial: str | None
    asset_tag: str | None = Field(description="The donor's own asset tag")
    batch: str | None = Field(description="Code of the donor batch")
    custodian: str | None = Field(description="Organisation holding the device")
    location: str | None = Field(description="Code of the stock location")
    state: State
    version: int
    in_manifest: bool = Field(default=True, description="False: it turned up without being declared")
    cpu: str = ""
    ram: str = ""
    storage: str = ""
    grade: str | None = Field(default=None, description="A, B or C once the workshop passed it")
    os: str = Field(default="", description="The operating system installed")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class EventOut(BaseModel):
    """One step of a device's history."""

    id: int
    action: str
    from_state: State | None
    to_state: State
    actor: str
    organisation: str | None
    station: str | None
    payload: dict[str, Any]
    request_id: str | None
    at: datetime.datetime


class TransitionOut(BaseModel):
    """The result of an action: recorded now, or recorded before (nothing changed)."""

    outcome: Literal["recorded", "already_recorded"]
    device: DeviceOut
    event: EventOut


class DevicePage(BaseModel):
    """One page of a device listing."""

    items: list[DeviceOut]
    total: int
    page: int
    page_size: int
