"""Bus rounds on both engines: planning with slot capacity, convocations and their moves, loading and
unloading by scanning, hand-overs with their agreement, the household equipped, closing with its report."""

from __future__ import annotations

import hashlib
from typing import Any

from refurb.core.codes import parse_code
from refurb.core.kinds import DeviceKind
from refurb.core.stages import Stage
from refurb.devices.tables import Device
from refurb.distribution.tables import Appointment, Handover, Household
from tests.helpers import new_station
from tests.integration.bus import (
    HELD_ON,
    OTHER_QPV,
    QPV,
    ROUNDS,
    handover_body,
    households_with_devices,
    new_round,
    png,
    round_with_households,
    stop,
)
from tests.integration.test_commission import eligible, in_stock

DEVICES = "/api/v1/devices"


async def states(codes: list[str]) -> dict[str, str]:
    rows = await Device.select(Device.code, Device.state).where(Device.code.is_in(codes))
    return {r["code"]: r["state"] for r in rows}


async def test_filling_a_round_respects_each_slot_capacity_and_convocations_move_with_history(
    client, as_user
) -> None:
    coordinator = as_user("coordinator", **{"accept-language": "fr"})
    prog, households, _ = await households_with_devices(client, coordinator, 5)
    planned = await new_round(
        client, coordinator, prog,
        [stop(), stop("Parvis de l'école", OTHER_QPV, starts_at="10:30", ends_at="11:00", slot_capacity=1)],
    )  # fmt: skip
    assert [s["slots"] for s in planned["stops"]] == [["09:00", "09:30"], ["10:30"]]
    assert planned["status"] == "planned"
    assert planned["code"].startswith("R")
    code = planned["code"]

    filled = await client.post(f"{ROUNDS}/{code}/fill", json={}, headers=coordinator)
    assert filled.status_code == 200, filled.text
    body = filled.json()
    assert (body["convoked"], body["left_without_slot"]) == (4, 1)  # 2 slots × 2 at the only stop of QPV
    assert [(a["household"], a["slot"]) for a in body["appointments"]] == [
        (households[0], "09:00"),
        (households[1], "09:00"),
        (households[2], "09:30"),
        (households[3], "09:30"),
    ]
    assert all(len(a["devices"]) == 1 for a in body["appointments"])

    full = await client.post(
        f"{ROUNDS}/{code}/appointments",
        json={"household": households[4], "stop": planned["stops"][0]["id"], "slot": "09:30"},
        headers=coordinator,
    )
    assert (full.status_code, full.json()["code"]) == (409, "slot_full")
    assert "complet" in full.json()["detail"]
    unknown_slot = await client.post(
        f"{ROUNDS}/{code}/appointments",
        json={"household": households[4], "stop": planned["stops"][1]["id"], "slot": "10:45"},
        headers=coordinator,
    )
    assert (unknown_slot.status_code, unknown_slot.json()["code"]) == (400, "unknown_slot")
    added = await client.post(
        f"{ROUNDS}/{code}/appointments",
        json={"household": households[4], "stop": planned["stops"][1]["id"], "slot": "10:30"},
        headers=coordinator,
    )
    assert added.status_code == 201, added.text
    again = await client.post(
        f"{ROUNDS}/{code}/appointments",
        json={"household": households[4], "stop": planned["stops"][1]["id"], "slot": "10:30"},
        headers=coordinator,
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_convoked")
    not_approved = await eligible(client, coordinator, prog, qpv_code=QPV)
    refused = await client.post(
        f"{ROUNDS}/{code}/appointments",
        json={"household": not_approved, "stop": planned["stops"][0]["id"], "slot": "09:00"},
        headers=coordinator,
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "household_not_approved")

    # Moving a convocation to another round keeps the first one, `moved`, pointing to the new one.
    later = await new_round(client, coordinator, prog, held_on="2027-04-17")
    moved = await client.post(
        f"/api/v1/appointments/{body['appointments'][0]['id']}/move",
        json={"round": later["code"], "stop": later["stops"][0]["id"], "slot": "09:30"},
        headers=coordinator,
    )
    assert moved.status_code == 200, moved.text
    new = moved.json()
    assert (new["round"], new["slot"], new["status"]) == (later["code"], "09:30", "convoked")
    rows = await Appointment.select(
        Appointment.id, Appointment.status, Appointment.moved_to, Appointment.round.code
    ).where(
        Appointment.household.code == households[0]
    ).order_by(Appointment.id)  # fmt: skip
    assert [(r["round.code"], r["status"]) for r in rows] == [(code, "moved"), (later["code"], "convoked")]
    assert rows[0]["moved_to"] == moved.json()["id"]
    listed = (await client.get(f"{ROUNDS}/{code}/appointments", headers=coordinator)).json()
    assert sorted(a["status"] for a in listed) == ["convoked"] * 4 + ["moved"]
    shown = await client.get(f"/households/{households[0]}", headers=coordinator)
    assert [m.split('"')[0] for m in shown.text.split('data-appointment="')[1:]] == [
        str(r["id"]) for r in rows
    ]
    assert "déplacé" in shown.text


async def scan(client: Any, headers: dict[str, str], station: str, text: str, **body: Any) -> Any:
    body = {"station": station, "text": text, **body}
    return await client.post("/api/v1/scans", json=body, headers=headers)


async def test_loading_takes_only_this_rounds_devices_and_unloading_brings_them_back(client, as_user) -> None:
    coordinator = as_user("coordinator", **{"accept-language": "fr"})
    staff = as_user("bus_staff", **{"accept-language": "fr"})
    setup = await round_with_households(client, coordinator, 2)
    code, devices = setup["round"]["code"], setup["devices"]
    other = await round_with_households(client, coordinator, 1)
    station = (await new_station(Stage.LOADING, "Quai du bus")).code

    before_round = await scan(client, staff, station, devices[0])
    assert (before_round.status_code, before_round.json()["code"]) == (400, "round_required")
    found = await scan(client, staff, station, code)
    assert found.status_code == 200, found.text
    assert found.json()["result"] == "found"
    assert found.json()["context"] == {"round": code}
    assert "0 sur 2" in found.json()["message"]
    assert (await client.get(f"{ROUNDS}/{code}", headers=coordinator)).json()["status"] == "loading"

    loaded = await scan(client, staff, station, devices[0], context={"round": code})
    assert (loaded.status_code, loaded.json()["result"]) == (200, "recorded"), loaded.text
    twice = await scan(client, staff, station, devices[0], context={"round": code})
    assert twice.json()["result"] == "already_recorded"
    foreign = await scan(client, staff, station, other["devices"][0], context={"round": code})
    assert (foreign.status_code, foreign.json()["code"]) == (409, "device_other_round")
    assert other["round"]["display_code"] in foreign.json()["detail"]
    (spare,) = await in_stock(DeviceKind.LAPTOP, "A", 1)
    not_reserved = await scan(client, staff, station, spare, context={"round": code})
    assert not_reserved.status_code == 409, not_reserved.text
    assert await states([devices[0], devices[1], other["devices"][0], spare]) == {
        devices[0]: "dispatched", devices[1]: "reserved", other["devices"][0]: "reserved", spare: "in_stock",
    }  # fmt: skip
    progress = (await client.get(f"{ROUNDS}/{code}/progress", headers=coordinator)).json()
    assert [(s["loaded"], s["to_load"], s["waiting"]) for s in progress["stops"]] == [(1, 1, 2)]

    unloaded = await scan(client, staff, station, devices[0], action="unload", context={"round": code})
    assert (unloaded.status_code, unloaded.json()["result"]) == (200, "recorded"), unloaded.text
    assert await states([devices[0]]) == {devices[0]: "reserved"}


async def test_a_hand_over_needs_the_right_family_and_an_agreement_and_equips_the_household(
    client, as_user
) -> None:
    coordinator = as_user("coordinator", **{"accept-language": "fr"})
    staff = as_user("bus_staff", **{"accept-language": "fr"})
    setup = await round_with_households(client, coordinator, 2)
    code, households, devices = setup["round"]["code"], setup["households"], setup["devices"]
    await client.post(f"{ROUNDS}/{code}/status", json={"status": "loading"}, headers=staff)
    for device in devices:
        moved = await client.post(f"{DEVICES}/{device}/actions/dispatch", json={"round": code}, headers=staff)
        assert moved.status_code == 201, moved.text
    out = await client.post(f"{ROUNDS}/{code}/status", json={"status": "out"}, headers=staff)
    assert out.json()["status"] == "out"

    handovers = f"{ROUNDS}/{code}/handovers"
    wrong = await client.post(handovers, json=handover_body(households[0], devices[1]), headers=staff)
    assert (wrong.status_code, wrong.json()["code"]) == (409, "wrong_household")
    unsigned = await client.post(
        handovers, json=handover_body(households[0], devices[0], signature_png=None), headers=staff
    )
    assert (unsigned.status_code, unsigned.json()["code"]) == (400, "agreement_missing")
    unchecked = await client.post(
        handovers, json=handover_body(households[0], devices[0], identity_checked=False), headers=staff
    )
    assert (unchecked.status_code, unchecked.json()["code"]) == (400, "identity_not_checked")
    bad_png = await client.post(
        handovers, json=handover_body(households[0], devices[0], signature_png="aGVsbG8="), headers=staff
    )
    assert (bad_png.status_code, bad_png.json()["code"]) == (400, "bad_signature")
    (spare,) = await in_stock(DeviceKind.LAPTOP, "A", 1)
    unreserved = await client.post(handovers, json=handover_body(households[0], spare), headers=staff)
    assert (unreserved.status_code, unreserved.json()["code"]) == (409, "device_not_reserved")
    direct = await client.post(
        f"/api/v1/devices/{devices[0]}/actions/hand_over", json={"household": households[0]}, headers=staff
    )
    assert (direct.status_code, direct.json()["code"]) == (409, "handover_agreement_missing")
    assert await Handover.count() == 0
    assert await states(devices) == dict.fromkeys(devices, "dispatched")

    done = await client.post(handovers, json=handover_body(households[0], devices[0]), headers=staff)
    assert done.status_code == 201, done.text
    body = done.json()
    assert (body["outcome"], body["mode"], body["round"], body["without_appointment"]) == (
        "recorded", "donation", code, False,
    )  # fmt: skip
    assert body["signature_sha256"] == hashlib.sha256(png()).hexdigest()
    assert body["support"] == "Centre social Les Courtillières"
    stored = await Handover.select(Handover.signature, Handover.training).first()
    assert bytes(stored["signature"]) == png()
    assert stored["training"] == "accepted"
    assert body["household_status"] == "equipped"
    repeated = await client.post(handovers, json=handover_body(households[0], devices[0]), headers=staff)
    assert (repeated.status_code, repeated.json()["outcome"]) == (200, "already_recorded")
    assert await Handover.count() == 1

    typed = await client.post(
        handovers,
        json=handover_body(households[1], devices[1], signature_png=None, typed_name="Samira Benali"),
        headers=staff,
    )
    assert typed.status_code == 201, typed.text
    assert typed.json()["signature_sha256"] == ""
    assert await states(devices) == dict.fromkeys(devices, "handed_over")
    rows = await Household.select(Household.code, Household.status).where(Household.code.is_in(households))
    assert {r["code"]: r["status"] for r in rows} == dict.fromkeys(households, "equipped")
    appointments = await Appointment.select(Appointment.status).where(Appointment.round.code == code)
    assert [a["status"] for a in appointments] == ["delivered", "delivered"]

    closed = await client.post(f"{ROUNDS}/{code}/close", headers=coordinator)
    assert closed.status_code == 200, closed.text
    assert closed.json()["report"] == {
        "delivered": 2, "devices_handed_over": 2, "absent": 0, "devices_back": 0,
        "absent_households": [], "next_round": None,
    }  # fmt: skip


async def test_a_household_with_two_allocations_is_equipped_only_with_both(client, as_user) -> None:
    coordinator = as_user("coordinator", **{"accept-language": "fr"})
    staff = as_user("bus_staff")
    setup = await round_with_households(client, coordinator, 1)
    code, (household,), (laptop,) = setup["round"]["code"], setup["households"], setup["devices"]
    # A second allocation, still to match: the household waits for it.
    from refurb.distribution.tables import Allocation

    first = await Allocation.select().where(Allocation.device.code == laptop).first()
    await Allocation.insert(
        Allocation(household=first["household"], programme=first["programme"], decision=first["decision"],
                   kind="printer", mode="donation")
    )  # fmt: skip
    await client.post(f"{ROUNDS}/{code}/status", json={"status": "loading"}, headers=staff)
    await client.post(f"/api/v1/devices/{laptop}/actions/dispatch", json={"round": code}, headers=staff)
    await client.post(f"{ROUNDS}/{code}/status", json={"status": "out"}, headers=staff)
    body = handover_body(household, laptop)
    done = await client.post(f"{ROUNDS}/{code}/handovers", json=body, headers=staff)
    assert done.status_code == 201, done.text
    assert done.json()["household_status"] == "approved"


async def test_closing_refuses_while_devices_are_on_board_and_reports_the_absent(client, as_user) -> None:
    coordinator = as_user("coordinator", **{"accept-language": "fr"})
    staff = as_user("bus_staff")
    setup = await round_with_households(client, coordinator, 2)
    code, households, devices = setup["round"]["code"], setup["households"], setup["devices"]
    later = await new_round(client, coordinator, setup["programme"], held_on="2027-04-24")
    await client.post(f"{ROUNDS}/{code}/status", json={"status": "loading"}, headers=staff)
    for device in devices:
        await client.post(f"{DEVICES}/{device}/actions/dispatch", json={"round": code}, headers=staff)
    await client.post(f"{ROUNDS}/{code}/status", json={"status": "out"}, headers=staff)
    body = handover_body(households[0], devices[0])
    done = await client.post(f"{ROUNDS}/{code}/handovers", json=body, headers=staff)
    assert done.status_code == 201, done.text
    refused = await client.post(f"{ROUNDS}/{code}/close", headers=coordinator)
    assert (refused.status_code, refused.json()["code"]) == (409, "devices_on_board")
    back = await client.post(f"{DEVICES}/{devices[1]}/actions/unload", json={"round": code}, headers=staff)
    assert back.status_code == 201, back.text
    closed = await client.post(f"{ROUNDS}/{code}/close", headers=coordinator)
    assert closed.json()["status"] == "closed"
    assert closed.json()["report"] == {
        "delivered": 1, "devices_handed_over": 1, "absent": 1, "devices_back": 1,
        "absent_households": [households[1]], "next_round": later["code"],
    }  # fmt: skip
    again = await client.post(
        f"{ROUNDS}/{code}/reconvoke-absent", json={"round": later["code"]}, headers=coordinator
    )
    assert (again.status_code, again.json()["convoked"]) == (200, 1), again.text
    assert again.json()["appointments"][0]["household"] == households[1]
    assert await states(devices) == {devices[0]: "handed_over", devices[1]: "reserved"}


async def test_an_offline_hand_over_refused_on_replay_lands_in_the_conflict_list_once(
    client, as_user
) -> None:
    coordinator = as_user("coordinator", **{"accept-language": "fr"})
    staff = as_user("bus_staff", **{"accept-language": "fr"})
    setup = await round_with_households(client, coordinator, 1)
    code, (household,), (device,) = setup["round"]["code"], setup["households"], setup["devices"]
    await client.post(f"{ROUNDS}/{code}/status", json={"status": "loading"}, headers=staff)
    await client.post(f"{DEVICES}/{device}/actions/dispatch", json={"round": code}, headers=staff)
    await client.post(f"{ROUNDS}/{code}/status", json={"status": "out"}, headers=staff)
    first = await client.post(
        f"{ROUNDS}/{code}/handovers", json=handover_body(household, device),
        headers={**staff, "idempotency-key": "tablet-b-1"},
    )  # fmt: skip
    assert first.status_code == 201, first.text
    offline = handover_body(household, device, queued_at="2027-04-10T09:12:00+02:00")
    replay = await client.post(
        f"{ROUNDS}/{code}/handovers", json=offline, headers={**staff, "idempotency-key": "tablet-a-7"}
    )
    assert (replay.status_code, replay.json()["code"]) == (409, "device_already_handed_over")
    conflict_id = replay.json()["conflict"]
    again = await client.post(
        f"{ROUNDS}/{code}/handovers", json=offline, headers={**staff, "idempotency-key": "tablet-a-7"}
    )
    assert again.status_code == 409
    assert again.json()["conflict"] == conflict_id
    listed = (await client.get(f"{ROUNDS}/{code}/conflicts", headers=coordinator)).json()
    assert [(c["id"], c["device"], c["household"], c["problem_code"]) for c in listed] == [
        (conflict_id, device, household, "device_already_handed_over")
    ]
    assert await Handover.count() == 1
    resolved = await client.post(
        f"/api/v1/conflicts/{conflict_id}/resolve", json={"resolution": "Double scan, rien à faire"},
        headers=coordinator,
    )  # fmt: skip
    assert resolved.status_code == 200
    assert resolved.json()["resolved_by"]
    assert (await client.get(f"{ROUNDS}/{code}/conflicts?open_only=true", headers=coordinator)).json() == []


async def test_the_round_pack_greets_by_name_only_the_rounds_staff(client, as_user) -> None:
    from refurb.accounts import service as accounts
    from refurb.distribution.schemas import PersonalDataIn
    from refurb.distribution.service import set_personal_data
    from tests.conftest import bearer
    from tests.helpers import principal
    from tests.integration.test_households import PERSON

    coordinator = as_user("coordinator", **{"accept-language": "fr"})
    setup = await round_with_households(client, coordinator, 1)
    code, (household,) = setup["round"]["code"], setup["households"]
    await set_personal_data(household, PersonalDataIn(**PERSON), await principal("coordinator"))
    pack = await client.get(f"{ROUNDS}/{code}/pack", headers=as_user("bus_staff"))
    assert pack.status_code == 200, pack.text
    (appointment,) = pack.json()["appointments"]
    assert appointment["greet_name"] == "Samira BENALI"
    assert "06 12" not in pack.text
    assert "Courtillières, 93000" not in pack.text
    assert appointment["terms"][0] == "Don : l'équipement vous appartient dès le jour de sa remise."
    assert appointment["devices"][0]["code"] == setup["devices"][0]

    await accounts.create_user("bus2", "bus_staff", "Operator", password="correct horse battery 2")
    other = bearer(await accounts.create_token("bus2"))
    for headers in (other, as_user("donor"), as_user("technician")):
        refused = await client.get(f"{ROUNDS}/{code}/pack", headers=headers)
        assert refused.status_code == 404, refused.text
        assert "Benali" not in refused.text
        assert (await client.get(f"{ROUNDS}/{code}/appointments", headers=headers)).status_code == 404
    assert HELD_ON


async def test_the_round_pages_plan_fill_and_follow_a_round(client, as_user) -> None:
    coordinator = as_user("coordinator", **{"accept-language": "fr"})
    prog, households, devices = await households_with_devices(client, coordinator, 2)
    refused = await client.post(
        "/rounds/",
        data={"programme": str(prog), "held_on": HELD_ON, "staff": "bus_staff", "stops": "Tour 12; QN09301M"},
        headers=coordinator,
    )
    assert refused.status_code == 400
    assert "Arrêt ligne 1 : écrivez-le ainsi" in refused.text
    assert "Tour 12; QN09301M" in refused.text  # what was typed comes back
    planned = await client.post(
        "/rounds/",
        data={"programme": str(prog), "held_on": HELD_ON, "staff": "bus_staff", "vehicle": "Bus 2",
              "stops": "Tour 12; QN09301M; Centre social; 9h00-10h00; 30; 1"},
        headers=coordinator,
    )  # fmt: skip
    assert planned.status_code == 303, planned.text
    code = planned.headers["location"].rsplit("/", 1)[1]
    filled = await client.post(f"/rounds/{code}/fill", data={"qpvs": ""}, headers=coordinator)
    assert filled.status_code == 303
    shown = await client.get(f"/rounds/{code}", headers=coordinator)
    assert shown.status_code == 200
    for household in households:
        assert f'data-household="{household}" data-status="convoked"' in shown.text
    assert "<td data-waiting>2</td>" in shown.text
    full = await client.post(
        f"/rounds/{code}/appointments", data={"household": households[0], "stop": "1", "slot": "09:00"},
        headers=coordinator,
    )  # fmt: skip
    assert full.status_code == 409
    assert "déjà convoqué" in full.text

    staff = as_user("bus_staff", **{"accept-language": "fr"})
    mine = await client.get("/rounds/", headers=staff)
    assert f'data-round="{code}"' in mine.text
    assert "Planifier une tournée" not in mine.text
    started = await client.post(f"/rounds/{code}/status", data={"status": "loading"}, headers=staff)
    assert started.status_code == 303
    work = (await client.get("/api/v1/me/work", headers=staff)).json()
    assert work["role"] == "bus_staff"
    (section,) = work["sections"]  # 2027-04-10 is ahead: the next round, loading, so to the hand-over page
    assert (section["title"], section["count"], section["href"]) == (
        f"Prochaine tournée {parse_code(code).display}", 2, f"/rounds/{code}/handover",
    )  # fmt: skip
    assert section["items"][0]["detail"] == "2 attendus, 0 servis, 0 sur 2 à bord"
    assert len(devices) == 2


async def test_a_purge_blanks_the_signature_and_keeps_its_hash(client, as_user) -> None:
    import datetime

    from refurb.distribution import service as distribution

    coordinator, staff = as_user("coordinator"), as_user("bus_staff")
    setup = await round_with_households(client, coordinator, 1)
    code, (household,), (device,) = setup["round"]["code"], setup["households"], setup["devices"]
    await client.post(f"{ROUNDS}/{code}/status", json={"status": "loading"}, headers=staff)
    await client.post(f"{DEVICES}/{device}/actions/dispatch", json={"round": code}, headers=staff)
    await client.post(f"{ROUNDS}/{code}/status", json={"status": "out"}, headers=staff)
    body = handover_body(household, device, typed_name="Samira Benali")
    done = await client.post(f"{ROUNDS}/{code}/handovers", json=body, headers=staff)
    assert done.status_code == 201, done.text
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    purged = await distribution.purge(later, distribution.Actor(None, "test"))
    assert purged.households >= 1
    row = await Handover.select(Handover.signature, Handover.typed_name, Handover.signature_sha256).first()
    assert (row["signature"], row["typed_name"]) == (None, "")
    assert row["signature_sha256"] == hashlib.sha256(png()).hexdigest()


async def test_two_tablets_handing_the_same_device_over_at_once_give_one_result(client, as_user) -> None:
    import asyncio

    from refurb.devices.tables import DeviceEvent

    coordinator, staff = as_user("coordinator"), as_user("bus_staff")
    setup = await round_with_households(client, coordinator, 1)
    code, (household,), (device,) = setup["round"]["code"], setup["households"], setup["devices"]
    await client.post(f"{ROUNDS}/{code}/status", json={"status": "loading"}, headers=staff)
    loads = await asyncio.gather(
        *[
            client.post(f"{DEVICES}/{device}/actions/dispatch", json={"round": code}, headers=staff)
            for _ in range(2)
        ]
    )
    assert sorted(r.status_code for r in loads) == [200, 201]
    await client.post(f"{ROUNDS}/{code}/status", json={"status": "out"}, headers=staff)
    answers = await asyncio.gather(
        *[
            client.post(
                f"{ROUNDS}/{code}/handovers",
                json=handover_body(household, device),
                headers={**staff, "idempotency-key": f"tablet-{n}"},
            )
            for n in range(2)
        ]
    )
    assert sorted((r.status_code, r.json()["outcome"]) for r in answers) == [
        (200, "already_recorded"),
        (201, "recorded"),
    ]
    assert await Handover.count() == 1
    events = await DeviceEvent.select(DeviceEvent.action).where(DeviceEvent.device.code == device)
    assert [e["action"] for e in events].count("hand_over") == 1
    assert [e["action"] for e in events].count("dispatch") == 1


async def test_a_convocation_scanned_at_a_hand_over_station_points_to_its_round(client, as_user) -> None:
    coordinator = as_user("coordinator", **{"accept-language": "fr"})
    staff = as_user("bus_staff", **{"accept-language": "fr"})
    setup = await round_with_households(client, coordinator, 1)
    code, (household,) = setup["round"]["code"], setup["households"]
    station = (await new_station(Stage.HANDOVER, "Bus 1")).code
    found = await scan(client, staff, station, household)
    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["result"], body["thing"]["url"], body["context"]) == (
        "found", f"/rounds/{code}/handover", {"household": household, "round": code},
    )  # fmt: skip
    assert "09:00" in body["message"]
    assert "Pied de la tour 12" in body["message"]
    other = await eligible(client, coordinator, setup["programme"], qpv_code=QPV)
    refused = await scan(client, staff, station, other)
    assert (refused.status_code, refused.json()["code"]) == (409, "household_not_convoked")
