"""Put-away by scanning, on both engines: a location, then its devices; full locations; moves."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.devices import service as devices_service
from refurb.devices.tables import Device
from refurb.stock import service as stock
from tests.helpers import device_row, event_rows, new_device, new_station, principal


async def scan(client: Any, headers: dict[str, str], station: str, text: str, context: dict[str, str]) -> Any:
    return await client.post(
        "/api/v1/scans", json={"station": station, "text": text, "context": context}, headers=headers
    )


async def shelf(capacity: int | None) -> stock.LocationOut:
    site = await stock.create_location("Entrepôt", "site")
    return await stock.create_location(f"Bac {capacity}", "bin", parent_code=site.code, capacity=capacity)


async def test_a_location_then_its_devices_go_in_stock_there(client, as_user) -> None:
    tech = as_user("technician")
    station = (await new_station(Stage.STOCK)).code
    bin_ = await shelf(2)
    devices = [await new_device(State.LICENSED) for _ in range(3)]
    early = await scan(client, tech, station, devices[0].code, {})
    assert early.status_code == 400
    assert early.json()["code"] == "location_required"
    opened = await scan(client, tech, station, bin_.display_code, {})
    assert opened.status_code == 200, opened.text
    assert opened.json()["context"] == {"location": bin_.code}
    context = opened.json()["context"]
    for device in devices[:2]:
        response = await scan(client, tech, station, device.code, context)
        assert response.status_code == 200, response.text
        assert response.json()["result"] == "recorded"
        assert response.json()["device"]["state"] == "in_stock"
        assert response.json()["device"]["location"] == bin_.code
        assert response.json()["context"] == context  # the next device goes there too
    full = await scan(client, tech, station, devices[2].code, context)
    assert full.status_code == 409
    assert full.json()["code"] == "location_full"
    assert (
        "2 of 2"
        in (await scan(client, {**tech, "accept-language": "en"}, station, devices[2].code, context)).json()[
            "detail"
        ]
    )
    assert (await device_row(devices[2].code))["state"] == "licensed"
    again = await scan(client, tech, station, devices[0].code, context)
    assert again.json()["result"] == "already_recorded"
    assert [e["action"] for e in await event_rows(devices[0].code)] == ["import", "stock"]


async def test_a_device_in_stock_scanned_at_another_location_moves(client, as_user) -> None:
    tech = as_user("technician")
    station = (await new_station(Stage.STOCK)).code
    first, second = await shelf(5), await shelf(1)
    device = await new_device(State.LICENSED)
    await scan(client, tech, station, device.code, {"location": first.code})
    moved = await scan(client, tech, station, device.code, {"location": second.code})
    assert moved.json()["result"] == "recorded"
    assert moved.json()["device"]["location"] == second.code
    assert moved.json()["device"]["state"] == "in_stock"
    events = await event_rows(device.code)
    assert [(e["action"], e["from_state"], e["to_state"]) for e in events] == [
        ("import", None, "licensed"),
        ("stock", "licensed", "in_stock"),
        ("move", "in_stock", "in_stock"),
    ]
    payload = events[-1]["payload"]
    payload = payload if isinstance(payload, dict) else __import__("json").loads(payload)
    assert payload == {"from": first.code, "to": second.code}
    other = await new_device(State.LICENSED)
    refused = await scan(client, tech, station, other.code, {"location": second.code})
    assert refused.json()["code"] == "location_full"  # the moved device took the only place


async def test_the_api_puts_away_with_a_location(client, as_user) -> None:
    tech = as_user("technician")
    bin_ = await shelf(None)
    device = await new_device(State.LICENSED)
    path = f"/api/v1/devices/{device.code}/actions/stock"
    missing = await client.post(path, json={}, headers=tech)
    assert (missing.status_code, missing.json()["code"]) == (409, "location_required")
    unknown = await client.post(path, json={"location": "L-9999999-9"}, headers=tech)
    assert unknown.status_code in (400, 404)
    stored = await client.post(path, json={"location": bin_.display_code}, headers=tech)
    assert stored.status_code == 201, stored.text
    assert stored.json()["device"]["location"] == bin_.code
    assert (await device_row(device.code))["location"] == bin_.id


async def test_two_stations_filling_the_last_place_at_once(client, as_user) -> None:
    bin_ = await shelf(1)
    stations = [(await new_station(Stage.STOCK, f"Rangement {i}")).code for i in range(2)]
    devices = [await new_device(State.LICENSED) for _ in range(2)]
    responses = await asyncio.gather(
        *(
            scan(client, as_user(user), station, device.code, {"location": bin_.code})
            for user, station, device in zip(("technician", "supervisor"), stations, devices, strict=True)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    states = sorted([(await device_row(d.code))["state"] for d in devices])
    assert states == ["in_stock", "licensed"]


async def test_stock_levels_count_by_kind_and_location_with_age(client, as_user) -> None:
    tech = as_user("technician")
    station = (await new_station(Stage.STOCK)).code
    bin_a, bin_b = await shelf(10), await shelf(10)
    laptops = [await new_device(State.LICENSED) for _ in range(3)]
    desktop = await new_device(State.LICENSED, kind=DeviceKind.DESKTOP)
    for device in laptops[:2]:
        await scan(client, tech, station, device.code, {"location": bin_a.code})
    await scan(client, tech, station, laptops[2].code, {"location": bin_b.code})
    await scan(client, tech, station, desktop.code, {"location": bin_b.code})
    long_ago = datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC)
    await Device.update({Device.stocked_at: long_ago}).where(Device.code == laptops[0].code)
    levels = (await client.get("/api/v1/stock/levels", headers=as_user("auditor"))).json()
    assert levels["total"] == 4
    assert levels["old"] == 1
    assert levels["by_kind"] == {"desktop": 1, "laptop": 3}
    assert {(r["location"], r["kind"], r["count"], r["old"]) for r in levels["rows"]} == {
        (bin_a.code, "laptop", 2, 1),
        (bin_b.code, "laptop", 1, 0),
        (bin_b.code, "desktop", 1, 0),
    }
    assert all(r["location_path"].startswith("Entrepôt / Bac") for r in levels["rows"])
    page = await client.get("/stock", headers={**as_user("coordinator"), "accept-language": "en"})
    assert page.status_code == 200
    row = page.text.split(f'data-location="{bin_a.code}"')[1].split("</tr>")[0]
    assert '<td data-kind="laptop">2</td>' in row
    assert "<td>Jan 5, 2026</td><td>1</td>" in row
    assert (await client.get("/api/v1/stock/levels", headers=as_user("donor"))).status_code == 403


async def test_a_stock_take_lists_missing_and_extra_devices(client, as_user) -> None:
    tech = as_user("technician")
    station = (await new_station(Stage.STOCK)).code
    here, there = await shelf(10), await shelf(10)
    mine = [await new_device(State.LICENSED) for _ in range(3)]
    stray = await new_device(State.LICENSED)
    for device in mine:
        await scan(client, tech, station, device.code, {"location": here.code})
    await scan(client, tech, station, stray.code, {"location": there.code})
    typed = f"D-{mine[1].code[1:8]}-{mine[1].code[8]}"
    scanned = [mine[0].code, typed, mine[0].code, stray.code, "hello", "D00000001"]
    take = await client.post(
        "/api/v1/stock/takes", json={"location": here.code, "scanned": scanned}, headers=tech
    )
    assert take.status_code == 200, take.text
    body = take.json()
    assert body["expected"] == 3
    assert body["found"] == [mine[0].code, mine[1].code]
    assert body["missing"] == [mine[2].code]
    assert [(m["code"], m["recorded_at"]) for m in body["extra"]] == [(stray.code, there.code)]
    assert body["unreadable"] == ["hello", "D00000001"]
    assert [e["action"] for e in await event_rows(mine[2].code)] == ["import", "stock"]  # nothing changed


async def test_stock_levels_by_kind_grade_and_os(client, as_user) -> None:
    bin_ = await shelf(None)
    technician = await principal("technician")
    for grade, os_name in (
        ("A", "Windows 11 Pro"),
        ("A", "Windows 11 Pro"),
        ("B", "Linux Mint 22"),
        (None, ""),
    ):
        device = await new_device(State.LICENSED)
        ref = await devices_service.device_ref(device.code, technician)
        await devices_service.set_facts(ref.id, grade=grade, os=os_name)
        await devices_service.transition(device.code, "stock", {"location": bin_.code}, technician)
    levels = (await client.get("/api/v1/stock/levels", headers=as_user("coordinator"))).json()
    assert [(p["kind"], p["grade"], p["os"], p["count"]) for p in levels["profiles"]] == [
        ("laptop", "A", "Windows 11 Pro", 2),
        ("laptop", "B", "Linux Mint 22", 1),
        ("laptop", None, "", 1),
    ]
    assert levels["by_grade"] == {"A": 2, "B": 1, "—": 1}
    assert levels["by_os"] == {"Linux Mint 22": 1, "Windows 11 Pro": 2, "—": 1}
    assert [(r["location"], r["count"]) for r in levels["rows"]] == [(bin_.code, 4)]
    page = await client.get("/stock", headers=as_user("coordinator"))
    assert 'data-grade="A" data-os="Windows 11 Pro"><td>' in page.text
