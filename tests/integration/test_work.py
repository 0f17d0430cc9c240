"""The start page per role and GET /api/v1/me/work: what is waiting, how many, and where to do it."""

from __future__ import annotations

import datetime

import pytest

from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.intake import service as intake
from tests.helpers import new_batch, new_device, new_station, principal, submitted_batch


async def _work(client, as_user, who: str) -> dict[str, dict]:
    response = await client.get("/api/v1/me/work", headers=as_user(who))
    assert response.status_code == 200, response.text
    return {section["key"]: section for section in response.json()["sections"]}


async def test_a_technician_sees_what_waits_at_each_stage_oldest_first_with_the_station_to_open(
    client, as_user
) -> None:
    batch = await new_batch()
    first = await new_device(State.RECEIVED, batch=batch)
    second = await new_device(State.RECEIVED, batch=batch)
    await new_device(State.SANITIZED, batch=batch)
    await new_device(State.DECLARED, batch=batch)  # still at the donor: nobody's work yet
    bench = await new_station(Stage.ERASURE, "Effacement 1")
    work = await _work(client, as_user, "technician")
    assert list(work) == [
        "stage_reception",
        "stage_erasure",
        "stage_workshop",
        "stage_licensing",
        "stage_stock",
    ]
    assert {key: section["count"] for key, section in work.items()} == {
        "stage_reception": 0,
        "stage_erasure": 2,
        "stage_workshop": 1,
        "stage_licensing": 0,
        "stage_stock": 0,
    }
    erasure = work["stage_erasure"]
    assert [item["code"] for item in erasure["items"]] == [first.code, second.code]
    assert (erasure["href"], erasure["action"]) == (f"/stations/{bench.code}", "Ouvrir Effacement 1")
    assert work["stage_workshop"]["href"] == "/stations"  # no workshop bench yet: the list of stations


async def test_a_donor_sees_its_batches_with_the_next_step_and_nothing_of_another_donor(
    client, as_user
) -> None:
    mine = await submitted_batch("Donor One")
    await new_batch("Donor One")
    theirs = await submitted_batch("Donor Two")
    work = await _work(client, as_user, "donor")
    assert list(work) == ["batches", "certificates"]
    batches = work["batches"]
    assert batches["count"] == 2
    steps = {item["code"]: item["detail"] for item in batches["items"]}
    assert steps[mine.code] == "En attente d'une date de collecte"
    assert theirs.code not in steps
    assert work["certificates"]["count"] == 0


async def test_a_driver_sees_todays_pickups_with_address_and_date(client, as_user) -> None:
    today = await submitted_batch("Donor One", site_address="3 rue Haute, 93100 Montreuil")
    later = await submitted_batch("Donor Two")
    admin = await principal("admin")
    await intake.schedule(today.code, datetime.date.today(), admin)
    await intake.schedule(later.code, datetime.date.today() + datetime.timedelta(days=3), admin)
    work = await _work(client, as_user, "driver")
    pickups = work["pickups"]
    assert (pickups["title"], pickups["count"], pickups["href"]) == ("Collectes du jour", 1, "/collect")
    [item] = pickups["items"]
    assert item["code"] == today.code
    assert item["href"] == f"/collect/{today.code}"
    assert item["detail"] == f"3 rue Haute, 93100 Montreuil — {datetime.date.today().isoformat()}"


async def test_a_supervisor_sees_reviews_the_sample_and_batches_to_close_before_the_benches(
    client, as_user
) -> None:
    work = await _work(client, as_user, "supervisor")
    assert list(work)[:3] == ["reviews", "quality_checks", "batches_to_close"]
    assert work["reviews"]["href"] == "/erasure/supervision"


async def test_an_admin_sees_health_stations_without_printer_and_users(client, as_user) -> None:
    await new_station(Stage.RECEPTION, "Réception 1")
    work = await _work(client, as_user, "admin")
    assert list(work)[:4] == ["health", "stations", "printers", "users"]
    assert work["health"]["count"] == 0
    assert [item["label"] for item in work["stations"]["items"]] == ["Réception 1"]
    assert work["users"]["count"] == 9


@pytest.mark.parametrize("who", ["auditor", "bus_staff"])
async def test_roles_whose_work_comes_with_distribution_get_no_sections_yet(client, as_user, who) -> None:
    assert await _work(client, as_user, who) == {}


async def test_a_coordinator_with_nothing_waiting_sees_empty_sections(client, as_user) -> None:
    work = await _work(client, as_user, "coordinator")
    assert {key: section["count"] for key, section in work.items()} == {
        "households_to_review": 0,
        "next_commission": 0,
        "allocations_to_match": 0,
        "shortage": 0,
    }


@pytest.mark.parametrize(
    ("who", "heading"),
    [
        ("technician", "Votre travail"),
        ("donor", "Vos dons"),
        ("driver", "Collectes"),
        ("auditor", "Appareils"),
    ],
)
async def test_each_role_starts_on_a_page_that_says_what_to_do_next(client, as_user, who, heading) -> None:
    page = await client.get("/", headers=as_user(who, accept="text/html"))
    assert page.status_code == 200
    assert heading in page.text
