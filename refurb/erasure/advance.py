"""Once every medium passes, the device moves to sanitized and its "data wiped" label prints."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from refurb.core.errors import DomainError
from refurb.core.principal import Principal
from refurb.devices import service as devices
from refurb.printing import service as printing
from refurb.printing.kinds import LabelKind
from refurb.stations.service import StationRow

__all__ = ("print_wiped", "sanitize_passing", "sanitize_ready")


async def sanitize_passing(
    codes: Iterable[str],
    principal: Principal,
    *,
    station_id: int | None = None,
    request_id: str | None = None,
) -> list[str]:
    """Move the received devices whose media all pass to sanitized (in the caller's transaction, if any)."""
    wanted = sorted(set(codes))
    if not wanted:
        return []
    return await devices.transition_many(
        wanted, "sanitize", principal, station_id=station_id, request_id=request_id
    )


async def print_wiped(
    codes: Iterable[str],
    principal: Principal,
    station: StationRow | None,
    *,
    base_url: str,
    request_id: str | None,
) -> None:
    """The "data wiped" label of each device, on the station's printer when it has one."""
    if station is None or station.printer_id is None or not printing.has_provider(LabelKind.WIPED):
        return
    for code in codes:
        # the device is sanitized either way; a label that did not print is reprinted from its page
        with contextlib.suppress(DomainError):
            await printing.print_labels(
                [code],
                LabelKind.WIPED.value,
                principal,
                printing.LabelContext(base_url=base_url),
                printer_row_id=station.printer_id,
                station_id=station.id,
                request_id=request_id,
            )


async def sanitize_ready(
    codes: Iterable[str],
    principal: Principal,
    *,
    station: StationRow | None = None,
    base_url: str = "",
    request_id: str | None = None,
) -> list[str]:
    """Sanitize the received devices whose media all pass and print their labels; the codes that moved."""
    moved = await sanitize_passing(
        codes, principal, station_id=station.id if station else None, request_id=request_id
    )
    await print_wiped(moved, principal, station, base_url=base_url, request_id=request_id)
    return moved
