"""Once every medium passes, the device moves to sanitized and its "data wiped" label prints."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from refurb.core.errors import DomainError
from refurb.core.principal import Principal
from refurb.devices import service as devices
from refurb.devices.service import DeviceRow
from refurb.erasure.media import judge_devices
from refurb.printing import service as printing
from refurb.printing.kinds import LabelKind
from refurb.stations.service import StationRow

__all__ = ("sanitize_ready",)


async def sanitize_ready(
    codes: Iterable[str],
    principal: Principal,
    *,
    station: StationRow | None = None,
    base_url: str = "",
    request_id: str | None = None,
) -> list[str]:
    """Sanitize the received devices whose media all pass; the codes that moved now."""

    async def ready(rows: list[DeviceRow]) -> list[int]:
        return [judged.device.id for judged in await judge_devices(rows) if judged.ready]

    wanted = sorted(set(codes))
    if not wanted:
        return []
    moved = await devices.transition_many(
        wanted,
        "sanitize",
        principal,
        admit=ready,
        station_id=station.id if station else None,
        request_id=request_id,
    )
    if station is not None and station.printer_id is not None and printing.has_provider(LabelKind.WIPED):
        for code in moved:
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
    return moved
