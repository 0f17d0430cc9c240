"""Rejects to D3E recycling through HTTP, on both engines: lots, the all-or-nothing handover, the register."""

from __future__ import annotations

import asyncio
import datetime
from decimal import Decimal
from typing import Any

from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.erasure.service import DeclaredMedia, add_declared_media
from refurb.workshop.tables import RecyclingLot, RecyclingLotDevice
from tests.helpers import device_row, event_count, event_rows, new_device

LOTS = "/api/v1/recycling-lots"
SIRET = "73282932000074"
TODAY = datetime.date.today()
HANDOVER = {
    "recycler": "Paprec D3E Bobigny",
    "recycler_siret": SIRET,
    "eco_organism": "ecosystem",
    "carrier": "Transports Martin",
    "handed_over_on": "2026-11-20",
    "weight_kg": 123.45,
    "waste_code": "16 02 14",
    "treatment_code": "r4",
}
CSV_HEADER = (
    "Date d'expédition;Référence du lot;Dénomination du déchet;Code déchet;Déchet dangereux;Quantité (kg);"
    "Nombre d'appareils;Destinataire;SIRET du destinataire;Éco-organisme;Transporteur;Code de traitement;"
    "Numéro de bordereau (BSD)"
)


async def rejected(serial: str, *, kind: DeviceKind = DeviceKind.LAPTOP) -> str:
    """A rejected device holding one disk the donor declared, not erased yet."""
    device = await new_device(State.REJECTED, kind=kind, serial=f"SN-{serial}")
    row = await device_row(device.code)
    await add_declared_media([DeclaredMedia(row["id"], 1, [serial])])
    return device.code


async def destroy_media(client: Any, as_user: Any, code: str) -> None:
    """The disk is shredded: the device may go to the recycler."""
    tech = as_user("technician")
    sheet = await client.get(f"/api/v1/devices/{code}/erasure", headers=tech)
    medium = sheet.json()["media"][0]["id"]
    destroyed = await client.post(
        f"/api/v1/devices/{code}/destruction-records",
        json={"medium": medium, "technique": "shred", "facility": "Atelier", "witness": "Paul Roux"},
        headers=tech,
    )
    assert destroyed.status_code == 201, destroyed.text


async def new_lot(client: Any, as_user: Any) -> str:
    created = await client.post(LOTS, headers=as_user("supervisor"))
    assert created.status_code == 201, created.text
    return created.json()["reference"]


async def add(client: Any, as_user: Any, reference: str, text: str, user: str = "supervisor") -> Any:
    return await client.post(f"{LOTS}/{reference}/devices", json={"text": text}, headers=as_user(user))


async def lot_row(reference: str) -> dict[str, Any]:
    row = await RecyclingLot.select().where(RecyclingLot.reference == reference).first()
    assert row is not None
    return row


async def test_recycling_is_refused_while_a_medium_is_not_sanitized_or_destroyed(client, as_user) -> None:
    boss = as_user("supervisor")
    ready, holding = await rejected("WD-READY-0001"), await rejected("WD-DIRTY-0002")
    await destroy_media(client, as_user, ready)
    reference = await new_lot(client, as_user)
    for code in (ready, holding):
        assert (await add(client, as_user, reference, code)).status_code == 201
    events_before = await event_count()

    refused = await client.post(f"{LOTS}/{reference}/handover", json=HANDOVER, headers=boss)

    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "lot_not_ready"
    assert [(r["device"], r["code"]) for r in problem["refused"]] == [(holding, "media_not_disposed")]
    assert "WD-DIRTY-0002" in problem["refused"][0]["reason"]
    lot = await lot_row(reference)
    assert (lot["status"], lot["recycler"], lot["handed_over_on"], lot["weight_kg"], lot["waste_code"]) == (
        "open", "", None, None, "",
    )  # fmt: skip
    assert [(await device_row(c))["state"] for c in (ready, holding)] == ["rejected", "rejected"]
    assert await event_count() == events_before
    # a device not on a handed-over lot cannot be recycled on its own either
    alone = await client.post(f"/api/v1/devices/{ready}/actions/recycle", headers=boss)
    assert alone.status_code == 409
    assert alone.json()["code"] == "d3e_not_recorded"

    await destroy_media(client, as_user, holding)
    done = await client.post(f"{LOTS}/{reference}/handover", json=HANDOVER, headers=boss)
    assert done.status_code == 200, done.text
    assert [d["state"] for d in done.json()["devices"]] == ["recycled", "recycled"]


async def test_a_lot_is_filled_by_scans_and_handed_over_to_the_recycler(client, as_user) -> None:
    boss, tech = as_user("supervisor"), as_user("technician")
    laptop = await rejected("WD-LAPTOP-0001")
    monitor = await rejected("WD-MONITOR-0002", kind=DeviceKind.MONITOR)
    stray = await rejected("WD-STRAY-0003")
    in_stock = (await new_device(State.SANITIZED)).code
    for code in (laptop, monitor):
        await destroy_media(client, as_user, code)

    assert (await client.post(LOTS, headers=tech)).status_code == 403
    reference = await new_lot(client, as_user)
    assert reference == f"LOT-{TODAY.year}-0001"
    other = await new_lot(client, as_user)
    assert other == f"LOT-{TODAY.year}-0002"

    first = await add(client, as_user, reference, laptop)
    assert first.status_code == 201
    assert (first.json()["outcome"], first.json()["device_count"]) == ("added", 1)
    by_serial = await add(client, as_user, reference, "sn-wd-monitor-0002")
    assert by_serial.status_code == 201, by_serial.text
    assert by_serial.json()["device"]["code"] == monitor
    again = await add(client, as_user, reference, laptop)
    assert again.status_code == 200
    assert (again.json()["outcome"], again.json()["device_count"]) == ("already_on_lot", 2)
    not_rejected = await add(client, as_user, reference, in_stock)
    assert not_rejected.status_code == 409
    assert (not_rejected.json()["code"], not_rejected.json()["state"]) == ("device_not_rejected", "sanitized")
    assert (await add(client, as_user, other, stray)).status_code == 201
    elsewhere = await add(client, as_user, reference, stray)
    assert elsewhere.status_code == 409
    assert (elsewhere.json()["code"], elsewhere.json()["lot"]) == ("device_on_another_lot", other)
    assert other in elsewhere.json()["detail"]
    assert (await add(client, as_user, reference, "L00000001")).status_code == 400
    removed = await client.delete(f"{LOTS}/{other}/devices/{stray}", headers=boss)
    assert removed.status_code == 204
    assert await RecyclingLotDevice.count() == 2
    empty = await client.post(f"{LOTS}/{other}/handover", json=HANDOVER, headers=boss)
    assert (empty.status_code, empty.json()["code"]) == (400, "lot_empty")

    future = (TODAY + datetime.timedelta(days=2)).isoformat()
    for change, code in (
        ({"recycler": " "}, "recycler_required"),
        ({"recycler_siret": "73282932000075"}, "bad_siret"),
        ({"handed_over_on": future}, "bad_handover_date"),
        ({"weight_kg": 0}, "bad_weight"),
        ({"weight_kg": None}, "weight_required"),
        ({"waste_code": "16 02 99"}, "bad_waste_code"),
        ({"waste_code": "16 02 13*"}, "bsd_required"),
        ({"treatment_code": "X9"}, "bad_treatment_code"),
    ):
        wrong = await client.post(f"{LOTS}/{reference}/handover", json={**HANDOVER, **change}, headers=boss)
        assert (wrong.status_code, wrong.json()["code"]) == (400, code), change
    assert (await client.post(f"{LOTS}/{reference}/handover", json=HANDOVER, headers=tech)).status_code == 403
    assert (await lot_row(reference))["status"] == "open"

    events_before = await event_count()
    handover = {**HANDOVER, "waste_code": "16 02 13*", "bsd": "BSD-20261120-XK4P2"}
    done = await client.post(f"{LOTS}/{reference}/handover", json=handover, headers=boss)

    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["hazardous"], body["weight_kg"], body["device_count"]) == (
        "handed_over", True, 123.5, 2,
    )  # fmt: skip
    assert body["kinds"] == {"laptop": 1, "monitor": 1}
    lot = await lot_row(reference)
    assert {k: lot[k] for k in ("status", "recycler", "recycler_siret", "eco_organism", "carrier")} == {
        "status": "handed_over",
        "recycler": "Paprec D3E Bobigny",
        "recycler_siret": SIRET,
        "eco_organism": "ecosystem",
        "carrier": "Transports Martin",
    }
    assert (lot["handed_over_on"], Decimal(str(lot["weight_kg"])), lot["waste_code"]) == (
        datetime.date(2026, 11, 20), Decimal("123.5"), "16 02 13*",
    )  # fmt: skip
    assert (lot["treatment_code"], lot["bsd"]) == ("R4", "BSD-20261120-XK4P2")
    assert await event_count() == events_before + 2
    for code in (laptop, monitor):
        row = await device_row(code)
        assert (row["state"], row["custodian"]) == ("recycled", None)
        last = (await event_rows(code))[-1]
        assert (last["action"], last["from_state"], last["to_state"]) == ("recycle", "rejected", "recycled")
    assert (await device_row(stray))["state"] == "rejected"

    for closed in (
        await add(client, as_user, reference, stray),
        await client.delete(f"{LOTS}/{reference}/devices/{laptop}", headers=boss),
        await client.post(f"{LOTS}/{reference}/handover", json=handover, headers=boss),
    ):
        assert (closed.status_code, closed.json()["code"]) == (409, "lot_closed")

    listed = await client.get(LOTS, headers=as_user("auditor"))
    assert [(lot["reference"], lot["status"], lot["device_count"]) for lot in listed.json()] == [
        (other, "open", 0),
        (reference, "handed_over", 2),
    ]
    read = await client.get(f"{LOTS}/{reference}", headers=boss)
    assert [(d["code"], d["kind"], d["state"]) for d in read.json()["devices"]] == [
        (laptop, "laptop", "recycled"),
        (monitor, "monitor", "recycled"),
    ]
    assert (await client.get(LOTS, headers=as_user("coordinator"))).status_code == 403
    html = {**boss, "accept": "text/html"}
    closed_page = await client.get(f"/recycling/{reference}", headers=html)
    assert closed_page.status_code == 200
    assert "BSD-20261120-XK4P2" in closed_page.text
    assert 'id="scan-input"' not in closed_page.text
    assert "Paprec D3E Bobigny" in (await client.get("/recycling", headers=html)).text


async def test_the_waste_register_lists_handed_over_lots_as_csv(client, as_user) -> None:
    boss = as_user("supervisor")
    shipped: list[str] = []
    for day, serials in (("2026-11-20", ["A1", "A2", "M3"]), ("2026-10-02", ["B1"])):
        codes = [
            await rejected(f"WD-{s}", kind=DeviceKind.MONITOR if s.startswith("M") else DeviceKind.LAPTOP)
            for s in serials
        ]
        reference = await new_lot(client, as_user)
        for code in codes:
            await destroy_media(client, as_user, code)
            assert (await add(client, as_user, reference, code)).status_code == 201
        done = await client.post(
            f"{LOTS}/{reference}/handover", json={**HANDOVER, "handed_over_on": day}, headers=boss
        )
        assert done.status_code == 200, done.text
        shipped.append(reference)
    await new_lot(client, as_user)  # an open lot is not in the register

    register = await client.get("/api/v1/waste-register", headers=as_user("coordinator"))
    assert register.status_code == 200
    assert [(r["shipped_on"], r["lot"], r["devices"]) for r in register.json()] == [
        ("2026-10-02", shipped[1], 1),
        ("2026-11-20", shipped[0], 3),
    ]

    csv = await client.get(
        "/api/v1/waste-register?format=csv&from=2026-11-01&to=2026-11-30", headers=as_user("auditor")
    )

    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert 'filename="registre-dechets-2026-11-01-2026-11-30.csv"' in csv.headers["content-disposition"]
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert csv.content.decode("utf-8-sig").split("\r\n") == [
        CSV_HEADER,
        f"2026-11-20;{shipped[0]};Déchets d'équipements électriques et électroniques (DEEE) : "
        f"2 ordinateurs portables, 1 écran;16 02 14;non;123,5;3;Paprec D3E Bobigny;{SIRET};ecosystem;"
        "Transports Martin;R4;",
        "",
    ]
    assert (await client.get("/api/v1/waste-register", headers=as_user("technician"))).status_code == 403


async def test_the_pages_scan_into_a_lot_and_show_a_refused_handover_in_place(client, as_user) -> None:
    boss = {**as_user("supervisor"), "accept": "text/html", "accept-language": "fr"}
    code = await rejected("WD-PAGE-0001")
    created = await client.post("/recycling/new", headers=boss)
    assert created.status_code == 303
    reference = created.headers["location"].rsplit("/", 1)[1]
    scanned = await client.post(f"/recycling/{reference}/devices", data={"text": code}, headers=boss)
    assert scanned.status_code == 303
    assert scanned.headers["location"] == f"/recycling/{reference}?done=added&device={code}"
    page = await client.get(scanned.headers["location"], headers=boss)
    assert page.status_code == 200
    assert 'id="scan-input"' in page.text
    assert f'data-device="{code}"' in page.text
    wrong = await client.post(
        f"/recycling/{reference}/devices", data={"text": "nothing-like-it"}, headers=boss
    )
    assert wrong.status_code == 404
    assert 'id="scan-error"' in wrong.text
    form = {**HANDOVER, "weight_kg": "12,5"}
    refused = await client.post(f"/recycling/{reference}/handover", data=form, headers=boss)
    assert refused.status_code == 409
    assert 'id="handover-error"' in refused.text
    assert "WD-PAGE-0001" in refused.text
    assert 'value="Paprec D3E Bobigny"' in refused.text
    lots = await client.get("/recycling", headers=boss)
    assert lots.status_code == 200
    assert reference in lots.text
    register = await client.get("/recycling/register?from=2026-01-01", headers=as_user("coordinator"))
    assert register.status_code == 200
    assert "/api/v1/waste-register?format=csv&amp;from=2026-01-01" in register.text


async def test_lots_created_at_once_get_distinct_references_in_sequence(client, as_user) -> None:
    created = await asyncio.gather(*(client.post(LOTS, headers=as_user("supervisor")) for _ in range(4)))
    assert [r.status_code for r in created] == [201] * 4
    assert sorted(r.json()["reference"] for r in created) == [
        f"LOT-{TODAY.year}-{n:04d}" for n in range(1, 5)
    ]
