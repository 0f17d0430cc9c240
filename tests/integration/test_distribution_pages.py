"""Programme and household pages on both engines: forms, counts, lists without names, the purge page."""

from __future__ import annotations

import datetime

from refurb.demo import load_demo
from refurb.distribution.tables import Household, HouseholdPerson, PersonalDataAccess, Programme, PurgeAudit
from tests.conftest import SECRET_KEY
from tests.integration.test_households import NEVER, PERSON, SECRETS, new_household, programme_id

HTML = {"accept": "text/html"}


async def test_a_coordinator_creates_a_programme_with_the_form(client, as_user) -> None:
    coordinator = as_user("coordinator", **HTML)
    form = await client.get("/programmes/new", headers=coordinator)
    assert form.status_code == 200
    body = {
        "name": "Plan tablettes Paris",
        "territory": "Paris",
        "starts_on": "2027-01-01",
        "ends_on": "",
        "equipment": ["tablet", "connection"],
        "modes": ["donation"],
        "qpvs": "QN07501M; Belleville\nQN07502M; La Chapelle",
        "budget_lines": "equipment; Tablettes; 150 000,00\nconnection; Box 4G; 9000",
        "support_resources": "QN07501M; public_digital_space; EPN Belleville; 2 rue X; mar.-sam.; 01 00",
    }
    created = await client.post("/programmes/new", data=body, headers=coordinator)
    assert created.status_code == 303, created.text
    row = await Programme.select(Programme.id, Programme.equipment).first()
    assert created.headers["location"] == f"/programmes/{row['id']}"
    shown = await client.get(f"/programmes/{row['id']}", headers=coordinator)
    assert shown.status_code == 200
    assert "Belleville" in shown.text
    assert "EPN Belleville" in shown.text
    refused = await client.post("/programmes/new", data={**body, "modes": ["barter"]}, headers=coordinator)
    assert refused.status_code == 400
    assert 'id="form-error"' in refused.text
    assert "Plan tablettes Paris" in refused.text  # the form comes back filled
    assert await Programme.count() == 1


async def test_pages_show_counts_to_auditors_and_households_without_names(client, as_user) -> None:
    api = as_user("coordinator")
    programme = await programme_id(client, api)
    first = await new_household(client, api, programme)
    second = await new_household(
        client, api, programme, qpv_code="QN09302M", family_reference="B", school="Collège"
    )
    for household in (first, second):
        await client.put(f"/api/v1/households/{household['code']}/personal-data", json=PERSON, headers=api)
    await client.post(f"/api/v1/households/{second['code']}/status", json={"status": "eligible"}, headers=api)

    auditor = await client.get(f"/programmes/{programme}", headers=as_user("auditor", **HTML))
    assert auditor.status_code == 200
    assert 'data-qpv="QN09302M"' in auditor.text
    assert not any(secret in auditor.text for secret in SECRETS)
    assert "/households?programme=" not in auditor.text

    coordinator = as_user("coordinator", **HTML)
    listing = await client.get("/households", params={"programme": programme}, headers=coordinator)
    assert listing.status_code == 200
    assert first["code"] in listing.text
    assert second["code"] in listing.text
    assert not any(secret in listing.text for secret in SECRETS)
    filtered = await client.get(
        "/households", params={"programme": programme, "status": "eligible"}, headers=coordinator
    )
    assert second["code"] in filtered.text
    assert first["code"] not in filtered.text
    by_school = await client.get("/households", params={"school": "Collège"}, headers=coordinator)
    assert second["code"] in by_school.text
    assert first["code"] not in by_school.text

    page = await client.get(f"/households/{first['code']}", headers=coordinator)
    assert page.status_code == 200
    assert "Benali" in page.text
    assert 'id="personal-data"' in page.text
    assert await PersonalDataAccess.count() == 1
    admin = await client.get(f"/households/{first['code']}", headers=as_user("admin", **HTML))
    assert admin.status_code == 200
    assert "Benali" not in admin.text
    assert 'id="personal-data"' not in admin.text
    for username in NEVER:
        response = await client.get(f"/households/{first['code']}", headers=as_user(username, **HTML))
        assert response.status_code == 404, username
        assert "Benali" not in response.text
    assert await PersonalDataAccess.count() == 1


async def test_household_forms_record_needs_status_and_personal_data(client, as_user) -> None:
    programme = await programme_id(client, as_user("coordinator"))
    coordinator = as_user("coordinator", **HTML)
    assert (
        await client.get(f"/households/new?programme={programme}", headers=coordinator)
    ).status_code == 200
    needs = {
        "qpv_code": "QN09301M",
        "school": "École Jean-Jaurès",
        "adults": "2",
        "children_birth_years": "2016, 2013",
        "computers": "0",
        "has_internet": "1",
        "can_pay_rent": "no",
        "can_install": "yes",
        "can_use": "unknown",
        "requests": ["laptop", "printer"],
        "waiting_since": "2026-09-01",
    }
    made = await client.post(f"/households/new?programme={programme}", data=needs, headers=coordinator)
    assert made.status_code == 303, made.text
    code = made.headers["location"].removeprefix("/households/")
    row = await Household.select(
        Household.children_birth_years, Household.requests, Household.has_internet
    ).first()
    assert row["has_internet"] is True or row["has_internet"] == 1
    bad = await client.post(
        f"/households/new?programme={programme}",
        data={**needs, "children_birth_years": "huit"},
        headers=coordinator,
    )
    assert bad.status_code == 400
    assert await Household.count() == 1

    refused = await client.post(
        f"/households/{code}/status", data={"status": "declined"}, headers=coordinator
    )
    assert refused.status_code == 400
    assert 'id="status-error"' in refused.text
    moved = await client.post(
        f"/households/{code}/status", data={"status": "eligible", "version": "1"}, headers=coordinator
    )
    assert (moved.status_code, moved.headers["location"]) == (303, f"/households/{code}")
    assert (await Household.select(Household.status).first())["status"] == "eligible"

    stored = await client.post(f"/households/{code}/personal-data", data=PERSON, headers=coordinator)
    assert stored.status_code == 303, stored.text
    assert (await HouseholdPerson.select(HouseholdPerson.last_name).first())["last_name"] == "Benali"
    edited = await client.post(
        f"/households/{code}/edit",
        data={**needs, "computers": "1", "requests": "laptop"},
        headers=coordinator,
    )
    assert edited.status_code == 303, edited.text
    assert (await Household.select(Household.computers).first())["computers"] == 1


async def test_the_purge_page_counts_then_purges_with_an_audit_line(client, as_user) -> None:
    api = as_user("coordinator")
    programme = await programme_id(client, api)
    household = await new_household(client, api, programme)
    await client.put(f"/api/v1/households/{household['code']}/personal-data", json=PERSON, headers=api)
    coordinator = as_user("coordinator", **HTML)
    counted = await client.get("/households/purge", params={"older_than": "0days"}, headers=coordinator)
    assert counted.status_code == 400  # a period of nothing is refused
    counted = await client.get("/households/purge", params={"older_than": "24months"}, headers=coordinator)
    assert counted.status_code == 200
    assert 'id="purge-count"' in counted.text
    old = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    await Household.update({Household.last_activity_at: old}).where(Household.id > 0)
    done = await client.post("/households/purge", data={"older_than": "24months"}, headers=coordinator)
    assert (done.status_code, done.headers["location"]) == (
        303,
        "/households/purge?older_than=24months&done=1",
    )
    assert await HouseholdPerson.count() == 0
    audits = await PurgeAudit.select(PurgeAudit.actor_name, PurgeAudit.households, PurgeAudit.via)
    assert audits == [{"actor_name": "Coordinator", "households": 1, "via": "web"}]
    for username in ("auditor", "bus_staff", "technician"):
        assert (await client.get("/households/purge", headers=as_user(username, **HTML))).status_code == 403


async def test_the_demo_has_a_programme_with_ten_households(client, as_user) -> None:
    await load_demo(SECRET_KEY)
    await load_demo(SECRET_KEY)  # idempotent
    programmes = (await client.get("/api/v1/programmes", headers=as_user("auditor"))).json()
    assert [(p["name"], p["households"]) for p in programmes] == [("PRE Villeneuve 2027 (démo)", 10)]
    statistics = (
        await client.get(f"/api/v1/programmes/{programmes[0]['id']}/statistics", headers=as_user("auditor"))
    ).json()
    assert statistics["by_status"] == {
        "census": 3,
        "eligible": 3,
        "approved": 2,
        "equipped": 0,
        "declined": 1,
        "withdrawn": 1,
    }
    assert sorted(statistics["by_qpv"]) == ["QN09401M", "QN09402M"]
