"""The allocation commission and matching over HTTP, on both engines: decisions with exact rows
(append-only), the rule-set version kept, the one-computer exception, reserve/release through the
lifecycle with exact device events, two coordinators matching at once, the shortage, the minutes
without personal data, and the roles kept out."""

from __future__ import annotations

import asyncio
import copy
import datetime
import io
import json
from typing import Any

import pypdfium2
import pytest

from refurb.core.codes import parse_code
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.db import write_transaction
from refurb.devices import service as devices
from refurb.devices.tables import Device, DeviceEvent
from refurb.distribution.tables import Allocation, Decision, Household
from tests.helpers import device_row, event_rows, new_batch, new_device
from tests.integration.test_households import API, PERSON, SECRETS
from tests.integration.test_programmes import PROGRAMME

SESSIONS = "/api/v1/commission-sessions"
ALLOCATIONS = "/api/v1/allocations"
HELD_ON = "2027-03-15"
#: Composition: one child of 13 (a laptop), internet at home, no printer asked for: one line, one laptop.
ONE_LAPTOP: dict[str, Any] = {
    "qpv_code": "QN09301M",
    "school": "Collège Pierre-Sémard",
    "adults": 1,
    "children_birth_years": [2014],
    "computers": 0,
    "has_printer": False,
    "has_internet": True,
    "requests": ["laptop"],
    "waiting_since": "2026-09-15",  # 6 months at the session
}


async def programme(client: Any, headers: dict[str, str], **changes: Any) -> int:
    body = {**copy.deepcopy(PROGRAMME), "rules": {}, **changes}
    response = await client.post("/api/v1/programmes", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def eligible(client: Any, headers: dict[str, str], programme_id: int, **changes: Any) -> str:
    body = {"programme": programme_id, **ONE_LAPTOP, **changes}
    response = await client.post(API, json=body, headers=headers)
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    moved = await client.post(f"{API}/{code}/status", json={"status": "eligible"}, headers=headers)
    assert moved.status_code == 200, moved.text
    return code


async def session(client: Any, headers: dict[str, str], programme_id: int) -> int:
    response = await client.post(
        SESSIONS,
        json={"programme": programme_id, "held_on": HELD_ON, "members": ["Mme Roux (PRE)", "M. Diallo"]},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def decide(client: Any, headers: dict[str, str], session_id: int, **body: Any) -> Any:
    return await client.post(f"{SESSIONS}/{session_id}/decisions", json=body, headers=headers)


async def in_stock(
    kind: DeviceKind, grade: str | None, count: int, os: str = "Linux Mint 21.3", day: int = 0
) -> list[str]:
    """Devices in stock, graded, with this OS recorded, stocked one day apart (the first is the oldest)."""
    batch = await new_batch()
    codes = []
    for n in range(count):
        device = await new_device(State.IN_STOCK, batch=batch, kind=kind)
        row = await device_row(device.code)
        async with write_transaction():
            await devices.set_facts(row["id"], grade=grade, os=os)
            await Device.update(
                {
                    Device.stocked_at: datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)
                    + datetime.timedelta(days=day + n)
                }
            ).where(Device.id == row["id"])
        codes.append(device.code)
    return codes


def payload_of(event: dict[str, Any]) -> Any:
    payload = event["payload"]
    return json.loads(payload) if isinstance(payload, str) else payload


async def household_id(code: str) -> int:
    row = await Household.select(Household.id).where(Household.code == code).first()
    return row["id"]


async def test_the_agenda_orders_by_priority_and_decisions_write_exact_rows(client, as_user) -> None:
    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator)
    sid = await session(client, coordinator, prog)
    waiting = await eligible(client, coordinator, prog)
    hotel = await eligible(client, coordinator, prog, social_hotel=True)
    two = await eligible(client, coordinator, prog, children_birth_years=[2018, 2014], has_internet=False)
    census = (await client.post(API, json={"programme": prog, **ONE_LAPTOP}, headers=coordinator)).json()[
        "code"
    ]

    agenda = await client.get(f"{SESSIONS}/{sid}/agenda", headers={**coordinator, "accept-language": "fr"})
    assert agenda.status_code == 200, agenda.text
    body = agenda.json()
    assert body["total"] == 3
    assert body["rule_set_version"] == 1
    # social hotel (30 + 10 + 20 + 6), two children + no internet (30 + 20 + 10 + 6): a tie, F code first.
    assert [(i["code"], i["score"]) for i in body["items"]] == [(hotel, 66), (two, 66), (waiting, 46)]
    first = next(i for i in body["items"] if i["code"] == two)
    assert [(line["kind"], line["quantity"]) for line in first["lines"]] == [
        ("laptop", 1),
        ("connectivity", 1),
    ]
    assert [(line["label"], line["reasons"]) for line in first["lines"]] == [
        ("1 ordinateur portable", ["2 enfants de 9 et 13 ans", "au plus 1 ordinateur ou tablette par foyer"]),
        ("1 clé 4G", ["pas d'internet au foyer"]),
    ]
    assert census not in [i["code"] for i in body["items"]]

    refused = await decide(client, coordinator, sid, household=hotel, kind="reject", reason=" ")
    assert (refused.status_code, refused.json()["code"]) == (400, "reason_required")
    assert await Decision.count() == 0
    not_eligible = await decide(client, coordinator, sid, household=census, kind="approve")
    assert (not_eligible.status_code, not_eligible.json()["code"]) == (409, "not_eligible")

    approved = await decide(client, coordinator, sid, household=waiting, kind="approve")
    assert approved.status_code == 201, approved.text
    modified = await decide(
        client,
        coordinator,
        sid,
        household=two,
        kind="modify",
        reason="la box du voisin suffit",
        lines=[{"kind": "laptop", "quantity": 1}],
        mode="loan",
    )
    assert modified.status_code == 201, modified.text
    deferred = await decide(
        client, coordinator, sid, household=hotel, kind="defer", reason="dossier incomplet"
    )
    assert deferred.status_code == 201, deferred.text

    rows = await Decision.select(
        Decision.household.code, Decision.kind, Decision.reason, Decision.rule_set_version, Decision.mode,
        Decision.actor_name,
    ).order_by(Decision.id)  # fmt: skip
    assert [tuple(r.values()) for r in rows] == [
        (waiting, "approve", "", 1, "donation", "Coordinator"),
        (two, "modify", "la box du voisin suffit", 1, "loan", "Coordinator"),
        (hotel, "defer", "dossier incomplet", 1, None, "Coordinator"),
    ]
    kept = modified.json()
    assert [(line["kind"], line["quantity"]) for line in kept["proposal"]["lines"]] == [
        ("laptop", 1),
        ("connectivity", 1),
    ]
    assert [(line["kind"], line["quantity"]) for line in kept["lines"]] == [("laptop", 1)]
    allocations = await Allocation.select(
        Allocation.household.code, Allocation.kind, Allocation.mode, Allocation.status, Allocation.device
    ).order_by(Allocation.id)
    assert [tuple(r.values()) for r in allocations] == [
        (waiting, "laptop", "donation", "to_match", None),
        (two, "laptop", "loan", "to_match", None),
    ]
    statuses = {
        r["code"]: r["status"]
        for r in await Household.select(Household.code, Household.status).where(
            Household.code.is_in([waiting, two, hotel])
        )
    }
    assert statuses == {waiting: "approved", two: "approved", hotel: "eligible"}
    again = (await client.get(f"{SESSIONS}/{sid}/agenda", headers=coordinator)).json()
    assert [(i["code"], i["deferred"]) for i in again["items"]] == [(hotel, True)]

    rejected = await decide(client, coordinator, sid, household=hotel, kind="reject", reason="a déménagé")
    assert rejected.status_code == 201, rejected.text
    household = (await client.get(f"{API}/{hotel}", headers=coordinator)).json()
    assert (household["status"], household["status_reason"]) == ("declined", "a déménagé")
    assert household["history"][-1]["payload"] == {"decision": rejected.json()["id"], "session": sid}

    with pytest.raises(Exception, match="append-only"):
        await Decision.update({Decision.reason: "rewritten"}).where(Decision.id == rejected.json()["id"])
    with pytest.raises(Exception, match="append-only"):
        await Decision.delete().where(Decision.id == rejected.json()["id"])
    assert (await Decision.select(Decision.reason).where(Decision.id == rejected.json()["id"]).first())[
        "reason"
    ] == "a déménagé"


async def test_a_decision_keeps_its_rule_set_version_after_the_rules_change(client, as_user) -> None:
    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator)
    sid = await session(client, coordinator, prog)
    code = await eligible(client, coordinator, prog)
    first = await decide(client, coordinator, sid, household=code, kind="approve")
    assert first.json()["rule_set_version"] == 1
    changed = {**copy.deepcopy(PROGRAMME), "rules": {"laptop_from_age": 11}}
    response = await client.put(f"/api/v1/programmes/{prog}", json=changed, headers=coordinator)
    assert (response.status_code, response.json()["rules_version"]) == (200, 2)
    second_code = await eligible(client, coordinator, prog)
    second = await decide(client, coordinator, sid, household=second_code, kind="approve")
    listed = (await client.get(f"{SESSIONS}/{sid}/decisions", headers=coordinator)).json()
    assert [(d["household"], d["rule_set_version"]) for d in listed] == [(code, 1), (second_code, 2)]
    assert second.json()["proposal"]["rule_set_version"] == 2


async def test_the_one_computer_exception_is_recorded_with_its_reason(client, as_user) -> None:
    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator)
    sid = await session(client, coordinator, prog)
    code = await eligible(client, coordinator, prog, children_birth_years=[2014, 2012])
    response = await decide(
        client,
        coordinator,
        sid,
        household=code,
        kind="approve",
        exception={"computers": 2, "reason": "deux collégiens en examen"},
    )
    assert response.status_code == 201, response.text
    decision = response.json()
    assert decision["exception"] == {"computers": 2, "reason": "deux collégiens en examen"}
    assert [(line["kind"], line["quantity"]) for line in decision["proposal"]["lines"]] == [("laptop", 1)]
    assert [(line["kind"], line["quantity"]) for line in decision["lines"]] == [("laptop", 2)]
    assert "exception" in [r["code"] for r in decision["lines"][0]["reasons"]]
    assert await Allocation.count().where(Allocation.household == await household_id(code)) == 2
    no_reason = await eligible(client, coordinator, prog, children_birth_years=[2014, 2012])
    refused = await decide(
        client,
        coordinator,
        sid,
        household=no_reason,
        kind="approve",
        exception={"computers": 2, "reason": ""},
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "reason_required")


async def test_reserve_and_release_go_through_the_lifecycle_with_exact_events(client, as_user) -> None:
    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator)
    sid = await session(client, coordinator, prog)
    code = await eligible(client, coordinator, prog)
    await decide(client, coordinator, sid, household=code, kind="approve")
    (allocation,) = (await client.get(ALLOCATIONS, headers=coordinator)).json()
    grade_c = await in_stock(DeviceKind.LAPTOP, "C", 1)  # below the programme's minimum (B)
    oldest, newer = await in_stock(DeviceKind.LAPTOP, "A", 2)
    await in_stock(DeviceKind.DESKTOP, "A", 1)

    matched = await client.post(f"{ALLOCATIONS}/{allocation['id']}/match", json={}, headers=coordinator)
    assert matched.status_code == 200, matched.text
    assert (matched.json()["status"], matched.json()["device"]) == ("reserved", oldest)
    events = await event_rows(oldest)
    assert [(e["action"], e["from_state"], e["to_state"], e["actor_name"]) for e in events[1:]] == [
        ("reserve", "in_stock", "reserved", "Coordinator")
    ]
    assert payload_of(events[-1]) == {"allocation": allocation["id"]}
    assert len(await event_rows(grade_c[0])) == 1  # below the minimum grade: untouched
    twice = await client.post(f"{ALLOCATIONS}/{allocation['id']}/match", json={}, headers=coordinator)
    assert (twice.status_code, twice.json()["code"]) == (409, "allocation_taken")

    no_reason = await client.post(
        f"{ALLOCATIONS}/{allocation['id']}/release", json={"reason": " "}, headers=coordinator
    )
    assert (no_reason.status_code, no_reason.json()["code"]) == (400, "reason_required")
    released = await client.post(
        f"{ALLOCATIONS}/{allocation['id']}/release", json={"reason": "écran fêlé"}, headers=coordinator
    )
    assert released.status_code == 200, released.text
    assert (released.json()["status"], released.json()["device"]) == ("to_match", None)
    last = (await event_rows(oldest))[-1]
    assert (last["action"], last["from_state"], last["to_state"]) == ("release", "reserved", "in_stock")
    payload = (
        last["payload"] if isinstance(last["payload"], dict) else __import__("json").loads(last["payload"])
    )
    assert payload == {"allocation": allocation["id"], "reason": "écran fêlé"}
    assert (await Device.select(Device.state).where(Device.code == oldest).first())["state"] == "in_stock"

    # Named device: a desktop is refused for a laptop allocation and nothing changes.
    before = await DeviceEvent.count()
    wrong = await client.post(
        f"{ALLOCATIONS}/{allocation['id']}/match", json={"device": grade_c[0]}, headers=coordinator
    )
    assert (wrong.status_code, wrong.json()["code"]) == (400, "device_unsuitable")
    assert await DeviceEvent.count() == before
    chosen = await client.post(
        f"{ALLOCATIONS}/{allocation['id']}/match", json={"device": newer}, headers=coordinator
    )
    assert (chosen.status_code, chosen.json()["device"]) == (200, newer)
    # Reserving through the devices API with a taken allocation is refused by the check: nothing moves.
    refused = await client.post(
        f"/api/v1/devices/{oldest}/actions/reserve",
        json={"allocation": allocation["id"]},
        headers=coordinator,
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "allocation_taken"


async def test_two_coordinators_matching_at_once_never_double_book(client, as_user) -> None:
    coordinator, admin = as_user("coordinator"), as_user("admin")
    prog = await programme(client, coordinator)
    sid = await session(client, coordinator, prog)
    for _ in range(20):
        code = await eligible(client, coordinator, prog)
        response = await decide(client, coordinator, sid, household=code, kind="approve")
        assert response.status_code == 201, response.text
    stock = await in_stock(DeviceKind.LAPTOP, "B", 15)

    first, second = await asyncio.gather(
        client.post(f"{ALLOCATIONS}/match-all", headers=coordinator),
        client.post(f"{ALLOCATIONS}/match-all", headers=admin),
    )
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert first.json()["reserved"] + second.json()["reserved"] == 15
    rows = await Allocation.select(Allocation.status, Allocation.device).order_by(Allocation.id)
    reserved = [r["device"] for r in rows if r["status"] == "reserved"]
    assert len(reserved) == 15
    assert len(set(reserved)) == 15
    assert sum(1 for r in rows if r["status"] == "to_match" and r["device"] is None) == 5
    states = await Device.select(Device.code, Device.state).where(Device.code.is_in(stock))
    assert {r["state"] for r in states} == {"reserved"}
    reserves = await DeviceEvent.select(DeviceEvent.device).where(DeviceEvent.action == "reserve")
    assert sorted(r["device"] for r in reserves) == sorted(reserved)  # one reserve event per device
    shortage = (await client.get(f"{ALLOCATIONS}/shortage", headers=coordinator)).json()
    assert shortage == {"programme": None, "by_kind": {"laptop": 5}, "total": 5, "without_suitable_os": {}}
    assert {"laptop": 5} in (first.json()["shortage"], second.json()["shortage"])  # whoever finished last
    demand = (await client.get(f"{ALLOCATIONS}/stock-demand", headers=coordinator)).json()
    assert demand == [
        {
            "kind": "laptop",
            "in_stock_by_grade": {},
            "in_stock": 0,
            "reserved": 15,
            "to_match": 5,
            "without_suitable_os": 0,
            "missing": 5,
        }
    ]


async def test_the_minutes_carry_no_personal_data(client, as_user) -> None:
    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator)
    sid = await session(client, coordinator, prog)
    code = await eligible(client, coordinator, prog)
    other = await eligible(client, coordinator, prog)
    assert (
        await client.put(f"{API}/{code}/personal-data", json=PERSON, headers=coordinator)
    ).status_code == 200
    await decide(client, coordinator, sid, household=code, kind="approve")
    await decide(client, coordinator, sid, household=other, kind="reject", reason="hors périmètre")
    pdf = await client.get(f"{SESSIONS}/{sid}/minutes.pdf", headers={**coordinator, "accept-language": "fr"})
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"].startswith("application/pdf")
    document = pypdfium2.PdfDocument(io.BytesIO(pdf.content))
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    display = code[0] + "-" + code[1:8] + "-" + code[8]
    for expected in (display, "QN09301M", "Mme Roux (PRE)", "hors périmètre"):
        assert expected in text, expected
    for secret in SECRETS:
        assert secret not in text, secret


@pytest.mark.parametrize("role", ["donor", "technician", "supervisor", "driver", "auditor", "bus_staff"])
async def test_roles_without_households_are_kept_out(client, as_user, role) -> None:
    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator)
    sid = await session(client, coordinator, prog)
    headers = as_user(role)
    for method, url in (
        ("get", SESSIONS),
        ("get", f"{SESSIONS}/{sid}/agenda"),
        ("post", f"{SESSIONS}/{sid}/decisions"),
        ("get", f"{SESSIONS}/{sid}/minutes.pdf"),
        ("get", ALLOCATIONS),
        ("post", f"{ALLOCATIONS}/match-all"),
        ("get", f"{ALLOCATIONS}/shortage"),
    ):
        response = await getattr(client, method)(
            url, headers=headers, **({"json": {}} if method == "post" else {})
        )
        assert response.status_code == 403, (role, url, response.status_code)


async def test_the_coordinator_pages_and_start_page_show_the_commission_and_the_shortage(
    client, as_user
) -> None:
    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator)
    sid = await session(client, coordinator, prog)
    code = await eligible(client, coordinator, prog)
    other = await eligible(client, coordinator, prog)
    await decide(client, coordinator, sid, household=other, kind="approve")
    agenda = await client.get(f"/commission/{sid}", headers=coordinator)
    assert agenda.status_code == 200, agenda.text
    assert f'id="item-{code}"' in agenda.text
    assert 'tabindex="0"' in agenda.text
    assert (await client.get("/allocations", headers=coordinator)).status_code == 200
    demand = await client.get("/allocations/stock-demand", headers=coordinator)
    assert demand.status_code == 200
    assert 'id="stock-demand"' in demand.text
    work = (await client.get("/api/v1/me/work", headers=coordinator)).json()
    counts = {s["key"]: s["count"] for s in work["sections"]}
    assert counts == {
        "households_to_review": 0,
        "next_commission": 1,
        "allocations_to_match": 1,
        "shortage": 1,
    }
    assert (await client.get(f"/commission/{sid}", headers=as_user("technician"))).status_code == 403


async def test_a_decision_from_the_page_returns_to_the_next_household_and_only_to_a_household(
    client, as_user
) -> None:
    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator)
    sid = await session(client, coordinator, prog)
    first, second, third = [await eligible(client, coordinator, prog) for _ in range(3)]
    url = f"/commission/{sid}/decisions"
    form = {"household": first, "kind": "approve", "offset": "50", "next": second}
    sent = await client.post(url, data=form, headers=coordinator, follow_redirects=False)
    assert (sent.status_code, sent.headers["location"]) == (303, f"/commission/{sid}?offset=50#item-{second}")
    odd = {"household": second, "kind": "approve", "offset": "-1", "next": "x/../../login"}
    sent = await client.post(url, data=odd, headers=coordinator, follow_redirects=False)
    assert (sent.status_code, sent.headers["location"]) == (303, f"/commission/{sid}")
    refused = {"household": third, "kind": "reject", "reason": " ", "next": first}
    shown = await client.post(url, data=refused, headers={**coordinator, "accept-language": "fr"})
    assert shown.status_code == 400
    assert 'data-refused="reject"' in shown.text
    assert "Dites pourquoi la commission refuse ce foyer." in shown.text
    listed = (await client.get(f"{SESSIONS}/{sid}/decisions", headers=coordinator)).json()
    assert [(d["household"], d["kind"]) for d in listed] == [(first, "approve"), (second, "approve")]


async def test_the_household_page_shows_the_proposal_the_decision_and_the_reserved_device(
    client, as_user
) -> None:
    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator)
    sid = await session(client, coordinator, prog)
    code = await eligible(client, coordinator, prog)
    french = {**coordinator, "accept-language": "fr"}
    before = (await client.get(f"/households/{code}", headers=french)).text
    assert "Ce que proposent les règles aujourd'hui" in before
    assert "Aucune décision pour l'instant." in before
    assert 'id="allocations"' not in before
    await decide(client, coordinator, sid, household=code, kind="approve")
    (allocation,) = (await client.get(ALLOCATIONS, headers=coordinator)).json()
    (device,) = await in_stock(DeviceKind.LAPTOP, "A", 1)
    matched = await client.post(f"{ALLOCATIONS}/{allocation['id']}/match", json={}, headers=coordinator)
    assert matched.status_code == 200, matched.text
    after = await client.get(f"/households/{code}", headers=french)
    assert after.status_code == 200
    decisions = after.text.split('id="decisions"')[1].split("</section>")[0]
    assert "Aucune décision" not in decisions
    assert "1 × " in decisions
    allocations = after.text.split('id="allocations"')[1].split("</section>")[0]
    assert f'href="/devices/{device}"' in allocations
    assert parse_code(device).display in allocations


async def test_households_listed_by_priority_with_their_scores(client, as_user) -> None:
    coordinator = as_user("coordinator")
    prog = await programme(client, coordinator, rules={"weights": {"per_month_waiting": 0}})
    low = await eligible(client, coordinator, prog, computers=1)  # one school child: 10
    middle = await eligible(client, coordinator, prog)  # no computer 30 + one school child 10
    high = await eligible(  # 30 + 2 × 10 + social hotel 20 + no internet 10
        client, coordinator, prog, children_birth_years=[2014, 2016], social_hotel=True, has_internet=False
    )
    listed = await client.get(API, params={"programme": prog, "order": "priority"}, headers=coordinator)
    assert listed.status_code == 200, listed.text
    assert [(h["code"], h["priority"]) for h in listed.json()] == [(high, 80), (middle, 40), (low, 10)]
    by_code = await client.get(API, params={"programme": prog}, headers=coordinator)
    assert [h["priority"] for h in by_code.json()] == [None, None, None]
    at_least = await client.get(API, params={"programme": prog, "priority_min": 40}, headers=coordinator)
    assert [h["code"] for h in at_least.json()] == [high, middle]
    second_page = await client.get(
        API, params={"programme": prog, "order": "priority", "limit": 1, "offset": 1}, headers=coordinator
    )
    assert [h["code"] for h in second_page.json()] == [middle]
    page = await client.get(
        "/households", params={"programme": prog, "order": "priority"}, headers=coordinator
    )
    rows = page.text.split('id="households"')[1]
    assert rows.index(f'data-household="{high}"') < rows.index(f'data-household="{middle}"')
    assert "<td>80</td>" in rows


async def test_an_unknown_status_filter_is_refused_not_an_empty_list(client, as_user) -> None:
    coordinator = as_user("coordinator")
    refused = await client.get(API, params={"status": "eligble"}, headers=coordinator)
    assert (refused.status_code, refused.json()["code"]) == (400, "bad_status")
    assert "census, eligible, approved" in refused.json()["detail"]
    page = await client.get("/households", params={"status": "eligble"}, headers=coordinator)
    assert page.status_code == 400
