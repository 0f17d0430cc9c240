"""What the rounds and hand-over API reads and returns.

A round's answers are pseudonymous (F codes, QPVs, slots) except the round pack's
`greet_name`, given only to the round's own staff and coordinators.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = (
    "AppointmentIn",
    "AppointmentOut",
    "ConflictOut",
    "ConflictResolveIn",
    "FillIn",
    "FillOut",
    "HandoverIn",
    "HandoverOut",
    "MoveIn",
    "PackAppointment",
    "PackDevice",
    "ReconvokeIn",
    "RoundIn",
    "RoundOut",
    "RoundPack",
    "RoundProgress",
    "RoundReport",
    "RoundStatusIn",
    "StopIn",
    "StopOut",
    "StopProgress",
)

TEXT = 200
#: The largest signature PNG accepted, base64 text (a 600×200 canvas is ~10–30 KB).
MAX_SIGNATURE_CHARS = 400_000


class StopIn(BaseModel):
    """One stop of a round: a place, its QPV, the partner structure there, a window cut in slots."""

    place: str = Field(min_length=1, max_length=TEXT)
    qpv_code: str = Field(default="", max_length=20)
    partner: str = Field(default="", max_length=TEXT)
    starts_at: str = Field(max_length=5, description="HH:MM")
    ends_at: str = Field(max_length=5, description="HH:MM")
    slot_minutes: int = Field(default=30, ge=1, le=24 * 60)
    slot_capacity: int = Field(default=4, ge=1, le=1000)


class RoundIn(BaseModel):
    """A round to plan: its programme, day, vehicle, staff (bus_staff usernames) and stops in order."""

    programme: int = Field(ge=1, le=2**31 - 1)
    held_on: datetime.date
    vehicle: str = Field(default="", max_length=100)
    staff: list[str] = Field(default_factory=list, max_length=20)
    stops: list[StopIn] = Field(min_length=1, max_length=40)


class StopOut(BaseModel):
    """A stop with its slots."""

    id: int
    position: int
    place: str
    qpv_code: str
    partner: str
    starts_at: str
    ends_at: str
    slot_minutes: int
    slot_capacity: int
    slots: list[str]


class RoundReport(BaseModel):
    """What closing a round found."""

    delivered: int = 0
    devices_handed_over: int = 0
    absent: int = 0
    devices_back: int = 0
    absent_households: list[str] = Field(default_factory=list)
    next_round: str | None = None


class RoundOut(BaseModel):
    """A round as planned, with where it stands."""

    code: str
    display_code: str
    programme: int
    held_on: datetime.date
    vehicle: str
    staff: list[str]
    status: str
    version: int
    stops: list[StopOut]
    appointments: int
    departed_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    report: RoundReport | None


class RoundStatusIn(BaseModel):
    """The status to move the round to (closing goes through /close)."""

    status: Literal["planned", "loading", "out"]


class AppointmentIn(BaseModel):
    """Convoke a household at a stop and a slot."""

    household: str = Field(max_length=40, description="F code")
    stop: int = Field(ge=1, le=2**31 - 1)
    slot: str = Field(max_length=5, description="HH:MM, one of the stop's slots")


class AppointmentOut(BaseModel):
    """A household's convocation (pseudonymous)."""

    id: int
    household: str
    display_code: str
    qpv_code: str
    round: str
    stop: int
    place: str
    slot: str
    status: str
    moved_to: int | None
    devices: list[str]


class FillIn(BaseModel):
    """Convoke the approved households with reserved devices of these QPVs (default: the stops' QPVs)."""

    qpvs: list[str] = Field(default_factory=list, max_length=100)


class FillOut(BaseModel):
    """How many households were convoked, and how many found no room."""

    convoked: int
    left_without_slot: int
    appointments: list[AppointmentOut]


class ReconvokeIn(BaseModel):
    """The round to convoke a closed round's absent households on."""

    round: str = Field(max_length=40, description="R code")


class MoveIn(BaseModel):
    """Move a convocation to another round (or stop, or slot); the old one stays in the history."""

    round: str = Field(max_length=40, description="R code")
    stop: int = Field(ge=1, le=2**31 - 1)
    slot: str = Field(max_length=5)


class StopProgress(BaseModel):
    """Per stop: households delivered, waiting, absent; devices to load and loaded."""

    stop: int
    place: str
    delivered: int
    waiting: int
    absent: int
    to_load: int
    loaded: int
    handed_over: int


class RoundProgress(BaseModel):
    """The coordinator's live view of a round."""

    round: RoundOut
    stops: list[StopProgress]
    conflicts: int
    receipts: list[str]


class PackDevice(BaseModel):
    """A device reserved for a household of the round."""

    code: str
    display_code: str
    kind: str
    description: str
    serial: str
    state: str
    allocation: int
    mode: str


class PackAppointment(BaseModel):
    """What the tablet needs to greet a household and hand its devices over, offline."""

    household: str
    display_code: str
    greet_name: str
    stop: int
    slot: str
    status: str
    mode: str
    terms: list[str]
    terms_figures: dict[str, Any]
    support: str
    devices: list[PackDevice]


class RoundPack(BaseModel):
    """Everything a tablet stores before departure, for this round only; wiped at closing or after 24 h."""

    round: RoundOut
    terms_version: str
    expires_at: datetime.datetime
    appointments: list[PackAppointment]
    training_sessions: list[str]


class HandoverIn(BaseModel):
    """A hand-over as the tablet records it: the family, the device, the agreement, what was offered."""

    household: str = Field(max_length=40, description="F code")
    device: str = Field(max_length=120, description="D code")
    terms_version: str = Field(max_length=40)
    signature_png: str | None = Field(
        default=None, max_length=MAX_SIGNATURE_CHARS, description="PNG, base64 (a data: URL is accepted)"
    )
    typed_name: str | None = Field(default=None, max_length=TEXT, description="When signing is impossible")
    identity_checked: bool = False
    support_given: bool = False
    training: Literal["accepted", "declined", "none"] = "none"
    training_session: str = Field(default="", max_length=TEXT)
    queued_at: datetime.datetime | None = Field(
        default=None,
        description="When it was done offline (the tablet's clock); a refusal becomes a conflict",
    )


class HandoverOut(BaseModel):
    """A recorded hand-over (or the one already recorded) and where its receipt is."""

    id: int
    outcome: Literal["recorded", "already_recorded"]
    device: str
    household: str
    round: str | None
    mode: str
    terms_version: str
    terms_figures: dict[str, Any]
    without_appointment: bool
    signature_sha256: str
    support: str
    training: str
    household_status: str
    receipt_url: str
    handed_at: datetime.datetime


class ConflictOut(BaseModel):
    """An offline action the server refused on replay, and what became of it."""

    id: int
    round: str | None
    household: str
    device: str
    action: str
    problem_code: str
    detail: str
    queued_at: datetime.datetime | None
    reported_at: datetime.datetime
    actor: str
    resolved_at: datetime.datetime | None
    resolution: str
    resolved_by: str


class ConflictResolveIn(BaseModel):
    """What the coordinator did about a conflict."""

    resolution: str = Field(min_length=1, max_length=1000)
