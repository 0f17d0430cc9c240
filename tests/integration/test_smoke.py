from __future__ import annotations

from refurb.core.lifecycle import State
from tests.helpers import event_rows, new_device


async def test_health(client) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"]["status"] == "ok"


async def test_reject_through_api(client, as_user) -> None:
    device = await new_device(State.RECEIVED)
    response = await client.post(
        f"/api/v1/devices/{device.code}/actions/reject",
        json={"reason": "broken screen"},
        headers=as_user("technician"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["outcome"] == "recorded"
    assert body["device"]["state"] == "rejected"
    assert [e["action"] for e in await event_rows(device.code)] == ["import", "reject"]
