"""Matching on both engines: only devices with an OS suitable for the use, the shortage saying how many
wait for one, "match all" reserving many devices in one transaction (one event each, its own
allocation as evidence), and matching at once from every door never double-booking."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from refurb.core.errors import BadInput
from refurb.core.kinds import DeviceKind
from refurb.db import write_transaction
from refurb.devices import service as devices
from refurb.devices.tables import Device, DeviceEvent
from refurb.distribution.tables import Allocation
from tests.helpers import event_rows, principal
from tests.integration.test_commission import (
    ALLOCATIONS,
    decide,
    eligible,
    in_stock,
    programme,
    session,
)

MINT = "Linux Mint 21.3"


async def approved(client: Any, headers: dict[str, str], prog: int, count: int, **changes: Any) -> list[int]:
    """`count` households approved in one session, one laptop each (unless `changes` say otherwise)."""
    sid = await session(client, headers, prog)
    for _ in range(count):
        code = await eligible(client, headers, prog, **changes)
        response = await decide(client, headers, sid, household=code, kind="approve")
        assert response.status_code == 201, response.text
    rows = await Allocation.select(Allocation.id).where(Allocation.programme == prog).order_by(Allocation.id)
    return [r["id"] for r in rows]


def payload_of(event: dict[str, Any]) -> Any:
    payload = event["payload"]
    return json.loads(payload) if isinstance(payload, str) else payload


async def record_os(code: str, os: str) -> None:
    """The OS the workshop records when it licenses a device."""
    row = await Device.select(Device.id).where(Device.code == code).first()
    async with write_transaction():
        await devices.set_facts(row["id"], os=os)


async def states(codes: list[str]) -> dict[str, str]:
    rows = await Device.select(Device.code, Device.state).where(Device.code.is_in(codes))
    return {r["code"]: r["state"] for r in rows}


async def test_matching_takes_only_devices_with_an_os_the_programme_accepts(client, as_user) -> None:
    coordinator = as_user("coordinator", **{"accept-language": "fr"})
    prog = await programme(client, coordinator, rules={"suitable_os": ["Linux Mint", "Windows 11"]})
    first, second = await approved(client, coordinator, prog, 2)
    (no_os,) = await in_stock(DeviceKind.LAPTOP, "A", 1, os="", day=0)  # the oldest: no OS recorded yet
    (old_windows,) = await in_stock(DeviceKind.LAPTOP, "A", 1, os="Windows 10 Pro", day=1)
    (mint,) = await in_stock(DeviceKind.LAPTOP, "B", 1, os=MINT, day=2)

    named = await client.post(f"{ALLOCATIONS}/{first}/match", json={"device": no_os}, headers=coordinator)
    assert (named.status_code, named.json()["code"]) == (400, "device_os_unsuitable")
    assert "pas encore de système" in named.json()["detail"]
    refused = await client.post(
        f"{ALLOCATIONS}/{first}/match", json={"device": old_windows}, headers=coordinator
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "device_os_unsuitable")
    assert "Windows 10 Pro" in refused.json()["detail"]
    assert await DeviceEvent.count().where(DeviceEvent.action == "reserve") == 0

    matched = await client.post(f"{ALLOCATIONS}/{first}/match", json={}, headers=coordinator)
    assert (matched.status_code, matched.json()["device"]) == (200, mint)
    none_left = await client.post(f"{ALLOCATIONS}/{second}/match", json={}, headers=coordinator)
    assert (none_left.status_code, none_left.json()["code"]) == (409, "out_of_stock")
    everything = await client.post(f"{ALLOCATIONS}/match-all", headers=coordinator)
    assert everything.json() == {"reserved": 0, "shortage": {"laptop": 1}}
    assert await states([no_os, old_windows, mint]) == {
        no_os: "in_stock",
        old_windows: "in_stock",
        mint: "reserved",
    }

    # The shortage says "not yet": two laptops wait in stock for a suitable OS.
    shortage = (await client.get(f"{ALLOCATIONS}/shortage?programme={prog}", headers=coordinator)).json()
    assert shortage == {
        "programme": prog,
        "by_kind": {"laptop": 1},
        "total": 1,
        "without_suitable_os": {"laptop": 2},
    }
    demand = (await client.get(f"{ALLOCATIONS}/stock-demand?programme={prog}", headers=coordinator)).json()
    assert demand == [
        {
            "kind": "laptop",
            "in_stock_by_grade": {"A": 2},
            "in_stock": 2,
            "reserved": 1,
            "to_match": 1,
            "without_suitable_os": 2,
            "missing": 1,
        }
    ]
    # Across programmes only "no OS recorded" holds a device back.
    everywhere = (await client.get(f"{ALLOCATIONS}/shortage", headers=coordinator)).json()
    assert everywhere["without_suitable_os"] == {"laptop": 1}
    page = await client.get("/allocations", headers=coordinator)
    assert 'data-without-os="laptop"' in page.text
    assert "(1 en stock sans système adapté : pas encore)" in page.text
    view = await client.get("/allocations/stock-demand", headers=coordinator)
    assert '<td data-without-os="laptop">1</td>' in view.text
    shown = await client.get(f"/programmes/{prog}", headers=coordinator)
    assert '<dd id="suitable-os">Linux Mint, Windows 11</dd>' in shown.text

    # Licensed at last: the next match all takes it.
    await record_os(no_os, "Windows 11 Famille")
    again = await client.post(f"{ALLOCATIONS}/match-all", headers=coordinator)
    assert again.json() == {"reserved": 1, "shortage": {}}
    assert (await states([no_os]))[no_os] == "reserved"


async def test_without_an_os_list_any_recorded_os_will_do_and_printers_need_none(client, as_user) -> None:
    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator)
    allocations = await approved(client, coordinator, prog, 1, requests=["laptop", "printer"])
    assert len(allocations) == 2  # a laptop and a printer (none at home)
    (bare,) = await in_stock(DeviceKind.LAPTOP, "A", 1, os="  ", day=0)
    (windows,) = await in_stock(DeviceKind.LAPTOP, "B", 1, os="Windows 11 Pro", day=1)
    (printer,) = await in_stock(DeviceKind.PRINTER, "B", 1, os="", day=0)
    done = await client.post(f"{ALLOCATIONS}/match-all", headers=coordinator)
    assert done.json() == {"reserved": 2, "shortage": {}}
    assert await states([bare, windows, printer]) == {
        bare: "in_stock",
        windows: "reserved",
        printer: "reserved",
    }


async def test_match_all_reserves_each_device_once_with_its_own_allocation_as_evidence(
    client, as_user
) -> None:
    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator)
    allocations = await approved(client, coordinator, prog, 4)
    stock = await in_stock(DeviceKind.LAPTOP, "B", 3)
    (too_worn,) = await in_stock(DeviceKind.LAPTOP, "C", 1, day=-10)  # the oldest, below grade B

    done = await client.post(f"{ALLOCATIONS}/match-all?programme={prog}", headers=coordinator)
    assert done.json() == {"reserved": 3, "shortage": {"laptop": 1}}
    rows = await Allocation.select(Allocation.id, Allocation.status, Allocation.device.code).order_by(
        Allocation.id
    )
    # Decision order, oldest stock first.
    assert [(r["id"], r["status"], r["device.code"]) for r in rows] == [
        (allocations[0], "reserved", stock[0]),
        (allocations[1], "reserved", stock[1]),
        (allocations[2], "reserved", stock[2]),
        (allocations[3], "to_match", None),
    ]
    for allocation, code in zip(allocations, stock, strict=False):
        events = await event_rows(code)
        assert [(e["action"], e["from_state"], e["to_state"], e["actor_name"]) for e in events[1:]] == [
            ("reserve", "in_stock", "reserved", "Coordinator")
        ]
        assert payload_of(events[-1]) == {"allocation": allocation}
    assert len(await event_rows(too_worn)) == 1
    assert (await states([too_worn]))[too_worn] == "in_stock"


async def test_transition_each_moves_each_device_on_its_own_evidence(client, as_user) -> None:
    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator)
    first, second, third = await approved(client, coordinator, prog, 3)
    laptops = await in_stock(DeviceKind.LAPTOP, "A", 3)
    (desktop,) = await in_stock(DeviceKind.DESKTOP, "A", 1)
    boss = await principal("coordinator")

    with pytest.raises(BadInput) as repeated:
        await devices.transition_each(
            [(laptops[0], {"allocation": first}), (laptops[0], {"allocation": second})], "reserve", boss
        )
    assert repeated.value.code == "device_repeated"
    assert await DeviceEvent.count().where(DeviceEvent.action == "reserve") == 0

    # Taken meanwhile by a single reservation: that device stays out of the bulk.
    await devices.transition(laptops[2], "reserve", {"allocation": third}, boss)
    moved = await devices.transition_each(
        [
            (laptops[0], {"allocation": first}),
            (desktop, {"allocation": second}),  # a desktop for a laptop allocation: refused by the check
            (laptops[1], {"allocation": third}),  # its allocation has a device already: refused
            (laptops[2], {"allocation": second}),  # reserved already: not in stock any more
        ],
        "reserve",
        boss,
    )
    assert moved == [laptops[0]]
    assert await states([*laptops, desktop]) == {
        laptops[0]: "reserved",
        laptops[1]: "in_stock",
        laptops[2]: "reserved",
        desktop: "in_stock",
    }
    rows = await Allocation.select(Allocation.id, Allocation.status, Allocation.device.code).order_by(
        Allocation.id
    )
    assert [(r["status"], r["device.code"]) for r in rows] == [
        ("reserved", laptops[0]),
        ("to_match", None),
        ("reserved", laptops[2]),
    ]
    moved = await devices.transition_each(
        [(laptops[1], {"allocation": second}), (desktop, {"allocation": first})], "reserve", boss
    )
    assert moved == [laptops[1]]
    assert payload_of((await event_rows(laptops[1]))[-1]) == {"allocation": second}
    assert [payload_of(e) for e in await event_rows(laptops[0])][1:] == [{"allocation": first}]


async def test_matching_at_once_from_every_door_never_double_books(client, as_user) -> None:
    coordinator, admin = as_user("coordinator"), as_user("admin")
    prog = await programme(client, coordinator)
    allocations = await approved(client, coordinator, prog, 12)
    stock = await in_stock(DeviceKind.LAPTOP, "B", 9)

    calls = [
        client.post(f"{ALLOCATIONS}/match-all", headers=coordinator),
        client.post(f"{ALLOCATIONS}/match-all", headers=admin),
        client.post(f"{ALLOCATIONS}/match-all?programme={prog}", headers=coordinator),
        *(client.post(f"{ALLOCATIONS}/{a}/match", json={}, headers=admin) for a in allocations[:4]),
        *(
            client.post(f"/api/v1/devices/{code}/actions/reserve", json={"allocation": a}, headers=admin)
            for code, a in zip(stock[-3:], allocations[-3:], strict=True)
        ),
    ]
    answers = await asyncio.gather(*calls)
    for answer in answers:
        # 201: the devices API recorded its reserve; 200: matched (or already recorded); 409: taken meanwhile
        assert answer.status_code in (200, 201, 409), answer.text
    rows = await Allocation.select(Allocation.status, Allocation.device).order_by(Allocation.id)
    reserved = [r["device"] for r in rows if r["status"] == "reserved"]
    assert len(reserved) == 9
    assert len(set(reserved)) == 9
    assert sum(1 for r in rows if r["status"] == "to_match" and r["device"] is None) == 3
    assert set((await states(stock)).values()) == {"reserved"}
    reserves = await DeviceEvent.select(DeviceEvent.device).where(DeviceEvent.action == "reserve")
    assert sorted(r["device"] for r in reserves) == sorted(reserved)  # one reserve event per device
    matched = {
        r["device"] for r in await Allocation.select(Allocation.device).where(Allocation.device.is_not_null())
    }
    ids = {r["id"] for r in await Device.select(Device.id).where(Device.code.is_in(stock))}
    assert matched == ids


async def test_two_bulk_reservations_of_the_same_allocations_at_once_give_each_one_device(
    client, as_user
) -> None:
    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator)
    allocations = await approved(client, coordinator, prog, 3)
    ours, theirs = await in_stock(DeviceKind.LAPTOP, "B", 3), await in_stock(DeviceKind.LAPTOP, "B", 3)
    boss, admin = await principal("coordinator"), await principal("admin")

    await asyncio.gather(*(Device.count() for _ in range(4)))  # connections ready: both start at once
    # Different devices, the same allocations: both transactions reach the check together.
    first, second = await asyncio.gather(
        devices.transition_each(
            [(code, {"allocation": a}) for code, a in zip(ours, allocations, strict=True)], "reserve", boss
        ),
        devices.transition_each(
            [(code, {"allocation": a}) for code, a in zip(theirs, allocations, strict=True)], "reserve", admin
        ),
    )
    assert sorted([first, second]) == sorted([[], ours]) or sorted([first, second]) == sorted([[], theirs])
    winner = first or second
    rows = await Allocation.select(Allocation.status, Allocation.device.code).order_by(Allocation.id)
    assert [(r["status"], r["device.code"]) for r in rows] == [("reserved", code) for code in winner]
    loser = theirs if winner == ours else ours
    assert set((await states(winner)).values()) == {"reserved"}
    assert set((await states(loser)).values()) == {"in_stock"}
    assert await DeviceEvent.count().where(DeviceEvent.action == "reserve") == 3
