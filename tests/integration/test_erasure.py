"""Certified data wiping through the HTTP API, on both engines: reports, records, the gate, supervision."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest

from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.devices.tables import Device
from refurb.erasure.service import DeclaredMedia, add_declared_media
from refurb.erasure.tables import ErasureRecord, ErasureReport, Medium, MediumKindDecision
from tests.fixtures.erasure.make_nwipe_log import make_log
from tests.helpers import (
    ACER,
    I5,
    MANUAL,
    NO_FLAG,
    SYNTHETIC,
    USODY_FAILED,
    USODY_OK,
    device_row,
    event_rows,
    new_batch,
    new_device,
    new_station,
    read,
    received,
    sanitize,
    sheet,
    unknown_model_log,
    upload,
)

# --- reports ------------------------------------------------------------------------------------


async def test_a_verified_hdd_wipe_sanitizes_the_device_and_fills_its_hardware(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["6RX7AWEZ"], kind=DeviceKind.DESKTOP)
    response = await upload(client, tech, I5, device=code)
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["format"] == "workbench_v10"
    assert report["status"] == "matched"
    assert report["devices"] == [code]
    assert report["sanitized"] == [code]
    assert len(report["records"]) == 1
    row = await device_row(code)
    assert row["state"] == "sanitized"
    assert row["cpu"] == "Intel Core2 Duo CPU E8400 @ 3.00GHz"
    assert [e["action"] for e in await event_rows(code)] == ["import", "sanitize"]
    medium = (await sheet(client, tech, code))["media"][0]
    assert medium["status"] == "passed"
    assert medium["category"] == "clear"
    assert medium["source"] == "declared"
    assert medium["detected"] is True
    assert medium["records"][0]["verification"] == "all"
    assert len(medium["records"][0]["record_hash"]) == 64


async def test_a_snapshot_finds_its_device_by_the_machine_serial(client, as_user) -> None:
    code = await received([None], kind=DeviceKind.DESKTOP, serial="CZC901381R")  # a disk, serial not declared
    response = await upload(client, as_user("technician"), I5)
    assert response.status_code == 201
    assert response.json()["devices"] == [code]
    assert response.json()["sanitized"] == [code]
    medium = (await sheet(client, as_user("technician"), code))["media"][0]
    assert (medium["serial"], medium["kind"], medium["source"]) == ("6RX7AWEZ", "hdd", "declared")


async def test_the_same_report_twice_changes_nothing(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["6RX7AWEZ"])
    first = await upload(client, tech, I5, device=code)
    records, reports = await ErasureRecord.count(), await ErasureReport.count()
    again = await upload(client, tech, I5, device=code, name="renamed.json")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["already_imported"] is True
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["records"] == first.json()["records"]
    assert (await ErasureRecord.count(), await ErasureReport.count()) == (records, reports)
    raw = await client.get(f"/api/v1/erasure-reports/{first.json()['id']}/raw", headers=tech)
    assert raw.content == read(I5)


async def test_two_stations_uploading_one_report_at_once_import_it_once(client, as_user) -> None:
    code = await received(["6RX7AWEZ"])
    responses = await asyncio.gather(
        *(upload(client, as_user(user), I5, device=code) for user in ("technician", "supervisor", "admin"))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 201]
    assert await ErasureReport.count() == 1
    assert await ErasureRecord.count() == 1
    assert [e["action"] for e in await event_rows(code)] == ["import", "sanitize"]


async def test_an_unverified_overwrite_does_not_pass_an_hdd(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["WD-WX11A80W7430"])
    response = await upload(client, tech, ACER, device=code)
    assert response.status_code == 201
    assert response.json()["sanitized"] == []
    medium = (await sheet(client, tech, code))["media"][0]
    assert medium["status"] == "pending"
    assert [p["code"] for p in medium["problems"]] == ["verification_missing"]
    refused = await sanitize(client, tech, code)
    assert refused.status_code == 409
    assert refused.json()["code"] == "media_not_sanitized"
    assert (await device_row(code))["state"] == "received"


async def test_a_failed_run_never_passes(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["152D00539000"])
    response = await upload(client, tech, USODY_FAILED, device=code)
    assert response.status_code == 201
    assert response.json()["status"] == "partial"  # a record, with the report's problems
    medium = (await sheet(client, tech, code))["media"][0]
    assert medium["records"][0]["result"] == "failed"
    assert medium["records"][0]["category"] == "none"
    assert medium["problems"][0]["code"] == "result_not_success"
    assert (await sanitize(client, tech, code)).json()["code"] == "media_not_sanitized"


async def test_a_sampled_verification_passes_only_a_policy_that_accepts_samples(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["120312E2M3121K00UN6S"])
    await upload(client, tech, USODY_OK, device=code)
    medium = (await sheet(client, tech, code))["media"][0]
    assert [p["code"] for p in medium["problems"]] == ["verification_sampled"]
    changed = await client.put(
        "/api/v1/erasure/policies/Donor One",
        json={"rules": {"hdd": {"minimum": "clear", "verification": "sample"}}},
        headers=as_user("admin"),
    )
    assert changed.status_code == 200
    assert changed.json()["rules"]["ssd"] == {"minimum": "purge", "verification": "full"}
    assert (await sanitize(client, tech, code)).status_code == 201


async def test_a_policy_below_the_safe_floor_is_refused(client, as_user) -> None:
    response = await client.put(
        "/api/v1/erasure/policies/Donor One",
        json={"rules": {"ssd": {"minimum": "clear"}, "tape": {"minimum": "purge"}}},
        headers=as_user("admin"),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_policy"
    policy = await client.get("/api/v1/erasure/policies/Donor One", headers=as_user("supervisor"))
    assert policy.json()["default"] is True


async def test_a_multi_drive_log_is_matched_by_serial_without_a_device(client, as_user) -> None:
    tech = as_user("technician")
    log = make_log(3, start=datetime.datetime(2026, 11, 20, 9, 0), failed={2})
    serials = [line.split("S/N=")[1].strip() for line in log.splitlines() if "S/N=" in line]
    codes = [await received([serial]) for serial in serials]
    response = await upload(client, tech, log.encode(), name="nwipe_log_20261120-090000.txt")
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["format"] == "nwipe_log"
    assert report["devices"] == sorted(codes)
    assert report["sanitized"] == [codes[0]]  # the HDD; the SSD was only overwritten, the third failed
    assert [(await device_row(c))["state"] for c in codes] == ["sanitized", "received", "received"]
    ssd = (await sheet(client, tech, codes[1]))["media"][0]
    assert (ssd["kind"], [p["code"] for p in ssd["problems"]]) == ("ssd", ["ssd_needs_purge"])
    failed = (await sheet(client, tech, codes[2]))["media"][0]
    assert failed["records"][0]["errors"]["verify"] == 12288
    assert [p["code"] for p in failed["problems"]] == ["result_not_success"]


async def test_an_anonymised_log_is_refused_and_kept_visible(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["S3YJNX0K123456"])
    response = await upload(client, tech, SYNTHETIC / "anonymised-quiet.log", device=code)
    assert response.status_code == 201
    report = response.json()
    assert report["status"] == "unmatched"
    assert report["records"] == []
    assert {u["reason"] for u in report["unmatched"]} == {"serial_anonymised"}
    listed = await client.get("/api/v1/erasure-reports?status=unmatched", headers=tech)
    assert [r["id"] for r in listed.json()] == [report["id"]]


async def test_a_drive_nobody_declared_stays_unmatched_with_its_reason(client, as_user) -> None:
    response = await upload(client, as_user("technician"), I5)
    assert response.status_code == 201
    assert response.json()["status"] == "unmatched"
    assert response.json()["unmatched"][0]["serial"] == "6RX7AWEZ"
    assert response.json()["unmatched"][0]["reason"] == "no_device"
    assert await Medium.count() == 0


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "report_unrecognised"),
        (b'{"hello": "world"}', "report_unrecognised"),
        (b'{"device_info": {"serial_number": "X"', "report_malformed"),
    ],
)
async def test_what_is_not_a_report_is_refused_and_nothing_is_stored(client, as_user, content, code) -> None:
    response = await upload(client, as_user("technician"), content, name="file.bin")
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert await ErasureReport.count() == 0


async def test_shredos_puts_the_log_with_a_limited_token_in_the_url(client, tokens) -> None:
    from refurb.accounts import service as accounts
    from refurb.core.stages import Stage

    code = await received(["6RX7AWEZ"])
    station = await new_station(Stage.ERASURE)
    limited = await accounts.create_token("technician", "ShredOS bench 1", scope="erasure-reports")
    response = await client.put(
        f"/api/v1/erasure-reports?token={limited}&station={station.code}&device={code}", content=read(I5)
    )
    assert response.status_code == 201, response.text
    assert response.json()["sanitized"] == [code]
    personal = await client.put(f"/api/v1/erasure-reports?token={tokens['technician']}", content=read(I5))
    assert personal.status_code == 401  # a full token never travels in a URL
    assert (await client.put("/api/v1/erasure-reports?token=rfb_wrong", content=read(I5))).status_code == 401
    elsewhere = await client.get("/api/v1/erasure-reports", headers={"authorization": f"Bearer {limited}"})
    assert elsewhere.status_code == 401  # the limited token opens nothing else
    assert (await client.get(f"/api/v1/erasure-reports?token={limited}")).status_code == 401
    with pytest.raises(Exception, match="not a token scope"):
        await accounts.create_token("technician", scope="everything")


async def test_a_folder_of_reports_is_imported_at_once_and_a_bad_file_refuses_it_all(client, as_user) -> None:
    tech = as_user("technician")
    hdd = await received(["6RX7AWEZ"], kind=DeviceKind.DESKTOP)
    ssd = await received(["WD-WX11A80W7430"])
    files = [("file", (I5.name, read(I5))), ("file", (ACER.name, read(ACER)))]
    refused = await client.post(
        "/api/v1/erasure-reports/folder",
        files=[*files, ("file", ("notes.txt", b"coffee at 10"))],
        headers=tech,
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "report_unrecognised"
    assert "notes.txt" in refused.json()["detail"]
    assert await ErasureReport.count() == 0
    response = await client.post("/api/v1/erasure-reports/folder", files=files, headers=tech)
    assert response.status_code == 201, response.text
    body = response.json()
    assert [r["devices"] for r in body["reports"]] == [[hdd], [ssd]]
    assert body["sanitized"] == [hdd]  # the Acer's disk was overwritten without verification
    assert (await device_row(ssd))["cpu"] == "Intel Atom CPU N450 @ 1.66GHz"
    again = await client.post("/api/v1/erasure-reports/folder", files=files[::-1], headers=tech)
    assert again.status_code == 200
    assert [r["already_imported"] for r in again.json()["reports"]] == [True, True]
    assert [r["id"] for r in again.json()["reports"]] == [r["id"] for r in body["reports"]][::-1]
    assert await ErasureRecord.count() == 2


# --- the gate -----------------------------------------------------------------------------------


async def test_an_ssd_wiped_by_overwrite_only_cannot_be_sanitized_until_destroyed(client, as_user) -> None:
    tech = as_user("technician")
    code = await received([])
    added = await client.post(
        f"/api/v1/devices/{code}/media", json={"kind": "ssd", "serial": "S4P3NF0M317460J"}, headers=tech
    )
    assert added.status_code == 201
    medium = added.json()["id"]
    record = await client.post(
        f"/api/v1/devices/{code}/erasure-records",
        json={**MANUAL, "medium": medium, "serial_seen": "S4P3NF0M317460J"},
        headers=as_user("supervisor"),  # a supervisor's own record needs no review
    )
    assert record.status_code == 201, record.text
    assert record.json()["sanitized"] == []
    problems = record.json()["status"]["media"][0]["problems"]
    assert [p["code"] for p in problems] == ["ssd_needs_purge"]
    refused = await sanitize(client, tech, code)
    assert refused.json()["code"] == "media_not_sanitized"
    destroyed = await client.post(
        f"/api/v1/devices/{code}/destruction-records",
        json={
            "medium": medium,
            "technique": "shred",
            "facility": "Paprec Bobigny",
            "witness": "Paul Roux",
            "evidence": "VID-2026-11-27-004",
            "standard": "DIN 66399 H-5",
        },
        headers=tech,
    )
    assert destroyed.status_code == 201, destroyed.text
    assert destroyed.json()["sanitized"] == [code]
    final = destroyed.json()["status"]["media"][0]
    assert final["category"] == "destroy"
    assert [r["category"] for r in final["records"]] == ["clear", "destroy"]


async def test_one_failed_medium_holds_the_whole_device(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["6RX7AWEZ", "152D00539000"])
    await upload(client, tech, I5, device=code)
    await upload(client, tech, USODY_FAILED, device=code)
    status = await sheet(client, tech, code)
    assert [m["status"] for m in status["media"]] == ["passed", "pending"]
    assert status["ready"] is False
    assert (await sanitize(client, tech, code)).json()["code"] == "media_not_sanitized"


async def test_a_correction_supersedes_a_failed_record(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["152D00539000"])
    first = (await upload(client, tech, USODY_FAILED, device=code)).json()["records"][0]
    medium = (await sheet(client, tech, code))["media"][0]["id"]
    again = await client.post(
        f"/api/v1/devices/{code}/erasure-records",
        json={**MANUAL, "medium": medium, "serial_seen": "152D00539000", "supersedes": first},
        headers=as_user("supervisor"),
    )
    assert again.status_code == 201
    assert again.json()["sanitized"] == [code]
    records = again.json()["status"]["media"][0]["records"]
    assert [(r["id"] == first, r["superseded"]) for r in records] == [(True, True), (False, False)]
    twice = await client.post(
        f"/api/v1/devices/{code}/erasure-records",
        json={**MANUAL, "medium": medium, "serial_seen": "152D00539000", "supersedes": first},
        headers=tech,
    )
    assert twice.status_code == 409  # the device is sanitized: erasure records are closed


async def test_records_cannot_be_changed_in_the_database(client, as_user) -> None:
    code = await received(["6RX7AWEZ"])
    await upload(client, as_user("technician"), I5, device=code)
    with pytest.raises(Exception, match="append-only"):
        await ErasureRecord.update({ErasureRecord.result: "failed"}).where(ErasureRecord.id > 0)
    with pytest.raises(Exception, match="append-only"):
        await ErasureRecord.delete().where(ErasureRecord.id > 0)


async def test_a_device_without_media_needs_an_attestation(client, as_user) -> None:
    tech = as_user("technician")
    code = await received([], kind=DeviceKind.MONITOR)
    refused = await sanitize(client, tech, code)
    assert refused.status_code == 409
    assert refused.json()["code"] == "media_not_sanitized"
    assert (
        "no data-bearing medium is recorded"
        in (
            await client.post(
                f"/api/v1/devices/{code}/actions/sanitize", headers={**tech, "accept-language": "en"}
            )
        ).json()["detail"]
    )
    attested = await client.post(
        f"/api/v1/devices/{code}/no-media", json={"note": "22-inch monitor"}, headers=tech
    )
    assert attested.status_code == 201
    assert attested.json()["sanitized"] == [code]
    assert attested.json()["attestation"]["by"] == "Technician"
    assert (await sanitize(client, tech, code)).json()["outcome"] == "already_recorded"


async def test_no_attestation_while_media_are_recorded(client, as_user) -> None:
    code = await received(["6RX7AWEZ"])
    response = await client.post(f"/api/v1/devices/{code}/no-media", json={}, headers=as_user("supervisor"))
    assert response.status_code == 409
    assert response.json()["code"] == "media_present"


async def test_a_declared_disk_never_seen_blocks_until_a_supervisor_marks_it_absent(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["6RX7AWEZ", "WD-GONE-0001"])
    await upload(client, tech, I5, device=code)
    status = await sheet(client, tech, code)
    assert [m["status"] for m in status["media"]] == ["passed", "pending"]
    assert status["media"][1]["problems"][0]["code"] == "not_detected"
    missing = status["media"][1]["id"]
    path = f"/api/v1/devices/{code}/media/{missing}/absent"
    assert (await client.post(path, json={"reason": "pulled by the donor"}, headers=tech)).status_code == 403
    marked = await client.post(
        path, json={"reason": "pulled by the donor before pickup"}, headers=as_user("supervisor")
    )
    assert marked.status_code == 200
    assert marked.json()["ready"] is True
    assert (await sanitize(client, tech, code)).status_code == 201


async def test_a_serial_the_donor_did_not_declare_waits_for_a_supervisor(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["WD-DECLARED-01", None])
    response = await upload(client, tech, I5, device=code)
    record = response.json()["records"][0]
    status = await sheet(client, tech, code)
    assert [m["serial"] for m in status["media"]] == ["WD-DECLARED-01", "6RX7AWEZ"]
    assert status["media"][1]["problems"][0]["code"] == "review_pending"
    reviews = await client.get("/api/v1/erasure/reviews", headers=as_user("supervisor"))
    assert [r["record"] for r in reviews.json()] == [record]
    approved = await client.post(
        f"/api/v1/erasure/records/{record}/review",
        json={"decision": "approved"},
        headers=as_user("supervisor"),
    )
    assert approved.status_code == 200
    assert approved.json()["status"]["media"][1]["status"] == "passed"
    again = await client.post(
        f"/api/v1/erasure/records/{record}/review",
        json={"decision": "rejected"},
        headers=as_user("supervisor"),
    )
    assert again.json()["code"] == "already_reviewed"


# --- quality control ----------------------------------------------------------------------------


async def test_a_failed_quality_check_holds_the_batch(client, as_user) -> None:
    tech, boss, operator = as_user("technician"), as_user("supervisor"), as_user("admin")
    batch = await new_batch()
    codes = [await received([f"6RX7AWE{i}"], batch=batch) for i in range(3)]
    for code in codes:
        medium = (await sheet(client, tech, code))["media"][0]["id"]
        await client.post(
            f"/api/v1/devices/{code}/erasure-records",
            json={
                **MANUAL,
                "medium": medium,
                "serial_seen": (await sheet(client, tech, code))["media"][0]["serial"],
            },
            headers=operator,
        )
    drawn = await client.post("/api/v1/erasure/quality-checks/draw", headers=boss)
    assert drawn.status_code == 200
    assert len(drawn.json()) == 1  # 5 % of 3, at least one
    again = await client.post("/api/v1/erasure/quality-checks/draw", headers=boss)
    assert again.json() == drawn.json()  # one draw per week
    check = drawn.json()[0]
    own = await client.post(
        f"/api/v1/erasure/quality-checks/{check['id']}", json={"result": "failed"}, headers=operator
    )
    assert own.status_code == 403
    assert own.json()["code"] == "qc_not_independent"
    failed = await client.post(
        f"/api/v1/erasure/quality-checks/{check['id']}",
        json={"result": "failed", "note": "sector 0 still holds data"},
        headers=boss,
    )
    assert failed.status_code == 200
    assert failed.json()["result"] == "failed"
    held = await client.post(f"/api/v1/devices/{codes[0]}/actions/refurbish", headers=tech)
    assert held.status_code == 409
    assert held.json()["code"] == "batch_on_hold"
    assert (await sheet(client, tech, codes[1]))["on_hold"] is True
    certificate = await client.post("/api/v1/certificates", json={"batch": batch.code}, headers=boss)
    assert certificate.json()["code"] == "batch_on_hold"
    device_certificate = await client.post("/api/v1/certificates", json={"device": codes[2]}, headers=boss)
    assert device_certificate.json()["code"] == "batch_on_hold"
    further = await new_device(State.REFURBISHED, batch=batch)  # reconditioned before the check failed
    held = await client.post(f"/api/v1/devices/{further.code}/actions/license", headers=tech)
    assert held.json()["code"] == "batch_on_hold"
    resolved = await client.post(
        f"/api/v1/erasure/quality-checks/{check['id']}/resolve",
        json={"reason": "media destroyed"},
        headers=boss,
    )
    assert resolved.json()["result"] == "resolved"
    released = await client.post(f"/api/v1/devices/{codes[0]}/actions/refurbish", headers=tech)
    assert released.json()["code"] == "tests_not_recorded"  # now only the workshop's own check is missing


async def test_the_supervision_desk_reviews_and_checks(client, as_user) -> None:
    tech, boss = as_user("technician"), {**as_user("supervisor"), "accept-language": "en"}
    code = await received(["WD-DECLARED-01", None])
    record = (await upload(client, tech, I5, device=code)).json()["records"][0]
    desk = await client.get("/erasure/supervision", headers=boss)
    assert f'data-record="{record}"' in desk.text
    assert "the serial is not one declared for this device" in desk.text
    decided = await client.post(
        f"/erasure/supervision/records/{record}",
        data={"decision": "approved", "note": "disk swapped"},
        headers=boss,
    )
    assert decided.status_code == 303
    assert f'data-record="{record}"' not in (await client.get("/erasure/supervision", headers=boss)).text
    other = await received(["6RX7AWE1"])
    medium = (await sheet(client, tech, other))["media"][0]["id"]
    await client.post(
        f"/api/v1/devices/{other}/erasure-records",
        json={**MANUAL, "medium": medium, "serial_seen": "6RX7AWE1"},
        headers=tech,
    )
    drawn = await client.post("/erasure/supervision/draw", data={}, headers=boss)
    assert drawn.status_code == 303
    desk = await client.get("/erasure/supervision", headers=boss)
    check = desk.text.split('data-check="')[1].split('"')[0]
    result = await client.post(
        f"/erasure/supervision/checks/{check}", data={"result": "passed"}, headers=boss
    )
    assert result.status_code == 303
    assert 'data-result="passed"' in (await client.get("/erasure/supervision", headers=boss)).text
    bad_week = await client.get("/erasure/supervision?week=last-week", headers=boss)
    assert bad_week.status_code == 400
    assert "is not a week" in bad_week.text


async def test_a_technicians_hand_typed_record_counts_once_a_supervisor_approves_it(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["WD-HAND-0001"])
    medium = (await sheet(client, tech, code))["media"][0]["id"]
    typed = await client.post(
        f"/api/v1/devices/{code}/erasure-records",
        json={**MANUAL, "medium": medium, "serial_seen": "wd-hand-0001"},
        headers=tech,
    )
    assert typed.status_code == 201
    assert typed.json()["sanitized"] == []
    assert [p["code"] for p in typed.json()["status"]["media"][0]["problems"]] == ["review_pending"]
    placeholder = await client.post(
        f"/api/v1/devices/{code}/erasure-records",
        json={**MANUAL, "medium": medium, "serial_seen": "N/A"},
        headers=tech,
    )
    assert placeholder.status_code == 400
    assert placeholder.json()["code"] == "serial_missing"
    approved = await client.post(
        f"/api/v1/erasure/records/{typed.json()['record']}/review",
        json={"decision": "approved"},
        headers=as_user("supervisor"),
    )
    assert approved.json()["sanitized"] == [code]


async def test_a_laptop_without_media_needs_a_supervisors_word(client, as_user) -> None:
    code = await received([])
    refused = await client.post(f"/api/v1/devices/{code}/no-media", json={}, headers=as_user("technician"))
    assert refused.status_code == 403
    assert refused.json()["code"] == "attestation_needs_supervisor"
    attested = await client.post(
        f"/api/v1/devices/{code}/no-media",
        json={"note": "disk removed by the donor"},
        headers=as_user("supervisor"),
    )
    assert attested.json()["sanitized"] == [code]


async def test_a_returned_device_goes_through_a_new_sanitization(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["6RX7AWEZ"])
    assert (await upload(client, tech, I5, device=code)).json()["sanitized"] == [code]
    await Device.update({Device.state: State.RETURNED.value}).where(
        Device.code == code
    )  # handed over, then back
    printed = await client.post("/api/v1/labels/print-jobs", json={"codes": [code]}, headers=tech)
    assert printed.status_code == 201
    back = await client.post(f"/api/v1/devices/{code}/actions/receive", headers=tech)
    assert back.status_code == 201, back.text
    status = await sheet(client, tech, code)
    assert status["ready"] is False
    assert status["media"][0]["problems"][0]["code"] == "no_record"
    assert len(status["media"][0]["records"]) == 1  # the earlier wipe stays in the history
    assert (await sanitize(client, tech, code)).json()["code"] == "media_not_sanitized"


async def test_a_serial_typed_in_lower_case_is_the_same_medium(client, as_user) -> None:
    tech = as_user("technician")
    code = await received([])
    added = await client.post(
        f"/api/v1/devices/{code}/media", json={"kind": "hdd", "serial": " 6rx7awez "}, headers=tech
    )
    assert added.json()["serial"] == "6RX7AWEZ"
    response = await upload(client, tech, I5, device=code)
    assert response.json()["sanitized"] == [code]
    assert await Medium.count() == 1


async def test_repeated_fields_and_impossible_weeks_are_refused(client, as_user) -> None:
    tech, boss = as_user("technician"), as_user("supervisor")
    twice = await client.post(
        "/api/v1/erasure-reports/folder",
        data={"device": ["D00000011", "D00000022"]},
        files=[("file", (I5.name, read(I5)))],
        headers=tech,
    )
    assert twice.status_code == 400
    assert twice.json()["code"] == "repeated_field"
    for week in ("9999-W52", "0000-W01", "2026-W60", "soon"):
        response = await client.get(f"/api/v1/erasure/quality-checks?week={week}", headers=boss)
        assert response.status_code == 400, week
        assert response.json()["code"] == "bad_week"


# --- hard disk or flash: the medium's kind ---------------------------------------------------------


def codes(items: list[dict[str, Any]]) -> list[str]:
    return [item["code"] for item in items]


async def test_an_ssd_without_its_flag_is_refused_and_a_failed_drive_keeps_its_record(
    client, as_user
) -> None:
    tech = as_user("technician")
    code = await received(["WD-WCC2E7PK5521", "S3YJNB0K312118R", "WD-WCC2EVX81234"], kind=DeviceKind.DESKTOP)
    response = await upload(client, tech, NO_FLAG, device=code)
    assert response.status_code == 201, response.text
    report = response.json()
    assert (len(report["records"]), report["unmatched"], report["sanitized"]) == (3, [], [])
    assert (await device_row(code))["state"] == "received"
    media = {m["serial"]: m for m in (await sheet(client, tech, code))["media"]}
    hdd, ssd, failed = media["WD-WCC2E7PK5521"], media["S3YJNB0K312118R"], media["WD-WCC2EVX81234"]
    assert (hdd["kind"], hdd["kind_basis"], hdd["status"], hdd["category"]) == (
        "hdd",
        "model",
        "passed",
        "clear",
    )
    assert (ssd["kind"], ssd["kind_basis"], ssd["status"]) == ("ssd", "model", "pending")
    assert codes(ssd["problems"]) == ["ssd_needs_purge"]
    assert ssd["can_confirm_rotational"] is False
    assert ssd["records"][-1]["category"] == "clear"  # the overwrite is recorded, as Clear
    assert (failed["kind"], failed["status"]) == ("hdd", "pending")
    assert codes(failed["problems"]) == ["result_not_success"]
    record = failed["records"][-1]
    assert (record["result"], record["category"]) == ("failed", "none")
    assert record["errors"] == {"pass": 1, "verify": 0, "sync": 0}
    refused = await sanitize(client, tech, code)
    assert (refused.status_code, refused.json()["code"]) == (409, "media_not_sanitized")
    assert [p["code"] for p in refused.json()["problems"]] == ["ssd_needs_purge", "result_not_success"]
    # the model names an SSD: a technician's "it spins" is refused and nothing is recorded
    said = await client.post(
        f"/api/v1/devices/{code}/media/{ssd['id']}/kind", json={"kind": "hdd"}, headers=tech
    )
    assert (said.status_code, said.json()["code"]) == (409, "medium_is_flash")
    assert await MediumKindDecision.count() == 0
    assert (await device_row(code))["state"] == "received"
    assert [e["action"] for e in await event_rows(code)] == ["import"]


async def test_insanity_is_refused_as_a_tool_error(client, as_user) -> None:
    code = await received(["CSL407D3GKRT6A", "9RY0K2BD"], kind=DeviceKind.DESKTOP)
    response = await upload(
        client, as_user("technician"), SYNTHETIC / "unknown-model-and-insanity.log", device=code
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert len(report["records"]) == 1
    assert [(u["serial"], u["reason"]) for u in report["unmatched"]] == [("9RY0K2BD", "tool_error")]
    assert report["status"] == "partial"


async def test_a_drive_of_unknown_type_passes_once_a_technician_says_it_spins(client, as_user) -> None:
    tech, supervisor = as_user("technician"), as_user("supervisor")
    code = await received(["CSL407D3GKRT6A"])
    response = await upload(client, tech, unknown_model_log(), device=code, name="nwipe_log.txt")
    assert (response.status_code, response.json()["sanitized"]) == (201, [])
    medium = (await sheet(client, tech, code))["media"][0]
    assert (medium["kind"], medium["kind_basis"], medium["can_confirm_rotational"]) == (
        "unknown",
        "none",
        True,
    )
    assert codes(medium["problems"]) == ["type_uncertain"]
    url = f"/api/v1/devices/{code}/media/{medium['id']}/kind"
    said = await client.post(url, json={"kind": "hdd", "note": "platters heard spinning"}, headers=tech)
    assert said.status_code == 200, said.text
    assert (said.json()["recorded"], said.json()["sanitized"]) == (True, [code])
    after = said.json()["status"]["media"][0]
    assert (after["kind"], after["kind_basis"], after["status"]) == ("hdd", "technician", "passed")
    assert [(d["kind"], d["by"], d["role"], d["note"]) for d in after["kind_decisions"]] == [
        ("hdd", "Technician", "technician", "platters heard spinning")
    ]
    assert (await device_row(code))["state"] == "sanitized"
    assert [e["action"] for e in await event_rows(code)] == ["import", "sanitize"]
    # the device moved on: saying it again is refused like any erasure step, and records nothing
    again = await client.post(url, json={"kind": "hdd"}, headers=tech)
    assert (again.status_code, again.json()["code"]) == (409, "not_in_erasure")
    assert await MediumKindDecision.count() == 1
    settled = await client.post(url, json={"kind": "hdd"}, headers=supervisor)  # already so: nothing new
    assert (settled.status_code, settled.json()["recorded"], settled.json()["sanitized"]) == (200, False, [])
    assert await MediumKindDecision.count() == 1
    # the supervisor's desk lists it; a technician cannot review it
    pending = await client.get("/api/v1/erasure/kind-decisions", headers=supervisor)
    assert [(p["device"], p["serial"], p["decision"]["kind"]) for p in pending.json()] == [
        (code, "CSL407D3GKRT6A", "hdd")
    ]
    decision = pending.json()[0]["decision"]["id"]
    review = f"/api/v1/erasure/kind-decisions/{decision}/review"
    assert (await client.post(review, json={"decision": "revoked"}, headers=tech)).status_code == 403
    revoked = await client.post(
        review, json={"decision": "revoked", "note": "it is an SSHD"}, headers=supervisor
    )
    assert revoked.status_code == 200, revoked.text
    medium = revoked.json()["media"][0]
    assert (medium["kind"], medium["kind_basis"]) == ("unknown", "none")
    assert codes(medium["problems"]) == ["type_uncertain"]
    twice = await client.post(review, json={"decision": "approved"}, headers=supervisor)
    assert (twice.status_code, twice.json()["code"]) == (409, "already_reviewed")
    assert (await client.get("/api/v1/erasure/kind-decisions", headers=supervisor)).json() == []
    assert await MediumKindDecision.count() == 2
    # the decisions are append-only: the database refuses to change one
    with pytest.raises(Exception, match="append-only"):
        await MediumKindDecision.update({MediumKindDecision.kind: "ssd"}).where(
            MediumKindDecision.id == decision
        )


async def test_the_same_drive_is_confirmed_once_while_received(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["CSL407D3GKRT6A", "S3YJNB0K312118R"])  # the second disk holds the device back
    await upload(client, tech, unknown_model_log(), device=code, name="nwipe_log.txt")
    medium = next(m for m in (await sheet(client, tech, code))["media"] if m["serial"] == "CSL407D3GKRT6A")
    url = f"/api/v1/devices/{code}/media/{medium['id']}/kind"
    first, second = await asyncio.gather(
        client.post(url, json={"kind": "hdd"}, headers=tech),
        client.post(url, json={"kind": "hdd"}, headers=tech),
    )
    assert sorted(r.json()["recorded"] for r in (first, second)) == [False, True]
    assert await MediumKindDecision.count() == 1
    assert (await device_row(code))["state"] == "received"


async def test_the_manifest_says_what_a_declared_disk_is(client, as_user) -> None:
    device = await new_device(State.RECEIVED)
    row = await device_row(device.code)
    await add_declared_media([DeclaredMedia(row["id"], 1, ["CSL407D3GKRT6A"], storage="HDD 40 Go")])
    response = await upload(
        client, as_user("technician"), unknown_model_log(), device=device.code, name="a.log"
    )
    assert response.json()["sanitized"] == [device.code]  # no flag, an unlisted model: the donor's word
    medium = (await sheet(client, as_user("technician"), device.code))["media"][0]
    assert (medium["kind"], medium["kind_basis"]) == ("hdd", "manifest")


async def test_the_erasure_page_says_type_uncertain_and_ssd_purge_or_destroy(client, as_user) -> None:
    tech = as_user("technician")
    code = await received(["CSL407D3GKRT6A", "WD-WCC2E7PK5521", "S3YJNB0K312118R", "WD-WCC2EVX81234"])
    await upload(client, tech, unknown_model_log(), device=code, name="nwipe_log.txt")
    await upload(client, tech, NO_FLAG, device=code)
    page = await client.get(f"/erasure?code={code}", headers=tech)
    assert page.status_code == 200
    html = page.text
    assert html.count("Type incertain") == 1
    assert "mémoire flash (ssd)" in html
    assert "faites-en un effacement renforcé" in html  # « Purge », translated once (was « purgez-la »)
    assert html.count('id="confirm-rotational-') == 1  # the unknown drive only, never the SSD
