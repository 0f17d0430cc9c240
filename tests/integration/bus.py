"""Shared set-up of the bus tests: approved households with reserved devices, and a planned round."""

from __future__ import annotations

import base64
import io
import itertools
import zlib
from typing import Any

from refurb.core.kinds import DeviceKind
from tests.integration.test_commission import ALLOCATIONS, in_stock, programme
from tests.integration.test_matching import approved

ROUNDS = "/api/v1/rounds"
QPV = "QN09301M"
OTHER_QPV = "QN09302M"
HELD_ON = "2027-04-10"
_names = itertools.count(1)


def png(width: int = 8, height: int = 4) -> bytes:
    """A real (tiny, white) PNG, as a signature canvas sends."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    raw = b"".join(b"\x00" + b"\xff" * width * 3 for _ in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    out = io.BytesIO()
    out.write(b"\x89PNG\r\n\x1a\n")
    out.write(chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return out.getvalue()


SIGNATURE = "data:image/png;base64," + base64.b64encode(png()).decode()


async def households_with_devices(
    client: Any, coordinator: dict[str, str], count: int, **changes: Any
) -> tuple[int, list[str], list[str]]:
    """A programme with `count` approved households (one laptop each, in `QPV`), each laptop reserved.

    Returns the programme id, the F codes and the D codes, in the same order.
    """
    prog = await programme(client, coordinator, name=f"Programme bus {next(_names)}")
    allocation_ids = await approved(client, coordinator, prog, count, **changes)
    await in_stock(DeviceKind.LAPTOP, "A", count)
    matched = await client.post(f"{ALLOCATIONS}/match-all?programme={prog}", headers=coordinator)
    assert matched.status_code == 200, matched.text
    listed = (await client.get(f"{ALLOCATIONS}?programme={prog}", headers=coordinator)).json()
    by_id = {a["id"]: a for a in listed}
    return prog, [by_id[i]["household"] for i in allocation_ids], [by_id[i]["device"] for i in allocation_ids]


def stop(place: str = "Pied de la tour 12", qpv: str = QPV, **changes: Any) -> dict[str, Any]:
    return {"place": place, "qpv_code": qpv, "partner": "Centre social", "starts_at": "09:00",
            "ends_at": "10:00", "slot_minutes": 30, "slot_capacity": 2, **changes}  # fmt: skip


async def new_round(
    client: Any,
    coordinator: dict[str, str],
    prog: int,
    stops: list[dict[str, Any]] | None = None,
    **changes: Any,
) -> dict[str, Any]:
    body = {"programme": prog, "held_on": HELD_ON, "vehicle": "Bus 1", "staff": ["bus_staff"],
            "stops": stops or [stop()], **changes}  # fmt: skip
    response = await client.post(ROUNDS, json=body, headers=coordinator)
    assert response.status_code == 201, response.text
    return response.json()


async def round_with_households(client: Any, coordinator: dict[str, str], count: int) -> dict[str, Any]:
    """A planned round with `count` households convoked, each with one reserved laptop."""
    prog, households, codes = await households_with_devices(client, coordinator, count)
    planned = await new_round(client, coordinator, prog, [stop(slot_capacity=max(1, count))])
    filled = await client.post(f"{ROUNDS}/{planned['code']}/fill", json={}, headers=coordinator)
    assert filled.status_code == 200, filled.text
    assert filled.json()["convoked"] == count
    return {"programme": prog, "round": planned, "households": households, "devices": codes}


def handover_body(household: str, device: str, **changes: Any) -> dict[str, Any]:
    return {"household": household, "device": device, "terms_version": "remise-2026-12",
            "signature_png": SIGNATURE, "identity_checked": True, "support_given": True,
            "training": "accepted", **changes}  # fmt: skip
