"""The shapes the devices service hands to the areas: who acts, a device's keys, what a check sees."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State, Transition
from refurb.core.principal import Principal
from refurb.devices.schemas import DeviceOut, EventOut, TransitionOut

__all__ = (
    "Actor",
    "CheckContext",
    "DeviceRow",
    "DonorDevice",
    "NewDevice",
    "TransitionResult",
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who an event is attributed to; the demo and imports act as a named system."""

    user_id: int | None
    name: str
    organisation_id: int | None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        """The actor of a logged-in user."""
        return cls(principal.user_id, principal.name, principal.organisation_id)


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """The columns a transition and its checks look at."""

    id: int
    code: str
    kind: DeviceKind
    state: State
    version: int
    batch_id: int | None
    donor_id: int | None
    location_id: int | None


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a guard check (or an effect) gets to decide on."""

    device: DeviceRow
    transition: Transition
    payload: Mapping[str, Any]
    principal: Principal
    station_id: int | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewDevice:
    """What a manifest line (or an unexpected arrival) tells about a device."""

    kind: DeviceKind
    manufacturer: str = ""
    model: str = ""
    serial: str | None = None
    asset_tag: str | None = None
    cpu: str = ""
    ram: str = ""
    storage: str = ""
    in_manifest: bool = True


@dataclass(frozen=True, slots=True)
class DonorDevice:
    """A donor's device as an import matches it against a new file."""

    id: int
    code: str
    serial: str | None
    asset_tag: str | None
    batch_id: int
    state: State


@dataclass(frozen=True, slots=True)
class TransitionResult:
    """What a transition did, for the API and the station page."""

    outcome: Literal["recorded", "already_recorded"]
    device: DeviceOut
    event: EventOut

    def out(self) -> TransitionOut:
        """The API representation."""
        return TransitionOut(outcome=self.outcome, device=self.device, event=self.event)
