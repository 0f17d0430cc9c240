"""Households over HTTP and the CLI, on both engines: the needs form, statuses and their history,
personal data kept from everyone who should not see it, the right-of-access export, the purge."""

from __future__ import annotations

import copy
import datetime
import io
import json
from pathlib import Path
from typing import Any

import pypdfium2
import pytest

from refurb.accounts.tables import User
from refurb.distribution.tables import (
    Household,
    HouseholdEvent,
    HouseholdPerson,
    PersonalDataAccess,
    PurgeAudit,
)
from tests.integration.test_cli import refurb
from tests.integration.test_programmes import PROGRAMME

API = "/api/v1/households"
NEEDS: dict[str, Any] = {
    "qpv_code": "QN09301M",
    "school": "École Jean-Jaurès",
    "family_reference": "PRE-2027-014",
    "adults": 2,
    "children_birth_years": [2016, 2013],
    "computers": 0,
    "has_printer": False,
    "has_internet": True,
    "can_pay_rent": "no",
    "can_install": "yes",
    "can_use": "unknown",
    "training_accepted": True,
    "requests": ["laptop", "printer"],
    "social_hotel": False,
}
PERSON = {
    "last_name": "Benali",
    "first_name": "Samira",
    "phone": "06 12 34 56 78",
    "email": "samira.benali@example.org",
    "postal_address": "12 allée des Courtillières, 93000 Bobigny",
    "legal_basis": "public_interest",
    "notice_version": "2027-01",
    "notice_given_on": "2026-11-30",
}
#: Strings that would betray personal data in any answer.
SECRETS = ("Benali", "Samira", "06 12 34 56 78", "samira.benali", "allée des Courtillières")
NEVER = ("donor", "technician", "supervisor", "driver", "auditor")


async def programme_id(client: Any, headers: dict[str, str]) -> int:
    response = await client.post("/api/v1/programmes", json=copy.deepcopy(PROGRAMME), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def new_household(
    client: Any, headers: dict[str, str], programme: int, **changes: Any
) -> dict[str, Any]:
    response = await client.post(API, json={"programme": programme, **NEEDS, **changes}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def events(code: str) -> list[tuple[Any, ...]]:
    row = await Household.select(Household.id).where(Household.code == code).first()
    rows = (
        await HouseholdEvent.select(
            HouseholdEvent.action,
            HouseholdEvent.from_status,
            HouseholdEvent.to_status,
            HouseholdEvent.reason,
            HouseholdEvent.actor_name,
        )
        .where(HouseholdEvent.household == row["id"])
        .order_by(HouseholdEvent.id)
    )
    return [(r["action"], r["from_status"], r["to_status"], r["reason"], r["actor_name"]) for r in rows]


async def set_status(
    client: Any, headers: dict[str, str], code: str, status: str, reason: str = "", **more: Any
) -> Any:
    return await client.post(
        f"{API}/{code}/status", json={"status": status, "reason": reason, **more}, headers=headers
    )


async def test_a_household_goes_from_census_to_equipped_with_one_event_per_change(client, as_user) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    made = await new_household(client, coordinator, programme)
    code = made["code"]
    assert code.startswith("F")
    assert len(code) == 9
    assert (made["status"], made["version"], made["children_birth_years"]) == ("census", 1, [2013, 2016])
    assert made["referring_organisation"] == "Operator"
    assert made["referent"] is None
    assert made["has_personal_data"] is False
    for status in ("eligible", "approved", "equipped"):
        response = await set_status(client, coordinator, code, status)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    again = await set_status(client, coordinator, code, "equipped")
    assert (again.status_code, again.json()["version"]) == (200, 4)  # a double click changes nothing
    assert await events(code) == [
        ("create", None, "census", "", "Coordinator"),
        ("status", "census", "eligible", "", "Coordinator"),
        ("status", "eligible", "approved", "", "Coordinator"),
        ("status", "approved", "equipped", "", "Coordinator"),
    ]
    history = (await client.get(f"{API}/{code}", headers=coordinator)).json()["history"]
    assert [(e["action"], e["to_status"]) for e in history] == [
        ("create", "census"),
        ("status", "eligible"),
        ("status", "approved"),
        ("status", "equipped"),
    ]


async def test_refused_status_changes_say_why_and_change_nothing(client, as_user) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    code = (await new_household(client, coordinator, programme))["code"]
    cases = [
        (("equipped", ""), 409, "invalid_household_transition"),
        (("declined", "  "), 400, "reason_required"),
        (("lost", ""), 400, "bad_status"),
    ]
    for (status, reason), http, problem in cases:
        response = await set_status(client, coordinator, code, status, reason)
        assert (response.status_code, response.json()["code"]) == (http, problem), status
    stale = await set_status(client, coordinator, code, "eligible", version=7)
    assert (stale.status_code, stale.json()["code"], stale.json()["version"]) == (409, "household_changed", 1)
    technician = await set_status(client, as_user("technician"), code, "eligible")
    assert (technician.status_code, technician.json()["code"]) == (404, "not_found")
    row = await Household.select(Household.status, Household.version).where(Household.code == code).first()
    assert row == {"status": "census", "version": 1}
    assert await events(code) == [("create", None, "census", "", "Coordinator")]
    declined = await set_status(client, coordinator, code, "declined", "Hors périmètre du programme")
    assert (declined.json()["status"], declined.json()["status_reason"]) == (
        "declined",
        "Hors périmètre du programme",
    )
    back = await set_status(client, coordinator, code, "census", "Recours accepté")
    assert (back.json()["status"], back.json()["status_reason"]) == ("census", "")
    assert (await events(code))[1:] == [
        ("status", "census", "declined", "Hors périmètre du programme", "Coordinator"),
        ("status", "declined", "census", "Recours accepté", "Coordinator"),
    ]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"qpv_code": "QN99999X"}, "unknown_qpv"),
        ({"adults": 0}, "bad_adults"),
        ({"children_birth_years": [1990]}, "bad_birth_years"),
        ({"computers": -1}, "bad_computers"),
        ({"can_use": "maybe"}, "bad_ability"),
        ({"requests": ["laptop", "scooter"]}, "bad_request"),
        ({"waiting_since": "2999-01-01"}, "bad_waiting_since"),
        ({"referent": "technician"}, "referent_not_allowed"),
    ],
)
async def test_a_bad_needs_form_is_refused_with_its_code(
    client, as_user, changes: dict[str, Any], code: str
) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    response = await client.post(API, json={"programme": programme, **NEEDS, **changes}, headers=coordinator)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert await Household.count() == 0
    assert await HouseholdEvent.count() == 0


async def test_a_family_reference_is_unique_per_programme_and_organisation(client, as_user) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    await new_household(client, coordinator, programme)
    again = await client.post(API, json={"programme": programme, **NEEDS}, headers=coordinator)
    assert (again.status_code, again.json()["code"]) == (409, "family_reference_taken")
    other_org = await client.post(
        API, json={"programme": programme, **NEEDS, "referring_organisation": "Workshop"}, headers=coordinator
    )
    assert other_org.status_code == 201
    assert await Household.count() == 2


async def test_editing_the_needs_form_records_the_fields_changed_not_their_values(client, as_user) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    code = (await new_household(client, coordinator, programme))["code"]
    response = await client.patch(
        f"{API}/{code}",
        json={"computers": 1, "has_internet": True, "requests": ["laptop"], "school": None},
        headers=coordinator,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["computers"], response.json()["requests"]) == (1, ["laptop"])
    assert response.json()["school"] == "École Jean-Jaurès"  # null: unchanged
    rows = await HouseholdEvent.select(HouseholdEvent.action, HouseholdEvent.payload).order_by(
        HouseholdEvent.id
    )
    assert rows[-1]["action"] == "update"
    payload = rows[-1]["payload"]
    assert (json.loads(payload) if isinstance(payload, str) else payload) == {
        "changed": ["computers", "requests"]
    }


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE household_event SET reason = 'x'",
        "UPDATE household_event SET to_status = 'approved'",
        "DELETE FROM household_event",
        "UPDATE personal_data_access SET purpose = 'x'",
        "DELETE FROM personal_data_access",
        "DELETE FROM purge_audit",
    ],
)
async def test_histories_and_logs_cannot_be_changed_in_the_database(client, as_user, statement: str) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    code = (await new_household(client, coordinator, programme))["code"]
    await set_status(client, coordinator, code, "declined", "Déménagement")
    await client.put(f"{API}/{code}/personal-data", json=PERSON, headers=coordinator)
    await client.get(f"{API}/{code}/personal-data", headers=coordinator)
    await PurgeAudit.insert(
        PurgeAudit(actor_name="tests", cutoff=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    )
    before = (
        await HouseholdEvent.select().order_by(HouseholdEvent.id),
        await PersonalDataAccess.select().order_by(PersonalDataAccess.id),
        await PurgeAudit.select(),
    )
    with pytest.raises(Exception, match="append-only"):
        await HouseholdEvent.raw(statement).run()
    after = (
        await HouseholdEvent.select().order_by(HouseholdEvent.id),
        await PersonalDataAccess.select().order_by(PersonalDataAccess.id),
        await PurgeAudit.select(),
    )
    assert after == before


async def test_a_redacted_reason_stays_redacted(client, as_user) -> None:
    """The one change the history allows, a purge's blanking of a reason, happens once."""
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    code = (await new_household(client, coordinator, programme))["code"]
    await set_status(client, coordinator, code, "withdrawn", "Famille partie chez sa sœur à Lyon")
    await HouseholdEvent.raw(
        "UPDATE household_event SET reason = '', redacted = {} WHERE reason <> ''", True
    ).run()
    with pytest.raises(Exception, match="append-only"):
        await HouseholdEvent.raw("UPDATE household_event SET reason = 'again', redacted = {}", True).run()
    with pytest.raises(Exception, match="append-only"):
        await HouseholdEvent.raw("UPDATE household_event SET redacted = {}", False).run()
    assert [e[3] for e in await events(code)] == ["", ""]


async def test_personal_data_is_shown_only_to_coordinators_and_the_referent_and_each_reading_is_logged(
    client, as_user
) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    referred = await new_household(client, coordinator, programme, referent="bus_staff")
    other = await new_household(client, coordinator, programme, family_reference="PRE-2027-015")
    code = referred["code"]
    stored = await client.put(f"{API}/{code}/personal-data", json=PERSON, headers=coordinator)
    assert stored.status_code == 200, stored.text
    assert stored.json()["last_name"] == "Benali"
    assert await HouseholdPerson.count() == 1
    assert (await events(code))[-1][:3] == ("personal_data", "census", "census")

    routes = [
        f"{API}/{code}",
        f"{API}/{code}/personal-data",
        f"{API}/{code}/access-export",
        f"{API}/{code}/access-export.pdf",
        f"/api/v1/codes/{code}",
    ]
    for username in NEVER:
        for route in routes:
            response = await client.get(route, headers=as_user(username))
            assert response.status_code == 404, (username, route)
            assert response.json()["code"] == "not_found"
            assert not any(secret in response.text for secret in SECRETS)
        put = await client.put(f"{API}/{code}/personal-data", json=PERSON, headers=as_user(username))
        assert put.status_code == 404, username
        listing = await client.get(API, headers=as_user(username))
        assert listing.status_code == 403, username
    # the referent reads their household, not another one; the admin runs the service, not the files
    referent = as_user("bus_staff")
    assert (await client.get(f"{API}/{code}/personal-data", headers=referent)).json()[
        "first_name"
    ] == "Samira"
    assert (await client.get(f"{API}/{other['code']}", headers=referent)).status_code == 404
    assert [h["code"] for h in (await client.get(API, headers=referent)).json()] == [code]
    assert (await client.get(f"{API}/{code}", headers=as_user("admin"))).status_code == 200
    assert (await client.get(f"{API}/{code}/personal-data", headers=as_user("admin"))).status_code == 404
    assert (await client.get(f"{API}/{code}/personal-data", headers=coordinator)).status_code == 200

    # no listing nor household answer carries personal data, for anyone
    for username in ("coordinator", "bus_staff", "admin"):
        for route in (
            API,
            f"{API}/{code}",
            "/api/v1/programmes",
            f"/api/v1/programmes/{programme}/statistics",
        ):
            response = await client.get(route, headers=as_user(username))
            assert response.status_code == 200, (username, route)
            assert not any(secret in response.text for secret in SECRETS), (username, route)
    statistics = await client.get(f"/api/v1/programmes/{programme}/statistics", headers=as_user("auditor"))
    assert statistics.json()["total"] == 2

    users = {r["id"]: r["username"] for r in await User.select(User.id, User.username)}
    log = await PersonalDataAccess.select(PersonalDataAccess.user, PersonalDataAccess.purpose).order_by(
        PersonalDataAccess.id
    )
    assert [(users[r["user"]], r["purpose"]) for r in log] == [
        ("bus_staff", "api_read"),
        ("coordinator", "api_read"),
    ]


async def test_the_access_export_holds_everything_in_json_and_pdf(client, as_user) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    code = (await new_household(client, coordinator, programme))["code"]
    await client.put(f"{API}/{code}/personal-data", json=PERSON, headers=coordinator)
    exported = await client.get(f"{API}/{code}/access-export", headers=coordinator)
    assert exported.status_code == 200, exported.text
    body = exported.json()
    assert body["personal_data"]["last_name"] == "Benali"
    assert body["personal_data"]["legal_basis"] == "public_interest"
    assert body["household"]["code"] == code
    assert [e["action"] for e in body["household"]["history"]] == ["create", "personal_data"]
    assert [a["purpose"] for a in body["accesses"]] == ["access_export_json"]
    pdf = await client.get(f"{API}/{code}/access-export.pdf", headers=coordinator)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(io.BytesIO(pdf.content))
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    for expected in ("Benali", "Samira", "QN09301M", "2027-01", "access_export_json"):
        assert expected in text, expected
    assert await PersonalDataAccess.count() == 2


async def test_an_f_code_resolves_to_the_household_page(client, as_user) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    code = (await new_household(client, coordinator, programme))["code"]
    display = f"{code[0]}-{code[1:8]}-{code[8]}"
    found = await client.get(f"/api/v1/codes/{display}", headers=coordinator)
    assert found.status_code == 200, found.text
    assert (found.json()["type"], found.json()["url"]) == ("household", f"/households/{code}")


async def _old(code: str, days: int) -> None:
    moment = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(days=days)
    await Household.update({Household.last_activity_at: moment}).where(Household.code == code)


async def test_purge_erases_personal_data_keeps_statistics_and_writes_one_audit_line(
    client, as_user, database: str, tmp_path: Path
) -> None:
    coordinator = as_user("coordinator")
    programme = await programme_id(client, coordinator)
    old = await new_household(client, coordinator, programme)
    recent = await new_household(client, coordinator, programme, qpv_code="QN09302M", family_reference="X-2")
    for household in (old, recent):
        await client.put(f"{API}/{household['code']}/personal-data", json=PERSON, headers=coordinator)
    await set_status(client, coordinator, old["code"], "withdrawn", "Mme Benali a déménagé")
    await _old(old["code"], 800)
    before = (await client.get(f"/api/v1/programmes/{programme}/statistics", headers=coordinator)).json()

    dry = refurb(["households", "purge", "--older-than", "24months", "--dry-run"], database, tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "1 household(s) would be purged" in dry.stdout
    assert await HouseholdPerson.count() == 2
    assert await PurgeAudit.count() == 0

    done = refurb(
        ["households", "purge", "--older-than", "24months", "--by", "coordinator"], database, tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "1 household(s) purged" in done.stdout
    remaining = await HouseholdPerson.select(HouseholdPerson.household)
    recent_id = (await Household.select(Household.id).where(Household.code == recent["code"]).first())["id"]
    assert remaining == [{"household": recent_id}]
    audits = await PurgeAudit.select(
        PurgeAudit.actor_name, PurgeAudit.households, PurgeAudit.via, PurgeAudit.user
    )
    coordinator_id = (await User.select(User.id).where(User.username == "coordinator").first())["id"]
    assert audits == [{"actor_name": "Coordinator", "households": 1, "via": "cli", "user": coordinator_id}]
    purged = (await client.get(f"{API}/{old['code']}", headers=coordinator)).json()
    assert (purged["purged"], purged["has_personal_data"], purged["status_reason"]) == (True, False, "")
    assert purged["family_reference"] is None
    assert [(e["reason"], e["redacted"]) for e in purged["history"]][-1] == ("", True)
    assert not any(secret in json.dumps(purged, ensure_ascii=False) for secret in (*SECRETS, "déménagé"))
    after = (await client.get(f"/api/v1/programmes/{programme}/statistics", headers=coordinator)).json()
    assert after == before
    assert after["by_qpv"]["QN09301M"]["withdrawn"] == 1
    gone = await client.get(f"{API}/{old['code']}/personal-data", headers=coordinator)
    assert (gone.status_code, gone.json()["code"]) == (404, "no_personal_data")

    again = refurb(["households", "purge", "--older-than", "24months"], database, tmp_path)
    assert "0 household(s) purged" in again.stdout
    assert await PurgeAudit.count() == 2


def test_purge_refuses_a_period_it_cannot_read(tmp_path: Path) -> None:
    result = refurb(
        ["households", "purge", "--older-than", "soon"], f"sqlite:///{tmp_path}/x.sqlite3", tmp_path
    )
    assert result.returncode != 0
    assert "24months" in result.stderr
