"""Lifecycle actions through the HTTP API, on both engines."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from refurb.core.lifecycle import Action, State
from refurb.devices.tables import DeviceEvent
from tests.fixtures.lifecycle import DESIGN
from tests.helpers import device_row, event_count, event_rows, new_device

# Checks already answered by a built area, and their refusal when the evidence is missing.
ANSWERED_CHECKS = {
    Action.RECEIVE: "asset_tag_not_printed",
    Action.COLLECT: "agreement_missing",
    Action.SANITIZE: "media_not_sanitized",
    Action.RECYCLE: "media_not_disposed",
    Action.STOCK: "location_required",
    Action.LICENSE: "licence_not_assigned",
    Action.REFURBISH: "tests_not_recorded",
    Action.RESERVE: "allocation_missing",
    Action.RELEASE: "allocation_missing",
    Action.DISPATCH: "round_required",
    Action.UNLOAD: "round_required",
    Action.HAND_OVER: "household_required",
}


@pytest.mark.parametrize("action", list(Action))
async def test_every_state_for_one_action(client, as_user, action: Action) -> None:
    """Each state × this action: recorded, already recorded, refused by a pending check, or invalid."""
    sources, target, guarded, reason = DESIGN[action]
    payload = {"reason": "tested"} if reason else {}
    for state in State:
        device = await new_device(state)
        before = await event_count()
        response = await client.post(
            f"/api/v1/devices/{device.code}/actions/{action.value}", json=payload, headers=as_user("admin")
        )
        body = response.json()
        row = await device_row(device.code)
        if state in sources and not guarded:
            assert response.status_code == 201, (state, body)
            assert body["outcome"] == "recorded"
            assert body["event"]["from_state"] == state.value
            assert body["event"]["to_state"] == target.value
            assert row["state"] == target.value
            assert row["version"] == 2
            assert await event_count() == before + 1
            continue
        if state is target:  # brought in already in this state: the step counts as done
            assert response.status_code == 200, (state, body)
            assert body["outcome"] == "already_recorded"
            assert body["event"]["action"] == "import"
            assert await event_count() == before
            continue
        expected = (
            ANSWERED_CHECKS.get(action, "guard_not_available") if state in sources else "invalid_transition"
        )
        assert response.status_code == 409, (state, body)
        assert response.headers["content-type"] == "application/problem+json"
        assert body["code"] == expected, (state, body)
        assert body["status"] == 409
        assert row["state"] == state.value
        assert row["version"] == 1
        assert await event_count() == before


async def test_a_pending_check_names_what_it_waits_for(client, as_user, monkeypatch) -> None:
    """Every check is answered today; one whose area were not wired refuses, naming the area it waits for."""
    from refurb.core.lifecycle import Check
    from refurb.devices import registry

    monkeypatch.delitem(registry._checks, Check.ROUND_OPEN)
    device = await new_device(State.RESERVED)
    response = await client.post(
        f"/api/v1/devices/{device.code}/actions/dispatch",
        headers=as_user("bus_staff", **{"accept-language": "en"}),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "guard_not_available"
    assert "an open distribution round" in response.json()["detail"]
    assert "distribution" in response.json()["detail"]


async def test_repeating_a_done_step_is_already_recorded(client, as_user) -> None:
    device = await new_device(State.RECEIVED)
    url = f"/api/v1/devices/{device.code}/actions/reject"
    first = await client.post(url, json={"reason": "cracked"}, headers=as_user("technician"))
    again = await client.post(url, json={"reason": "cracked"}, headers=as_user("technician"))
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["outcome"] == "already_recorded"
    assert again.json()["event"]["id"] == first.json()["event"]["id"]
    assert [e["action"] for e in await event_rows(device.code)] == ["import", "reject"]


async def test_fifty_concurrent_identical_transitions_give_one_event(client, as_user) -> None:
    device = await new_device(State.RECEIVED)
    url = f"/api/v1/devices/{device.code}/actions/reject"
    responses = await asyncio.gather(
        *(client.post(url, json={"reason": "water damage"}, headers=as_user("technician")) for _ in range(50))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 49 + [201], [r.text for r in responses if r.status_code not in (200, 201)]
    assert {r.json()["outcome"] for r in responses} == {"recorded", "already_recorded"}
    assert len({r.json()["event"]["id"] for r in responses}) == 1
    events = await event_rows(device.code)
    assert [e["action"] for e in events] == ["import", "reject"]
    row = await device_row(device.code)
    assert row["state"] == "rejected"
    assert row["version"] == 2


async def test_concurrent_mixed_actions_leave_a_consistent_history(client, as_user) -> None:
    """Rejects and mark-missings race: the history is one valid chain; state and version agree."""
    device = await new_device(State.RECEIVED)
    calls = [
        client.post(
            f"/api/v1/devices/{device.code}/actions/{action}",
            json={"reason": "race"},
            headers=as_user("supervisor"),
        )
        for action in ["reject", "mark_missing"] * 10
    ]
    responses = await asyncio.gather(*calls)
    assert {r.status_code for r in responses} <= {200, 201, 409}
    events = await event_rows(device.code)
    for previous, event in itertools.pairwise(events):
        assert event["from_state"] == previous["to_state"]
    row = await device_row(device.code)
    assert row["state"] == events[-1]["to_state"]
    assert row["version"] == len(events)
    assert sum(r.status_code == 201 for r in responses) == len(events) - 1


async def test_event_records_who_when_and_request_id(client, as_user) -> None:
    device = await new_device(State.RECEIVED)
    response = await client.post(
        f"/api/v1/devices/{device.code}/actions/reject",
        json={"reason": "  no power supply  ", "note": "kept for parts"},
        headers=as_user("technician", **{"x-request-id": "req-123"}),
    )
    assert response.status_code == 201
    assert response.headers["x-request-id"] == "req-123"
    event = (await event_rows(device.code))[-1]
    assert event["actor_name"] == "Technician"
    assert event["request_id"] == "req-123"
    history = await client.get(f"/api/v1/devices/{device.code}/events", headers=as_user("auditor"))
    last = history.json()[-1]
    assert last["payload"] == {"reason": "no power supply", "note": "kept for parts"}
    assert last["organisation"] == "Workshop"
    assert last["actor"] == "Technician"


async def test_custody_follows_the_device(client, as_user) -> None:
    device = await new_device(State.HANDED_OVER)
    response = await client.post(
        f"/api/v1/devices/{device.code}/actions/return",
        json={"reason": "keyboard"},
        headers=as_user("technician"),
    )
    assert response.status_code == 201
    assert response.json()["device"]["custodian"] is None  # return does not take custody; receive will


@pytest.mark.parametrize("statement", ["UPDATE device_event SET action = 'x'", "DELETE FROM device_event"])
async def test_events_cannot_be_changed_in_the_database(database, statement: str) -> None:
    await new_device(State.RECEIVED)
    before = await DeviceEvent.select().order_by(DeviceEvent.id)
    with pytest.raises(Exception, match="append-only") as caught:
        await DeviceEvent.raw(statement).run()
    assert "append-only" in str(caught.value)
    assert await DeviceEvent.select().order_by(DeviceEvent.id) == before


async def test_idempotency_key_replays_and_refuses_a_different_body(client, as_user) -> None:
    device = await new_device(State.RECEIVED)
    url = f"/api/v1/devices/{device.code}/actions/reject"
    headers = as_user("technician", **{"idempotency-key": "scan-7f3a"})
    first = await client.post(url, json={"reason": "hinge"}, headers=headers)
    replay = await client.post(url, json={"reason": "hinge"}, headers=headers)
    other = await client.post(url, json={"reason": "screen"}, headers=headers)
    assert first.status_code == 201
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert len(await event_rows(device.code)) == 2


async def test_idempotency_keys_are_per_user(client, as_user) -> None:
    first_device = await new_device(State.RECEIVED)
    second_device = await new_device(State.RECEIVED)
    one = await client.post(
        f"/api/v1/devices/{first_device.code}/actions/reject",
        json={"reason": "a"},
        headers=as_user("technician", **{"idempotency-key": "k1"}),
    )
    two = await client.post(
        f"/api/v1/devices/{second_device.code}/actions/reject",
        json={"reason": "a"},
        headers=as_user("supervisor", **{"idempotency-key": "k1"}),
    )
    assert (one.status_code, two.status_code) == (201, 201)
    assert (await device_row(second_device.code))["state"] == "rejected"


async def test_a_refused_request_is_replayed_too(client, as_user) -> None:
    device = await new_device(State.DECLARED)
    headers = as_user("technician", **{"idempotency-key": "k-refused"})
    url = f"/api/v1/devices/{device.code}/actions/reject"
    first = await client.post(url, json={"reason": "a"}, headers=headers)
    again = await client.post(url, json={"reason": "a"}, headers=headers)
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json()


async def test_concurrent_requests_with_one_key_run_once(client, as_user) -> None:
    device = await new_device(State.RECEIVED)
    headers = as_user("technician", **{"idempotency-key": "burst"})
    url = f"/api/v1/devices/{device.code}/actions/reject"
    responses = await asyncio.gather(
        *(client.post(url, json={"reason": "a"}, headers=headers) for _ in range(10))
    )
    assert {r.status_code for r in responses} <= {201, 409}
    assert [r.json()["code"] for r in responses if r.status_code == 409] == ["idempotency_in_flight"] * sum(
        r.status_code == 409 for r in responses
    )
    assert len(await event_rows(device.code)) == 2


async def test_event_keys_are_per_user(client, as_user) -> None:
    device = await new_device(State.RECEIVED)
    first = await client.post(
        f"/api/v1/devices/{device.code}/actions/reject",
        json={"reason": "a"},
        headers=as_user("technician", **{"idempotency-key": "shared"}),
    )
    second = await client.post(
        f"/api/v1/devices/{device.code}/actions/mark_missing",
        json={"reason": "b"},
        headers=as_user("supervisor", **{"idempotency-key": "shared"}),
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert [e["action"] for e in await event_rows(device.code)] == ["import", "reject", "mark_missing"]


async def test_a_step_done_by_import_is_already_recorded(client, as_user) -> None:
    device = await new_device(State.RECEIVED)
    response = await client.post(
        f"/api/v1/devices/{device.code}/actions/receive", headers=as_user("technician")
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "already_recorded"
    assert response.json()["event"]["action"] == "import"
    assert len(await event_rows(device.code)) == 1


async def test_donors_see_no_names_and_no_notes(client, as_user) -> None:
    device = await new_device(State.RECEIVED)
    await client.post(
        f"/api/v1/devices/{device.code}/actions/reject",
        json={"reason": "Yanis dropped it"},
        headers=as_user("technician"),
    )
    seen_by_donor = (
        await client.get(f"/api/v1/devices/{device.code}/events", headers=as_user("donor"))
    ).json()
    assert seen_by_donor[-1]["actor"] == "Workshop"
    assert seen_by_donor[-1]["payload"] == {}
    seen_by_staff = (
        await client.get(f"/api/v1/devices/{device.code}/events", headers=as_user("auditor"))
    ).json()
    assert seen_by_staff[-1]["actor"] == "Technician"
    assert seen_by_staff[-1]["payload"] == {"reason": "Yanis dropped it"}


def test_transient_refusals_are_not_replayed() -> None:
    from refurb.web.idempotency import _transient

    busy = b'{"code": "device_busy", "status": 409}'
    assert _transient(409, "application/problem+json", busy)
    assert _transient(429, "application/problem+json", b"{}")
    assert _transient(503, "application/problem+json", b"{}")
    assert not _transient(409, "application/problem+json", b'{"code": "invalid_transition"}')
    assert not _transient(201, "application/json", b"{}")
