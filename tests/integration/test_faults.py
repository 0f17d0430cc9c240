"""Faults for real, short versions (the long ones: `python -m tests.bench.faults`).

A PostgreSQL cluster of the test's own is restarted while clients reject
devices through the API and stations: the service recovers by itself, answers
503 with Retry-After meanwhile (never 500), and every action a client was told
is recorded has exactly one event — none lost, none doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from tests.fault_harness import (
    Cluster,
    Server,
    manifest_csv,
    missing_postgres_binaries,
    run_load,
    seed,
    snapshot_folder,
    verify,
)

CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def cluster():
    why = missing_postgres_binaries()
    if why is not None:
        if CI:
            pytest.fail(f"CI must run the database-restart test: {why}")
        pytest.skip(f"no throwaway PostgreSQL cluster: {why}")
    made = Cluster()
    made.start()
    yield made
    made.stop()


async def test_a_database_restart_loses_no_acknowledged_action_and_doubles_none(cluster, tmp_path) -> None:
    made = seed(cluster.url, 1500)
    server = Server(cluster.url, tmp_path / "var")
    server.start()
    try:
        result = await run_load(
            server.url,
            made["tokens"]["tech"],
            made["station"],
            made["codes"],
            clients=6,
            seconds=8,
            fault=cluster.restart,
            fault_at=2.5,
            pace=0.05,
        )
        assert server.process.poll() is None  # the service was not restarted: it recovered by itself
    finally:
        server.stop()
    figures = await verify(cluster.url, result)
    assert figures["lost"] == 0, figures
    assert figures["doubled"] == 0, figures
    assert figures["unacknowledged_but_recorded"] == 0, figures
    # the load ran on both sides of the restart (a floor, not a speed: a busy machine acknowledges fewer)
    assert figures["events"] == figures["acknowledged"] > 12, figures
    assert 500 not in result.statuses, result.statuses  # an outage is never a 500
    assert result.statuses.get(503, 0) + sum(result.errors.values()) > 0, result  # the outage was felt
    assert result.back_at is not None
    assert result.first_ok_after_outage is not None
    assert result.first_ok_after_outage - result.back_at < 5, "recovered within 5 s of the database's return"


async def test_replayed_after_the_outage_a_key_gives_the_stored_answer(cluster, tmp_path) -> None:
    import httpx

    made = seed(cluster.url, 3)
    server = Server(cluster.url, tmp_path / "var")
    server.start()
    headers = {"authorization": f"Bearer {made['tokens']['tech']}", "idempotency-key": "tablet-17-a"}
    code = made["codes"][0]
    url = f"/api/v1/devices/{code}/actions/reject"
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            cluster.restart()
            deadline = time.monotonic() + 10
            while True:  # the first requests after the restart may meet dead pooled connections: 503
                first = await http.post(url, json={"reason": "r"}, headers=headers)
                if first.status_code != 503 or time.monotonic() > deadline:
                    break
                assert first.headers["retry-after"] == "5"
                assert first.json()["code"] == "database_unavailable"
            again = await http.post(url, json={"reason": "r"}, headers=headers)
    finally:
        server.stop()
    assert first.status_code == 201, first.text
    assert (again.status_code, again.headers.get("idempotent-replayed")) == (201, "true")
    assert again.json() == first.json()
    figures = await verify(cluster.url, type("R", (), {"acknowledged": [(code, "k")]})())
    assert (figures["events"], figures["doubled"]) == (1, 0)


# --- kill -9 in the middle of long work ------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def fault_database(request, tmp_path):
    """A fresh database on each engine: a SQLite file, or a throwaway PostgreSQL cluster."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/faults.sqlite3"
        return
    why = missing_postgres_binaries()
    if why is not None:
        if CI:
            pytest.fail(f"CI must run the kill -9 test on PostgreSQL: {why}")
        pytest.skip(f"no throwaway PostgreSQL cluster: {why}")
    made = Cluster()
    made.start()
    yield made.url
    made.stop()


async def _counts(url: str, queries: dict[str, str]) -> dict[str, int]:
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
            return {name: connection.execute(sql).fetchone()[0] for name, sql in queries.items()}
    connection = await asyncpg.connect(url)
    try:
        return {name: await connection.fetchval(sql) for name, sql in queries.items()}
    finally:
        await connection.close()


def _kill_during(server: Server, send: Callable[[], Any], after: float) -> None:
    """Send a request from a thread and SIGKILL the server `after` seconds later."""

    def attempt() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the connection dies with the server
            send()

    worker = threading.Thread(target=attempt)
    worker.start()
    time.sleep(after)
    server.kill()
    worker.join(timeout=30)


async def test_a_killed_server_leaves_nothing_half_done(fault_database, tmp_path) -> None:
    url = fault_database
    made = seed(url, 0, labelled=300)
    donor = {"authorization": f"Bearer {made['tokens']['don']}"}
    tech = {"authorization": f"Bearer {made['tokens']['tech']}"}
    rows = 5000
    manifest = manifest_csv(rows, "KILL")
    folder = snapshot_folder(300, "KILL")
    server = Server(url, tmp_path / "var")

    def post(path: str, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
        return httpx.post(f"{server.url}{path}", headers=headers, timeout=120, **kwargs)

    def import_manifest() -> httpx.Response:
        files = {"file": ("inventaire.csv", manifest, "text/csv")}
        return post(
            f"/api/v1/batches/{made['import_batch']}/manifest", donor, data={"mode": "all"}, files=files
        )

    def upload_folder() -> httpx.Response:
        files = [("file", (name, content, "application/json")) for name, content in folder]
        return post("/api/v1/erasure-reports/folder", tech, files=files)

    def print_tags() -> httpx.Response:
        return post(
            "/api/v1/labels/print-jobs", tech, json={"codes": [made["label_batch"]], "kind": "device"}
        )

    counts = {
        "devices": "SELECT count(*) FROM device WHERE serial LIKE 'KILL%'",
        "declared": "SELECT count(*) FROM medium WHERE serial LIKE 'SKILL%' OR serial LIKE 'WKILL%'",
        "imports": "SELECT count(*) FROM manifest_import WHERE status = 'imported'",
        "reports": "SELECT count(*) FROM erasure_report",
        "jobs": "SELECT count(*) FROM print_job WHERE status = 'printed'",
        "labels": "SELECT count(*) FROM printed_label",
        "notes": "SELECT count(*) FROM device_event WHERE action = 'label_printed'",
        "orphan_events": "SELECT count(*) FROM device_event e "
        "WHERE NOT EXISTS (SELECT 1 FROM device d WHERE d.id = e.device)",
    }
    for send, after in ((import_manifest, 0.5), (upload_folder, 0.2), (print_tags, 0.3)):
        server.start()
        _kill_during(server, send, after)
    seen = await _counts(url, counts)
    assert seen["devices"] in (0, rows), seen
    assert seen["declared"] == 2 * seen["devices"], seen
    assert seen["imports"] == (1 if seen["devices"] else 0), seen
    assert seen["reports"] in (0, 300), seen
    assert (seen["jobs"], seen["labels"], seen["notes"]) in ((0, 0, 0), (1, 300, 300)), seen
    assert seen["orphan_events"] == 0
    # after a restart, the same uploads again succeed, or are recognised; nothing is doubled
    server.start()
    try:
        assert import_manifest().status_code == 201
        again = upload_folder()
        assert again.status_code in (200, 201), again.text
        assert sorted({r["already_imported"] for r in again.json()["reports"]}) == (
            [True] if seen["reports"] else [False]
        )
        assert print_tags().status_code == 201
    finally:
        server.stop()
    after = await _counts(url, counts)
    assert (after["devices"], after["declared"], after["reports"]) == (rows, 2 * rows, 300), after
    assert after["orphan_events"] == 0


# --- a full disk under SQLite ---------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MiB tmpfs to fill (mounting needs root, as CI runs; elsewhere the test says why it skips)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        if CI:
            pytest.fail(f"CI must run the full-disk test: mount refused ({mounted.stderr.strip()})")
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_refuses_writes_with_503_and_reads_go_on(small_disk, tmp_path) -> None:
    url = f"sqlite:///{small_disk}/refurb.sqlite3"
    made = seed(url, 5)
    headers = {"authorization": f"Bearer {made['tokens']['tech']}"}
    server = Server(url, tmp_path / "var")
    server.start()
    filler = small_disk / "filler"
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
            assert http.get("/api/v1/devices").status_code == 200  # at work before the disk fills up
            filler.write_bytes(b"")
            with contextlib.suppress(OSError), filler.open("ab") as out:  # fill the disk to the last byte
                while True:
                    out.write(b"\0" * 1_048_576)
            refused = http.post(f"/api/v1/devices/{made['codes'][0]}/actions/reject", json={"reason": "r"})
            assert refused.status_code == 503, refused.text
            assert (refused.json()["code"], refused.headers["retry-after"]) == ("database_unavailable", "5")
            listed = http.get("/api/v1/devices")
            assert (listed.status_code, listed.json()["total"]) == (200, 5)
            filler.unlink()  # room again: the same request goes through, once
            accepted = http.post(f"/api/v1/devices/{made['codes'][0]}/actions/reject", json={"reason": "r"})
            assert accepted.status_code == 201, accepted.text
            events = http.get(f"/api/v1/devices/{made['codes'][0]}/events").json()
            assert [e["action"] for e in events] == ["import", "reject"]
    finally:
        server.stop()
    with contextlib.closing(sqlite3.connect(small_disk / "refurb.sqlite3")) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


# --- two replicas, one database --------------------------------------------------------------------------


async def test_two_replicas_scan_print_and_import_once(cluster, tmp_path) -> None:
    made = seed(cluster.url, 0, labelled=20, labelled_state="declared", refurbished=20)
    received: list[bytes] = []

    async def printer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read())
        writer.close()

    zebra = await asyncio.start_server(printer, "127.0.0.1", 0)
    port = zebra.sockets[0].getsockname()[1]
    replicas = [Server(cluster.url, tmp_path / f"var{n}") for n in (1, 2)]
    for replica in replicas:
        replica.start()
    tech = {"authorization": f"Bearer {made['tokens']['tech']}"}
    boss = {"authorization": f"Bearer {made['tokens']['boss']}"}
    donor = {"authorization": f"Bearer {made['tokens']['don']}"}
    try:
        async with (
            zebra,
            httpx.AsyncClient(base_url=replicas[0].url, timeout=60) as one,
            httpx.AsyncClient(base_url=replicas[1].url, timeout=60) as two,
        ):
            zpl = {"name": "Zebra", "driver": "zpl-tcp", "host": "127.0.0.1", "port": port, "stock": "57x32"}
            assert (await one.post("/api/v1/printers", json=zpl, headers=boss)).status_code == 201
            station = made["station"]
            put = await two.put(
                f"/api/v1/stations/{station}/printer", json={"printer": "Zebra"}, headers=boss
            )
            assert put.status_code == 200, put.text
            # the same device scanned at the same moment on both replicas, ten times over
            for code in made["labelled"][:10]:
                answers = await asyncio.gather(
                    *(
                        http.post("/api/v1/scans", json={"station": station, "text": code}, headers=tech)
                        for http in (one, two, one, two)
                    )
                )
                assert sorted(a.json()["result"] for a in answers) == ["already_recorded"] * 3 + [
                    "recorded"
                ], [a.text for a in answers]
            # the same manifest imported at the same moment on both replicas
            manifest = manifest_csv(300, "TWIN")
            path = f"/api/v1/batches/{made['import_batch']}/manifest"
            imports = await asyncio.gather(
                *(
                    http.post(path, data={"mode": "all"}, files={"file": ("a.csv", manifest)}, headers=donor)
                    for http in (one, two)
                )
            )
            assert [i.status_code for i in imports] == [201, 201], [i.text for i in imports]
            # the same folder of reports sent to both
            folder = [("file", (name, content)) for name, content in snapshot_folder(20, "TWIN")]
            uploads = await asyncio.gather(
                *(
                    http.post("/api/v1/erasure-reports/folder", files=folder, headers=tech)
                    for http in (one, two)
                )
            )
            assert sorted(u.status_code for u in uploads) in ([200, 201], [201, 201]), [
                u.text for u in uploads
            ]
            # two licensing stations, one on each replica, drawing from one pool of 16 keys
            windows = {"name": "Windows 11 Pro", "os": "Windows 11 Pro", "licence_type": "MAR Citizenship"}
            pool = await one.post("/api/v1/licence-pools", json=windows, headers=boss)
            assert pool.status_code == 201, pool.text
            keys = "key\r\n" + "".join(f"TWINK-{n:05d}-QQQQQ-RRRRR-SSSSS\r\n" for n in range(16))
            loaded = await two.post(
                f"/api/v1/licence-pools/{pool.json()['id']}/keys",
                content=keys.encode(),
                headers={**boss, "content-type": "text/csv"},
            )
            assert loaded.status_code == 201, loaded.text
            licensed = await asyncio.gather(
                *(
                    (one, two)[n % 2].post(
                        "/api/v1/licences", json={"device": code, "pool": pool.json()["id"]}, headers=tech
                    )
                    for n, code in enumerate([*made["refurbished"], made["refurbished"][0]])
                )
            )
            given = [answer.json()["key"] for answer in licensed if answer.status_code == 201]
            refused = [a.json()["code"] for a in licensed if a.status_code >= 400]
            assert len(given) == len(set(given)) == 16, [a.text for a in licensed]
            first, again = licensed[0], licensed[-1]  # the same device, on both replicas at once
            if first.status_code == 201 or again.status_code == 201:
                assert sorted((first.status_code, again.status_code)) == [200, 201]
                assert refused == ["pool_empty"] * 4
            else:
                assert refused == ["pool_empty"] * 5
        await asyncio.sleep(0.2)
    finally:
        for replica in replicas:
            replica.stop()
    seen = await _counts(
        cluster.url,
        {
            "receive_events": "SELECT count(*) FROM device_event WHERE action = 'receive'",
            "tags": "SELECT count(*) FROM printed_label WHERE kind = 'device'",
            "twins": "SELECT count(*) FROM device WHERE serial LIKE 'TWIN%'",
            "twin_disks": "SELECT count(*) FROM medium WHERE serial LIKE 'STWIN%' OR serial LIKE 'WTWIN%'",
            "reports": "SELECT count(*) FROM erasure_report",
            "licences": "SELECT count(*) FROM licence_assignment",
            "keys_given": "SELECT count(DISTINCT key) FROM licence_assignment",
            "keys_left": "SELECT count(*) FROM licence_key WHERE status = 'available'",
        },
    )
    assert seen == {
        "receive_events": 10,
        "tags": 10,
        "twins": 300,
        "twin_disks": 600,
        "reports": 20,
        "licences": 16,
        "keys_given": 16,
        "keys_left": 0,
    }
    assert len(received) == 10  # ten tags went to the printer, not twenty
