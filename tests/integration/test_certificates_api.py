"""Signed erasure certificates on both engines: issuing, downloading, public verification, revocation."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from typing import Any

import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from PIL import Image

from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.erasure.signing import canonical_bytes
from tests.helpers import (
    I5,
    MANUAL,
    event_rows,
    new_batch,
    new_device,
    new_station,
    read,
    received,
    sheet,
    signed_agreement,
    upload,
)


async def wiped(client: Any, headers: dict[str, str], batch: Any, serial: str) -> str:
    """A device of `batch` whose only disk was overwritten and verified (by a supervisor): sanitized."""
    code = await received([serial], batch=batch)
    medium = (await sheet(client, headers, code))["media"][0]["id"]
    response = await client.post(
        f"/api/v1/devices/{code}/erasure-records",
        json={**MANUAL, "medium": medium, "serial_seen": serial},
        headers=headers,
    )
    assert response.json()["sanitized"] == [code], response.text
    return code


async def test_a_device_certificate_is_signed_and_verifies_offline(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["6RX7AWEZ"])
    await upload(client, tech, I5, device=code)
    issued = await client.post("/api/v1/certificates", json={"device": code}, headers=tech)
    assert issued.status_code == 201, issued.text
    certificate = issued.json()
    assert certificate["code"].startswith("C")
    assert certificate["kind"] == "device"
    assert (certificate["devices"], certificate["media"], certificate["status"]) == (1, 1, "valid")
    again = await client.post("/api/v1/certificates", json={"device": code}, headers=tech)
    assert again.json()["code"] == certificate["code"]  # nothing changed: the same certificate
    signed = await client.get(f"/api/v1/certificates/{certificate['code']}/json", headers=tech)
    envelope = json.loads(signed.content)
    payload = envelope["certificate"]
    assert payload["media"][0]["serial"] == "6RX7AWEZ"
    assert payload["media"][0]["category"] == "clear"
    assert payload["counts"]["pending"] == 0
    keys = (await client.get("/api/v1/certificates/keys")).json()["keys"]
    assert [k["kid"] for k in keys] == [envelope["signature"]["key_id"]]
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(keys[0]["x"] + "=="))
    signature = base64.urlsafe_b64decode(envelope["signature"]["value"] + "==")
    public.verify(signature, canonical_bytes(payload))  # raises if not authentic
    pdf = await client.get(f"/api/v1/certificates/{certificate['code']}/pdf", headers=tech)
    assert pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"


async def test_the_data_wiped_label_scans_to_its_certificate(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["6RX7AWEZ"])
    await upload(client, tech, I5, device=code)
    label = await client.get(f"/api/v1/labels/{code}?kind=wiped&format=png", headers=tech)
    assert label.status_code == 200, label.text
    certificate = (await client.get(f"/api/v1/certificates?device={code}", headers=tech)).json()
    assert len(certificate) == 1  # the label issued the device's certificate
    decoded = {r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(label.content)))}
    assert decoded == {code, certificate[0]["verify_url"]}
    svg = await client.get(f"/api/v1/labels/{code}?kind=wiped&format=svg", headers=tech)
    assert "NIST 800-88 Clear" in svg.text
    assert certificate[0]["display_code"] in svg.text


async def test_verify_tells_authentic_from_forged(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["6RX7AWEZ"])
    await upload(client, tech, I5, device=code)
    certificate = (await client.post("/api/v1/certificates", json={"device": code}, headers=tech)).json()
    signed = (await client.get(f"/api/v1/certificates/{certificate['code']}/json", headers=tech)).content
    pdf = (await client.get(f"/api/v1/certificates/{certificate['code']}/pdf", headers=tech)).content
    for document in (signed, pdf):
        verdict = (await client.post("/api/v1/verify", content=document)).json()
        assert (verdict["authentic"], verdict["status"], verdict["code"]) == (
            True,
            "valid",
            certificate["code"],
        )
    forged_json = signed.replace(b'"6RX7AWEZ"', b'"6RX7AWEY"')
    assert forged_json != signed
    forged = (await client.post("/api/v1/verify", content=forged_json)).json()
    assert (forged["authentic"], forged["reason"]) == (False, "bad_signature")
    middle = len(pdf) // 2
    forged_pdf = pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :]
    forged = (await client.post("/api/v1/verify", content=forged_pdf)).json()
    assert (forged["authentic"], forged["reason"]) == (False, "unknown_document")
    nonsense = (await client.post("/api/v1/verify", content=b"hello")).json()
    assert (nonsense["authentic"], nonsense["reason"]) == (False, "not_json")
    page = await client.post(
        "/verify", files={"file": ("c.pdf", forged_pdf)}, headers={"accept-language": "en"}
    )
    assert page.status_code in (200, 403)  # a browser form needs its CSRF cookie: checked in the browser test


async def test_the_public_page_leaks_no_serial_and_shows_revocation(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["6RX7AWEZ"])
    await upload(client, tech, I5, device=code)
    certificate = (await client.post("/api/v1/certificates", json={"device": code}, headers=tech)).json()
    public = await client.get(f"/verify/{certificate['code']}", headers={"accept-language": "en"})
    assert public.status_code == 200
    assert "Valid" in public.text
    for secret in ("6RX7AWEZ", "CZC901381R", "ST3160815AS", "technician", "Donor One"):
        assert secret not in public.text
    status = (await client.get(f"/api/v1/verify/{certificate['code']}")).json()
    assert set(status) == {
        "code",
        "authentic",
        "reason",
        "status",
        "kind",
        "version",
        "issued_at",
        "issuer",
        "devices",
        "media",
        "counts",
    }
    refused = await client.post(
        f"/api/v1/certificates/{certificate['code']}/revoke", json={"reason": "wrong device"}, headers=tech
    )
    assert refused.status_code == 403
    revoked = await client.post(
        f"/api/v1/certificates/{certificate['code']}/revoke",
        json={"reason": "issued for the wrong device"},
        headers=as_user("supervisor"),
    )
    assert revoked.json()["status"] == "revoked"
    public = await client.get(f"/verify/{certificate['code']}", headers={"accept-language": "en"})
    assert "Revoked" in public.text
    signed = (await client.get(f"/api/v1/certificates/{certificate['code']}/json", headers=tech)).content
    verdict = (await client.post("/api/v1/verify", content=signed)).json()
    assert (verdict["authentic"], verdict["status"]) == (True, "revoked")


async def test_reissue_supersedes_the_old_version(client, as_user) -> None:
    tech, boss = as_user("technician"), as_user("supervisor")
    code = await received(["6RX7AWEZ"])
    await upload(client, tech, I5, device=code)
    first = (await client.post("/api/v1/certificates", json={"device": code}, headers=tech)).json()
    second = await client.post(
        f"/api/v1/certificates/{first['code']}/revoke",
        json={"reason": "donor name corrected", "reissue": True},
        headers=boss,
    )
    assert second.status_code == 200
    assert second.json()["version"] == 2
    assert second.json()["code"] != first["code"]
    listed = (await client.get(f"/api/v1/certificates?device={code}", headers=tech)).json()
    assert [(c["version"], c["status"]) for c in listed] == [(2, "valid"), (1, "revoked")]


async def test_a_certificate_is_reissued_once(client, as_user) -> None:
    tech, boss = as_user("technician"), as_user("supervisor")
    code = await received(["6RX7AWEZ"])
    await upload(client, tech, I5, device=code)
    first = (await client.post("/api/v1/certificates", json={"device": code}, headers=tech)).json()
    path = f"/api/v1/certificates/{first['code']}/revoke"
    body = {"reason": "donor name corrected", "reissue": True}
    assert (await client.post(path, json=body, headers=boss)).status_code == 200
    again = await client.post(path, json=body, headers=boss)
    assert again.status_code == 409
    assert again.json()["code"] == "certificate_superseded"
    listed = (await client.get(f"/api/v1/certificates?device={code}", headers=tech)).json()
    assert [(c["version"], c["status"]) for c in listed] == [(2, "valid"), (1, "revoked")]


async def test_a_batch_certificate_waits_for_every_device(client, as_user) -> None:
    tech, boss = as_user("technician"), as_user("supervisor")
    await signed_agreement()
    batch = await new_batch(reference="PO-2026-0042")
    done = [await wiped(client, boss, batch, f"WD-BATCH-{i}") for i in range(2)]
    pending = await received(["WD-BATCH-9"], batch=batch)
    monitor = await received([], kind=DeviceKind.MONITOR, batch=batch)
    lost = await new_device(State.COLLECTED, batch=batch)
    refused = await client.post("/api/v1/certificates", json={"batch": batch.code}, headers=boss)
    assert refused.status_code == 409
    assert refused.json()["code"] == "batch_not_terminal"
    medium = (await sheet(client, tech, pending))["media"][0]["id"]
    destroyed = await client.post(
        f"/api/v1/devices/{pending}/destruction-records",
        json={"medium": medium, "technique": "crush", "facility": "Atelier", "witness": "Paul Roux"},
        headers=tech,
    )
    assert destroyed.json()["sanitized"] == [pending]
    await client.post(f"/api/v1/devices/{monitor}/no-media", json={}, headers=tech)
    await client.post(
        f"/api/v1/devices/{lost.code}/actions/mark_missing", json={"reason": "never arrived"}, headers=boss
    )
    issued = await client.post("/api/v1/certificates", json={"batch": batch.code}, headers=boss)
    assert issued.status_code == 201, issued.text
    signed = (await client.get(f"/api/v1/certificates/{issued.json()['code']}/json", headers=boss)).content
    payload = json.loads(signed)["certificate"]
    assert payload["batch"] == {"code": batch.code, "donor_reference": "PO-2026-0042"}
    assert payload["donor"]["name"] == "Donor One"
    assert payload["counts"] == {
        "devices": 5,
        "media": 3,
        "clear": 2,
        "purge": 0,
        "destroy": 1,
        "failed": 0,
        "pending": 0,
        "no_media_devices": 1,
        "missing_devices": 1,
    }
    assert sorted(m["device"] for m in payload["media"]) == sorted([*done, pending])
    mine = await client.get(f"/api/v1/certificates?batch={batch.code}", headers=as_user("donor"))
    assert issued.json()["code"] in [c["code"] for c in mine.json()]
    theirs = await client.get(f"/api/v1/certificates/{issued.json()['code']}", headers=as_user("other_donor"))
    assert theirs.status_code == 404
    pdf = await client.get(
        f"/api/v1/certificates/{issued.json()['code']}/pdf", headers=as_user("other_donor")
    )
    assert pdf.status_code == 404
    own = await client.get(f"/api/v1/certificates/{issued.json()['code']}/pdf", headers=as_user("donor"))
    assert own.status_code == 200
    portal = await client.get(f"/batches/{batch.code}", headers={**as_user("donor"), "accept-language": "en"})
    assert f'data-certificate="{issued.json()["code"]}" data-status="valid"' in portal.text
    outcomes = portal.text.split('id="media-outcomes"')[1].split("</table>")[0]
    assert "<td>3</td><td>2</td><td>0</td><td>1</td><td>0</td><td>0</td><td>1</td>" in outcomes


async def test_an_erasure_station_prints_the_data_wiped_label(client, as_user, printer_server) -> None:
    admin, tech = as_user("admin"), as_user("technician")
    await client.post(
        "/api/v1/printers",
        json={
            "name": "Zebra effacement",
            "driver": "zpl-tcp",
            "host": "127.0.0.1",
            "port": printer_server.port,
            "stock": "57x32",
        },
        headers=admin,
    )
    station = await new_station(Stage.ERASURE)
    await client.put(
        f"/api/v1/stations/{station.code}/printer", json={"printer": "Zebra effacement"}, headers=admin
    )
    code = await received(["6RX7AWEZ"])
    response = await client.post(
        "/api/v1/erasure-reports",
        data={"device": code, "station": station.code},
        files={"file": (I5.name, read(I5))},
        headers=tech,
    )
    assert response.json()["sanitized"] == [code]
    await asyncio.wait_for(printer_server.done.wait(), 5)
    label = printer_server.received[0]
    certificate = (await client.get(f"/api/v1/certificates?device={code}", headers=tech)).json()[0]
    assert f"^FD{code}^FS".encode() in label
    assert certificate["verify_url"].encode() in label
    assert b"NIST 800-88 Clear" in label
    events = await event_rows(code)
    assert [e["action"] for e in events] == ["import", "sanitize", "label_printed"]
    assert events[1]["station"] == events[2]["station"] is not None  # both at the erasure station
