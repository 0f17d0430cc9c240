"""Transition throughput and latency against a running server on PostgreSQL.

    python -m tests.bench.transitions [--clients 32] [--seconds 10] [--runs 3] [--workers 1]

Needs `wrk` (apt install wrk) as the HTTP load generator, so the server, not
the client, is what is measured, and PostgreSQL from REFURB_BENCH_POSTGRES_URL
(default: REFURB_TEST_POSTGRES_URL, then postgresql://postgres@127.0.0.1:5432/postgres).

In one run it measures, with N concurrent clients, each request a new device:
  1. plain: POST /api/v1/devices/{code}/actions/mark_missing (a supervisor, no check, no effect);
  2. guarded: POST /api/v1/devices/{code}/actions/reject (a reason, the licence effect, in a
     locked transaction);
  3. scan: POST /api/v1/scans at a put-away station into a location (capacity check, placement,
     scan log) — what 20 stations do all day;
  4. ceiling A: a trivial Litestar endpoint on the same server;
  5. ceiling B: raw asyncpg doing an UPDATE+INSERT in a transaction.
Each is run `--runs` times; the medians, and each route's share of the lower ceiling, are printed
and written to tests/bench/results/transitions.json. wrk waits 30 s for an answer and its socket
errors and timeouts count as failures (tests/bench/wrk.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

from tests.bench import wrk
from tests.bench.common import admin_url, db_url, env, start_server

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "transitions.json"
DEVICES_PER_SECOND = 3_000  # more than any scenario can use, so no device is asked twice
ROUTES = ("plain", "guarded", "scan")
PLAIN_BODY = '{"reason": "bench"}'  # mark_missing asks why, like every supervisor action
#: share of the lower ceiling, p99 ms at 32 clients; the scan's target (p99 < 100 ms at 20 paced stations)
#: is tests.bench.stations's, here it is measured at saturation for its share.
TARGETS = {"plain": (0.5, 50), "guarded": (0.35, 80)}


def _refurb(args: list[str], database_url: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "refurb", *args],
        env=env(database_url),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return result.stdout.strip()


async def _raw_asyncpg(
    database_url: str, devices: list[tuple[int, str]], clients: int, seconds: int
) -> dict[str, float]:
    """The same UPDATE + INSERT in a transaction, with no HTTP and no framework."""
    pool = await asyncpg.create_pool(database_url, min_size=clients, max_size=clients)
    queue = iter(devices)
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        async with pool.acquire() as connection:
            update = await connection.prepare(
                "UPDATE device SET state = 'rejected', version = version + 1, updated_at = now() "
                "WHERE id = $1 AND version = $2 RETURNING id"
            )
            insert = await connection.prepare(
                "INSERT INTO device_event (device, action, from_state, to_state, actor_name, payload, "
                "created_at, updated_at) "
                "VALUES ($1, 'reject', 'received', 'rejected', 'bench', $2, now(), now()) RETURNING id"
            )
            while time.perf_counter() < stop_at:
                device_id, _ = next(queue, (None, None))
                if device_id is None:  # every seeded device moved: the run ends here
                    return
                started = time.perf_counter()
                async with connection.transaction():
                    await update.fetchval(device_id, 1)
                    await insert.fetchval(device_id, '{"reason": "bench"}')
                latencies.append((time.perf_counter() - started) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - began
    await pool.close()
    latencies.sort()
    return {
        "per_second": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
        "non_2xx": 0,
        "socket_errors": 0,
        "timeouts": 0,
        "failures": 0,
    }


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed as the load generator: apt install wrk")

    name = f"refurb_bench_{uuid.uuid4().hex[:8]}"
    database_url = db_url(name)
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    server = None
    try:
        _refurb(["db", "upgrade"], database_url)
        _refurb(["organisation", "create", "--name", "Bench workshop", "--kind", "workshop"], database_url)
        _refurb(
            [
                "user",
                "create",
                "--username",
                "bench",
                "--role",
                "technician",
                "--organisation",
                "Bench workshop",
                "--password",
                "bench-password-1",
            ],
            database_url,
        )
        token = _refurb(["token", "create", "--username", "bench"], database_url)
        _refurb(
            [
                *("user", "create", "--username", "bench-supervisor", "--role", "supervisor"),
                *("--organisation", "Bench workshop", "--password", "bench-password-1"),
            ],
            database_url,
        )
        supervisor = _refurb(["token", "create", "--username", "bench-supervisor"], database_url)
        created = _refurb(
            ["station", "create", "--name", "Rangement bench", "--stage", "stock"], database_url
        )
        station = created.split()[1]  # "station S-0000001-5 (…) created"
        server, url = start_server(database_url, options.workers)
        location = httpx.post(
            f"{url}/api/v1/locations",
            json={"name": "Bench", "kind": "site"},
            headers={"authorization": f"Bearer {supervisor}"},
        ).json()["code"]
        results: dict[str, list[dict[str, float]]] = {
            **{route: [] for route in ROUTES},
            "trivial_endpoint": [],
            "raw_asyncpg": [],
        }
        count = DEVICES_PER_SECOND * options.seconds
        with tempfile.TemporaryDirectory() as folder:
            for run in range(options.runs):
                here = Path(folder)

                def codes(state: str) -> list[str]:
                    return [code for _, code in asyncio.run(wrk.seed_received(database_url, count, state))]

                scripts = {
                    "plain": wrk.write_action_script(
                        here / f"plain{run}.lua", codes("received"), supervisor, "mark_missing", PLAIN_BODY
                    ),
                    "guarded": wrk.write_reject_script(here / f"guarded{run}.lua", codes("received"), token),
                    "scan": wrk.write_scan_script(
                        here / f"scan{run}.lua", codes("licensed"), token, station, location
                    ),
                }
                wrk.run(url + "/bench/noop", options.clients, 2)  # warm-up
                results["trivial_endpoint"].append(
                    wrk.run(url + "/bench/noop", options.clients, options.seconds)
                )
                for route, script in scripts.items():
                    results[route].append(wrk.run(url, options.clients, options.seconds, script))
                raw_devices = asyncio.run(wrk.seed_received(database_url, count))
                results["raw_asyncpg"].append(
                    asyncio.run(_raw_asyncpg(database_url, raw_devices, options.clients, options.seconds))
                )
                print(
                    f"run {run + 1}/{options.runs}: "
                    + ", ".join(
                        f"{k} {v[-1]['per_second']:.0f}/s p99 {v[-1]['p99_ms']:.1f} ms"
                        for k, v in results.items()
                    ),
                    flush=True,
                )
        medians = {key: _median(runs) for key, runs in results.items()}
        ceiling = min(medians["trivial_endpoint"]["per_second"], medians["raw_asyncpg"]["per_second"])
        shares = {route: round(medians[route]["per_second"] / ceiling, 3) for route in ROUTES}
        met = {
            route: shares[route] >= share
            and medians[route]["p99_ms"] < p99
            and medians[route]["failures"] == 0
            for route, (share, p99) in TARGETS.items()
        }
        summary = {
            "when": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.node()} · {os.cpu_count()} CPU · Python {platform.python_version()}",
            "command": "python -m tests.bench.transitions " + " ".join(sys.argv[1:]),
            "clients": options.clients,
            "seconds_per_run": options.seconds,
            "runs": options.runs,
            "server_workers": options.workers,
            "median": medians,
            "lower_ceiling_per_second": ceiling,
            "share_of_lower_ceiling": shares,
            "target": {route: {"share_at_least": s, "p99_ms_below": p} for route, (s, p) in TARGETS.items()},
            "target_met": met,
            "all_runs": results,
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
        print(f"\n{'':18}{'per second':>12}{'p50 ms':>10}{'p99 ms':>10}{'failures':>10}{'share':>8}")
        for key, value in medians.items():
            share = f"{shares[key]:.0%}" if key in shares else ""
            print(
                f"{key:18}{value['per_second']:>12.0f}{value['p50_ms']:>10.2f}"
                f"{value['p99_ms']:>10.2f}{value['failures']:>10.0f}{share:>8}"
            )
        for route, (share, p99) in TARGETS.items():
            goal = f"≥ {share:.0%} of the lower ceiling and p99 < {p99} ms"
            print(f"{route}: target {goal}: {'met' if met[route] else 'NOT met'}")
        print(f"written to {RESULTS.relative_to(ROOT)}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(admin_url())
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


if __name__ == "__main__":
    main()
