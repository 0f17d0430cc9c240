"""Query budgets of the hot routes: a change that adds a statement to one fails here, naming the route.

Counted on the app's own connections (`refurb.db.statements`), BEGIN and COMMIT
included, on a second request (the first one warms the code lookups kept in
memory). The budgets are today's counts; lower one when you win a statement back.
PostgreSQL writes a compare-and-set and its event in one statement, SQLite in two.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from refurb import db
from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.stock import service as stock
from tests.helpers import new_batch, new_device, new_station, received
from tests.integration.test_licences import MINT, create_pool
from tests.integration.test_workshop import answers

#: route → {engine: statements}
BUDGETS: dict[str, dict[str, int]] = {
    "POST /api/v1/devices/{code}/actions/mark_missing (plain)": {"sqlite": 6, "postgres": 2},
    "POST /api/v1/devices/{code}/actions/reject (reason, licence effect)": {"sqlite": 7, "postgres": 5},
    "POST /api/v1/devices/{code}/actions/stock (location, capacity check)": {"sqlite": 10, "postgres": 9},
    "POST /api/v1/scans at a put-away station": {"sqlite": 15, "postgres": 12},
    "POST /api/v1/devices/{code}/actions/receive (asset tag printed)": {"sqlite": 7, "postgres": 6},
    "POST /api/v1/scans at a reception station (tag printed)": {"sqlite": 12, "postgres": 9},
    "POST /api/v1/scans at an erasure station (a disk not wiped: refused)": {"sqlite": 13, "postgres": 11},
    "POST /api/v1/scans at a workshop station (the checklist answered)": {"sqlite": 20, "postgres": 17},
    "POST /api/v1/scans at a licensing station (a free OS)": {"sqlite": 19, "postgres": 16},
    "POST /api/v1/scans at a loading station": {"sqlite": 13, "postgres": 10},
    "POST /api/v1/rounds/{code}/handovers": {"sqlite": 24, "postgres": 23},
    "GET /api/v1/devices/{code}": {"sqlite": 2, "postgres": 2},
    "GET /devices/{code} (page)": {"sqlite": 4, "postgres": 4},
    # + the workshop's section: the last pass and the live licence, one statement each
    "GET /devices/{code} (page, after the workshop)": {"sqlite": 6, "postgres": 6},
}


async def _bin() -> Any:
    site = await stock.create_location("Entrepôt", "site")
    return await stock.create_location("Bac A1", "bin", parent_code=site.code, capacity=100)


async def _counted(request: Callable[[], Awaitable[Any]]) -> tuple[Any, list[str]]:
    with db.statements() as log:
        response = await request()
    return response, list(log)


def _within(route: str, engine: str, log: list[str]) -> None:
    budget = BUDGETS[route][engine]
    listing = "\n".join(" ".join(sql.split())[:140] for sql in log)
    assert len(log) <= budget, f"{route} on {engine}: {len(log)} statements, budget {budget}:\n{listing}"


async def _twice(
    make: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[Any]]
) -> tuple[Any, list[str]]:
    await send(await make())  # warms the lookups kept in memory
    thing = await make()
    return await _counted(lambda: send(thing))


@pytest.mark.parametrize(
    ("route", "who", "state", "action", "body"),
    [
        (
            "POST /api/v1/devices/{code}/actions/mark_missing (plain)",
            "supervisor",
            State.IN_STOCK,
            "mark_missing",
            {"reason": "introuvable"},
        ),
        (
            "POST /api/v1/devices/{code}/actions/reject (reason, licence effect)",
            "technician",
            State.RECEIVED,
            "reject",
            {"reason": "cassé"},
        ),
    ],
)
async def test_a_transition_stays_within_its_budget(
    client, as_user, engine, route, who, state, action, body
) -> None:
    headers = as_user(who)

    async def send(device: Any) -> Any:
        response = await client.post(
            f"/api/v1/devices/{device.code}/actions/{action}", json=body, headers=headers
        )
        assert response.status_code == 201, response.text
        return response

    _, log = await _twice(lambda: new_device(state), send)
    _within(route, engine.kind, log)


async def test_a_put_away_stays_within_its_budget(client, as_user, engine) -> None:
    tech = as_user("technician")
    bin_ = await _bin()

    async def by_api(device: Any) -> Any:
        path = f"/api/v1/devices/{device.code}/actions/stock"
        response = await client.post(path, json={"location": bin_.code}, headers=tech)
        assert response.status_code == 201, response.text
        return response

    _, log = await _twice(lambda: new_device(State.LICENSED), by_api)
    _within("POST /api/v1/devices/{code}/actions/stock (location, capacity check)", engine.kind, log)
    station = (await new_station(Stage.STOCK)).code

    async def by_scan(device: Any) -> Any:
        body = {"station": station, "text": device.code, "context": {"location": bin_.code}}
        response = await client.post("/api/v1/scans", json=body, headers=tech)
        assert response.json()["result"] == "recorded", response.text
        return response

    _, log = await _twice(lambda: new_device(State.LICENSED), by_scan)
    _within("POST /api/v1/scans at a put-away station", engine.kind, log)


async def test_reading_a_device_stays_within_its_budget(client, as_user, engine) -> None:
    tech = as_user("technician")

    async def api(device: Any) -> Any:
        return await client.get(f"/api/v1/devices/{device.code}", headers=tech)

    _, log = await _twice(lambda: new_device(State.RECEIVED), api)
    _within("GET /api/v1/devices/{code}", engine.kind, log)

    async def page(device: Any) -> Any:
        response = await client.get(f"/devices/{device.code}", headers={**tech, "accept": "text/html"})
        assert response.status_code == 200
        return response

    _, log = await _twice(lambda: new_device(State.RECEIVED), page)
    _within("GET /devices/{code} (page)", engine.kind, log)
    _, log = await _twice(lambda: new_device(State.LICENSED), page)
    _within("GET /devices/{code} (page, after the workshop)", engine.kind, log)


async def _printed(client: Any, headers: dict[str, str], state: State, batch: Any) -> Any:
    """A device of `batch` whose asset tag is printed (the batch's first reception is behind it)."""
    device = await new_device(state, batch=batch)
    printed = await client.post("/api/v1/labels/print-jobs", json={"codes": [device.code]}, headers=headers)
    assert printed.status_code == 201, printed.text
    return device


async def test_receiving_stays_within_its_budget(client, as_user, engine) -> None:
    tech = as_user("technician")
    batch = await new_batch()

    async def by_api(device: Any) -> Any:
        response = await client.post(f"/api/v1/devices/{device.code}/actions/receive", headers=tech)
        assert response.status_code == 201, response.text
        return response

    _, log = await _twice(lambda: _printed(client, tech, State.COLLECTED, batch), by_api)
    _within("POST /api/v1/devices/{code}/actions/receive (asset tag printed)", engine.kind, log)
    station = (await new_station(Stage.RECEPTION)).code

    async def by_scan(device: Any) -> Any:
        response = await client.post(
            "/api/v1/scans", json={"station": station, "text": device.code}, headers=tech
        )
        assert response.json()["result"] == "recorded", response.text
        return response

    _, log = await _twice(lambda: _printed(client, tech, State.COLLECTED, batch), by_scan)
    _within("POST /api/v1/scans at a reception station (tag printed)", engine.kind, log)


async def test_a_scan_at_each_stage_stays_within_its_budget(client, as_user, engine) -> None:
    tech = as_user("technician")
    free = await create_pool(client, as_user, **MINT)
    cases: list[tuple[str, Stage, Callable[[], Awaitable[str]], dict[str, Any], str]] = [
        (
            "POST /api/v1/scans at an erasure station (a disk not wiped: refused)",
            Stage.ERASURE,
            lambda: received(["WD-BUDGET-1"]),
            {},
            "media_not_sanitized",
        ),
        (
            "POST /api/v1/scans at a workshop station (the checklist answered)",
            Stage.WORKSHOP,
            lambda: _code(State.SANITIZED),
            {"inputs": answers()},
            "recorded",
        ),
        (
            "POST /api/v1/scans at a licensing station (a free OS)",
            Stage.LICENSING,
            lambda: _code(State.REFURBISHED),
            {"inputs": {"pool": str(free["id"]), "coa": ""}},
            "recorded",
        ),
    ]
    for route, stage, make, extra, expected in cases:
        station = (await new_station(stage)).code

        async def send(code: str, station: str = station, extra: dict[str, Any] = extra) -> Any:
            body = {"station": station, "text": code, **extra}
            return await client.post("/api/v1/scans", json=body, headers=tech)

        response, log = await _twice(make, send)
        outcome = response.json().get("result") or response.json().get("code")
        assert outcome == expected, response.text
        _within(route, engine.kind, log)


async def _code(state: State) -> str:
    return (await new_device(state)).code


async def test_the_bus_stays_within_its_budgets(client, as_user, engine) -> None:
    """Loading by scan and a hand-over: the two routes a bus day repeats hundreds of times."""
    from tests.integration.bus import ROUNDS, handover_body, round_with_households

    coordinator, staff = as_user("coordinator"), as_user("bus_staff")
    setup = await round_with_households(client, coordinator, 4)
    code, households, devices = setup["round"]["code"], setup["households"], setup["devices"]
    station = (await new_station(Stage.LOADING)).code
    await client.post("/api/v1/scans", json={"station": station, "text": code}, headers=staff)
    pending = iter(devices)

    async def load(device: str) -> Any:
        body = {"station": station, "text": device, "context": {"round": code}}
        response = await client.post("/api/v1/scans", json=body, headers=staff)
        assert response.json()["result"] == "recorded", response.text
        return response

    async def next_device() -> str:
        return next(pending)

    _, log = await _twice(next_device, load)
    _within("POST /api/v1/scans at a loading station", engine.kind, log)
    for device in devices[2:]:
        await load(device)
    await client.post(f"{ROUNDS}/{code}/status", json={"status": "out"}, headers=staff)
    pairs = iter(zip(households, devices, strict=True))

    async def hand(pair: tuple[str, str]) -> Any:
        response = await client.post(f"{ROUNDS}/{code}/handovers", json=handover_body(*pair), headers=staff)
        assert response.status_code == 201, response.text
        return response

    async def next_pair() -> tuple[str, str]:
        return next(pairs)

    _, log = await _twice(next_pair, hand)
    _within("POST /api/v1/rounds/{code}/handovers", engine.kind, log)
