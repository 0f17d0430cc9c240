"""Stock levels with 100,000 devices in stock.

    python -m tests.bench.stock [--devices 100000] [--bins 500] [--runs 7] [--engines postgres,sqlite]

A fresh database gets `--bins` bins under one site and `--devices` devices in
stock spread over them (kinds mixed, stocked over the past year), then
VACUUM ANALYZE (what autovacuum does for a live database). Timed, the
median of `--runs` after one warm-up: the `/stock` page as a coordinator's
browser asks for it (the app in this process, over ASGI: everything but the
network), and the levels service alone. Target: the page in < 200 ms.
Results go to tests/bench/results/stock.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from refurb.db import is_sqlite as db_is_sqlite
from tests.bench.common import database, drop, prepare

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "stock.json"
SECRET = "bench-secret-" + "s" * 40
TARGET_MS = 200.0
KINDS = ["laptop", "laptop", "laptop", "desktop", "desktop", "tablet", "monitor"]


async def _seed(devices: int, bins: int) -> None:
    from refurb.codes.service import mint
    from refurb.core.codes import CodeType
    from refurb.db import insert_many, write_transaction
    from refurb.stock import service as stock

    site = await stock.create_location("Entrepôt bench", "site")
    places = [
        (await stock.create_location(f"Bac {i:03d}", "bin", parent_code=site.code, capacity=None)).id
        for i in range(bins)
    ]
    now = datetime.datetime.now(tz=datetime.UTC)
    chance = random.Random(7)  # noqa: S311 - repeatable test data, not secrets
    columns = (
        "code",
        "kind",
        "manufacturer",
        "model",
        "state",
        "version",
        "in_manifest",
        "location",
        "stocked_at",
        "cpu",
        "ram",
        "storage",
        "created_at",
        "updated_at",
    )
    for start in range(0, devices, 10_000):
        count = min(10_000, devices - start)
        async with write_transaction():
            codes = await mint(CodeType.DEVICE, count)
            rows = [
                (
                    code.compact,
                    KINDS[i % len(KINDS)],
                    "Dell",
                    "Latitude 5490",
                    "in_stock",
                    1,
                    True,
                    places[chance.randrange(bins)],
                    now - datetime.timedelta(days=chance.randrange(365)),
                    "",
                    "",
                    "",
                    now,
                    now,
                )
                for i, code in enumerate(codes)
            ]
            await insert_many("device", columns, rows)
    from refurb.devices.tables import Device

    # a live database is vacuumed and analysed in the background (autovacuum); a fresh one is not yet
    await Device.raw("VACUUM ANALYZE device" if not db_is_sqlite() else "ANALYZE")


async def bench(engine: str, devices: int, bins: int, runs: int) -> dict[str, Any]:
    from refurb import db
    from refurb.accounts import service as accounts
    from refurb.app import create_app
    from refurb.core.roles import OrganisationKind, Role
    from refurb.settings import Settings
    from refurb.stock import levels

    folder = Path(tempfile.mkdtemp())
    database_url = await database(engine, folder)
    try:
        await prepare(database_url)
        await _seed(devices, bins)
        await accounts.create_organisation("Ville bench", OrganisationKind.COORDINATOR, None)
        await accounts.create_user("coord", Role.COORDINATOR, "Ville bench", password="bench-pass-1")
        token = await accounts.create_token("coord")
        if database_url.startswith("postgresql"):  # the app brings its own engine: close the set-up one
            await db.current_engine().close_connection_pool()
        app = create_app(Settings(database_url=database_url, secret_key=SECRET, var_dir=folder / "var"))
        if database_url.startswith("postgresql"):  # the app's lifespan is not run over ASGITransport
            await db.current_engine().start_connection_pool(min_size=2, max_size=10)
        headers = {"authorization": f"Bearer {token}", "accept-language": "fr"}
        page_ms, service_ms = [], []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
            for run in range(runs + 1):
                started = time.perf_counter()
                response = await http.get("/stock", headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.text[:300]
                started = time.perf_counter()
                found = await levels.levels()
                alone = (time.perf_counter() - started) * 1000
                assert found.total == devices, found.total
                if run:  # the first is a warm-up
                    page_ms.append(elapsed)
                    service_ms.append(alone)
                print(f"  {engine} run {run}: page {elapsed:.1f} ms, levels {alone:.1f} ms", flush=True)
    finally:
        if database_url.startswith("postgresql"):
            await db.current_engine().close_connection_pool()
        await drop(database_url)
    return {
        "devices": devices,
        "bins": bins,
        "page_ms": [round(v, 1) for v in page_ms],
        "page_median_ms": round(statistics.median(page_ms), 1),
        "levels_median_ms": round(statistics.median(service_ms), 1),
        "target_ms": TARGET_MS,
        "met": statistics.median(page_ms) < TARGET_MS,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--bins", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--engines", default="postgres,sqlite")
    args = parser.parse_args()
    os.environ.setdefault("REFURB_SECRET_KEY", SECRET)
    results: dict[str, Any] = {
        "measured_at": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "command": "python -m tests.bench.stock " + " ".join(sys.argv[1:]),
    }
    for engine in args.engines.split(","):
        print(f"{engine}:", flush=True)
        results[engine] = await bench(engine, args.devices, args.bins, args.runs)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
