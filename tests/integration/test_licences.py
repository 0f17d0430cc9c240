"""Licences on both engines: pools, key imports, the one-time reveal, concurrency, the report, rejects."""

from __future__ import annotations

import asyncio
import base64
import codecs
import datetime
import json
import logging
from typing import Any

import pytest

from refurb import db
from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from refurb.devices import service as devices
from refurb.devices.tables import Device, DeviceEvent
from refurb.web.tables import IdempotencyRecord
from refurb.workshop import licence_keys
from refurb.workshop.tables import LicenceAssignment, LicenceKey
from tests.helpers import device_row, event_rows, new_device, new_station

WINDOWS = {
    "name": "Windows 11 Pro — MAR Citizenship",
    "os": "Windows 11 Pro",
    "licence_type": "MAR Citizenship",
    "programme": "Microsoft Registered Refurbisher",
    "supplier": "Microsoft",
    "unit_cost_cents": 800,
    "quantity": 100,
    "low_stock": 3,
}
MINT = {"name": "Linux Mint", "os": "Linux Mint 22", "licence_type": "GPL", "needs_key": False}


def fake_keys(count: int, tag: str = "TSTAA") -> list[str]:
    """Clearly fake product keys, distinct per tag."""
    return [f"{tag}-{i:05d}-QQQQQ-RRRRR-SSSSS" for i in range(count)]


def csv_of(keys: list[str], *, header: str | None = "key", delimiter: str = ";", bom: bool = False) -> bytes:
    lines = [f"{header}{delimiter}note"] if header else []
    lines += [f"{k}{delimiter}lot 1" if header else k for k in keys]
    data = ("\r\n".join(lines) + "\r\n").encode()
    return codecs.BOM_UTF8 + data if bom else data


async def create_pool(client: Any, as_user: Any, **fields: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/licence-pools", json={**WINDOWS, **fields}, headers=as_user("supervisor")
    )
    assert response.status_code == 201, response.text
    return response.json()


async def import_keys(client: Any, as_user: Any, pool_id: int, body: bytes, **params: str) -> Any:
    return await client.post(
        f"/api/v1/licence-pools/{pool_id}/keys",
        content=body,
        params=params,
        headers=as_user("supervisor", **{"content-type": "text/csv"}),
    )


async def keyed_pool(client: Any, as_user: Any, keys: list[str], **fields: Any) -> dict[str, Any]:
    pool = await create_pool(client, as_user, **fields)
    response = await import_keys(client, as_user, pool["id"], csv_of(keys))
    assert response.status_code == 201, response.text
    return pool


async def license_device(
    client: Any, as_user: Any, code: str, pool: Any, coa: str | None = None, **h: str
) -> Any:
    return await client.post(
        "/api/v1/licences",
        json={"device": code, "pool": pool, "coa": coa},
        headers=as_user("technician", **h),
    )


async def pool_of(client: Any, as_user: Any, pool_id: int) -> dict[str, Any]:
    pools = (await client.get("/api/v1/licence-pools", headers=as_user("supervisor"))).json()
    return next(p for p in pools if p["id"] == pool_id)


async def database_text() -> str:
    """Every row of every table as text, idempotency answers decoded."""
    parts = []
    for table in db.APP_CONFIG.table_classes:
        parts.append(repr(await table.select()))
    for record in await IdempotencyRecord.select(IdempotencyRecord.response_body):
        parts.append(base64.b64decode(record["response_body"] or "").decode("utf-8", "replace"))
    return "\n".join(parts)


# --- pools and imports -------------------------------------------------------------


async def test_pools_are_for_supervisors_and_show_counts_never_keys(client, as_user) -> None:
    keys = fake_keys(5)
    assert (
        await client.post("/api/v1/licence-pools", json=WINDOWS, headers=as_user("technician"))
    ).status_code == 403
    pool = await keyed_pool(client, as_user, keys)
    listed = await client.get("/api/v1/licence-pools", headers=as_user("supervisor"))
    assert listed.status_code == 200
    (out,) = listed.json()
    assert (out["available"], out["assigned"], out["keys"], out["low"], out["expired"]) == (
        5,
        0,
        5,
        False,
        False,
    )
    assert not any(k in listed.text for k in keys)
    again = await client.post("/api/v1/licence-pools", json=WINDOWS, headers=as_user("supervisor"))
    assert (again.status_code, again.json()["code"]) == (409, "pool_name_taken")
    patched = await client.patch(
        f"/api/v1/licence-pools/{pool['id']}", json={"low_stock": 6}, headers=as_user("admin")
    )
    assert patched.status_code == 200
    assert patched.json()["low"] is True
    page = await client.get("/licences", headers=as_user("supervisor"))
    assert page.status_code == 200
    assert "stock-low" in page.text
    assert not any(k in page.text for k in keys)
    rows = await LicenceKey.select(LicenceKey.secret, LicenceKey.fingerprint, LicenceKey.status)
    assert len(rows) == 5
    assert {r["status"] for r in rows} == {"available"}
    assert all(len(r["fingerprint"]) == 64 for r in rows)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("semicolon", csv_of(fake_keys(3), delimiter=";")),
        ("comma", csv_of(fake_keys(3), header="Product Key", delimiter=",")),
        ("bom", csv_of(fake_keys(3), header="clé", bom=True)),
        ("one column", "\n".join(k.lower() for k in fake_keys(3)).encode()),
        ("tab", csv_of(fake_keys(3), header="licence_key", delimiter="\t")),
    ],
)
async def test_key_files_in_usual_shapes_import(client, as_user, name, body) -> None:
    pool = await create_pool(client, as_user)
    checked = await import_keys(client, as_user, pool["id"], body, dry_run="true")
    assert checked.status_code == 200, (name, checked.text)
    assert (checked.json()["rows"], checked.json()["imported"]) == (3, 0)
    assert await LicenceKey.count() == 0
    imported = await import_keys(client, as_user, pool["id"], body)
    assert imported.status_code == 201, (name, imported.text)
    assert imported.json()["imported"] == 3
    assert (await pool_of(client, as_user, pool["id"]))["available"] == 3


async def test_multipart_upload_imports_too(client, as_user) -> None:
    pool = await create_pool(client, as_user)
    response = await client.post(
        f"/api/v1/licence-pools/{pool['id']}/keys",
        files={"file": ("keys.csv", csv_of(fake_keys(2)), "text/csv")},
        headers=as_user("supervisor"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 2


async def test_bad_rows_import_nothing_and_name_rows_not_keys(client, as_user) -> None:
    keys = fake_keys(4)
    pool = await create_pool(client, as_user)
    body = csv_of([keys[0], keys[1], keys[0].lower(), "not a key!", keys[2]])
    refused = await import_keys(client, as_user, pool["id"], body)
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "licence_import_has_errors"
    errors = problem["report"]["errors"]
    assert [(e["row"], e["code"]) for e in errors] == [(4, "duplicate_in_file"), (5, "bad_key")]
    assert errors[0]["first_row"] == 2
    assert not any(k in refused.text or k.lower() in refused.text for k in keys)
    assert await LicenceKey.count() == 0
    assert (await import_keys(client, as_user, pool["id"], csv_of(keys[:2]))).status_code == 201
    other = await create_pool(client, as_user, name="Windows 10 Pro — MAR", os="Windows 10 Pro")
    repeated = await import_keys(client, as_user, other["id"], csv_of([keys[3], keys[1]]))
    assert repeated.status_code == 422
    assert [(e["row"], e["code"]) for e in repeated.json()["report"]["errors"]] == [
        (3, "duplicate_in_database")
    ]
    assert keys[1] not in repeated.text
    assert await LicenceKey.count() == 2
    no_column = await import_keys(client, as_user, pool["id"], b"name;serial\nA;B\n")
    assert (no_column.status_code, no_column.json()["code"]) == (422, "key_column_not_found")
    free = await create_pool(client, as_user, **MINT)
    assert (await import_keys(client, as_user, free["id"], csv_of(keys))).json()["code"] == "pool_has_no_keys"
    small = await create_pool(client, as_user, name="Tiny", quantity=1)
    too_many = await import_keys(client, as_user, small["id"], csv_of(fake_keys(2, "TSTZZ")))
    assert (too_many.status_code, too_many.json()["code"]) == (422, "pool_quantity_exceeded")


# --- assigning --------------------------------------------------------------------


async def test_assigning_reveals_the_key_once_and_licenses_the_device(client, as_user) -> None:
    keys = fake_keys(3)
    pool = await keyed_pool(client, as_user, keys)
    device = await new_device(State.REFURBISHED)
    first = await license_device(client, as_user, device.code, pool["id"], coa="COA-12345")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["key"] == keys[0]
    assert (body["state"], body["os"], body["licence_type"], body["coa"]) == (
        "licensed",
        "Windows 11 Pro",
        "MAR Citizenship",
        "COA-12345",
    )
    assert first.headers["cache-control"] == "no-store"
    row = await device_row(device.code)
    assert (row["state"], row["os"]) == ("licensed", "Windows 11 Pro")
    assert [e["action"] for e in await event_rows(device.code)] == ["import", "license"]
    again = await license_device(client, as_user, device.code, pool["name"])
    assert again.status_code == 200
    assert again.json()["key"] is None
    (assignment,) = await LicenceAssignment.select()
    assert (assignment["coa"], assignment["unassigned_at"]) == ("COA-12345", None)
    statuses = {r["id"]: r["status"] for r in await LicenceKey.select(LicenceKey.id, LicenceKey.status)}
    assert statuses[assignment["key"]] == "assigned"
    assert list(statuses.values()).count("available") == 2
    reads = [
        await client.get(f"/api/v1/devices/{device.code}", headers=as_user("supervisor")),
        await client.get(f"/api/v1/devices/{device.code}/events", headers=as_user("supervisor")),
        await client.get("/api/v1/licence-pools", headers=as_user("supervisor")),
        await client.get("/api/v1/licences/report", headers=as_user("auditor")),
        await client.get("/api/v1/licences/report?format=csv", headers=as_user("coordinator")),
        await client.get(
            f"/api/v1/labels/{device.code}?kind=licence&format=zpl", headers=as_user("technician")
        ),
    ]
    for read in reads:
        assert read.status_code == 200, read.text
        assert keys[0] not in read.text
    assert "Windows 11 Pro" in reads[-1].text
    # one charset each (text types used to get it twice)
    assert reads[-2].headers["content-type"] == "text/csv; charset=utf-8"
    assert reads[-1].headers["content-type"] == "text/plain; charset=utf-8"


async def test_license_is_refused_without_an_assignment(client, as_user) -> None:
    device = await new_device(State.REFURBISHED)
    response = await client.post(
        f"/api/v1/devices/{device.code}/actions/license", json={}, headers=as_user("technician")
    )
    assert response.status_code == 409
    assert response.json()["code"] == "licence_not_assigned"
    assert (await device_row(device.code))["state"] == "refurbished"


async def test_a_free_os_needs_no_key_nor_cipher(client, as_user, monkeypatch) -> None:
    free = await create_pool(client, as_user, **MINT)
    keyed = await create_pool(client, as_user)
    monkeypatch.setattr(licence_keys, "_cipher", None)  # PostgreSQL without REFURB_LICENCE_KEY
    device = await new_device(State.REFURBISHED)
    refused = await license_device(client, as_user, device.code, keyed["id"])
    assert (refused.status_code, refused.json()["code"]) == (503, "licence_key_missing")
    upload = await import_keys(client, as_user, keyed["id"], csv_of(fake_keys(1)))
    assert (upload.status_code, upload.json()["code"]) == (503, "licence_key_missing")
    licensed = await license_device(client, as_user, device.code, free["id"])
    assert licensed.status_code == 201, licensed.text
    assert (licensed.json()["key"], licensed.json()["state"], licensed.json()["os"]) == (
        None,
        "licensed",
        "Linux Mint 22",
    )
    (assignment,) = await LicenceAssignment.select()
    assert assignment["key"] is None
    listed = await pool_of(client, as_user, free["id"])
    assert (listed["assigned"], listed["low"]) == (1, False)


async def test_empty_expired_and_inactive_pools_refuse(client, as_user) -> None:
    empty = await create_pool(client, as_user)
    expired = await keyed_pool(
        client,
        as_user,
        fake_keys(1),
        name="Old",
        expires_on=(datetime.date.today() - datetime.timedelta(days=1)).isoformat(),
    )
    inactive = await keyed_pool(client, as_user, fake_keys(1, "TSTBB"), name="Off", active=False)
    device = await new_device(State.REFURBISHED)
    for pool, code in ((empty, "pool_empty"), (expired, "pool_expired"), (inactive, "pool_inactive")):
        response = await license_device(client, as_user, device.code, pool["id"])
        assert (response.status_code, response.json()["code"]) == (409, code), response.text
    assert (
        WINDOWS["name"] in (await license_device(client, as_user, device.code, empty["id"])).json()["detail"]
    )
    assert (await device_row(device.code))["state"] == "refurbished"
    assert await LicenceAssignment.count() == 0
    listed = await pool_of(client, as_user, expired["id"])
    assert listed["expired"] is True


async def test_a_refused_transition_gives_the_key_back(client, as_user) -> None:
    pool = await keyed_pool(client, as_user, fake_keys(1))
    device = await new_device(State.SANITIZED)
    response = await license_device(client, as_user, device.code, pool["id"])
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert (await pool_of(client, as_user, pool["id"]))["available"] == 1
    assert await LicenceAssignment.count() == 0


async def test_concurrent_stations_never_share_a_key(client, as_user) -> None:
    keys = fake_keys(12)
    pool = await keyed_pool(client, as_user, keys)
    targets = [await new_device(State.REFURBISHED) for _ in range(14)]
    stations = [(await new_station(Stage.LICENSING, f"bench {i}")).code for i in range(2)]

    async def through_api(code: str) -> Any:
        return await license_device(client, as_user, code, pool["id"])

    async def through_station(index: int, code: str) -> Any:
        return await client.post(
            "/api/v1/scans",
            json={"station": stations[index % 2], "text": code, "inputs": {"pool": str(pool["id"])}},
            headers=as_user("technician"),
        )

    answers = await asyncio.gather(
        *[through_api(d.code) for d in targets[:7]],
        *[through_station(i, d.code) for i, d in enumerate(targets[7:])],
    )
    given = [a.json().get("key") or a.json().get("secret") for a in answers if a.status_code in (200, 201)]
    refused = [a.json()["code"] for a in answers if a.status_code >= 400]
    assert sorted(given) == sorted(keys)
    assert refused == ["pool_empty", "pool_empty"]
    rows = await LicenceAssignment.select(LicenceAssignment.key)
    assert len(rows) == 12
    assert len({r["key"] for r in rows}) == 12
    assert (await pool_of(client, as_user, pool["id"]))["available"] == 0
    # the same device from two stations at once: one key
    more = await keyed_pool(client, as_user, fake_keys(3, "TSTCC"), name="More")
    device = await new_device(State.REFURBISHED)
    twice = await asyncio.gather(
        *[license_device(client, as_user, device.code, more["id"]) for _ in range(4)]
    )
    assert sorted(a.status_code for a in twice) == [200, 200, 200, 201]
    assert next(a.json()["key"] for a in twice if a.status_code == 201) == "TSTCC-00000-QQQQQ-RRRRR-SSSSS"
    assert (await pool_of(client, as_user, more["id"]))["available"] == 2


async def test_low_stock_warns_per_pool(client, as_user) -> None:
    pool = await keyed_pool(client, as_user, fake_keys(4))  # warns below 3
    for _ in range(2):
        await license_device(client, as_user, (await new_device(State.REFURBISHED)).code, pool["id"])
    listed = await pool_of(client, as_user, pool["id"])
    assert (listed["available"], listed["assigned"], listed["low"]) == (2, 2, True)
    page = await client.get("/licences", headers=as_user("admin"))
    assert 'data-low="1"' in page.text


# --- the station -----------------------------------------------------------------


async def test_the_licensing_station_asks_the_pool_and_reveals_once(client, as_user) -> None:
    keys = fake_keys(2)
    pool = await keyed_pool(client, as_user, keys)
    free = await create_pool(client, as_user, **MINT)
    station = (await new_station(Stage.LICENSING)).code
    device = await new_device(State.REFURBISHED)
    await devices.set_facts((await device_row(device.code))["id"], os="Linux Mint 22")
    tech = as_user("technician")
    asked = await client.post("/api/v1/scans", json={"station": station, "text": device.code}, headers=tech)
    assert asked.status_code == 200, asked.text
    form = asked.json()["form"]
    assert asked.json()["result"] == "needs_input"
    assert form["action"] == "license"
    options = form["fields"][0]["options"]
    assert [o["value"] for o in options] == [str(free["id"]), str(pool["id"])]  # the device's OS first
    assert form["fields"][0]["default"] == str(free["id"])
    assert form["fields"][1]["name"] == "coa"
    assert form["fields"][1]["required"] is False
    done = await client.post(
        "/api/v1/scans",
        json={"station": station, "text": device.code, "inputs": {"pool": str(pool["id"]), "coa": "A1"}},
        headers={**tech, "idempotency-key": "licence-scan-1"},
    )
    assert done.status_code == 200, done.text
    assert (done.json()["result"], done.json()["secret"]) == ("recorded", keys[0])
    assert done.headers["cache-control"] == "no-store"
    assert keys[0] not in done.json()["message"]
    assert await IdempotencyRecord.count() == 0  # an answer with a secret is never kept for a replay
    repeat = await client.post(
        "/api/v1/scans",
        json={"station": station, "text": device.code, "inputs": {"pool": str(pool["id"])}},
        headers={**tech, "idempotency-key": "licence-scan-1"},
    )
    assert (repeat.json()["result"], repeat.json()["secret"]) == ("already_recorded", None)
    log = await client.get(f"/api/v1/stations/{station}/scans", headers=tech)
    assert keys[0] not in log.text
    assert keys[0] not in (await client.get(f"/stations/{station}", headers=tech)).text


async def test_rejecting_frees_the_licence(client, as_user) -> None:
    keys = fake_keys(1)
    pool = await keyed_pool(client, as_user, keys)
    device = await new_device(State.REFURBISHED)
    assert (await license_device(client, as_user, device.code, pool["id"])).status_code == 201
    # handed over, then brought back (the distribution steps are not built yet)
    await Device.update({Device.state: "returned"}).where(Device.code == device.code)
    rejected = await client.post(
        f"/api/v1/devices/{device.code}/actions/reject",
        json={"reason": "screen broken"},
        headers=as_user("technician"),
    )
    assert rejected.status_code == 201, rejected.text
    (assignment,) = await LicenceAssignment.select()
    assert assignment["unassigned_at"] is not None
    assert assignment["unassign_reason"] == "rejected: screen broken"
    assert (await pool_of(client, as_user, pool["id"]))["available"] == 1
    other = await new_device(State.REFURBISHED)
    again = await license_device(client, as_user, other.code, pool["id"])
    assert again.json()["key"] == keys[0]  # the key went back into the pool


async def test_a_supervisor_takes_a_licence_back(client, as_user) -> None:
    pool = await keyed_pool(client, as_user, fake_keys(2))
    device = await new_device(State.REFURBISHED)
    await license_device(client, as_user, device.code, pool["id"])
    url = f"/api/v1/licences/{device.code}"
    forbidden = await client.request("DELETE", url, json={"reason": "wrong"}, headers=as_user("technician"))
    assert forbidden.status_code == 403
    no_reason = await client.request("DELETE", url, json={}, headers=as_user("supervisor"))
    assert (no_reason.status_code, no_reason.json()["code"]) == (400, "reason_required")
    in_use = await client.request("DELETE", url, json={"reason": "wrong"}, headers=as_user("supervisor"))
    assert (in_use.status_code, in_use.json()["code"]) == (409, "licence_in_use")  # its key is on the machine
    taken = await client.request(
        "DELETE", url, json={"reason": "key blocked", "void": True}, headers=as_user("supervisor")
    )
    assert taken.status_code == 204, taken.text
    (assignment,) = await LicenceAssignment.select()
    assert assignment["unassign_reason"] == "key blocked"
    statuses = sorted(r["status"] for r in await LicenceKey.select(LicenceKey.status))
    assert statuses == ["available", "void"]
    none = await client.request(
        "DELETE", url, json={"reason": "again", "void": True}, headers=as_user("supervisor")
    )
    assert (none.status_code, none.json()["code"]) == (404, "licence_not_assigned")
    # the lost key voided, the licensed device gets the next key, shown once
    relicensed = await license_device(client, as_user, device.code, pool["id"])
    assert relicensed.json()["key"] == fake_keys(2)[1]
    assert (await device_row(device.code))["state"] == "licensed"


async def test_a_title_line_is_not_a_key(client, as_user) -> None:
    pool = await create_pool(client, as_user)
    keys = fake_keys(2)
    titled = ("Product keys\n" + "\n".join(keys)).encode()
    imported = await import_keys(client, as_user, pool["id"], titled)
    assert imported.status_code == 201, imported.text
    assert imported.json()["imported"] == 2
    short = await import_keys(client, as_user, pool["id"], b"key\nABC-123\n")
    assert short.status_code == 422
    assert [e["code"] for e in short.json()["report"]["errors"]] == ["bad_key"]


# --- the report ---------------------------------------------------------------------


async def test_the_licence_report_lists_device_household_and_dates(client, as_user) -> None:
    pool = await keyed_pool(client, as_user, fake_keys(2))
    first, second = await new_device(State.REFURBISHED), await new_device(State.REFURBISHED)
    await license_device(client, as_user, first.code, pool["id"], coa="COA-1")
    await license_device(client, as_user, second.code, pool["id"])
    row = await device_row(first.code)
    await DeviceEvent.insert(
        DeviceEvent(
            device=row["id"], action="hand_over", from_state="dispatched", to_state="handed_over",
            actor_name="bus", payload={"household": "F00000017"},
        )
    )  # fmt: skip
    assert (await client.get("/api/v1/licences/report", headers=as_user("technician"))).status_code == 403
    report = await client.get("/api/v1/licences/report", headers=as_user("auditor"))
    assert report.status_code == 200
    rows = report.json()
    assert [(r["device"], r["coa"], r["household"]) for r in rows] == [
        (first.code, "COA-1", "F00000017"),
        (second.code, None, ""),
    ]
    assert rows[0]["handed_over_at"] is not None
    assert rows[1]["handed_over_at"] is None
    assert rows[0]["programme"] == "Microsoft Registered Refurbisher"
    exported = await client.get("/api/v1/licences/report?format=csv", headers=as_user("coordinator"))
    assert exported.status_code == 200
    assert exported.content.startswith(codecs.BOM_UTF8)
    assert "attachment" in exported.headers["content-disposition"]
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 3
    assert lines[0].count(";") == 10
    assert first.display_code in lines[1]
    assert "F00000017" in lines[1]
    page = await client.get("/licences/report", headers=as_user("coordinator"))
    assert page.status_code == 200
    assert first.display_code in page.text


# --- secrets stay secret ------------------------------------------------------------


async def test_keys_never_leak_into_logs_or_the_database(client, as_user, caplog, capfd) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("refurb", "litestar", "piccolo", "asyncpg", "aiosqlite", "uvicorn", "httpx"):
        caplog.set_level(logging.DEBUG, logger=name)
    keys = fake_keys(3)
    pool = await create_pool(client, as_user)
    await import_keys(client, as_user, pool["id"], csv_of([keys[0], keys[0]]))  # refused: duplicate
    await import_keys(client, as_user, pool["id"], csv_of(keys), dry_run="true")
    await import_keys(client, as_user, pool["id"], csv_of(keys))
    device = await new_device(State.REFURBISHED)
    shown = await license_device(client, as_user, device.code, pool["id"], **{"idempotency-key": "k-1"})
    assert shown.json()["key"] == keys[0]
    station = (await new_station(Stage.LICENSING)).code
    other = await new_device(State.REFURBISHED)
    scanned = await client.post(
        "/api/v1/scans",
        json={"station": station, "text": other.code, "inputs": {"pool": str(pool["id"])}},
        headers=as_user("technician", **{"idempotency-key": "k-2"}),
    )
    assert scanned.json()["secret"] == keys[1]
    await Device.update({Device.state: "returned"}).where(Device.code == device.code)
    await client.post(
        f"/api/v1/devices/{device.code}/actions/reject",
        json={"reason": "broken"},
        headers=as_user("technician"),
    )
    stored = await database_text()
    captured = capfd.readouterr()
    logged = caplog.text + "\n".join(json.dumps(r.__dict__, default=str) for r in caplog.records)
    for key in keys:
        assert key not in stored
        assert key.lower() not in stored
        assert key not in logged
        assert key not in captured.out
        assert key not in captured.err
    assert await LicenceKey.count() == 3


# --- pages ---------------------------------------------------------------------------


async def test_the_licences_page_creates_pools_and_lists_wrong_rows(client, as_user) -> None:
    import re

    supervisor = as_user("supervisor", **{"accept-language": "en"})
    assert (await client.get("/licences", headers=as_user("technician"))).status_code == 403
    created = await client.post(
        "/licences/pools",
        data={"name": "Win", "os": "Windows 11 Pro", "licence_type": "MAR", "unit_cost": "8,50",
              "quantity": "10", "low_stock": "2", "needs_key": "on"},
        headers=supervisor,
    )  # fmt: skip
    assert created.status_code == 303, created.text
    pool = (await client.get("/api/v1/licence-pools", headers=supervisor)).json()[0]
    assert (pool["unit_cost_cents"], pool["quantity"], pool["needs_key"]) == (850, 10, True)
    keys = fake_keys(2)
    refused = await client.post(
        f"/licences/pools/{pool['id']}/keys",
        files={"file": ("keys.csv", csv_of([keys[0], keys[1], keys[1]]), "text/csv")},
        headers=supervisor,
    )
    assert refused.status_code == 422
    assert re.findall(r'data-row="(\d+)" data-code="([a-z_]+)"', refused.text) == [("4", "duplicate_in_file")]
    assert keys[1] not in refused.text
    imported = await client.post(
        f"/licences/pools/{pool['id']}/keys",
        files={"file": ("keys.csv", csv_of(keys), "text/csv")},
        headers=supervisor,
    )
    assert imported.status_code == 303
    page = await client.get(imported.headers["location"], headers=supervisor)
    assert "Keys imported." in page.text
    assert not any(k in page.text for k in keys)
    assert (await pool_of(client, as_user, pool["id"]))["available"] == 2


# --- configuration ------------------------------------------------------------------


def test_the_licence_key_comes_from_settings_or_var(tmp_path) -> None:
    import subprocess
    import sys

    from cryptography.fernet import Fernet

    from refurb.settings import Settings

    printed = subprocess.run(
        [sys.executable, "-m", "refurb", "licence-key"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    key = printed.splitlines()[0].removeprefix("REFURB_LICENCE_KEY=")
    Fernet(key.encode())  # a valid Fernet key
    postgres = "postgresql://refurb@127.0.0.1:1/none"
    assert Settings(database_url=postgres).resolved_licence_key() is None
    assert Settings(database_url=postgres, licence_key=key).resolved_licence_key() == key
    sqlite = Settings(database_url=f"sqlite:///{tmp_path}/x.sqlite3", var_dir=tmp_path / "var")
    generated = sqlite.resolved_licence_key()
    assert generated == (tmp_path / "var" / "licence_key").read_text().strip()
    assert sqlite.resolved_licence_key() == generated
    assert (tmp_path / "var" / "licence_key").stat().st_mode & 0o077 == 0
    one, two = licence_keys.KeyCipher(key), licence_keys.KeyCipher(generated)
    assert one.fingerprint("abcde-12345 ") == one.fingerprint("ABCDE-12345")
    assert one.fingerprint("ABCDE-12345") != two.fingerprint("ABCDE-12345")
    assert one.decrypt(one.encrypt(" abcde-12345")) == "ABCDE-12345"
    assert "ABCDE" not in repr(one)


async def test_pool_edits_out_of_range_or_null_are_refused(client, as_user) -> None:
    pool = await create_pool(client, as_user)
    supervisor = as_user("supervisor")
    for body in ({"low_stock": 3_000_000_000}, {"unit_cost_cents": 10**12}, {"active": None}, {"name": None}):
        response = await client.patch(f"/api/v1/licence-pools/{pool['id']}", json=body, headers=supervisor)
        assert (response.status_code, response.json()["code"]) == (400, "validation_error"), body
    huge = await client.patch("/api/v1/licence-pools/99999999999", json={}, headers=supervisor)
    assert (huge.status_code, huge.json()["code"]) == (400, "validation_error")  # past a serial's range
    largest = await client.patch(f"/api/v1/licence-pools/{2**31 - 1}", json={}, headers=supervisor)
    assert (largest.status_code, largest.json()["code"]) == (404, "pool_not_found")
    odd = await client.post(
        "/api/v1/licences", json={"device": "D00000019", "pool": "²"}, headers=as_user("technician")
    )
    assert odd.status_code == 404
    assert odd.json()["code"] == "pool_not_found"
