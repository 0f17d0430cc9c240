"""Bad input: a problem with a specific `code`, and nothing changed."""

from __future__ import annotations

import asyncpg
import pytest

from refurb.core.codes import CodeType, make_code
from refurb.core.errors import BadInput
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
    assert french.json()["detail"] == "Action «\u00a0rejeter\u00a0» impossible\u00a0: l'appareil est déclaré."


async def test_browsers_get_an_error_page(client, as_user) -> None:
    response = await client.get("/devices/D123", headers=as_user("admin", accept="text/html"))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "malformed_code" in response.text
    missing = await client.get("/no/such/page", headers={"accept": "text/html"})
    assert missing.status_code == 404
    assert "<html" in missing.text
    assert missing.headers["x-request-id"] in missing.text


async def test_a_nul_character_is_refused_the_same_on_both_engines(client, as_user) -> None:
    """SQLite would store it and PostgreSQL refuses it: both answer 400 bad_value, and nothing is written."""
    from refurb.stock.tables import Location

    locations, events = await Location.count(), await event_count()
    device = await new_device(State.RECEIVED)
    sent = [
        await client.post(
            "/api/v1/locations", json={"name": "Bac\u0000A", "kind": "site"}, headers=as_user("supervisor")
        ),
        await client.post(
            f"/api/v1/devices/{device.code}/actions/reject",
            json={"reason": "cassé\u0000"},
            headers=as_user("technician"),
        ),
        await client.get("/api/v1/devices?batch=B%00", headers=as_user("admin")),
        await client.post(
            "/stock/locations",
            data={"name": "Bac\x00A", "kind": "site"},
            headers=as_user("supervisor", accept="application/json"),
        ),
    ]
    assert [(r.status_code, r.json()["code"]) for r in sent] == [(400, "bad_value")] * 4
    assert (await Location.count(), await event_count()) == (locations, events + 1)  # + the registration
    escaped = await client.post(  # a backslash followed by "u0000" is text, not NUL
        "/api/v1/locations", json={"name": "Bac\\u0000", "kind": "site"}, headers=as_user("supervisor")
    )
    assert escaped.status_code == 201, escaped.text
    assert escaped.json()["name"] == "Bac\\u0000"


BEYOND = [2**31, 2**64]


@pytest.mark.parametrize("number", BEYOND)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/erasure-reports/{n}"),
        ("GET", "/api/v1/erasure-reports/{n}/raw"),
        ("GET", "/api/v1/agreements/{n}/document"),
        ("POST", "/api/v1/erasure/quality-checks/{n}"),
        ("POST", "/api/v1/erasure/quality-checks/{n}/resolve"),
        ("POST", "/api/v1/erasure/records/{n}/review"),
        ("POST", "/api/v1/erasure/kind-decisions/{n}/review"),
        ("PATCH", "/api/v1/workshop/choices/{n}"),
        ("PATCH", "/api/v1/licence-pools/{n}"),
        ("POST", "/api/v1/devices/D00000001/media/{n}/absent"),
        ("GET", "/api/v1/licences/report?pool={n}"),
        ("GET", "/api/v1/workshop/view?days={n}"),
    ],
)
async def test_numbers_past_their_bounds_are_refused_before_any_query(
    client, as_user, method, path, number
) -> None:
    """A row id is a PostgreSQL serial: past 2**31 − 1 both engines answer 400 (SQLite: 500 past 2**63)."""
    response = await client.request(
        method, path.format(n=number), json={}, headers=as_user("admin", **{"idempotency-key": "k"})
    )
    assert (response.status_code, response.json()["code"]) == (400, "validation_error"), response.text


async def test_the_largest_row_id_is_simply_not_found(client, as_user) -> None:
    response = await client.get(f"/api/v1/erasure-reports/{2**31 - 1}", headers=as_user("admin"))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


async def test_an_integer_in_a_body_past_64_bits_is_bad_input(client, as_user) -> None:
    device = await new_device(State.IN_STOCK)
    for pool in (2**31, 2**64):
        response = await client.post(
            "/api/v1/licences", json={"device": device.code, "pool": pool}, headers=as_user("technician")
        )
        assert (response.status_code, response.json()["code"]) == (400, "validation_error"), response.text


def _nested(depth: int) -> str:
    return '{"kind": "site", "name": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [65, 1_000, 100_000])
async def test_json_nested_too_deep_is_refused_before_parsing(client, as_user, depth) -> None:
    """A thousand levels was a RecursionError (500) in the decoders."""
    response = await client.post(
        "/api/v1/locations",
        content=_nested(depth),
        headers=as_user("supervisor", **{"content-type": "application/json"}),
    )
    assert (response.status_code, response.json()["code"]) == (400, "json_too_deep")
    assert "64" in response.json()["detail"]


async def test_brackets_inside_strings_do_not_count_as_depth(client, as_user) -> None:
    name = "[" * 70 + "{" * 70
    response = await client.post(
        "/api/v1/locations", json={"name": name, "kind": "site"}, headers=as_user("supervisor")
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name
    shallow = await client.post(
        "/api/v1/locations",
        content=_nested(30),
        headers=as_user("supervisor", **{"content-type": "application/json"}),
    )
    assert (shallow.status_code, shallow.json()["code"]) == (400, "validation_error")


async def test_a_nul_that_reaches_the_database_is_refused_by_either_engine(database) -> None:
    """What no screen sees (a multipart field) meets the engine: PostgreSQL refuses NUL, SQLite's gate too."""
    from refurb.stock import locations
    from refurb.stock.tables import Location

    before = await Location.count()
    with pytest.raises((BadInput, asyncpg.exceptions.DataError)) as refused:
        await locations.add_location("Bac\x00A", "site")
    if isinstance(refused.value, BadInput):
        assert refused.value.code == "bad_value"
    assert await Location.count() == before
