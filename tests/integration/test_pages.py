"""Server-rendered pages, languages, the API description and health."""

from __future__ import annotations

import re

from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from tests.helpers import new_device, new_station


async def test_home_counts_devices_per_state_in_french(client, as_user) -> None:
    await new_device(State.RECEIVED)
    await new_device(State.RECEIVED)
    await new_device(State.REJECTED)
    response = await client.get("/", headers=as_user("coordinator"))
    assert response.status_code == 200
    assert '<html lang="fr">' in response.text
    assert "Appareils par état" in response.text
    counts = dict(re.findall(r'data-state="([a-z_]+)">(\d+)<', response.text))
    assert counts["received"] == "2"
    assert counts["rejected"] == "1"
    assert counts["declared"] == "0"
    assert len(counts) == len(State)


async def test_english_by_cookie_or_browser(client, as_user) -> None:
    by_browser = await client.get("/", headers=as_user("admin", **{"accept-language": "en-GB,en;q=0.9"}))
    assert '<html lang="en">' in by_browser.text
    assert "Devices by state" in by_browser.text
    client.cookies.set("refurb_locale", "en")
    by_cookie = await client.get("/", headers=as_user("admin", **{"accept-language": "fr"}))
    assert "Devices by state" in by_cookie.text


async def test_locale_switch_sets_a_cookie(client) -> None:
    form = await client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text).group(1)
    response = await client.post("/locale", data={"locale": "en", "next": "/login", "_csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "Log in" in (await client.get("/login")).text


async def test_device_page_shows_the_timeline(client, as_user) -> None:
    device = await new_device(State.RECEIVED, serial="SN-42")
    await client.post(
        f"/api/v1/devices/{device.code}/actions/reject",
        json={"reason": "carte mère HS"},
        headers=as_user("technician"),
    )
    response = await client.get(f"/devices/{device.code}", headers=as_user("auditor"))
    assert response.status_code == 200
    assert device.display_code in response.text
    assert "SN-42" in response.text
    timeline = response.text[response.text.index('class="timeline"') :]
    assert timeline.index("rejeté") < timeline.index("importé")  # newest first, in the past tense
    assert "carte mère HS" in timeline


async def test_device_list_filters(client, as_user) -> None:
    kept = await new_device(State.RECEIVED)
    other = await new_device(State.DECLARED)
    response = await client.get("/devices?state=received", headers=as_user("admin"))
    assert kept.display_code in response.text
    assert other.display_code not in response.text
    ignored = await client.get("/devices?state=bogus", headers=as_user("admin"))
    assert ignored.status_code == 200
    assert other.display_code in ignored.text


async def test_station_page(client, as_user) -> None:
    station = await new_station(Stage.ERASURE, "Effacement 2")
    response = await client.get(f"/stations/{station.code}", headers=as_user("technician"))
    assert response.status_code == 200
    assert 'id="scan-input"' in response.text
    assert 'autocomplete="off"' in response.text
    assert 'data-action="sanitize"' in response.text
    assert 'data-action="reject"' in response.text
    assert "/static/js/station.js" in response.text


async def test_openapi_and_its_ui_are_served_locally(client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["info"]["title"] == "Refurb API"
    paths = set(schema["paths"])
    for path in ("/api/v1/devices", "/api/v1/scans", "/api/v1/codes/{text}", "/health"):
        assert path in paths
    assert not any(p.startswith(("/login", "/devices", "/stations")) for p in paths)
    ui = await client.get("/schema/swagger")
    assert ui.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in ui.text
    assert "cdn" not in ui.text.lower()
    bundle = await client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert len(bundle.content) > 1_000_000


async def test_problem_types_are_documented(client) -> None:
    assert (await client.get("/problems/bad_check_digit")).status_code == 200
    assert (await client.get("/problems/nonsense")).status_code == 404


async def test_health_reports_the_database(client) -> None:
    response = await client.get("/health")
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["engine"] in ("sqlite", "postgres")


async def test_health_says_when_the_database_is_gone(client, tmp_path) -> None:
    from piccolo.engine.sqlite import SQLiteEngine

    from refurb import db

    db.use_engine(SQLiteEngine(path=str(tmp_path / "missing-dir" / "x.sqlite3")))
    response = await client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"]["status"] == "unavailable"
