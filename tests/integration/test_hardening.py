"""Hardening: security headers, logins nobody can lock, tokens kept out of logs, outages as 503."""

from __future__ import annotations

import datetime
import logging
import re
import sqlite3

import asyncpg
import pytest

from refurb.accounts import service as accounts
from refurb.accounts.auth import RedactQueryTokens
from refurb.accounts.tables import LoginFailure
from refurb.core.errors import NotAuthenticated, RateLimited
from refurb.core.kinds import DeviceKind
from refurb.db import write_transaction
from refurb.devices import service as devices
from refurb.intake import service as intake
from refurb.intake.schemas import BatchState
from refurb.web.problems import is_outage
from tests.conftest import PASSWORD, make_settings, running
from tests.helpers import I5, device_row, new_batch, new_device, principal, received, upload

POLICY = accounts.LoginPolicy(max_failures=5, window=datetime.timedelta(minutes=15))


def _csrf(page: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


async def _login(client, username: str, password: str = PASSWORD):
    form = await client.get("/login")
    return await client.post(
        "/login",
        data={"username": username, "password": password, "next": "/", "_csrf_token": _csrf(form.text)},
    )


# --- headers ---------------------------------------------------------------------------------------


async def test_every_answer_refuses_framing_and_sniffing(client, as_user) -> None:
    for response in (
        await client.get("/login"),
        await client.get("/api/v1/devices", headers=as_user("admin")),
        await client.get("/nowhere"),
        await client.get("/static/css/refurb.css"),
    ):
        assert response.headers["x-frame-options"] == "DENY", response.url
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "camera=()" in response.headers["permissions-policy"]
        assert "strict-transport-security" not in response.headers  # http: no HSTS


async def test_https_deployments_get_hsts(database, tmp_path) -> None:
    import httpx

    from refurb.app import create_app

    app = create_app(make_settings(database, tmp_path, base_url="https://refurb.example.org"))
    async with running(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get("/login")
    assert response.headers["strict-transport-security"] == "max-age=31536000"


# --- logins ----------------------------------------------------------------------------------------


async def test_nobody_locks_the_admin_out_of_her_own_browser(client, app) -> None:
    import httpx

    first = await _login(client, "admin")
    assert first.status_code == 303
    device_cookie = first.cookies["refurb_device"]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as attacker:
        answers = [(await _login(attacker, "admin", "guess")).status_code for _ in range(7)]
    assert answers == [401] * 5 + [429, 429]  # the username is locked for browsers it never used
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as stranger:
        assert (await _login(stranger, "admin")).status_code == 429
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as her_browser:
        her_browser.cookies.set("refurb_device", device_cookie)
        assert (await _login(her_browser, "admin")).status_code == 303  # her browser still gets in


async def test_a_device_cookie_counts_its_own_failures_and_is_bound_to_its_user(database) -> None:
    key = "k" * 40
    cookie = accounts.device_cookie("Admin", key)
    device = accounts.known_device(cookie, "admin", key)
    assert device is not None
    assert accounts.known_device(cookie, "technician", key) is None  # another user's cookie
    assert accounts.known_device(cookie[:-2] + "xx", "admin", key) is None  # forged
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            await accounts.authenticate("admin", "guess", "10.0.0.1", POLICY, device=device)
    with pytest.raises(RateLimited):  # the device's own limit still holds
        await accounts.authenticate("admin", "guess", "10.0.0.1", POLICY, device=device)


async def test_refusals_by_address_do_not_count_against_a_username(database) -> None:
    for n in range(POLICY.max_failures_per_address):
        with pytest.raises(NotAuthenticated):
            await accounts.authenticate(f"nobody{n}", "guess", "10.9.9.9", POLICY)
    before = await LoginFailure.count().where(LoginFailure.username == "admin")
    for _ in range(10):
        with pytest.raises(RateLimited):
            await accounts.authenticate("admin", "guess", "10.9.9.9", POLICY)
    assert await LoginFailure.count().where(LoginFailure.username == "admin") == before == 0
    principal = await accounts.authenticate("admin", PASSWORD, "10.1.1.1", POLICY)
    assert principal.username == "admin"


# --- logs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "PUT /api/v1/erasure-reports?token=rfb_secret&station=S1 HTTP/1.1",
        "PUT /api/v1/erasure-reports?%74oken=rfb_secret&station=S1 HTTP/1.1",
        "PUT /api/v1/erasure-reports?station=S1&tok%65n=rfb_secret HTTP/1.1",
        "PUT /api/v1/erasure-reports?TOKEN=x&token=rfb_secret HTTP/1.1",
    ],
)
def test_tokens_never_reach_the_access_log(line: str) -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s" %d', ("1.2.3.4", line, 201), None
    )
    RedactQueryTokens().filter(record)
    assert "rfb_secret" not in record.getMessage()
    assert "=***" in record.getMessage()


# --- outages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (ConnectionRefusedError(111, "refused"), True),
        (asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), True),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), True),
        (asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"), True),
        (asyncpg.InterfaceError("connection is closed"), True),
        (sqlite3.OperationalError("attempt to write a readonly database"), True),
        (sqlite3.OperationalError("database or disk is full"), True),
        (sqlite3.OperationalError("no such table: device"), False),
        (FileNotFoundError("labels/x.toml"), False),
        (ValueError("bug"), False),
    ],
)
def test_what_counts_as_the_database_being_unavailable(error: Exception, outage: bool) -> None:
    assert is_outage(error) is outage


# --- certificates ----------------------------------------------------------------------------------


async def test_the_public_verify_page_shows_the_counts_and_the_custody_has_its_dates(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["6RX7AWEZ"], kind=DeviceKind.DESKTOP)
    batch_id = (await device_row(code))["batch"]
    async with write_transaction():  # the batch went through pickup and reception
        await intake.move(batch_id, BatchState.COLLECTED, list(BatchState))
        await intake.move(batch_id, BatchState.RECEIVED, list(BatchState))
    assert (await upload(client, tech, I5, device=code)).json()["sanitized"] == [code]
    issued = await client.post("/api/v1/certificates", json={"device": code}, headers=tech)
    assert issued.status_code == 201, issued.text
    public = await client.get(f"/verify/{issued.json()['code']}", headers={"accept-language": "en"})
    assert "built-in method" not in public.text
    assert "Clear 1 · Purge 0 · Destroy 0" in public.text
    assert 'class="card verdict verdict-good" id="verdict" role="status"' in public.text
    document = (await client.get(f"/api/v1/certificates/{issued.json()['code']}/json", headers=tech)).json()
    custody = document["certificate"]["custody"]
    batch = await intake.get_batch((await devices.get(code, await principal("admin"))).batch, None)
    assert custody["collected_at"] == batch.collected_at.isoformat()
    assert custody["received_at"] == batch.received_at.isoformat()


async def test_the_openapi_says_what_each_operation_sends(client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    paths = document["paths"]
    signed = paths["/api/v1/certificates/{code}/json"]["get"]["responses"]["200"]["content"]
    assert signed["application/json"]["schema"] == {"$ref": "#/components/schemas/SignedCertificate"}
    label = paths["/api/v1/labels/{code}"]["get"]["responses"]["200"]["content"]
    assert sorted(label) == ["application/pdf", "image/png", "image/svg+xml", "text/plain"]
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, item in paths.items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status == "default" or int(status) >= 400:
                    assert response["content"] == {"application/problem+json": {"schema": problem}}, (
                        method,
                        path,
                        status,
                    )
            assert "default" in operation["responses"], (method, path)


async def test_the_device_list_takes_limit_as_another_name_for_page_size(client, as_user) -> None:
    batch = await new_batch()
    for _ in range(3):
        await new_device(batch=batch)
    admin = as_user("admin")
    limited = (await client.get(f"/api/v1/devices?batch={batch.code}&limit=2", headers=admin)).json()
    assert (len(limited["items"]), limited["page_size"], limited["total"]) == (2, 2, 3)
    same = await client.get(f"/api/v1/devices?batch={batch.code}&limit=2&page_size=2", headers=admin)
    assert same.status_code == 200
    both = await client.get("/api/v1/devices?limit=2&page_size=3", headers=admin)
    assert (both.status_code, both.json()["code"]) == (400, "conflicting_parameters")
    zero = await client.get("/api/v1/devices?limit=0", headers=admin)
    assert (zero.status_code, zero.json()["code"]) == (400, "validation_error")


async def test_a_donor_learns_nothing_of_another_donors_device_from_its_label(client, as_user) -> None:
    own = await new_device(batch=await new_batch("Donor One"))
    other = await new_device(batch=await new_batch("Donor Two"))
    mine = await client.get(f"/api/v1/labels/{own.code}", headers=as_user("donor"))
    theirs = await client.get(f"/api/v1/labels/{other.code}", headers=as_user("donor"))
    assert (mine.status_code, mine.json()["code"]) == (403, "forbidden")
    assert (theirs.status_code, theirs.json()["code"]) == (404, "not_found")
    page = await client.get(f"/labels/{other.code}", headers=as_user("donor", accept="text/html"))
    assert page.status_code == 404
