"""Donor intake through the API, on both engines: agreements, batches, manifests, collection,
reception, reconciliation and closing."""

from __future__ import annotations

import codecs
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from refurb.core.stages import Stage
from refurb.devices.tables import Device, DeviceEvent
from refurb.erasure.tables import Medium
from refurb.intake.agreements import TERMS_VERSION
from refurb.intake.tables import Agreement, Batch, ManifestImport
from tests.helpers import new_batch, new_station, signed_agreement, submitted_batch

FIXTURES = Path(__file__).parent.parent / "fixtures" / "manifests"


async def upload(
    client: Any, headers: dict[str, str], batch: str, content: bytes, name: str, **fields: str
) -> Any:
    fields.setdefault("mode", "dry_run")
    files = {"file": (name, content, "application/octet-stream")}
    return await client.post(f"/api/v1/batches/{batch}/manifest", data=fields, files=files, headers=headers)


async def batch_devices(client: Any, headers: dict[str, str], batch: str) -> dict[str, dict[str, Any]]:
    """The batch's devices by serial (or asset tag when there is none)."""
    response = await client.get(f"/api/v1/devices?batch={batch}&page_size=200", headers=headers)
    assert response.status_code == 200, response.text
    return {d["serial"] or d["asset_tag"]: d for d in response.json()["items"]}


def xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["Numéro de série", "Type", "Marque", "Modèle", "Nb disques"])
    sheet.append([123456789012, "Portable", "Dell", "Latitude 3410", 1])  # a serial Excel stored as a number
    sheet.append(["XL-0002", "Tablette", "Apple", "iPad Air", None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def utf16() -> bytes:
    """Excel's "Unicode text": UTF-16 with a BOM, tab-separated."""
    text = "N° de série\tType\tMarque\r\nU16-0001\tÉcran\tIiyama\r\nU16-0002\tPortable\tAsus\r\n"
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


# file → (profile, encoding, delimiter, header row, warnings, {serial or tag: kind}, declared media)
DIALECTS: dict[str, tuple[str, str, str, int, int, dict[str, str], int]] = {
    "glpi_fr.csv": (
        "glpi", "utf-8-sig", ";", 1, 1,
        {"5CG81234XY": "laptop", "CZC8171ABC": "desktop", "PF1ABCDE": "laptop",
         "CN-0ABC12-74261": "other"}, 3,
    ),
    "glpi_en.csv": (
        "glpi", "utf-8", ";", 1, 0, {"PC0XYZ12": "laptop", "7HJK9L2": "desktop", "DMPXK0ABCDEF": "tablet"}, 3,
    ),
    "snipeit_assets.csv": (
        "snipe-it", "utf-8", ",", 1, 1,
        {"C02XK1ABJG5H": "laptop", "5CD9123ABC": "laptop", "CN-0F1234-QDC00": "monitor",
         "ASSET-0200": "other"}, 0,
    ),
    "snipeit_custom_fr.csv": (
        "snipe-it", "utf-8-sig", ",", 1, 0,
        {"9XYZ8W2": "laptop", "FGH7J82": "desktop", "R52M80ABCDE": "tablet"}, 0,
    ),
    "excel_fr_cp1252.csv": (
        "generic", "cp1252", ";", 3, 0,
        {"PF2ABCDE": "laptop", "PF2ABCDF": "desktop", "3CQ1234ABC": "monitor", "5CG9999XYZ": "laptop",
         "MAIRIE-0005": "printer"}, 4,
    ),
    "generic_bom.csv": (
        "generic", "utf-8-sig", ",", 1, 0, {"SN-0001": "laptop", "SN-0002": "desktop", "SN-0003": "phone"}, 2,
    ),
    "generic.tsv": ("generic", "utf-8", "\t", 1, 0, {"TSV-1": "laptop", "TSV-2": "tablet"}, 0),
    "sheet.xlsx": ("generic", "", "", 1, 0, {"123456789012": "laptop", "XL-0002": "tablet"}, 1),
    "unicode.txt": ("generic", "utf-16", "\t", 1, 0, {"U16-0001": "monitor", "U16-0002": "laptop"}, 0),
}  # fmt: skip


def content_of(name: str) -> bytes:
    if name == "sheet.xlsx":
        return xlsx()
    if name == "unicode.txt":
        return utf16()
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize("name", list(DIALECTS))
async def test_every_export_dialect_is_read_and_imported(client, as_user, name: str) -> None:
    profile, encoding, delimiter, header_row, warnings, expected, media = DIALECTS[name]
    batch = await new_batch()
    donor = as_user("donor")
    content = content_of(name)
    check = await upload(client, donor, batch.code, content, name)
    assert check.status_code == 200, check.text
    report = check.json()
    assert (report["profile"], report["encoding"], report["delimiter"]) == (profile, encoding, delimiter)
    assert report["format"] == ("xlsx" if name.endswith(".xlsx") else "csv")
    assert report["header_row"] == header_row
    assert (report["rows"], report["valid"], report["invalid"]) == (len(expected), len(expected), 0)
    assert report["warnings"] == warnings
    assert report["created"] == len(expected)
    assert report["status"] == "checked"
    assert report["sha256"] == hashlib.sha256(content).hexdigest()
    assert await Device.count().where(Device.batch == batch.id) == 0  # a dry run changes nothing

    imported = await upload(client, donor, batch.code, content, name, mode="all")
    assert imported.status_code == 201, imported.text
    assert imported.json()["status"] == "imported"
    found = await batch_devices(client, donor, batch.code)
    assert {key: d["kind"] for key, d in found.items()} == expected
    assert {d["state"] for d in found.values()} == {"declared"}
    ids = [d["id"] for d in await Device.select(Device.id).where(Device.batch == batch.id)]
    events = await DeviceEvent.select(DeviceEvent.action).where(DeviceEvent.device.is_in(ids))
    assert [e["action"] for e in events] == ["declare"] * len(expected)
    declared_media = await Medium.count().where(Medium.device.is_in(ids) & (Medium.source == "declared"))
    assert declared_media == media


async def test_glpi_details_land_on_the_device(client, as_user) -> None:
    batch = await new_batch()
    response = await upload(
        client, as_user("donor"), batch.code, content_of("glpi_fr.csv"), "glpi.csv", mode="all"
    )
    assert response.status_code == 201, response.text
    row = await Device.select().where(Device.serial == "CZC8171ABC").first()
    assert (row["manufacturer"], row["model"], row["asset_tag"]) == (
        "HP",
        "EliteDesk 800 G3 SFF",
        "INV-2018-0077",
    )
    assert (row["cpu"], row["ram"], row["in_manifest"]) == ("Intel Core i5-6500", "4096 + 4096", True)
    serials = await Medium.select(Medium.serial).where(Medium.device == row["id"]).order_by(Medium.id)
    assert [m["serial"] for m in serials] == ["WD-WCC4N1234567", "S2R6NX0H654321"]


def five_hundred_rows() -> bytes:
    """500 devices; rows 101, 250 and 400 are wrong (spreadsheet row numbers, the header is row 1)."""
    lines = ["serial;asset tag;kind;manufacturer;model;disks"]
    for row in range(2, 502):
        serial, disks = f"BULK-{row:05d}", "1"
        if row == 101:
            serial = ""  # neither serial nor asset tag
        elif row == 250:
            serial = "BULK-00010"  # the serial of row 10 again
        elif row == 400:
            disks = "plenty"
        lines.append(f"{serial};;laptop;Dell;Latitude 5490;{disks}")
    return ("\n".join(lines) + "\n").encode()


async def test_three_bad_rows_among_five_hundred(client, as_user) -> None:
    batch = await new_batch()
    donor = as_user("donor")
    content = five_hundred_rows()
    check = await upload(client, donor, batch.code, content, "bulk.csv")
    report = check.json()
    assert (report["rows"], report["valid"], report["invalid"]) == (500, 497, 3)
    errors = [(p["row"], p["column"], p["code"]) for p in report["problems"] if p["severity"] == "error"]
    assert errors == [
        (101, "serial", "no_identifier"),
        (250, "serial", "duplicate_in_file"),
        (400, "disks", "bad_disk_count"),
    ]
    duplicate = next(p for p in report["problems"] if p["row"] == 250)
    assert duplicate["message"] == "Le numéro de série BULK-00010 figure déjà à la ligne 10."

    refused = await upload(client, donor, batch.code, content, "bulk.csv", mode="all")
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "manifest_has_errors"
    assert refused.json()["report"]["invalid"] == 3
    assert refused.json()["report"]["status"] == "refused"
    assert await Device.count().where(Device.batch == batch.id) == 0
    assert await DeviceEvent.count() == 0

    valid = await upload(client, donor, batch.code, content, "bulk.csv", mode="valid_only")
    assert valid.status_code == 201
    assert (valid.json()["created"], valid.json()["invalid"]) == (497, 3)
    assert await Device.count().where(Device.batch == batch.id) == 497
    assert await Device.count().where(Device.serial == "BULK-00400") == 0
    statuses = await ManifestImport.select(ManifestImport.status).order_by(ManifestImport.id)
    assert [s["status"] for s in statuses] == ["checked", "refused", "imported"]


async def test_reimporting_updates_and_never_duplicates(client, as_user) -> None:
    batch = await new_batch()
    donor = as_user("donor")
    first = await upload(client, donor, batch.code, content_of("generic_bom.csv"), "v1.csv", mode="all")
    assert first.json()["created"] == 3
    before = await batch_devices(client, donor, batch.code)
    again = await upload(client, donor, batch.code, content_of("generic_bom.csv"), "v1.csv", mode="all")
    assert (again.json()["created"], again.json()["updated"]) == (0, 3)
    corrected = (
        b"Serial Number,Asset Tag,Device Type,Make,Model\r\n"
        b"SN-0001,TAG-0001,laptop,Dell,Latitude 5400\r\n"  # asset tag added
        b" sn-0002 ,TAG-0002,desktop,HP,ProDesk 600 G5\r\n"  # typed differently, model corrected
        b"SN-0003-B,TAG-0003,phone,Apple,iPhone 8\r\n"  # serial corrected: found by its asset tag
        b"SN-0004,,laptop,Lenovo,ThinkPad E14\r\n"  # new
    )
    response = await upload(client, donor, batch.code, corrected, "v2.csv", mode="all")
    assert response.status_code == 201, response.text
    assert (response.json()["created"], response.json()["updated"]) == (1, 3)
    after = await batch_devices(client, donor, batch.code)
    assert set(after) == {"SN-0001", "SN-0002", "SN-0003-B", "SN-0004"}
    assert after["SN-0002"]["model"] == "ProDesk 600 G5"
    assert after["SN-0001"]["code"] == before["SN-0001"]["code"]
    assert after["SN-0001"]["asset_tag"] == "TAG-0001"
    assert after["SN-0003-B"]["code"] == before["SN-0003"]["code"]
    assert await DeviceEvent.count() == 4  # one "declare" each, updates add none


async def test_a_serial_in_another_batch_and_two_rows_for_one_device(client, as_user) -> None:
    donor = as_user("donor")
    earlier, later = await new_batch(), await new_batch()
    await upload(client, donor, earlier.code, b"serial,kind\nKEEP-1,laptop\n", "a.csv", mode="all")
    await upload(client, donor, later.code, b"serial,asset tag,kind\nNEW-1,T-1,laptop\n", "b.csv", mode="all")
    content = b"serial,asset tag,kind\nKEEP-1,,laptop\nNEW-1,,laptop\n,T-1,laptop\n"
    report = (await upload(client, donor, later.code, content, "c.csv")).json()
    errors = [(p["row"], p["code"]) for p in report["problems"]]
    assert errors == [(2, "in_other_batch"), (4, "duplicate_device")]
    assert earlier.display_code in report["problems"][0]["message"]


async def test_unreadable_files_and_options_are_refused_clearly(client, as_user) -> None:
    batch = await new_batch()
    donor = as_user("donor")
    cases = [
        (b"", {}, "empty_file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", {}, "no_identifier_column"),
        (b"Name;Owner\nPC1;Alice\n", {}, "no_identifier_column"),
        (b"serial\nA1\n", {"map_serial": "Numero"}, "bad_mapping"),
        (b"serial\nA1\n", {"mode": "everything"}, "bad_mode"),
        (b"serial\nA1\n", {"profile": "sap"}, "unknown_profile"),
        (b"serial\nA1\n", {"default_kind": "toaster"}, "bad_kind"),
        (b"PK\x03\x04 not really a workbook", {}, "unreadable_file"),
    ]
    for content, fields, code in cases:
        response = await upload(client, donor, batch.code, content, "x.csv", **fields)
        assert response.status_code == 400, (code, response.text)
        assert response.json()["code"] == code
    assert await ManifestImport.count() == 0
    mapped = await upload(
        client, donor, batch.code, b"Numero;Sorte\nA1;portable\n", "m.csv", map_serial="Numero"
    )
    assert mapped.status_code == 200
    assert mapped.json()["mapping"]["serial"] == "Numero"
    assert mapped.json()["valid"] == 1


async def test_an_oversized_manifest_gets_413_with_the_limit(client, as_user) -> None:
    batch = await new_batch()
    big = b"serial\n" + b"X" * (21 * 1024 * 1024)
    response = await upload(client, as_user("donor"), batch.code, big, "big.csv")
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert response.json()["detail"] == (
        "Le corps de la requête dépasse la limite de 20,1 Mio (21037056 octets)."
    )
    assert response.json()["limit"] == 20 * 1024 * 1024 + 65_536
    assert await ManifestImport.count() == 0


async def test_another_donor_cannot_see_import_into_or_label_a_batch(client, as_user) -> None:
    batch = await new_batch("Donor One")
    theirs = as_user("other_donor", accept="application/json")
    calls = [
        client.get(f"/api/v1/batches/{batch.code}", headers=theirs),
        client.patch(f"/api/v1/batches/{batch.code}", json={"notes": "mine"}, headers=theirs),
        client.post(f"/api/v1/batches/{batch.code}/submit", headers=theirs),
        client.get(f"/api/v1/batches/{batch.code}/reconciliation", headers=theirs),
        client.get(f"/api/v1/labels/{batch.code}?kind=batch", headers=theirs),
        client.post(
            "/api/v1/labels/print-jobs", json={"codes": [batch.code], "kind": "batch"}, headers=theirs
        ),
        client.get(f"/batches/{batch.code}", headers=theirs),
        upload(client, theirs, batch.code, b"serial\nA1\n", "x.csv", mode="all"),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not_found"
    listing = await client.get("/api/v1/batches", headers=theirs)
    assert listing.json() == []
    assert await Device.count() == 0
    assert (await Batch.select(Batch.notes).first())["notes"] == ""


async def test_a_batch_from_draft_to_scheduled(client, as_user) -> None:
    donor = as_user("donor")
    created = await client.post(
        "/api/v1/batches", json={"reference": "DON-2026-14", "donor": "Donor Two"}, headers=donor
    )
    assert created.status_code == 201
    batch = created.json()
    assert (batch["donor"], batch["state"], batch["reference"]) == ("Donor One", "draft", "DON-2026-14")
    code = batch["code"]
    incomplete = await client.post(f"/api/v1/batches/{code}/submit", headers=donor)
    assert incomplete.status_code == 400
    assert incomplete.json()["code"] == "batch_incomplete"
    details = {"site_address": "3 rue Lénine, 93200 Saint-Denis", "declared": {"laptop": 12, "monitor": 4}}
    assert (await client.patch(f"/api/v1/batches/{code}", json=details, headers=donor)).status_code == 200
    submitted = await client.post(f"/api/v1/batches/{code}/submit", headers=donor)
    assert submitted.json()["state"] == "submitted"
    again = await client.post(f"/api/v1/batches/{code}/submit", headers=donor)
    assert (again.status_code, again.json()["submitted_at"]) == (200, submitted.json()["submitted_at"])
    refused = await client.post(
        f"/api/v1/batches/{code}/schedule", json={"pickup_date": "2026-12-03"}, headers=donor
    )
    assert refused.status_code == 403
    scheduled = await client.post(
        f"/api/v1/batches/{code}/schedule", json={"pickup_date": "2026-12-03"}, headers=as_user("coordinator")
    )
    assert (scheduled.json()["state"], scheduled.json()["pickup_date"]) == ("scheduled", "2026-12-03")
    bad = await client.patch(f"/api/v1/batches/{code}", json={"declared": {"laptop": -1}}, headers=donor)
    assert bad.status_code == 400


async def test_agreements_are_signed_only_on_purpose(client, as_user) -> None:
    donor = as_user("donor")
    status = await client.get("/api/v1/agreements/current", headers=donor)
    assert status.json() == {"terms_version": TERMS_VERSION, "agreement": None}
    assert (
        await client.get("/agreement", headers=donor)
    ).status_code == 200  # reading the terms signs nothing
    unticked = {"signatory_name": "Claire Dupont", "accept": False, "terms_version": TERMS_VERSION}
    response = await client.post("/api/v1/agreements", json=unticked, headers=donor)
    assert (response.status_code, response.json()["code"]) == (400, "terms_not_accepted")
    stale = {**unticked, "accept": True, "terms_version": "2019-1"}
    response = await client.post("/api/v1/agreements", json=stale, headers=donor)
    assert (response.status_code, response.json()["code"]) == (400, "terms_outdated")
    assert await Agreement.count() == 0
    signed = await client.post("/api/v1/agreements", json={**unticked, "accept": True}, headers=donor)
    assert signed.status_code == 201
    body = signed.json()
    assert (body["donor"], body["method"], body["data_processing_clause"]) == ("Donor One", "portal", True)
    assert (await client.get("/api/v1/agreements/current", headers=donor)).json()["agreement"]["id"] == body[
        "id"
    ]
    assert (await client.get("/api/v1/agreements/current", headers=as_user("other_donor"))).json()[
        "agreement"
    ] is None


async def test_a_paper_agreement_is_kept_with_its_hash(client, as_user) -> None:
    pdf = b"%PDF-1.7\n% signed on paper\n%%EOF\n"
    fields = {"signatory_name": "Claire Dupont", "signed_on": "2026-11-02", "donor": "Donor One"}
    not_pdf = await client.post(
        "/api/v1/agreements/upload",
        data=fields,
        files={"file": ("scan.jpg", b"\xff\xd8\xff\xe0JFIF", "image/jpeg")},
        headers=as_user("coordinator"),
    )
    assert (not_pdf.status_code, not_pdf.json()["code"]) == (400, "not_a_pdf")
    uploaded = await client.post(
        "/api/v1/agreements/upload",
        data=fields,
        files={"file": ("convention.pdf", pdf, "application/pdf")},
        headers=as_user("coordinator"),
    )
    assert uploaded.status_code == 201
    body = uploaded.json()
    assert (body["method"], body["donor"], body["document_sha256"]) == (
        "upload",
        "Donor One",
        hashlib.sha256(pdf).hexdigest(),
    )
    document = await client.get(f"/api/v1/agreements/{body['id']}/document", headers=as_user("donor"))
    assert (document.status_code, document.content) == (200, pdf)
    foreign = await client.get(f"/api/v1/agreements/{body['id']}/document", headers=as_user("other_donor"))
    assert foreign.status_code == 404


async def test_collection_without_an_agreement_is_refused(client, as_user) -> None:
    batch = await submitted_batch()
    await upload(
        client, as_user("donor"), batch.code, b"serial,kind\nC-1,laptop\nC-2,laptop\n", "m.csv", mode="all"
    )
    events = await DeviceEvent.count()
    response = await client.post(
        f"/api/v1/batches/{batch.code}/collection",
        json={"counts": {"laptop": 2}, "signer_name": "Bob Durand"},
        headers=as_user("driver"),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "agreement_missing"
    assert (await Batch.select(Batch.state).where(Batch.id == batch.id).first())["state"] == "submitted"
    assert {d["state"] for d in await Device.select(Device.state)} == {"declared"}
    assert await DeviceEvent.count() == events


async def test_collection_moves_every_device_and_keeps_the_discrepancy(client, as_user) -> None:
    await signed_agreement()
    batch = await submitted_batch()
    manifest = b"serial,kind\nK-1,laptop\nK-2,laptop\nK-3,laptop\nK-4,desktop\n"
    await upload(client, as_user("donor"), batch.code, manifest, "m.csv", mode="all")
    collection = {
        "counts": {"laptop": 3, "monitor": 1},
        "seals": ["SC-0001", " SC-0002 "],
        "signer_name": "Bob Durand",
        "vehicle": "GH-123-JK",
    }
    url = f"/api/v1/batches/{batch.code}/collection"
    response = await client.post(url, json=collection, headers=as_user("driver"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "collected"
    assert body["discrepancy"] == {
        "desktop": {"expected": 1, "counted": 0},
        "monitor": {"expected": 0, "counted": 1},
    }
    assert body["collection"]["seals"] == ["SC-0001", "SC-0002"]
    assert (body["collection"]["driver"], body["collection"]["devices_moved"]) == ("Driver", 4)
    for device in await Device.select(Device.id, Device.state):
        assert device["state"] == "collected"
        actions = await DeviceEvent.select(DeviceEvent.action).where(DeviceEvent.device == device["id"])
        assert [a["action"] for a in actions] == ["declare", "collect"]
    again = await client.post(url, json=collection, headers=as_user("driver"))
    assert again.status_code == 200
    assert await DeviceEvent.count() == 8
    different = await client.post(
        url, json={**collection, "counts": {"laptop": 4}}, headers=as_user("driver")
    )
    assert (different.status_code, different.json()["code"]) == (409, "batch_already_collected")
    edit = await client.patch(f"/api/v1/batches/{batch.code}", json={"notes": "x"}, headers=as_user("donor"))
    assert (edit.status_code, edit.json()["code"]) == (409, "batch_state")
    late = await upload(client, as_user("donor"), batch.code, manifest, "m.csv", mode="all")
    assert (late.status_code, late.json()["code"]) == (409, "batch_state")


async def _scan(
    client: Any, headers: dict[str, str], station: str, text: str, context: dict[str, str], **extra: Any
) -> Any:
    body = {"station": station, "text": text, "context": context, **extra}
    return await client.post("/api/v1/scans", json=body, headers=headers)


async def _print_tags(client: Any, headers: dict[str, str], codes: list[str]) -> None:
    response = await client.post(
        "/api/v1/labels/print-jobs", json={"codes": codes, "kind": "device"}, headers=headers
    )
    assert response.status_code == 201, response.text


async def test_reception_then_closing_gives_the_reconciliation(client, as_user) -> None:
    """3 laptops, a desktop and a monitor declared; one laptop and the monitor never arrive; an
    unexpected laptop does."""
    await signed_agreement()
    batch = await submitted_batch(declared={"laptop": 4, "desktop": 1})
    manifest = (
        b"serial,asset tag,kind\nR-1,,laptop\nR-2,,laptop\nR-3,,laptop\nR-4,INV-4,desktop\nR-5,,monitor\n"
    )
    await upload(client, as_user("donor"), batch.code, manifest, "m.csv", mode="all")
    await client.post(
        f"/api/v1/batches/{batch.code}/collection",
        json={"counts": {"laptop": 3, "desktop": 1, "monitor": 1}, "signer_name": "Bob Durand"},
        headers=as_user("driver"),
    )
    tech = as_user("technician", **{"accept-language": "en"})
    station = (await new_station(Stage.RECEPTION)).code
    opened = await _scan(client, tech, station, batch.display_code, {})
    assert opened.status_code == 200
    assert opened.json()["result"] == "found"
    assert opened.json()["context"] == {"batch": batch.code}
    assert "0 of 5 received" in opened.json()["message"]
    context = opened.json()["context"]
    codes = {row["serial"]: row["code"] for row in await Device.select(Device.serial, Device.code)}
    await _print_tags(client, tech, [codes["R-1"], codes["R-2"], codes["R-4"]])
    for text in ("r-1", " R-2 ", "inv-4"):  # typed: lower case, spaces, the donor's asset tag
        response = await _scan(client, tech, station, text, context)
        assert response.status_code == 200, response.text
        assert response.json()["result"] == "recorded", (text, response.json())
        assert response.json()["context"] == context
    assert (await Batch.select(Batch.state).where(Batch.id == batch.id).first())["state"] == "received"

    repeat = await _scan(client, tech, station, "R-1", context)
    assert repeat.json()["result"] == "already_recorded"
    display = repeat.json()["device"]["display_code"]
    assert display in repeat.json()["message"]
    assert "already received" in repeat.json()["message"]
    assert repeat.json()["reprint"] == {"code": codes["R-1"], "kind": "device"}

    asked = await _scan(client, tech, station, "EXTRA-9", context)
    assert asked.json()["result"] == "needs_input"
    assert [f["name"] for f in asked.json()["form"]["fields"]] == [
        "kind",
        "identifier",
        "manufacturer",
        "model",
    ]
    assert await Device.count() == 5
    inputs = {"kind": "laptop", "identifier": "serial", "manufacturer": "Acer", "model": "Aspire 5"}
    added = await _scan(client, tech, station, "EXTRA-9", context, inputs=inputs)
    # added to the batch; its asset tag is printed, stuck on and scanned to receive it
    assert (added.status_code, added.json()["result"]) == (200, "needs_label")
    extra = await Device.select().where(Device.serial == "EXTRA-9").first()
    assert (extra["in_manifest"], extra["batch"], extra["state"], extra["kind"]) == (
        False,
        batch.id,
        "declared",
        "laptop",
    )
    assert added.json()["label"] == {"code": extra["code"], "kind": "device"}
    again = await _scan(client, tech, station, "EXTRA-9", context, inputs=inputs)
    assert again.json()["result"] == "needs_label"
    assert await Device.count() == 6  # confirmed twice, added once
    await _print_tags(client, tech, [extra["code"]])
    received = await _scan(client, tech, station, extra["code"], context)  # the label stuck on
    assert received.json()["result"] == "recorded"
    assert received.json()["device"]["in_manifest"] is False

    closed = await client.post(
        f"/api/v1/batches/{batch.code}/close",
        json={"reason": "not in the truck"},
        headers=as_user("supervisor"),
    )
    assert closed.status_code == 200, closed.text
    numbers = {r["kind"]: r for r in closed.json()["rows"]}
    fields = ("announced", "declared", "collected", "received", "not_in_manifest", "missing", "awaiting")
    table = {kind: tuple(numbers[kind][f] for f in fields) for kind in numbers}
    assert table == {
        "desktop": (1, 1, 1, 1, 0, 0, 0),
        "laptop": (4, 3, 3, 3, 1, 1, 0),
        "monitor": (0, 1, 1, 0, 0, 1, 0),
    }
    assert tuple(closed.json()["total"][f] for f in fields) == (5, 5, 5, 4, 1, 2, 0)
    assert closed.json()["frozen"] is True
    for serial in ("R-3", "R-5"):
        row = await Device.select(Device.id, Device.state).where(Device.serial == serial).first()
        assert row["state"] == "missing"
        code = (await Device.select(Device.code).where(Device.id == row["id"]).first())["code"]
        history = (await client.get(f"/api/v1/devices/{code}/events", headers=as_user("supervisor"))).json()
        assert [(e["action"], e["payload"].get("reason")) for e in history[-1:]] == [
            ("mark_missing", "not in the truck")
        ]
    donor_view = await client.get(f"/api/v1/batches/{batch.code}/reconciliation", headers=as_user("donor"))
    assert donor_view.json() == closed.json()
    late = await _scan(client, tech, station, batch.code, {})
    assert (late.status_code, late.json()["code"]) == (409, "batch_closed")
    history = await client.get(f"/api/v1/devices/{codes['R-1']}/events", headers=as_user("donor"))
    assert [e["action"] for e in history.json()] == ["declare", "collect", "label_printed", "receive"]
