"""Erasure is recorded while the device is in the secure area: received, not yet sanitized."""

from __future__ import annotations

from refurb.core.codes import parse_code
from refurb.core.errors import Conflict
from refurb.core.i18n import N_
from refurb.core.lifecycle import State
from refurb.devices.service import DeviceRow

__all__ = ("require_erasure_stage",)


def require_erasure_stage(device: DeviceRow) -> None:
    """Refuse (409 `not_in_erasure`) unless the device is received."""
    if device.state is not State.RECEIVED:
        raise Conflict(
            N_("{ref} is {state}: erasure is recorded for received devices only."),
            code="not_in_erasure",
            ref=parse_code(device.code).display,
            state=device.state,
        )
