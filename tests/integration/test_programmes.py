"""Programmes over HTTP, on both engines: create, read, replace, statistics, refusals with their codes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from refurb.distribution.tables import BudgetLine, Programme, ProgrammeQpv, SupportResource

API = "/api/v1/programmes"

PROGRAMME: dict[str, Any] = {
    "name": "PRE Bobigny 2027",
    "territory": "Bobigny",
    "starts_on": "2027-01-01",
    "ends_on": "2027-12-31",
    "equipment": ["desktop", "laptop", "printer", "connection"],
    "modes": ["donation", "loan", "rental"],
    "loan_months": 12,
    "rental_monthly_cents": 500,
    "rental_programme_share": 80,
    "minimum_grade": "B",
    "rules": {"laptop_from_age": 9},
    "qpvs": [
        {"code": "QN09301M", "name": "Les Courtillières"},
        {"code": "QN09302M", "name": "L'Abreuvoir"},
    ],
    "budget_lines": [
        {"category": "equipment", "label": "Reconditionnement", "amount_cents": 1_500_000},
        {"category": "transport", "label": "Bus", "amount_cents": 250_000},
    ],
    "support_resources": [
        {
            "qpv_code": "QN09301M",
            "kind": "social_centre",
            "name": "Centre social Les Courtillières",
            "address": "1 rue Chaplin, 93000 Bobigny",
            "opening_hours": "lun.-ven. 9 h-18 h",
            "contact": "01 23 45 67 89",
        }
    ],
}


async def create(client: Any, headers: dict[str, str], **changes: Any) -> Any:
    body = {**copy.deepcopy(PROGRAMME), **changes}
    return await client.post(API, json=body, headers=headers)


async def test_a_coordinator_creates_a_programme_and_staff_read_it(client, as_user) -> None:
    response = await create(client, as_user("coordinator"))
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["name"] == "PRE Bobigny 2027"
    assert made["rules_version"] == 1
    assert made["budget_total_cents"] == 1_750_000
    assert [q["code"] for q in made["qpvs"]] == ["QN09301M", "QN09302M"]
    assert made["support_resources"][0]["kind"] == "social_centre"
    rows = await Programme.select(Programme.name, Programme.loan_months, Programme.minimum_grade)
    assert rows == [{"name": "PRE Bobigny 2027", "loan_months": 12, "minimum_grade": "B"}]
    assert await ProgrammeQpv.count() == 2
    assert await BudgetLine.count() == 2
    assert await SupportResource.count() == 1
    for reader in ("auditor", "technician", "admin"):
        got = await client.get(f"{API}/{made['id']}", headers=as_user(reader))
        assert got.status_code == 200, reader
        assert got.json() == made
    listed = await client.get(API, headers=as_user("auditor"))
    assert [(p["name"], p["households"]) for p in listed.json()] == [("PRE Bobigny 2027", 0)]


async def test_donors_and_non_coordinators_cannot_manage_programmes(client, as_user) -> None:
    assert (await client.get(API, headers=as_user("donor"))).status_code == 403
    for role in ("technician", "auditor", "driver", "bus_staff"):
        response = await create(client, as_user(role))
        assert response.status_code == 403, role
        assert response.json()["code"] == "forbidden"
    assert await Programme.count() == 0


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"name": "   "}, "bad_programme_name"),
        ({"ends_on": "2026-06-30"}, "bad_programme_period"),
        ({"equipment": []}, "bad_equipment"),
        ({"equipment": ["laptop", "scooter"]}, "bad_equipment"),
        ({"modes": ["gift"]}, "bad_attribution_mode"),
        ({"loan_months": None}, "bad_loan_months"),
        ({"loan_months": 500}, "bad_loan_months"),
        ({"modes": ["donation", "rental"]}, "bad_loan_months"),
        ({"rental_programme_share": 120}, "bad_rental_terms"),
        ({"modes": ["donation"], "loan_months": None}, "bad_rental_terms"),
        ({"minimum_grade": "Z"}, "bad_grade"),
        ({"qpvs": [{"code": "QN1", "name": "A"}, {"code": "qn1", "name": "B"}]}, "duplicate_qpv"),
        ({"budget_lines": [{"category": "food", "amount_cents": 1}]}, "bad_budget_category"),
        (
            {"support_resources": [{"qpv_code": "QN00000X", "kind": "association", "name": "Asso"}]},
            "unknown_qpv",
        ),
        (
            {"support_resources": [{"qpv_code": "QN09301M", "kind": "library", "name": "Médiathèque"}]},
            "bad_resource_kind",
        ),
    ],
)
async def test_bad_programmes_are_refused_with_their_code_and_change_nothing(
    client, as_user, changes: dict[str, Any], code: str
) -> None:
    response = await create(client, as_user("coordinator"), **changes)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert await Programme.count() == 0
    assert await ProgrammeQpv.count() == 0


async def test_a_second_programme_with_the_same_name_is_a_conflict(client, as_user) -> None:
    assert (await create(client, as_user("coordinator"))).status_code == 201
    again = await create(client, as_user("coordinator"), name="pre  bobigny 2027")
    assert again.status_code == 409
    assert again.json()["code"] == "programme_name_taken"
    assert await Programme.count() == 1


async def test_replacing_a_programme_bumps_the_rules_version_only_when_rules_change(client, as_user) -> None:
    coordinator = as_user("coordinator")
    made = (await create(client, coordinator)).json()
    url = f"{API}/{made['id']}"
    same_rules = {**copy.deepcopy(PROGRAMME), "territory": "Bobigny (93)"}
    replaced = await client.put(url, json=same_rules, headers=coordinator)
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["territory"], replaced.json()["rules_version"]) == ("Bobigny (93)", 1)
    new_rules = {**same_rules, "rules": {"laptop_from_age": 10}, "budget_lines": []}
    replaced = await client.put(url, json=new_rules, headers=coordinator)
    assert (replaced.json()["rules"], replaced.json()["rules_version"]) == ({"laptop_from_age": 10}, 2)
    assert replaced.json()["budget_total_cents"] == 0
    assert await BudgetLine.count() == 0
    missing = await client.put(f"{API}/999999", json=new_rules, headers=coordinator)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


async def test_a_wrong_rule_set_is_refused_when_saved_and_nothing_changes(client, as_user) -> None:
    coordinator = as_user("coordinator")
    refused = await create(client, coordinator, rules={"computer_age": 9})
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
        400,
        "bad_rule_set",
        "computer_age",
    )
    assert await Programme.count() == 0
    made = (await create(client, coordinator)).json()
    url = f"{API}/{made['id']}"
    wrong = {**copy.deepcopy(PROGRAMME), "rules": {"school_age_min": 12, "school_age_max": 6}}
    refused = await client.put(url, json=wrong, headers=coordinator)
    assert (refused.status_code, refused.json()["field"]) == (400, "school_age_max")
    kept = (await client.get(url, headers=coordinator)).json()
    assert (kept["rules"], kept["rules_version"]) == (PROGRAMME["rules"], 1)


async def test_a_qpv_with_households_cannot_be_removed(client, as_user) -> None:
    coordinator = as_user("coordinator")
    made = (await create(client, coordinator)).json()
    household = await client.post(
        "/api/v1/households",
        json={"programme": made["id"], "qpv_code": "QN09302M", "adults": 1},
        headers=coordinator,
    )
    assert household.status_code == 201, household.text
    body = {**copy.deepcopy(PROGRAMME), "qpvs": PROGRAMME["qpvs"][:1]}
    refused = await client.put(f"{API}/{made['id']}", json=body, headers=coordinator)
    assert refused.status_code == 409
    assert refused.json()["code"] == "qpv_in_use"
    assert await ProgrammeQpv.count() == 2


async def test_a_coordinator_edits_the_rules_on_their_page_and_the_version_goes_up(client, as_user) -> None:
    coordinator = {**as_user("coordinator"), "accept-language": "fr"}
    made = (await create(client, coordinator)).json()
    rules_url = f"/programmes/{made['id']}/rules"
    shown = await client.get(rules_url, headers=coordinator)
    assert shown.status_code == 200
    assert 'name="laptop_from_age"' in shown.text
    assert 'value="9"' in shown.text  # the programme's own laptop_from_age
    form = {
        "laptop_from_age": "10",
        "school_age_min": "3",
        "school_age_max": "18",
        "max_computers": "1",
        "printers": "on",
        "connection": "box",
        **{f"w_{name}": "5" for name in ("no_computer", "per_school_child", "social_hotel", "no_internet")},
        "w_per_month_waiting": "0",
        "w_max_waiting_months": "24",
        "suitable_os": "Windows 11\r\n\r\nLinux Mint\r\n",
    }
    saved = await client.post(rules_url, data=form, headers=coordinator)
    assert (saved.status_code, saved.headers["location"]) == (303, f"/programmes/{made['id']}")
    after = (await client.get(f"{API}/{made['id']}", headers=coordinator)).json()
    assert after["rules_version"] == 2
    assert after["rules"]["laptop_from_age"] == 10
    assert (after["rules"]["tablets"], after["rules"]["printers"], after["rules"]["connection"]) == (
        False,
        True,
        "box",
    )
    assert after["rules"]["weights"]["no_computer"] == 5
    assert after["rules"]["suitable_os"] == ["Windows 11", "Linux Mint"]
    again = await client.post(rules_url, data=form, headers=coordinator)  # the same rules: no new version
    assert again.status_code == 303
    assert (await client.get(f"{API}/{made['id']}", headers=coordinator)).json()["rules_version"] == 2
    wrong = await client.post(rules_url, data={**form, "school_age_max": "2"}, headers=coordinator)
    assert wrong.status_code == 400
    assert 'id="form-error"' in wrong.text
    assert "school_age_max" in wrong.text
    assert 'value="2"' in wrong.text  # kept as typed
    kept = (await client.get(f"{API}/{made['id']}", headers=coordinator)).json()
    assert (kept["rules_version"], kept["rules"]["school_age_max"]) == (2, 18)
