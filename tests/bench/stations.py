"""Station scan round trip with N stations scanning at once, against a running server on PostgreSQL.

    python -m tests.bench.stations [--stations 20] [--seconds 10] [--warmup 2] [--runs 3]
                                   [--stages reception,stock,workshop,licensing] [--workers 1] [--pace 1.0]

PostgreSQL comes from REFURB_BENCH_POSTGRES_URL (default: REFURB_TEST_POSTGRES_URL,
then postgresql://postgres@127.0.0.1:5432/postgres); a scratch database is made
and dropped. The server is uvicorn in its own process, as in production.

Each station is a client of its own (one httpx.AsyncClient, keep-alive) doing
scan after scan through `POST /api/v1/scans`, each of a fresh device, and
sending back the `context` of the previous answer as the station page does.
Every station has a `zpl-tcp` printer: a TCP sink in this process that takes
and discards the ZPL, so a stage that prints renders its label and sends it.
Latency is timed here around each HTTP call (time.perf_counter), after a
warm-up; per stage and run: p50/p95/p99 and scans per second, then the medians
across runs. Target: p99 < 100 ms. Results go to tests/bench/results/stations.json.

A stage is a row of STAGES: the station's stage, the state its devices are
seeded in, and the scans one device takes (e.g. a scan answered `needs_input`
with a form, then the same scan with `inputs`).
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
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from refurb.core.lifecycle import State
from refurb.core.stages import Stage
from tests.bench.common import LICENCE_KEY, SECRET, database, drop, prepare, start_server

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "stations.json"
TARGET_P99_MS = 100.0
SCANS_PER_STATION_SECOND = 60  # seeded per station and second: more than one station can scan


WORKSHOP_ANSWERS = {
    **{
        f"check_{name}": "ok"
        for name in ("battery", "screen", "keyboard", "touchpad", "webcam", "microphone", "speakers", "wifi",
                     "bluetooth", "usb_ports", "video_ports", "charger")
    },
    "battery_health": "86", "battery_cycles": "210", "cpu": "Intel Core i5-8350U", "ram": "8 GB",
    "storage": "256 GB SSD", "os_image": "Linux Mint 22", "grade": "B", "minutes": "35",
    "outcome": "refurbished",
}  # fmt: skip


@dataclass(frozen=True)
class Scan:
    """One request of a device's round: the body (without station and context) and what must come back."""

    body: dict[str, Any]
    result: str = "recorded"
    printed: bool = False  # the answer must report a label sent to the printer
    secret: bool = False  # the answer must reveal a licence key


@dataclass(frozen=True)
class StationSetup:
    """What a station has to work with."""

    code: str
    location: str  # a bin of its own, with room for everything


@dataclass(frozen=True)
class BenchStage:
    """A station stage as the bench drives it."""

    stage: Stage
    seed_state: State
    device_scans: Callable[[str], Sequence[Scan]]
    opening: Callable[[StationSetup], Sequence[Scan]] = lambda _: ()  # before the first device, not timed
    evidence: Callable[[list[str]], Awaitable[None]] | None = None  # e.g. records a guard needs


STAGES: dict[str, BenchStage] = {
    # Reception: the asset tag is rendered (ZPL) and sent, then `receive` (its guard reads the print).
    "reception": BenchStage(
        Stage.RECEPTION, State.COLLECTED, lambda code: [Scan({"text": code}, printed=True)]
    ),
    # Put-away: scan the station's bin once, then each licensed device goes in stock there.
    # (Stock prints no label in STAGE_LABELS today: this times scan → capacity check → transition.)
    "stock": BenchStage(
        Stage.STOCK,
        State.LICENSED,
        lambda code: [Scan({"text": code})],
        opening=lambda station: [Scan({"text": station.location}, result="found")],
    ),
    # Workshop: the scan opens the laptop's checklist; the filled form records the pass,
    # moves the device to `refurbished` and prints the spec label.
    "workshop": BenchStage(
        Stage.WORKSHOP,
        State.SANITIZED,
        lambda code: [
            Scan({"text": code}, result="needs_input"),
            Scan({"text": code, "inputs": WORKSHOP_ANSWERS}, printed=True),
        ],
    ),
    # Licensing: the scan asks for the pool; the answer takes the next key (shown once), moves the
    # device to `licensed` and prints the licence label.
    "licensing": BenchStage(
        Stage.LICENSING,
        State.REFURBISHED,
        lambda code: [
            Scan({"text": code}, result="needs_input"),
            Scan({"text": code, "inputs": {"pool": BENCH_POOL, "coa": ""}}, printed=True, secret=True),
        ],
        evidence=lambda devices: _keys_for(len(devices)),
    ),
}

BENCH_POOL = "Windows 11 Pro — bench"
KEYS_PER_RUN = 3_000  # more than the stations can license in a run


async def _keys_for(devices: int) -> None:
    """Keys in the bench pool for this run (imported as a supervisor would, from a CSV)."""
    from refurb.workshop import licences
    from refurb.workshop.licence_schemas import PoolIn

    if not any(p.name == BENCH_POOL for p in await licences.list_pools()):
        await licences.create_pool(
            PoolIn(name=BENCH_POOL, os="Windows 11 Pro", licence_type="MAR Citizenship", unit_cost_cents=1200)
        )
    count = min(devices, KEYS_PER_RUN)
    batch = f"{time.time_ns():x}"[-8:].upper()
    lines = ["key"] + [f"BENCH-{batch}-{i:05d}-KEYXX-XXXXX" for i in range(count)]
    await licences.import_keys(BENCH_POOL, "\n".join(lines).encode())


@dataclass
class Sink:
    """A raw TCP "printer" on its own thread: takes ZPL and throws it away, counting jobs."""

    port: int = 0
    jobs: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _ready: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True, name="zpl-sink").start()
        self._ready.wait(10)

    def _run(self) -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while await reader.read(65536):
                pass
            self.jobs += 1
            writer.close()

        async def serve() -> None:
            server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=256)
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            async with server:
                await server.serve_forever()

        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(serve())


async def _setup(
    stations: int, stages: list[str], sink_port: int
) -> tuple[str, dict[str, list[StationSetup]]]:
    """A workshop, its technician's token, a ZPL printer, and per stage `stations` stations, each a bin."""
    from refurb.accounts import service as accounts
    from refurb.core.roles import OrganisationKind, Role
    from refurb.printing import service as printing
    from refurb.printing.schemas import PrinterIn
    from refurb.stations import service as station_service
    from refurb.stock import service as stock

    await accounts.create_organisation("Atelier bench", OrganisationKind.WORKSHOP)
    await accounts.create_user("tech", Role.TECHNICIAN, "Atelier bench", password="bench-password-1")
    token = await accounts.create_token("tech", "bench")
    await printing.create_printer(
        PrinterIn(name="Zebra bench", driver="zpl-tcp", host="127.0.0.1", port=sink_port, stock="57x32")
    )
    site = await stock.create_location("Entrepôt bench", "site")
    made: dict[str, list[StationSetup]] = {}
    for name in stages:
        made[name] = []
        for i in range(stations):
            station = await station_service.create_station(f"{name} {i + 1:02d}", STAGES[name].stage)
            await station_service.set_printer(station.code, "Zebra bench")
            place = await stock.create_location(
                f"Bac {name} {i + 1:02d}", "bin", parent_code=site.code, capacity=1_000_000
            )
            made[name].append(StationSetup(station.code, place.code))
    return token, made


async def _seed(state: State, count: int) -> list[str]:
    """`count` devices in `state`, straight in with bulk inserts: setup, not the product."""
    from refurb.codes.service import mint
    from refurb.core.codes import CodeType
    from refurb.db import insert_many, write_transaction
    from refurb.devices.tables import Device

    now = datetime.datetime.now(tz=datetime.UTC)
    columns = (
        "code",
        "kind",
        "manufacturer",
        "model",
        "serial",
        "state",
        "version",
        "in_manifest",
        "cpu",
        "ram",
        "storage",
        "created_at",
        "updated_at",
    )
    made: list[str] = []
    for start in range(0, count, 10_000):
        async with write_transaction():
            codes = await mint(CodeType.DEVICE, min(10_000, count - start))
            rows = [
                (
                    c.compact,
                    "laptop",
                    "Dell",
                    "Latitude 5490",
                    f"SN{c.compact}",
                    state.value,
                    1,
                    True,
                    "",
                    "",
                    "",
                    now,
                    now,
                )
                for c in codes
            ]
            await insert_many("device", columns, rows)
        made.extend(c.compact for c in codes)
    await Device.raw("ANALYZE device")
    return made


@dataclass
class Tally:
    """One stage run, every station's scans."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    exhausted: int = 0


def _check(response: httpx.Response, scan: Scan) -> str | None:
    """Why an answer is not what the station expects, if it is not."""
    if response.status_code != 200:
        return f"{response.status_code} {response.text[:200]}"
    body = response.json()
    if body["result"] != scan.result:
        return f"result {body['result']}, expected {scan.result}: {body.get('message')}"
    if scan.printed and (body.get("printed") is None or body["printed"].get("error")):
        return f"no label printed: {body.get('printed')}"
    if scan.secret and not body.get("secret"):
        return "no licence key revealed"
    return None


async def _station(
    url: str,
    token: str,
    stage: BenchStage,
    station: StationSetup,
    devices: list[str],
    measure_from: float,
    stop_at: float,
    tally: Tally,
    pace: float,
) -> None:
    """One station: its opening scans, then device after device until time is up.

    With a pace, the station starts a device every `pace` seconds (a technician
    at a bench); with 0 it scans back to back, which measures saturation instead.
    """
    headers = {"authorization": f"Bearer {token}", "accept-language": "fr"}
    context: dict[str, str] = {}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as http:

        async def send(scan: Scan, timed: bool) -> bool:
            nonlocal context
            body = {"station": station.code, "context": context, **scan.body}
            started = time.perf_counter()
            response = await http.post("/api/v1/scans", json=body)
            elapsed = (time.perf_counter() - started) * 1000
            problem = _check(response, scan)
            if problem is not None:
                tally.errors.append(problem)
                return False
            context = response.json().get("context") or context
            if timed and started >= measure_from:
                tally.latencies_ms.append(elapsed)
            return True

        for scan in stage.opening(station):
            if not await send(scan, timed=False):
                return
        if pace:
            await asyncio.sleep(random.uniform(0, pace))  # noqa: S311 - stations are not in step
        for code in devices:
            began = time.perf_counter()
            if began >= stop_at:
                return
            for scan in stage.device_scans(code):
                if not await send(scan, timed=True):
                    break
            if pace:
                await asyncio.sleep(max(0.0, pace - (time.perf_counter() - began)))
        tally.exhausted += 1


def _percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * share))]


async def _run_stage(
    url: str,
    token: str,
    name: str,
    stations: list[StationSetup],
    seconds: float,
    warmup: float,
    pace: float,
) -> dict[str, float]:
    stage = STAGES[name]
    per_station = int(SCANS_PER_STATION_SECOND * (seconds + warmup))
    devices = await _seed(stage.seed_state, per_station * len(stations))
    if stage.evidence is not None:
        await stage.evidence(devices)
    tally = Tally()
    began = time.perf_counter()
    measure_from, stop_at = began + warmup, began + warmup + seconds
    await asyncio.gather(
        *(
            _station(
                url,
                token,
                stage,
                station,
                devices[i * per_station : (i + 1) * per_station],
                measure_from,
                stop_at,
                tally,
                pace,
            )
            for i, station in enumerate(stations)
        )
    )
    measured = max(1e-9, min(time.perf_counter(), stop_at) - measure_from)
    values = sorted(tally.latencies_ms)
    if not values:
        raise SystemExit(f"{name}: no scan succeeded; first errors: {tally.errors[:3]}")
    if tally.errors:
        print(f"  {name}: {len(tally.errors)} errors, e.g. {tally.errors[0]}", flush=True)
    if tally.exhausted:
        print(
            f"  {name}: {tally.exhausted} stations ran out of devices: raise SCANS_PER_STATION_SECOND",
            flush=True,
        )
    return {
        "scans": len(values),
        "per_second": round(len(values) / measured, 1),
        "p50_ms": round(_percentile(values, 0.50), 2),
        "p95_ms": round(_percentile(values, 0.95), 2),
        "p99_ms": round(_percentile(values, 0.99), 2),
        "max_ms": round(values[-1], 2),
        "errors": len(tally.errors),
    }


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]}


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stations", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--pace",
        type=float,
        default=1.0,
        help="seconds between two devices at one station (0: back to back, to find the saturation point)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the results go")
    args = parser.parse_args()
    stages = [s for s in args.stages.split(",") if s]
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise SystemExit(f"unknown stages {unknown}; known: {', '.join(STAGES)}")
    os.environ["REFURB_SECRET_KEY"] = SECRET  # the token is hashed with the server's key
    from refurb import db
    from refurb.settings import Settings
    from refurb.workshop import licence_keys

    load_before = round(os.getloadavg()[0], 2)  # a busy machine shows in the tail latencies
    sink = Sink()
    sink.start()
    database_url = await database("postgres", Path(tempfile.mkdtemp()))
    server = None
    try:
        await prepare(database_url)
        licence_keys.configure(
            Settings(database_url=database_url, secret_key=SECRET, licence_key=LICENCE_KEY)
        )
        token, stations = await _setup(args.stations, stages, sink.port)
        server, url = start_server(database_url, args.workers)
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in stages}
        for run in range(args.runs):
            for name in stages:
                runs[name].append(
                    await _run_stage(url, token, name, stations[name], args.seconds, args.warmup, args.pace)
                )
                last = runs[name][-1]
                print(
                    f"run {run + 1}/{args.runs} {name}: {last['per_second']:.0f} scans/s,"
                    f" p50 {last['p50_ms']:.1f} p95 {last['p95_ms']:.1f} p99 {last['p99_ms']:.1f} ms,"
                    f" errors {last['errors']:.0f}",
                    flush=True,
                )
        medians = {name: _median(values) for name, values in runs.items()}
        results = {
            "measured_at": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "load_average_1m": {"before": load_before, "after": round(os.getloadavg()[0], 2)},
            },
            "command": "python -m tests.bench.stations " + " ".join(sys.argv[1:]),
            "engine": "postgres",
            "stations": args.stations,
            "seconds_per_run": args.seconds,
            "warmup_seconds": args.warmup,
            "runs": args.runs,
            "server_workers": args.workers,
            "pace_seconds_per_device": args.pace,
            "labels_sent_to_printer": sink.jobs,
            "median": medians,
            "target": {"p99_ms_below": TARGET_P99_MS},
            "target_met": {name: m["p99_ms"] < TARGET_P99_MS for name, m in medians.items()},
            "all_runs": runs,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print(
            f"\n{'median':12}{'scans/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
            "  p99 < 100 ms"
        )
        for name, m in medians.items():
            verdict = "met" if results["target_met"][name] else "NOT met"
            print(
                f"{name:12}{m['per_second']:>10.0f}{m['p50_ms']:>9.2f}{m['p95_ms']:>9.2f}"
                f"{m['p99_ms']:>9.2f}{m['errors']:>8.0f}  {verdict}"
            )
        print(f"labels sent to the printer sink: {sink.jobs}\nwritten to {args.out}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        await db.current_engine().close_connection_pool()
        await drop(database_url)


if __name__ == "__main__":
    asyncio.run(main())
