"""Scanning at stations, and resolving codes."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import pytest

from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.stations.tables import Scan
from tests.helpers import device_row, event_rows, new_batch, new_device, new_station


async def _scan(client, headers, station: str, text: str, **extra):
    return await client.post(
        "/api/v1/scans", json={"station": station, "text": text, **extra}, headers=headers
    )


async def test_a_plain_scan_applies_the_station_action(client, as_user) -> None:
    station = await new_station(Stage.RECEPTION)
    device = await new_device(State.COLLECTED)
    response = await _scan(client, as_user("technician"), station.code, device.display_code)
    # The station has no printer and the asset tag was never printed: a normal step, the label to print.
    assert response.status_code == 200
    assert response.json()["result"] == "needs_label"
    assert response.json()["label"] == {"code": device.code, "kind": "device"}
    assert response.json()["device"]["state"] == "collected"
    assert (await device_row(device.code))["state"] == "collected"
    logged = await Scan.select().where(Scan.station.code == station.code).first()
    assert logged["result"] == "needs_label"
    assert logged["problem_code"] is None
    assert logged["code"] == device.code


async def test_a_mode_that_needs_a_reason_asks_for_it(client, as_user) -> None:
    station = await new_station(Stage.ERASURE)
    device = await new_device(State.RECEIVED)
    headers = as_user("technician", **{"accept-language": "en"})
    ask = await _scan(client, headers, station.code, device.code, action="reject")
    assert ask.status_code == 200
    body = ask.json()
    assert body["result"] == "needs_input"
    assert body["form"]["action"] == "reject"
    assert [f["name"] for f in body["form"]["fields"]] == ["reason"]
    assert len(await event_rows(device.code)) == 1

    done = await _scan(
        client, headers, station.code, device.code, action="reject", inputs={"reason": "cracked case"}
    )
    assert done.status_code == 200
    assert done.json()["result"] == "recorded"
    assert done.json()["message"] == f"{device.display_code} is now rejected."
    events = await event_rows(device.code)
    assert events[-1]["action"] == "reject"
    assert events[-1]["station"] is not None

    again = await _scan(
        client, headers, station.code, device.code, action="reject", inputs={"reason": "cracked case"}
    )
    assert again.json()["result"] == "already_recorded"
    assert len(await event_rows(device.code)) == 2

    log = await client.get(f"/api/v1/stations/{station.code}/scans", headers=headers)
    assert [s["result"] for s in log.json()] == ["already_recorded", "recorded", "needs_input"]


async def test_two_stations_scanning_one_device_give_one_result(client, as_user) -> None:
    first = await new_station(Stage.ERASURE, "bench 1")
    second = await new_station(Stage.ERASURE, "bench 2")
    device = await new_device(State.RECEIVED)
    scans = [
        _scan(client, as_user(user), station.code, device.code, action="reject", inputs={"reason": "r"})
        for user, station in [("technician", first), ("supervisor", second)] * 5
    ]
    responses = await asyncio.gather(*scans)
    assert sorted(r.json()["result"] for r in responses) == ["already_recorded"] * 9 + ["recorded"]
    assert [e["action"] for e in await event_rows(device.code)] == ["import", "reject"]


async def test_scanning_by_donor_asset_tag_or_serial(client, as_user) -> None:
    station = await new_station(Stage.ERASURE)
    device = await new_device(State.RECEIVED, asset_tag="ACME-4411", serial="5CG7361XYZ")
    for text in ("acme-4411", "5CG7361XYZ"):
        response = await _scan(client, as_user("technician"), station.code, text, action="reject")
        assert response.json()["result"] == "needs_input"
        assert response.json()["thing"]["code"] == device.code


@pytest.mark.parametrize(
    ("user", "stage", "text", "extra", "status", "code"),
    [
        ("bus_staff", Stage.RECEPTION, "{device}", {}, 403, "forbidden"),
        ("technician", Stage.RECEPTION, "{bad}", {}, 400, "bad_check_digit"),
        ("technician", Stage.ERASURE, "{batch}", {}, 400, "unexpected_code"),
        ("technician", Stage.RECEPTION, "{device}", {"action": "hand_over"}, 400, "not_a_station_action"),
        ("technician", Stage.RECEPTION, "NO-SUCH-TAG", {}, 404, "not_found"),
        ("technician", Stage.RECEPTION, "", {}, 400, "malformed_code"),
    ],
)
async def test_refused_scans(client, as_user, user, stage, text, extra, status, code) -> None:
    station = await new_station(stage)
    device = await new_device(State.RECEIVED)
    batch = await new_batch()
    text = text.format(
        device=device.code, bad=device.code[:-1] + str((int(device.code[-1]) + 1) % 10), batch=batch.code
    )
    response = await _scan(client, as_user(user), station.code, text, **extra)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert len(await event_rows(device.code)) == 1


async def test_unknown_station(client, as_user) -> None:
    response = await _scan(client, as_user("technician"), "S-0000099-0", "x")
    assert response.status_code in (400, 404)
    assert response.json()["code"] in ("bad_check_digit", "not_found")


async def test_resolving_codes(client, as_user) -> None:
    batch = await new_batch(reference="PO-77")
    device = await new_device(State.RECEIVED, batch=batch, serial="SN-1")
    station = await new_station(Stage.ERASURE)
    headers = as_user("auditor")
    cases = {
        device.code: ("device", device.code),
        device.display_code.lower(): ("device", device.code),
        quote(f"https://refurb.example.org/devices/{device.code}", safe=""): ("device", device.code),
        "sn-1": ("device", device.code),
        batch.code: ("batch", batch.code),
        station.display_code: ("station", station.code),
    }
    for text, (kind, code) in cases.items():
        response = await client.get(f"/api/v1/codes/{text}", headers=headers)
        assert response.status_code == 200, (text, response.text)
        assert (response.json()["type"], response.json()["code"]) == (kind, code)
    assert (await client.get(f"/api/v1/codes/{device.code}", headers=headers)).json()["state"] == "received"


async def test_stations_listing(client, as_user) -> None:
    await new_station(Stage.ERASURE, "Effacement 1")
    response = await client.get("/api/v1/stations", headers=as_user("technician"))
    assert response.status_code == 200
    (station,) = response.json()
    assert station["name"] == "Effacement 1"
    assert station["stage"] == "erasure"
    assert station["actions"] == ["sanitize", "reject"]
