"""The donor portal and driver pages over HTTP: forms post, fail with their message, redirect."""

from __future__ import annotations

import json
import re

from refurb.core.kinds import DeviceKind
from refurb.devices.tables import Device
from refurb.intake.tables import Agreement, Batch
from tests.helpers import new_batch, signed_agreement, submitted_batch


async def test_new_batch_form_creates_a_draft(client, as_user) -> None:
    donor = as_user("donor")
    bad = await client.post(
        "/batches/new", data={"site_address": "1 rue A", "declared_laptop": "many"}, headers=donor
    )
    assert bad.status_code == 400
    assert "many" in bad.text
    assert await Batch.count() == 0
    response = await client.post(
        "/batches/new",
        data={"reference": "PARC-26", "site_address": "1 rue A\n93000 Bobigny", "declared_laptop": "3"},
        headers=donor,
    )
    assert response.status_code == 303
    row = await Batch.select().first()
    assert response.headers["location"] == f"/batches/{row['code']}"
    assert (row["reference"], row["state"]) == ("PARC-26", "draft")
    page = await client.get(response.headers["location"], headers=donor)
    assert page.status_code == 200
    assert "PARC-26" in page.text
    assert 'action="/batches/' + row["code"] + '/manifest"' in page.text


async def test_manifest_upload_page_shows_the_problems(client, as_user) -> None:
    batch = await new_batch()
    content = b"serial;kind\nP-1;laptop\n;desktop\nP-1;laptop\n"
    response = await client.post(
        f"/batches/{batch.code}/manifest",
        data={"mode": "all"},
        files={"file": ("parc.csv", content, "text/csv")},
        headers=as_user("donor", **{"accept-language": "en"}),
    )
    assert response.status_code == 422
    rows = re.findall(r'data-row="(\d+)" data-code="([a-z_]+)"', response.text)
    assert rows == [("3", "no_identifier"), ("4", "duplicate_in_file")]
    assert "nothing was imported" in response.text
    assert await Device.count() == 0
    valid = await client.post(
        f"/batches/{batch.code}/manifest",
        data={"mode": "valid_only"},
        files={"file": ("parc.csv", content, "text/csv")},
        headers=as_user("donor", **{"accept-language": "en"}),
    )
    assert valid.status_code == 200
    assert "1 device added, 0 updated." in valid.text
    assert await Device.count() == 1


async def test_agreement_form_needs_the_box_ticked(client, as_user) -> None:
    donor = as_user("donor")
    page = await client.get("/agreement", headers=donor)
    version = re.search(r'name="terms_version" value="([^"]+)"', page.text).group(1)
    form = {"signatory_name": "Claire Dupont", "terms_version": version}
    unticked = await client.post("/agreement", data=form, headers=donor)
    assert unticked.status_code == 400
    assert await Agreement.count() == 0
    signed = await client.post("/agreement", data={**form, "accept": "on"}, headers=donor)
    assert (signed.status_code, signed.headers["location"]) == (303, "/agreement?signed=true")
    row = await Agreement.select().first()
    assert (row["signatory_name"], row["method"]) == ("Claire Dupont", "portal")


async def test_driver_collects_from_the_phone_page(client, as_user) -> None:
    batch = await submitted_batch()
    driver = as_user("driver")
    listing = await client.get("/collect", headers=driver)
    assert batch.display_code in listing.text
    scanned = await client.get(f"/collect?code={batch.display_code.lower()}", headers=driver)
    assert (scanned.status_code, scanned.headers["location"]) == (303, f"/collect/{batch.code}")
    typo = await client.get("/collect?code=B-0000001-9", headers=driver)
    assert typo.status_code == 400
    refused = await client.post(
        f"/collect/{batch.code}", data={"count_laptop": "2", "signer_name": "Bob Durand"}, headers=driver
    )
    assert refused.status_code == 409  # no agreement yet: the form says so and nothing moves
    assert (await Batch.select(Batch.state).first())["state"] == "submitted"
    await signed_agreement()
    done = await client.post(
        f"/collect/{batch.code}",
        data={"count_laptop": "2", "signer_name": "Bob Durand", "seals": "S1, S2", "vehicle": "AB-123-CD"},
        headers=driver,
    )
    assert (done.status_code, done.headers["location"]) == (303, f"/collect?done={batch.code}")
    row = await Batch.select(Batch.state, Batch.collection).first()
    assert row["state"] == "collected"
    collection = row["collection"] if isinstance(row["collection"], dict) else json.loads(row["collection"])
    assert (collection["seals"], collection["vehicle"]) == (["S1", "S2"], "AB-123-CD")
    back = await client.get(done.headers["location"], headers=driver)
    assert back.status_code == 200
    assert re.search(r'<p class="notice" role="status" id="pickup-done">([^<]+)</p>', back.text).group(1) == (
        f"Collecte de {batch.display_code} enregistrée\u00a0: 2 appareils comptés."
    )
    assert f'href="/collect/{batch.code}"' not in back.text  # no longer waiting


def _count_input(html: str, kind: str) -> str:
    return re.search(rf'<input id="count_{kind}"[^>]*>', html).group(0)


async def test_pickup_counts_start_empty_and_a_refusal_keeps_what_was_typed(client, as_user) -> None:
    """The expected number is a hint beside an empty, required field; a refused form comes back as typed."""
    batch = await submitted_batch(declared={DeviceKind.LAPTOP: 3, DeviceKind.DESKTOP: 1})
    await signed_agreement()
    driver = as_user("driver", **{"accept-language": "en"})
    form = await client.get(f"/collect/{batch.code}", headers=driver)
    laptop = _count_input(form.text, "laptop")
    assert 'value=""' in laptop
    assert " required" in laptop
    assert 'aria-describedby="hint-count_laptop"' in laptop
    assert '<span class="hint" id="hint-count_laptop">expected 3</span>' in form.text
    assert " required" not in _count_input(form.text, "tablet")  # not expected: optional, folded

    typed = {
        "count_laptop": "3",
        "count_tablet": "1",
        "signer_name": "Bob Durand",
        "seals": "S9",
        "vehicle": "AB",
    }
    refused = await client.post(f"/collect/{batch.code}", data=typed, headers=driver)
    assert refused.status_code == 400
    desktop = _count_input(refused.text, "desktop")
    assert 'value=""' in desktop
    assert 'aria-invalid="true"' in desktop
    assert 'aria-describedby="hint-count_desktop error-count_desktop"' in desktop
    assert (
        '<span class="field-error" id="error-count_desktop">Count these devices and type the number found '
        "(0 if none).</span>" in refused.text
    )
    assert 'value="3"' in _count_input(refused.text, "laptop")
    assert 'value="1"' in _count_input(refused.text, "tablet")
    assert '<details class="other-kinds" open>' in refused.text
    assert 'value="Bob Durand"' in refused.text
    assert ">S9</textarea>" in refused.text
    assert (await Batch.select(Batch.state).first())["state"] == "submitted"

    not_a_number = await client.post(
        f"/collect/{batch.code}", data={**typed, "count_desktop": "un"}, headers=driver
    )
    assert not_a_number.status_code == 400
    assert (
        '<span class="field-error" id="error-count_desktop">&#39;un&#39; is not a number of devices.</span>'
        in (not_a_number.text)
    )
    assert 'value="un"' in _count_input(not_a_number.text, "desktop")
    no_signer = await client.post(
        f"/collect/{batch.code}", data={**typed, "count_desktop": "0", "signer_name": " "}, headers=driver
    )
    assert no_signer.status_code == 400
    assert 'id="error-signer_name"' in no_signer.text
    assert 'value="0"' in _count_input(no_signer.text, "desktop")
    assert (await Batch.select(Batch.state).first())["state"] == "submitted"

    done = await client.post(f"/collect/{batch.code}", data={**typed, "count_desktop": "0"}, headers=driver)
    assert (done.status_code, done.headers["location"]) == (303, f"/collect?done={batch.code}")
    row = await Batch.select(Batch.state, Batch.discrepancy).first()
    assert row["state"] == "collected"
    discrepancy = (
        row["discrepancy"] if isinstance(row["discrepancy"], dict) else json.loads(row["discrepancy"])
    )
    assert discrepancy == {"desktop": {"expected": 1, "counted": 0}, "tablet": {"expected": 0, "counted": 1}}


async def test_driver_opens_a_pickup_by_the_donor_reference(client, as_user) -> None:
    """The driver has the donor's reference on paper: it opens the batch like its B code does."""
    batch = await submitted_batch(reference="DEMO-2026-002")
    driver = as_user("driver", **{"accept-language": "en"})
    listing = await client.get("/collect", headers=driver)
    assert f"{batch.display_code}</code> Donor One — DEMO-2026-002" in listing.text
    for typed in ("DEMO-2026-002", " demo-2026-002 "):
        opened = await client.get("/collect", params={"code": typed}, headers=driver)
        assert (opened.status_code, opened.headers["location"]) == (303, f"/collect/{batch.code}")
    unknown = await client.get("/collect", params={"code": "DEMO-2026-003"}, headers=driver)
    assert unknown.status_code == 404
    assert "No batch has the code or the reference &#39;DEMO-2026-003&#39;." in unknown.text
    wrong_digit = batch.display_code[:-1] + str((int(batch.display_code[-1]) + 1) % 10)
    typo = await client.get("/collect", params={"code": wrong_digit}, headers=driver)
    assert typo.status_code == 400
    assert "wrong check digit" in typo.text

    other = await submitted_batch("Donor Two", reference="demo-2026-002")
    ambiguous = await client.get("/collect", params={"code": "DEMO-2026-002"}, headers=driver)
    assert ambiguous.status_code == 409
    assert (
        f"The reference &#39;DEMO-2026-002&#39; is on several batches ({batch.display_code}, "
        f"{other.display_code}): scan or type the batch&#39;s code." in ambiguous.text
    )
    by_code = await client.get("/collect", params={"code": other.display_code}, headers=driver)
    assert (by_code.status_code, by_code.headers["location"]) == (303, f"/collect/{other.code}")
