"""Bad input: a problem with a specific `code`, and nothing changed."""

from __future__ import annotations

import pytest

from refurb.core.codes import CodeType, make_code
from refurb.core.lifecycle import State
from tests.helpers import device_row, event_count, new_device


def _bad_digit(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/devices/hello", 400, "malformed_code"),
        ("/api/v1/devices/D123", 400, "malformed_code"),
        ("/api/v1/devices/{bad}", 400, "bad_check_digit"),
        ("/api/v1/devices/{batch}", 400, "malformed_code"),
        ("/api/v1/devices/Z00012345", 400, "unknown_code_type"),
        ("/api/v1/devices/{unknown}", 404, "not_found"),
        ("/api/v1/codes/{bad}", 400, "bad_check_digit"),
        ("/api/v1/nothing-here", 404, "not_found"),
        ("/api/v1/devices?state=shiny", 400, "validation_error"),
        ("/api/v1/devices?page=0", 400, "validation_error"),
        ("/api/v1/devices?page_size=100000", 400, "validation_error"),
        ("/api/v1/devices?page=1000000000000000000", 400, "validation_error"),
    ],
)
async def test_bad_reads(client, as_user, path: str, status: int, code: str) -> None:
    device = await new_device(State.RECEIVED)
    path = path.format(
        bad=_bad_digit(device.code),
        batch=make_code(CodeType.BATCH, 1).compact,
        unknown=make_code(CodeType.DEVICE, 9_999_999).compact,
    )
    response = await client.get(path, headers=as_user("admin"))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"] == f"/problems/{code}"
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]


async def _post(client, headers, path: str, **kwargs):
    return await client.post(path, headers=headers, **kwargs)


@pytest.mark.parametrize(
    ("action", "kwargs", "status", "code"),
    [
        ("fly", {"json": {}}, 400, "unknown_action"),
        ("sanitize", {"json": {}}, 409, "media_not_sanitized"),
        ("refurbish", {"json": {}}, 409, "invalid_transition"),
        ("reject", {"json": {}}, 400, "reason_required"),
        ("reject", {"json": {"reason": 12}}, 400, "bad_reason"),
        ("reject", {"json": {"reason": "x" * 600}}, 400, "bad_reason"),
        ("reject", {"json": ["not", "an", "object"]}, 400, "validation_error"),
        (
            "reject",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "malformed_json",
        ),
        (
            "reject",
            {"content": b"reason=x", "headers": {"content-type": "text/plain"}},
            415,
            "unsupported_media_type",
        ),
        ("reject", {"json": {"reason": "x", "blob": "y" * 2_000_000}}, 413, "body_too_large"),
        ("reject", {"json": {"reason": "x", "blob": "y" * 20_000}}, 400, "bad_payload"),
    ],
)
async def test_bad_actions_change_nothing(client, as_user, action, kwargs, status, code) -> None:
    device = await new_device(State.RECEIVED)
    before = await event_count()
    kwargs = dict(kwargs)  # the parameters are shared by both engines' runs
    headers = {**as_user("technician"), **kwargs.pop("headers", {})}
    response = await client.post(f"/api/v1/devices/{device.code}/actions/{action}", headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert await event_count() == before
    row = await device_row(device.code)
    assert (row["state"], row["version"]) == ("received", 1)


async def test_wrong_method_is_a_problem(client, as_user) -> None:
    response = await client.delete("/api/v1/devices", headers=as_user("admin"))
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


async def test_problems_speak_the_readers_language(client, as_user) -> None:
    device = await new_device(State.DECLARED)
    url = f"/api/v1/devices/{device.code}/actions/reject"
    french = await client.post(
        url, json={"reason": "x"}, headers=as_user("technician", **{"accept-language": "fr"})
    )
    english = await client.post(
        url, json={"reason": "x"}, headers=as_user("technician", **{"accept-language": "en"})
    )
    assert french.json()["code"] == english.json()["code"] == "invalid_transition"
    assert english.json()["detail"] == "Cannot reject a device that is declared."
    assert french.json()["detail"] == "Action « rejeter » impossible : l'appareil est déclaré."


async def test_browsers_get_an_error_page(client, as_user) -> None:
    response = await client.get("/devices/D123", headers=as_user("admin", accept="text/html"))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "malformed_code" in response.text
    missing = await client.get("/no/such/page", headers={"accept": "text/html"})
    assert missing.status_code == 404
    assert "<html" in missing.text
    assert missing.headers["x-request-id"] in missing.text


async def test_values_the_database_cannot_store_are_bad_input_not_a_crash(client, as_user, engine) -> None:
    """PostgreSQL refuses NUL in text: the request is refused as bad input and writes nothing.

    SQLite stores the character as it is.
    """
    from refurb.stock.tables import Location

    before = await Location.count()
    response = await client.post(
        "/api/v1/locations", json={"name": "Bac\u0000A", "kind": "site"}, headers=as_user("supervisor")
    )
    if engine.kind == "postgres":
        assert (response.status_code, response.json()["code"]) == (400, "bad_value")
        assert await Location.count() == before
    else:
        assert response.status_code == 201, response.text
        assert await Location.count() == before + 1
