"""Faults and load, the long runs (short versions live in tests/integration/test_faults.py).

    python -m tests.bench.faults [--clients 20] [--seconds 30] [--soak 20000]
                                 [--skip restart,kill,soak,replicas]

1. restart: a throwaway PostgreSQL cluster restarted (`pg_ctl restart -m fast`) in the
   middle of `--seconds` of `--clients` clients rejecting devices (half by the API, half
   by station scans), each request with its Idempotency-Key, retried on 503 as a
   station does: requests sent, acknowledged, lost (must be 0), doubled (must be 0),
   503s, recovery time after the database came back.
2. kill: the server killed with -9 during a 10,000-row manifest import, a 1,000-snapshot
   folder upload and a 500-label print job, at a quarter, half and three quarters of the
   time the same work takes uninterrupted: zero rows or all of them, every time.
3. soak: `--soak` mixed requests (device reads, station scans, transitions, label renders)
   against one worker: RSS after warm-up and at the end, open files, database connections.
4. replicas: wrk rejecting devices (32 connections, 3 × 10 s, medians) through one
   server, then through two servers on one PostgreSQL, the connections split between them.
Results: tests/bench/results/faults.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import itertools
import json
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.bench import wrk
from tests.bench.common import RESULTS
from tests.fault_harness import (
    Cluster,
    Server,
    manifest_csv,
    run_load,
    seed,
    snapshot_folder,
    verify,
)


async def restart(clients: int, seconds: float) -> dict[str, Any]:
    cluster = Cluster()
    cluster.start()
    try:
        made = seed(cluster.url, clients * int(seconds) * 40)
        server = Server(cluster.url, Path(tempfile.mkdtemp()) / "var")
        server.start()
        try:
            result = await run_load(
                server.url,
                made["tokens"]["tech"],
                made["station"],
                made["codes"],
                clients=clients,
                seconds=seconds,
                fault=cluster.restart,
                fault_at=seconds / 3,
                pace=0.05,
            )
        finally:
            server.stop()
        figures = await verify(cluster.url, result)
    finally:
        cluster.stop()
    assert result.back_at is not None
    assert result.restarted_at is not None
    return {
        "clients": clients,
        "seconds": seconds,
        "requests_sent": result.sent,
        **figures,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "transport_errors": result.errors,
        "database_down_s": round(result.back_at - result.restarted_at, 2),
        "recovery_after_database_back_s": round(result.first_ok_after_outage - result.back_at, 3)
        if result.first_ok_after_outage
        else None,
    }


async def _count(url: str, sql: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


async def kill() -> dict[str, Any]:
    cluster = Cluster()
    cluster.start()
    outcomes: list[dict[str, Any]] = []
    durations: dict[str, float] = {}
    try:
        made = seed(cluster.url, 0, labelled=500)
        tech = {"authorization": f"Bearer {made['tokens']['tech']}"}
        donor = {"authorization": f"Bearer {made['tokens']['don']}"}
        server = Server(cluster.url, Path(tempfile.mkdtemp()) / "var")
        runs = itertools.count()

        def send(kind: str) -> None:
            """Fresh work each time (a new file), so no run is a repeat the server recognises."""
            tag = f"K{next(runs):02d}"
            base = server.url
            if kind == "import":
                httpx.post(
                    f"{base}/api/v1/batches/{made['import_batch']}/manifest",
                    headers=donor,
                    data={"mode": "all"},
                    files={"file": (f"{tag}.csv", manifest_csv(10_000, tag))},
                    timeout=300,
                )
            elif kind == "folder":
                httpx.post(
                    f"{base}/api/v1/erasure-reports/folder",
                    headers=tech,
                    files=[("file", item) for item in snapshot_folder(1_000, tag)],
                    timeout=300,
                )
            else:
                httpx.post(
                    f"{base}/api/v1/labels/print-jobs",
                    headers=tech,
                    json={"codes": [made["label_batch"]], "kind": "device"},
                    timeout=300,
                )

        checks = {
            "import": ("SELECT count(*) FROM device", 10_000),
            "folder": ("SELECT count(*) FROM erasure_report", 1_000),
            "labels": ("SELECT count(*) FROM printed_label", 500),
        }
        for kind, (sql, whole) in checks.items():
            # one uninterrupted run measures the work, then kills at a quarter, half, three quarters
            server.start()
            before = await _count(cluster.url, sql)
            started = time.monotonic()
            send(kind)
            durations[kind] = round(time.monotonic() - started, 2)
            server.stop()
            assert await _count(cluster.url, sql) - before == whole, kind
            for fraction in (0.25, 0.5, 0.75):
                server.start()
                before = await _count(cluster.url, sql)
                worker = threading.Thread(target=lambda k=kind: _quiet(send, k))
                worker.start()
                await asyncio.sleep(durations[kind] * fraction)
                server.kill()
                worker.join(timeout=60)
                written = await _count(cluster.url, sql) - before
                outcomes.append(
                    {
                        "work": kind,
                        "killed_after_s": round(durations[kind] * fraction, 2),
                        "rows_written": written,
                        "whole": written in (0, whole),
                    }
                )
        orphans = await _count(
            cluster.url,
            "SELECT count(*) FROM device_event e"
            " WHERE NOT EXISTS (SELECT 1 FROM device d WHERE d.id = e.device)",
        )
    finally:
        cluster.stop()
    return {
        "uninterrupted_s": durations,
        "runs": outcomes,
        "all_whole": all(o["whole"] for o in outcomes),
        "orphan_events": orphans,
    }


def _quiet(send: Any, kind: str) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server died under it
        send(kind)


async def soak(total: int) -> dict[str, Any]:
    cluster = Cluster()
    cluster.start()
    try:
        made = seed(cluster.url, total // 2 + 100, labelled=50)
        server = Server(cluster.url, Path(tempfile.mkdtemp()) / "var")
        server.start()
        tech = {"authorization": f"Bearer {made['tokens']['tech']}"}
        codes = list(made["codes"])
        sent = 0
        statuses: dict[int, int] = {}
        samples: list[dict[str, int]] = []
        try:
            async with httpx.AsyncClient(base_url=server.url, headers=tech, timeout=60) as http:

                async def one(n: int) -> None:
                    nonlocal sent
                    kind = n % 4
                    if kind == 0:
                        response = await http.get(f"/api/v1/devices/{made['labelled'][n % 50]}")
                    elif kind == 1:
                        scan: dict[str, Any] = {
                            "station": made["station"],
                            "text": codes.pop(),
                            "action": "reject",
                        }
                        scan["inputs"] = {"reason": "soak"}
                        response = await http.post("/api/v1/scans", json=scan)
                    elif kind == 2:
                        path = f"/api/v1/devices/{codes.pop()}/actions/reject"
                        response = await http.post(path, json={"reason": "soak"})
                    else:
                        response = await http.get(f"/api/v1/labels/{made['labelled'][n % 50]}?format=pdf")
                    sent += 1
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

                for block in range(0, total, 1000):
                    await asyncio.gather(*(_limited(one, n) for n in range(block, min(total, block + 1000))))
                    connections = await _count(
                        cluster.url, "SELECT count(*) FROM pg_stat_activity WHERE datname = 'postgres'"
                    )
                    samples.append(
                        {"requests": sent, "rss_kib": server.rss_kib(), "open_fds": server.open_fds(),
                         "db_connections": connections}
                    )  # fmt: skip
        finally:
            server.stop()
    finally:
        cluster.stop()
    warm = samples[min(1, len(samples) - 1)]  # after the first 1,000 requests
    end = samples[-1]
    return {
        "requests": sent,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "rss_after_warm_up_kib": warm["rss_kib"],
        "rss_at_end_kib": end["rss_kib"],
        "rss_growth_percent": round(100 * (end["rss_kib"] - warm["rss_kib"]) / warm["rss_kib"], 1),
        "open_fds_after_warm_up": warm["open_fds"],
        "open_fds_at_end": end["open_fds"],
        "db_connections_max": max(s["db_connections"] for s in samples),
        "samples": samples,
    }


_gate = asyncio.Semaphore(16)


async def _limited(fn: Any, n: int) -> None:
    async with _gate:
        await fn(n)


async def replicas(clients: int, seconds: int, runs: int) -> dict[str, Any]:
    """wrk rejecting devices through one server, then through two sharing the clients."""
    out: dict[str, Any] = {}
    for count in (1, 2):
        cluster = Cluster()
        cluster.start()
        servers = [Server(cluster.url, Path(tempfile.mkdtemp()) / "var") for _ in range(count)]
        try:
            token = seed(cluster.url, 0)["tokens"]["tech"]
            for server in servers:
                server.start()
            measured: list[dict[str, float]] = []
            with tempfile.TemporaryDirectory() as folder:
                for run in range(runs):
                    made = await wrk.seed_received(cluster.url, 5_000 * seconds)
                    codes = [code for _, code in made]
                    scripts = [
                        wrk.write_reject_script(Path(folder) / f"{run}-{i}.lua", codes[i::count], token)
                        for i in range(count)
                    ]
                    each = await asyncio.gather(
                        *(
                            asyncio.to_thread(wrk.run, server.url, clients // count, seconds, script)
                            for server, script in zip(servers, scripts, strict=True)
                        )
                    )
                    measured.append(
                        {
                            "per_second": round(sum(r["per_second"] for r in each), 1),
                            "p99_ms": max(r["p99_ms"] for r in each),
                            "non_2xx": sum(r["non_2xx"] for r in each),
                            "failures": sum(r["failures"] for r in each),
                        }
                    )
        finally:
            for server in servers:
                server.stop()
            cluster.stop()
        out[f"{count}_process"] = {
            "clients": clients,
            "median": {k: statistics.median(m[k] for m in measured) for k in measured[0]},
            "runs": measured,
        }
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--soak", type=int, default=20_000)
    parser.add_argument("--skip", default="")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    results: dict[str, Any] = {
        "measured_at": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    if "restart" not in skip:
        results["restart"] = await restart(args.clients, args.seconds)
        print("restart", json.dumps(results["restart"]))
    if "kill" not in skip:
        results["kill"] = await kill()
        print("kill", json.dumps(results["kill"]))
    if "soak" not in skip:
        results["soak"] = await soak(args.soak)
        print("soak", json.dumps({k: v for k, v in results["soak"].items() if k != "samples"}))
    if "replicas" not in skip:
        results["replicas"] = await replicas(32, 10, 3)
        print("replicas", json.dumps(results["replicas"]))
    path = RESULTS / "faults.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {path}")


if __name__ == "__main__":
    asyncio.run(main())
