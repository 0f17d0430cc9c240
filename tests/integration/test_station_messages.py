"""Stations, as the issue's points ask: reception without a printer, the context bar, modes, messages."""

from __future__ import annotations

import io

import pytest

from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.devices.tables import Device
from refurb.intake import collection, imports
from refurb.intake.schemas import CollectionIn
from refurb.stations.tables import Scan
from refurb.stock import service as stock
from tests.helpers import (
    device_row,
    event_rows,
    new_device,
    new_station,
    principal,
    received,
    signed_agreement,
    submitted_batch,
)

MANIFEST = (
    b"Num\xc3\xa9ro de s\xc3\xa9rie;Type;Fabricant;Mod\xc3\xa8le\n"
    b"ST-1;Portable;Dell;Latitude 5490\n"
    b"ST-2;Portable;Dell;Latitude 5490\n"
    b"ST-3;Portable;HP;EliteBook\n"
)


async def _scan(client, headers, station: str, text: str, **extra):
    return await client.post(
        "/api/v1/scans", json={"station": station, "text": text, **extra}, headers=headers
    )


async def _collected_batch() -> str:
    await signed_agreement()
    batch = await submitted_batch()
    await imports.import_manifest(
        batch.code,
        io.BytesIO(MANIFEST),
        "parc.csv",
        imports.ImportOptions(mode="all"),
        await principal("donor"),
    )
    counts = CollectionIn(counts={DeviceKind.LAPTOP: 3}, signer_name="Bob Durand")
    await collection.record_collection(batch.code, counts, await principal("driver"))
    return batch.code


async def test_reception_without_a_printer_is_an_amber_step_then_the_label_scan_receives(
    client, as_user
) -> None:
    batch = await _collected_batch()
    station = (await new_station(Stage.RECEPTION)).code
    tech = as_user("technician", **{"accept-language": "fr"})
    context = (await _scan(client, tech, station, batch)).json()["context"]
    assert context == {"batch": batch}

    asked = await _scan(client, tech, station, "st-1", context=context)
    assert asked.status_code == 200
    body = asked.json()
    code = (await Device.select(Device.code).where(Device.serial == "ST-1").first())["code"]
    display = f"D-{code[1:8]}-{code[8]}"
    assert (body["result"], body["label"], body["context"]) == (
        "needs_label",
        {"code": code, "kind": "device"},
        context,
    )
    assert body["message"] == (
        f"{display}\u00a0: imprimez son étiquette d'inventaire, collez-la sur l'appareil, "
        "puis scannez l'étiquette."
    )
    assert (await device_row(code))["state"] == "collected"
    job = {"codes": [code], "kind": "device", "station": station}
    printed = await client.post("/api/v1/labels/print-jobs", json=job, headers=tech)
    assert (printed.status_code, printed.headers["content-type"]) == (201, "application/pdf")
    done = await _scan(client, tech, station, code, context=context)  # the D code of the stuck label
    assert (done.status_code, done.json()["result"]) == (200, "recorded")
    assert (await device_row(code))["state"] == "received"
    assert [e["action"] for e in await event_rows(code)] == ["declare", "collect", "label_printed", "receive"]
    log = (
        await Scan.select(Scan.result, Scan.problem_code)
        .where(Scan.station.code == station)
        .order_by(Scan.id)
    )
    assert [(r["result"], r["problem_code"]) for r in log] == [
        ("found", None),
        ("needs_label", None),
        ("recorded", None),
    ]

    # a device not in the manifest: "Add and receive" leads to the same step, then received
    inputs = {"kind": "laptop", "identifier": "serial", "manufacturer": "Acer", "model": ""}
    added = await _scan(client, tech, station, "EXTRA-1", context=context, inputs=inputs)
    assert (added.status_code, added.json()["result"]) == (200, "needs_label")
    extra = added.json()["label"]["code"]
    await client.post("/api/v1/labels/print-jobs", json={"codes": [extra], "station": station}, headers=tech)
    got = await _scan(client, tech, station, extra, context=context)
    assert (got.json()["result"], got.json()["device"]["state"], got.json()["device"]["in_manifest"]) == (
        "recorded",
        "received",
        False,
    )

    bar = await client.get(f"/api/v1/stations/{station}/context", params=context, headers=tech)
    assert bar.status_code == 200
    assert {k: bar.json()[k] for k in ("heading", "progress", "done", "total", "missing", "leave")} == {
        "heading": "Réception du lot",
        "progress": "2 reçus sur 3",
        "done": 2,
        "total": 3,
        "missing": "2 appareils déclarés pas encore reçus",
        "leave": "Terminer ce lot",
    }


async def test_the_put_away_bar_speaks_of_places_not_of_receiving(client, as_user) -> None:
    bin_ = await stock.create_location("Étagère A", "shelf", capacity=4)
    station = (await new_station(Stage.STOCK)).code
    tech = as_user("technician", **{"accept-language": "fr"})
    bar = await client.get(
        f"/api/v1/stations/{station}/context", params={"location": bin_.code}, headers=tech
    )
    assert {
        k: bar.json()[k] for k in ("heading", "title", "progress", "done", "total", "missing", "leave")
    } == {
        "heading": "Rangement dans",
        "title": "Étagère A",
        "progress": "0 place prise sur 4",
        "done": 0,
        "total": 4,
        "missing": None,
        "leave": "Terminer cet emplacement",
    }
    nothing = await client.get(f"/api/v1/stations/{station}/context", headers=tech)
    assert (nothing.status_code, nothing.json()) == (200, None)
    driver = await client.get(f"/api/v1/stations/{station}/context", headers=as_user("driver"))
    assert driver.status_code == 403


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            "{ref} ne peut pas être déclaré effacé\u00a0: WD-WX11A80W7430\u00a0: déclaré par le donateur, "
            "pas encore vu dans l'appareil.",
        ),
        (
            "en",
            "{ref} cannot be certified as wiped: WD-WX11A80W7430: declared by the donor, "
            "not seen in the device yet.",
        ),
    ],
)
async def test_an_erasure_refusal_is_wholly_in_the_request_language_and_links_to_the_erasure_page(
    client, as_user, language, expected
) -> None:
    station = await new_station(Stage.ERASURE)
    code = await received(["WD-WX11A80W7430"])
    display = f"D-{code[1:8]}-{code[8]}"
    refused = await _scan(client, as_user("technician", **{"accept-language": language}), station.code, code)
    assert (refused.status_code, refused.json()["code"]) == (409, "media_not_sanitized")
    assert refused.json()["detail"] == expected.format(ref=display)
    text = {"fr": f"Ouvrir la page d'effacement de {display}", "en": f"Open the erasure page of {display}"}
    assert refused.json()["link"] == {"href": f"/erasure?code={code}", "text": text[language]}


async def test_stations_offer_only_the_modes_that_apply_and_a_mode_refusal_names_the_state(
    client, as_user
) -> None:
    tech = as_user("technician", **{"accept-language": "fr"})
    reception = await new_station(Stage.RECEPTION)
    erasure = await new_station(Stage.ERASURE)
    loading = await new_station(Stage.LOADING)
    listed = {s["code"]: s["actions"] for s in (await client.get("/api/v1/stations", headers=tech)).json()}
    assert listed[reception.code] == [
        "receive",
        "mark_missing",
    ]  # no rejecting a device before it is received
    assert listed[erasure.code] == ["sanitize", "reject"]
    assert listed[loading.code] == ["dispatch", "unload"]  # unloading undoes the bench's own step
    device = await new_device(State.COLLECTED)
    refused = await _scan(client, tech, reception.code, device.code, action="reject")
    assert (refused.status_code, refused.json()["code"]) == (400, "not_a_station_action")
    page = await client.get(f"/stations/{reception.code}", headers=tech)
    assert 'data-action="reject"' not in page.text
    wrong = await _scan(client, tech, erasure.code, device.code, action="reject", inputs={})
    assert (wrong.status_code, wrong.json()["code"]) == (409, "invalid_transition")
    assert wrong.json()["detail"].startswith(
        f"{device.display_code} est collecté\u00a0: «\u00a0rejeter\u00a0»"
    )
    assert wrong.json()["link"] == {
        "href": f"/devices/{device.code}",
        "text": f"Ouvrir la fiche de {device.display_code}",
    }
    assert (await device_row(device.code))["state"] == "collected"


async def test_the_station_list_is_in_workflow_order_and_says_why_a_station_is_unavailable(
    client, as_user
) -> None:
    for stage in (Stage.STOCK, Stage.LOADING, Stage.ERASURE, Stage.RECEPTION):
        await new_station(stage, f"Poste {stage.value}")
    page = await client.get("/stations", headers=as_user("bus_staff", **{"accept-language": "fr"}))
    assert page.status_code == 200
    order = [
        page.text.index(f'data-stage="{stage}"') for stage in ("reception", "erasure", "stock", "loading")
    ]
    assert order == sorted(order)
    assert page.text.count("Réservé à\u00a0: ") == 3  # the bus staff may load, not receive, wipe or stock
    assert 'href="/stations/' in page.text  # its loading bench
    assert page.text.count('class="station-card unavailable"') == 3
