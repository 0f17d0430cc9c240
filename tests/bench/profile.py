"""Where a hot route's time goes, by layer: Python time per package and every SQL statement.

    python -m tests.bench.profile [--requests 2000]

On a fresh PostgreSQL database (REFURB_BENCH_POSTGRES_URL, as the other benchmarks), the
service runs in this process behind Litestar's test client — no socket, one request at a
time — under cProfile, for the three routes of `tests.bench.transitions`: a plain
transition (mark_missing), a guarded one (reject) and a put-away scan. Each function's own
time (cProfile's tottime) is added to the layer its file belongs to: refurb (split by area),
Litestar, Piccolo, asyncpg, msgspec, pydantic, the asyncio loop, the standard library.
Time spent waiting for PostgreSQL is the loop's select(), under "asyncio / waiting".
The statements of one request of each route are listed as the server sent them. Results
go to tests/bench/results/profile.json.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime
import json
import os
import platform
import pstats
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from tests.bench import wrk
from tests.bench.common import RESULTS, admin_url, db_url, env
from tests.bench.transitions import PLAIN_BODY, _admin, _refurb

OUT = RESULTS / "profile.json"
ROUTES = ("plain", "guarded", "scan")


def _layer(filename: str) -> str:
    """The layer a function's source file belongs to."""
    path = filename.replace("\\", "/")
    if "/refurb/" in path and "site-packages" not in path:
        area = path.split("/refurb/", 1)[1].split("/", 1)[0].removesuffix(".py")
        return f"refurb.{area}"
    for package in ("litestar", "piccolo", "asyncpg", "msgspec", "pydantic", "httpx", "anyio", "jinja2"):
        if f"/{package}/" in path:
            return package
    if "asyncio/" in path and ("base_events" in path or "selector_events" in path or "events" in path):
        return "asyncio loop"
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C)"
    if "site-packages" in path:
        return "other libraries"
    return "standard library"


def _builtin_layer(name: str) -> str:
    """C functions have no file: their owner is in the name (asyncpg's protocol is Cython)."""
    if "epoll" in name or "select" in name:
        return "asyncio / waiting"
    for package in ("asyncpg", "msgspec", "pydantic_core", "sqlite3", "_hashlib", "_json"):
        if package in name:
            return package.strip("_").replace("_core", "")
    return "builtins (C)"


def _top(profile: cProfile.Profile, requests: int, count: int = 25) -> list[str]:
    """The functions with the most own time, for reading where a layer's time goes."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    ranked = sorted(stats.items(), key=lambda item: -item[1][2])[:count]
    return [
        f"{tottime / requests * 1000:.3f} ms  {calls / requests:.1f}x  {_layer(filename)}  "
        f"{Path(filename).name}:{line} {name}"
        for (filename, line, name), (_cc, calls, tottime, _ct, _callers) in ranked
    ]


def _by_layer(profile: cProfile.Profile) -> dict[str, float]:
    stats = pstats.Stats(profile)
    layers: dict[str, float] = defaultdict(float)
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        layer = _layer(filename)
        if layer == "builtins (C)":
            layer = _builtin_layer(name)
        layers[layer] += tottime
    return dict(layers)


async def _measure(database_url: str, requests: int, routes: list[str]) -> dict[str, Any]:
    for key, value in env(database_url).items():
        os.environ[key] = value
    import httpx

    from refurb import db
    from tests.bench.benchapp import create_bench_app

    supervisor = _refurb(["token", "create", "--username", "bench-supervisor"], database_url)
    technician = _refurb(["token", "create", "--username", "bench"], database_url)
    station = _refurb(["station", "create", "--name", "Rangement profil", "--stage", "stock"], database_url)
    station = station.split()[1]
    out: dict[str, Any] = {}
    app = create_bench_app()
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        location = (
            await client.post(
                "/api/v1/locations",
                json={"name": "Profil", "kind": "site"},
                headers={"authorization": f"Bearer {supervisor}"},
            )
        ).json()["code"]
        began, cpu = time.perf_counter(), time.process_time()
        for _ in range(requests):
            assert (await client.get("/bench/noop")).status_code == 200
        out["trivial_endpoint"] = {
            "wall_ms_per_request": round((time.perf_counter() - began) / requests * 1000, 3),
            "cpu_ms_per_request": round((time.process_time() - cpu) / requests * 1000, 3),
        }
        for route in routes:
            state = "licensed" if route == "scan" else "received"
            codes = [code for _, code in await wrk.seed_received(database_url, 2 * requests + 20, state)]

            async def send(code: str, route: str = route) -> None:
                if route == "plain":
                    response = await client.post(
                        f"/api/v1/devices/{code}/actions/mark_missing",
                        content=PLAIN_BODY,
                        headers={"authorization": f"Bearer {supervisor}", "content-type": "application/json"},
                    )
                elif route == "guarded":
                    response = await client.post(
                        f"/api/v1/devices/{code}/actions/reject",
                        json={"reason": "bench"},
                        headers={"authorization": f"Bearer {technician}"},
                    )
                else:
                    response = await client.post(
                        "/api/v1/scans",
                        json={"station": station, "text": code, "context": {"location": location}},
                        headers={"authorization": f"Bearer {technician}"},
                    )
                assert response.status_code < 300, response.text

            for code in codes[:10]:  # warm the lookups kept in memory
                await send(code)
            with db.statements() as log:
                await send(codes[10])
            statements = [" ".join(sql.split()) for sql in log]
            began, cpu = time.perf_counter(), time.process_time()
            for code in codes[20 : 20 + requests]:
                await send(code)
            plain_wall, plain_cpu = time.perf_counter() - began, time.process_time() - cpu
            profile = cProfile.Profile()
            began = time.perf_counter()
            profile.enable()
            for code in codes[20 + requests :]:
                await send(code)
            profile.disable()
            wall = time.perf_counter() - began
            layers = _by_layer(profile)
            total = sum(layers.values())
            out[route] = {
                "requests": requests,
                "wall_ms_per_request": round(plain_wall / requests * 1000, 3),
                "cpu_ms_per_request": round(plain_cpu / requests * 1000, 3),
                "wall_ms_per_request_profiled": round(wall / requests * 1000, 3),
                "ms_per_request_by_layer": {
                    layer: round(seconds / requests * 1000, 3)
                    for layer, seconds in sorted(layers.items(), key=lambda item: -item[1])
                },
                "share_by_layer": {
                    layer: round(seconds / total, 3)
                    for layer, seconds in sorted(layers.items(), key=lambda item: -item[1])
                },
                "statements": statements,
                "top_functions_own_time": _top(profile, requests),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument(
        "--routes", default=",".join(ROUTES), help="comma-separated, from: " + ", ".join(ROUTES)
    )
    options = parser.parse_args()
    name = f"refurb_profile_{uuid.uuid4().hex[:8]}"
    database_url = db_url(name)
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        _refurb(["db", "upgrade"], database_url)
        _refurb(["organisation", "create", "--name", "Bench workshop", "--kind", "workshop"], database_url)
        for username, role in (("bench", "technician"), ("bench-supervisor", "supervisor")):
            _refurb(
                [
                    *("user", "create", "--username", username, "--role", role),
                    *("--organisation", "Bench workshop", "--password", "bench-password-1"),
                ],
                database_url,
            )
        results = asyncio.run(_measure(database_url, options.requests, options.routes.split(",")))
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    summary = {
        "when": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} · {os.cpu_count()} CPU · Python {platform.python_version()}",
        "command": "python -m tests.bench.profile " + " ".join(sys.argv[1:]),
        "database": admin_url().rsplit("@", 1)[-1],
        "routes": results,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    trivial = results.pop("trivial_endpoint")
    print(
        f"trivial endpoint: {trivial['wall_ms_per_request']} ms a request, "
        f"{trivial['cpu_ms_per_request']} ms CPU"
    )
    for route, result in results.items():
        print(
            f"\n{route}: {result['wall_ms_per_request']} ms a request, "
            f"{result['cpu_ms_per_request']} ms CPU, "
            f"{result['wall_ms_per_request_profiled']} ms under cProfile"
        )
        for layer, ms in result["ms_per_request_by_layer"].items():
            print(f"  {layer:24}{ms:>8.3f} ms  {result['share_by_layer'][layer]:>6.1%}")
        print(f"  statements ({len(result['statements'])}):")
        for sql in result["statements"]:
            print(f"    {sql[:150]}")
    print(f"\nwritten to {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}")


if __name__ == "__main__":
    main()
