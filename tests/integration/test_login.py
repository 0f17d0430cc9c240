"""Login pages, sessions, CSRF, tokens and the failed-login limit."""

from __future__ import annotations

import asyncio
import re

import pytest

from refurb.accounts.tables import ApiToken, LoginFailure, UserSession
from tests.conftest import PASSWORD


def _csrf(page: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert match, "the form has no CSRF field"
    return match.group(1)


async def _login(client, username: str, password: str = PASSWORD, next_: str = "/"):
    form = await client.get("/login")
    assert form.status_code == 200
    return await client.post(
        "/login",
        data={"username": username, "password": password, "next": next_, "_csrf_token": _csrf(form.text)},
    )


async def test_login_session_and_logout(client) -> None:
    anonymous = await client.get("/")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/"

    response = await _login(client, "technician", next_="/devices")
    assert response.status_code == 303
    assert response.headers["location"] == "/devices"
    cookie = response.cookies["refurb_session"]
    assert "." in cookie
    assert await UserSession.count() == 1
    set_cookie = response.headers["set-cookie"]
    assert "HttpOnly" in set_cookie
    assert "SameSite=lax" in set_cookie

    home = await client.get("/")
    assert home.status_code == 200
    assert "Technician" in home.text
    me = await client.get("/api/v1/me")
    assert me.json()["role"] == "technician"

    logout = await client.post("/logout", data={"_csrf_token": _csrf(home.text)})
    assert logout.status_code == 303
    assert await UserSession.count() == 0
    client.cookies.set("refurb_session", cookie)  # a kept copy is worthless now
    assert (await client.get("/")).status_code == 303


async def test_a_forged_session_cookie_is_ignored(client) -> None:
    await _login(client, "technician")
    token, _, _ = client.cookies["refurb_session"].partition(".")
    client.cookies.set("refurb_session", f"{token}.forged-signature")
    assert (await client.get("/")).status_code == 303


async def test_next_never_leaves_the_site(client) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil"):
        client.cookies.clear()
        response = await _login(client, "admin", next_=target)
        assert response.headers["location"] == "/"


async def test_wrong_password_then_rate_limited(client) -> None:
    for _ in range(5):
        response = await _login(client, "supervisor", password="wrong password")
        assert response.status_code == 401
        assert "alert" in response.text
    assert await LoginFailure.count() == 5
    blocked = await _login(client, "supervisor")  # even the right password waits now
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert await UserSession.count() == 0
    client.cookies.clear()
    other = await _login(client, "technician")  # other accounts are not locked out
    assert other.status_code == 303


async def test_unknown_user_fails_like_a_wrong_password(client) -> None:
    unknown = await _login(client, "nobody", password="whatever-long")
    wrong = await _login(client, "admin", password="whatever-long")
    assert unknown.status_code == wrong.status_code == 401


async def test_forms_need_the_csrf_token(client) -> None:
    await client.get("/login")
    response = await client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 403
    assert "Form expired" in response.text or "Formulaire expiré" in response.text
    assert await UserSession.count() == 0


async def test_cookie_authenticated_api_calls_need_the_csrf_header(client) -> None:
    await _login(client, "technician")
    without = await client.post("/api/v1/scans", json={"station": "S00000017", "text": "x"})
    assert without.status_code == 403
    assert without.json()["code"] == "csrf_failed"
    with_header = await client.post(
        "/api/v1/scans",
        json={"station": "S00000017", "text": "x"},
        headers={"x-csrftoken": client.cookies["refurb_csrf"]},
    )
    assert with_header.status_code != 403


async def test_tokens_record_their_last_use(client, tokens) -> None:
    assert await ApiToken.count().where(ApiToken.last_used_at.is_not_null()) == 0
    response = await client.get("/api/v1/me", headers={"authorization": f"Bearer {tokens['auditor']}"})
    assert response.status_code == 200
    assert response.json() == {
        "username": "auditor",
        "display_name": "Auditor",
        "role": "auditor",
        "organisation": "Operator",
        "organisation_kind": "operator",
    }
    assert await ApiToken.count().where(ApiToken.last_used_at.is_not_null()) == 1


async def test_tokens_are_stored_hashed(database, tokens) -> None:
    stored = await ApiToken.select(ApiToken.token_hash, ApiToken.prefix)
    assert all(row["token_hash"] not in tokens.values() for row in stored)
    assert all(len(row["token_hash"]) == 64 for row in stored)


async def test_parallel_guesses_cannot_slip_under_the_limit(client) -> None:
    form = await client.get("/login")
    token = _csrf(form.text)

    async def guess():
        return await client.post(
            "/login", data={"username": "auditor", "password": "wrong password", "_csrf_token": token}
        )

    responses = await asyncio.gather(*(guess() for _ in range(20)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(401) <= 5
    assert statuses.count(429) >= 15


async def test_display_names_are_bounded(database) -> None:
    from refurb.accounts import service
    from refurb.core.errors import BadInput

    with pytest.raises(BadInput) as caught:
        await service.create_user(
            "longname", "technician", "Workshop", password=PASSWORD, display_name="x" * 81
        )
    assert caught.value.code == "bad_display_name"


async def test_an_80_character_name_goes_into_the_history(client, database) -> None:
    from refurb.accounts import service
    from refurb.core.lifecycle import State
    from tests.helpers import event_rows, new_device

    await service.create_user("longname", "technician", "Workshop", password=PASSWORD, display_name="é" * 80)
    token = await service.create_token("longname")
    device = await new_device(State.RECEIVED)
    response = await client.post(
        f"/api/v1/devices/{device.code}/actions/reject",
        json={"reason": "x"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    assert (await event_rows(device.code))[-1]["actor_name"] == "é" * 80
