"""The workshop form's « Tout fonctionne » on the server, its required fields per kind, and the device
page showing what the workshop recorded (both engines)."""

from __future__ import annotations

from typing import Any

import pytest

from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.workshop import checklists
from refurb.workshop.tables import Reconditioning
from tests.helpers import device_row, event_rows, new_device, new_station
from tests.integration.test_licences import WINDOWS, fake_keys, keyed_pool, license_device

OFFICE = "Bureautique (LibreOffice, navigateur, lecteur PDF)"
LAPTOP = [f.name for f in checklists.CHECKLISTS[DeviceKind.LAPTOP]]


def bare_laptop(code: str, **changes: Any) -> dict[str, Any]:
    """« Tout fonctionne » and only what a laptop must carry besides: battery, OS, grade, time."""
    body: dict[str, Any] = {
        "device": code,
        "all_works": True,
        "battery_health": 84,
        "battery_cycles": 312,
        "os_image": "Linux Mint 22",
        "grade": "B",
        "minutes": 20,
    }
    body.update(changes)
    return body


async def post_pass(client: Any, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return await client.post("/api/v1/workshop/reconditionings", json=body, headers=headers)


async def test_all_works_records_every_function_as_if_each_was_ticked(client, as_user) -> None:
    tech = as_user("technician")
    device = await new_device(State.SANITIZED)
    response = await post_pass(client, tech, bare_laptop(device.code))
    assert response.status_code == 201, response.text
    assert response.json()["device"]["state"] == "refurbished"
    expected = dict.fromkeys(LAPTOP, "ok")
    assert response.json()["reconditioning"]["checks"] == expected
    stored = await Reconditioning.select(Reconditioning.checks, Reconditioning.outcome).first()
    checks = (
        stored["checks"] if isinstance(stored["checks"], dict) else __import__("json").loads(stored["checks"])
    )
    assert (checks, stored["outcome"]) == (expected, "passed")
    assert [e["action"] for e in await event_rows(device.code)] == ["import", "refurbish"]


async def test_an_explicit_answer_wins_over_all_works(client, as_user) -> None:
    tech = as_user("technician")
    device = await new_device(State.SANITIZED)
    faulty = await post_pass(
        client, tech, bare_laptop(device.code, checks={"wifi": "faulty", "webcam": "absent"})
    )
    assert faulty.status_code == 400, faulty.text
    assert faulty.json()["code"] == "reconditioning_incomplete"
    assert [(p["code"], p["fields"]) for p in faulty.json()["problems"]] == [
        ("function_faulty", ["checks.wifi"])
    ]
    assert (await device_row(device.code))["state"] == "sanitized"
    assert await Reconditioning.count() == 0
    # the same faulty answer on a rejected pass is recorded as given, the rest as ticked
    rejected = await post_pass(
        client,
        tech,
        bare_laptop(
            device.code, checks={"wifi": "faulty", "webcam": "absent"}, outcome="rejected", reason="recycling"
        ),
    )
    assert rejected.status_code == 201, rejected.text
    assert rejected.json()["reconditioning"]["checks"] == {
        **dict.fromkeys(LAPTOP, "ok"),
        "wifi": "faulty",
        "webcam": "absent",
    }
    assert (await device_row(device.code))["state"] == "rejected"


@pytest.mark.parametrize(
    ("missing", "code", "fields"),
    [
        ("battery_health", "battery_measure_required", ["battery_health"]),
        ("battery_cycles", "battery_measure_required", ["battery_cycles"]),
        ("os_image", "os_image_required", ["os_image"]),
        ("grade", "grade_required", ["grade"]),
    ],
)
async def test_all_works_still_needs_the_kinds_required_measures(
    client, as_user, missing, code, fields
) -> None:
    device = await new_device(State.SANITIZED)
    response = await post_pass(client, as_user("technician"), bare_laptop(device.code, **{missing: None}))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "reconditioning_incomplete"
    assert [(p["code"], p["fields"]) for p in response.json()["problems"]] == [(code, fields)]
    assert response.json()["fields"] == fields
    assert (await device_row(device.code))["state"] == "sanitized"
    assert await Reconditioning.count() == 0
    assert len(await event_rows(device.code)) == 1


async def test_a_monitor_needs_only_its_grade_with_all_works(client, as_user) -> None:
    device = await new_device(State.SANITIZED, kind=DeviceKind.MONITOR)
    body = {"device": device.code, "all_works": True, "grade": "A", "minutes": 5}
    response = await post_pass(client, as_user("technician"), body)
    assert response.status_code == 201, response.text
    assert response.json()["reconditioning"]["checks"] == {
        "power_on": "ok",
        "display": "ok",
        "inputs": "ok",
        "controls": "ok",
    }


async def test_the_station_form_marks_the_kinds_required_fields_and_honours_all_works(
    client, as_user
) -> None:
    tech = as_user("technician")
    station = await new_station(Stage.WORKSHOP)
    laptop, monitor = (
        await new_device(State.SANITIZED),
        await new_device(State.SANITIZED, kind=DeviceKind.MONITOR),
    )

    async def form_of(code: str) -> dict[str, dict[str, Any]]:
        asked = await client.post("/api/v1/scans", json={"station": station.code, "text": code}, headers=tech)
        assert asked.json()["result"] == "needs_input", asked.text
        return {f["name"]: f for f in asked.json()["form"]["fields"]}

    fields = await form_of(laptop.code)
    assert next(iter(fields)) == "all_works"
    assert (fields["all_works"]["type"], fields["all_works"]["required"]) == ("checkbox", False)
    passing = {"outcome": ["refurbished"]}
    marked = {name for name, f in fields.items() if f["required_when"] == passing}
    assert marked == {"battery_health", "battery_cycles", "os_image", "grade"}
    assert all(fields[name]["required"] for name in marked)
    assert not fields["cpu"]["required"]
    assert not fields["part_ram"]["required"]
    monitor_fields = await form_of(monitor.code)
    assert {n for n, f in monitor_fields.items() if f["required_when"] == passing} == {"grade"}
    # the table the form reads is the one the server judges by
    assert {n for n, f in monitor_fields.items() if f["required_when"]} == checklists.REQUIRED[
        DeviceKind.MONITOR
    ]

    inputs = {"all_works": True, "battery_health": "80", "battery_cycles": "", "os_image": "Linux Mint 22",
              "grade": "B", "minutes": "15", "outcome": "refurbished", "cpu": "i5", "ram": "8 GB",
              "storage": "256 GB"}  # fmt: skip
    refused = await client.post(
        "/api/v1/scans", json={"station": station.code, "text": laptop.code, "inputs": inputs}, headers=tech
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "reconditioning_incomplete"
    assert refused.json()["fields"] == ["battery_cycles"]  # named as the form names it
    inputs["battery_cycles"] = "150"
    done = await client.post(
        "/api/v1/scans", json={"station": station.code, "text": laptop.code, "inputs": inputs}, headers=tech
    )
    assert done.status_code == 200, done.text
    assert done.json()["device"]["state"] == "refurbished"
    row = await Reconditioning.select(Reconditioning.checks).first()
    checks = row["checks"] if isinstance(row["checks"], dict) else __import__("json").loads(row["checks"])
    assert checks == dict.fromkeys(LAPTOP, "ok")
    bad = await client.post(
        "/api/v1/scans",
        json={"station": station.code, "text": monitor.code,
              "inputs": {"all_works": "on", "grade": "A", "minutes": "beaucoup", "outcome": "refurbished"}},
        headers=tech,
    )  # fmt: skip
    assert bad.status_code == 400
    assert (bad.json()["code"], bad.json()["fields"]) == ("bad_workshop_answer", ["minutes"])


async def test_the_device_page_shows_grade_tests_os_and_licence(client, as_user) -> None:
    tech = as_user("technician")
    device = await new_device(State.SANITIZED)
    before = await client.get(f"/devices/{device.code}", headers={**tech, "accept": "text/html"})
    assert 'id="workshop-facts"' not in before.text  # nothing recorded yet
    body = bare_laptop(device.code, checks={"webcam": "absent"}, grade="A", software_profile=OFFICE)
    assert (await post_pass(client, tech, body)).status_code == 201
    shown = await client.get(f"/devices/{device.code}", headers={**tech, "accept": "text/html"})
    assert shown.status_code == 200
    html = shown.text
    assert '<dd id="workshop-grade"><strong>A</strong>' in html
    assert f"Linux Mint 22 · {OFFICE}" in html
    assert 'data-function="keyboard" data-result="ok"' in html
    assert 'data-function="webcam" data-result="absent"' in html
    assert html.count('<span class="test-icon" aria-hidden="true">✔</span> fonctionne') == len(LAPTOP) - 1
    assert "non équipé" in html  # the webcam, said in words
    assert "Aucune licence attribuée" in html
    assert "84\u00a0% de la capacité" in html


async def test_the_device_page_names_the_licence_pool_never_the_key(client, as_user) -> None:
    tech = as_user("technician")
    keys = fake_keys(2, "TSTPG")
    pool = await keyed_pool(client, as_user, keys)
    device = await new_device(State.SANITIZED)
    body = bare_laptop(device.code, os_image="Windows 11 Pro", checks={"bluetooth": "absent"})
    assert (await post_pass(client, tech, body)).status_code == 201
    licensed = await license_device(client, as_user, device.code, pool["id"])
    assert licensed.status_code == 201, licensed.text
    shown = await client.get(f"/devices/{device.code}", headers={**tech, "accept": "text/html"})
    assert shown.status_code == 200
    html = shown.text
    assert '<dd id="workshop-grade"><strong>B</strong>' in html
    assert '<dd id="workshop-os">Windows 11 Pro</dd>' in html
    assert f"Attribuée depuis la réserve de licences {WINDOWS['name']} (MAR Citizenship)" in html
    assert 'data-function="bluetooth" data-result="absent"' in html
    assert not any(key in html for key in keys)
    donor = await client.get(f"/devices/{device.code}", headers={**as_user("donor"), "accept": "text/html"})
    assert donor.status_code == 200
    assert 'id="workshop-licence"' in donor.text
    assert not any(key in donor.text for key in keys)
