"""Intake speed: importing a large manifest, and reception scans at ten stations at once.

    python -m tests.bench.intake [--rows 10000] [--runs 5] [--stations 10] [--scans 60]
                                 [--reception-runs 3] [--engines sqlite,postgres]

1. Import: a GLPI-style export (`;`, quoted, BOM, 10 columns, disk serials) of
   `--rows` devices, imported with mode "all" through the import service (parse,
   match, mint D codes, bulk insert devices, events and declared media) into a
   fresh batch of a fresh donor; the median of `--runs` runs, per engine. Peak
   Python memory is measured with tracemalloc in one more run, for the file and
   for a file four times larger (memory must not grow with the file).
2. Reception: a server (uvicorn, one worker) and `--stations` reception stations,
   each with a raw-TCP label printer (a fake Zebra in this process). Each station
   scans the batch label, then `--scans` serials typed as a scanner types them:
   scan → match in the batch → asset tag printed on the station's printer →
   received. Two loads, each on fresh devices:
   - "paced": every station scans once per `--pace` seconds (1 s: faster than a
     person who also sticks the printed tag on), stations out of step — ten
     stations at work at once;
   - "saturated": every station sends its next scan as soon as the last one is
     answered — the server's ceiling (scans per second); latency then measures
     the queue.
   Round-trip latencies (p50, p99) over every scan; the median of the runs' p99.
Results are written to tests/bench/results/intake.json. PostgreSQL comes from
REFURB_BENCH_POSTGRES_URL (default REFURB_TEST_POSTGRES_URL, then the local server).
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import csv
import datetime
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.bench.common import SECRET, database, drop, env, free_port, prepare

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "intake.json"
HEADER = [
    "Nom", "Fabricant", "Numéro de série", "Type", "Modèle", "Numéro d'inventaire", "Composants - Processeur",
    "Composants - Mémoire", "Composants - Disque dur : Numéro de série", "Lieu",
]  # fmt: skip
KINDS = ["Portable", "Ordinateur fixe", "Portable", "Tablette", "Écran"]


def manifest(rows: int, tag: str) -> Path:
    """A GLPI 10 French export of `rows` computers, written to a temporary file."""
    path = Path(tempfile.mkdtemp()) / f"glpi-{rows}.csv"
    with path.open("wb") as raw:
        raw.write(codecs.BOM_UTF8)
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(text, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(HEADER)
        for i in range(rows):
            writer.writerow([
                f"PC-{i:06d}", "Dell Inc.", f"{tag}{i:08d}", KINDS[i % len(KINDS)], "Latitude 5490",
                f"INV-{tag}-{i:06d}", "Intel Core i5-8350U", "8192", f"S3Z9{tag}{i:08d}<br>WD{tag}{i:08d}",
                "Siège > 2e étage",
            ])  # fmt: skip
        text.flush()
        text.detach()
    return path


async def _donor(name: str) -> Any:
    from refurb.accounts import service as accounts
    from refurb.core.roles import OrganisationKind, Role

    await accounts.create_organisation(name, OrganisationKind.DONOR)
    username = f"d{uuid.uuid4().hex[:10]}"
    user_id, _ = await accounts.create_user(username, Role.DONOR, name, password="bench-password-1")
    return await accounts.principal_for_user(user_id)


async def _import(path: Path, principal: Any) -> tuple[float, Any]:
    from refurb.intake import imports
    from refurb.intake import service as batches

    batch = await batches.create_batch(principal.organisation_id)
    with path.open("rb") as file:
        started = time.perf_counter()
        report = await imports.import_manifest(
            batch.code, file, path.name, imports.ImportOptions(mode="all"), principal
        )
        elapsed = time.perf_counter() - started
    assert report.created == report.rows, report
    assert report.invalid == 0, report
    return elapsed, batch


async def bench_import(engine: str, rows: int, runs: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp())
    database_url = await database(engine, folder)
    try:
        await prepare(database_url)
        times = []
        for run in range(runs):
            path = manifest(rows, f"R{run}")
            elapsed, _ = await _import(path, await _donor(f"Donor {engine} {run}"))
            times.append(elapsed)
            print(f"  {engine} import of {rows} rows, run {run + 1}: {elapsed:.3f} s", flush=True)
        memory = {}
        for size in (rows, rows * 4):
            path = manifest(size, f"M{size}")
            principal = await _donor(f"Donor {engine} memory {size}")
            tracemalloc.start()
            await _import(path, principal)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            memory[str(size)] = {
                "file_mib": round(path.stat().st_size / 2**20, 2),
                "peak_mib": round(peak / 2**20, 2),
            }
            print(f"  {engine} peak Python memory for {size} rows: {memory[str(size)]}", flush=True)
    finally:
        from refurb import db

        if database_url.startswith("postgresql"):
            await db.current_engine().close_connection_pool()
        await drop(database_url)
    return {
        "rows": rows,
        "runs": [round(t, 3) for t in times],
        "median_s": round(statistics.median(times), 3),
        "rows_per_second": round(rows / statistics.median(times)),
        "target_s": 2.0,
        "met": statistics.median(times) < 2.0,
        "peak_memory": memory,
    }


class FakeZebra:
    """A raw TCP printer that takes jobs and counts them."""

    def __init__(self) -> None:
        self.jobs = 0
        self.port = 0

    async def start(self) -> asyncio.Server:
        async def take(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()
            self.jobs += 1
            writer.close()

        server = await asyncio.start_server(take, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return server


async def _reception_setup(stations: int, scans: int, runs: int, zebras: list[FakeZebra]) -> dict[str, Any]:
    """Batches collected and ready, stations with printers, a technician's token."""
    from refurb.accounts import service as accounts
    from refurb.core.kinds import DeviceKind
    from refurb.core.roles import OrganisationKind, Role
    from refurb.core.stages import Stage
    from refurb.intake import agreements, collection
    from refurb.intake import service as batches_service
    from refurb.intake.schemas import AgreementIn, BatchPatch, CollectionIn
    from refurb.printing import service as printing
    from refurb.printing.schemas import PrinterIn
    from refurb.stations import service as stations_service
    from refurb.wiring import wire

    wire()
    donor = await _donor("Reception donor")
    await accounts.create_organisation("Atelier", OrganisationKind.WORKSHOP)
    driver_id, _ = await accounts.create_user("driver", Role.DRIVER, "Atelier", password="bench-password-1")
    await accounts.create_user("tech", Role.TECHNICIAN, "Atelier", password="bench-password-1")
    driver = await accounts.principal_for_user(driver_id)
    terms = AgreementIn(signatory_name="Bench Signer", accept=True, terms_version=agreements.TERMS_VERSION)
    await agreements.sign(donor.organisation_id, terms, donor)
    batches = []
    for run in range(runs):
        path = manifest(stations * scans, f"S{run}")
        _, batch = await _import(path, donor)
        await batches_service.update_batch(batch.code, BatchPatch(site_address="1 rue du Banc"), donor)
        await batches_service.submit(batch.code, donor, stations * scans)
        counts = CollectionIn(counts={DeviceKind.LAPTOP: stations * scans}, signer_name="Bench")
        await collection.record_collection(batch.code, counts, driver)
        batches.append((batch.code, f"S{run}"))
    codes = []
    for index, zebra in enumerate(zebras):
        name = f"Zebra {index}"
        await printing.create_printer(
            PrinterIn(name=name, driver="zpl-tcp", host="127.0.0.1", port=zebra.port, stock="57x32")
        )
        station = await stations_service.create_station(f"Réception {index}", Stage.RECEPTION)
        await stations_service.set_printer(station.code, name)
        codes.append(station.code)
    return {"batches": batches, "stations": codes, "token": await accounts.create_token("tech")}


async def _station_run(
    url: str, token: str, station: str, batch: str, serials: list[str], pace: float, offset: float
) -> list[float]:
    headers = {"authorization": f"Bearer {token}"}
    latencies = []
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        opened = await client.post("/api/v1/scans", json={"station": station, "text": batch})
        context = opened.json()["context"]
        await asyncio.sleep(offset)
        first = time.perf_counter()
        for number, serial in enumerate(serials):
            if pace:
                await asyncio.sleep(max(0.0, first + number * pace - time.perf_counter()))
            started = time.perf_counter()
            response = await client.post(
                "/api/v1/scans", json={"station": station, "text": serial, "context": context}
            )
            latencies.append((time.perf_counter() - started) * 1000)
            body = response.json()
            assert response.status_code == 200, body
            assert body["result"] == "recorded", body
            assert body["printed"], body
    return latencies


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def bench_reception(engine: str, stations: int, scans: int, runs: int, pace: float) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp())
    database_url = await database(engine, folder)
    zebras = [FakeZebra() for _ in range(stations)]
    servers = [await z.start() for z in zebras]
    process = None
    try:
        await prepare(database_url)
        setup = await _reception_setup(stations, scans, runs * 2, zebras)
        from refurb import db

        if database_url.startswith("postgresql"):
            await db.current_engine().close_connection_pool()
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "uvicorn", "refurb.app:create_app", "--factory", "--port", str(port)),
            *("--log-level", "warning", "--no-access-log"),
            env={**env(database_url), "REFURB_SECRET_KEY": SECRET, "REFURB_DB_POOL_MAX": "20"},
            cwd=ROOT,
        )
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as probe:
            for _ in range(150):
                try:
                    if (await probe.get(f"{url}/health", timeout=1)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        loads: dict[str, list[dict[str, Any]]] = {"paced": [], "saturated": []}
        for number, (batch, tag) in enumerate(setup["batches"]):
            load = "paced" if number % 2 == 0 else "saturated"
            step = pace if load == "paced" else 0.0
            work = [
                _station_run(
                    url,
                    setup["token"],
                    station,
                    batch,
                    [f"{tag}{i:08d}".lower() for i in range(index * scans, (index + 1) * scans)],
                    step,
                    step * index / stations,
                )
                for index, station in enumerate(setup["stations"])
            ]
            started = time.perf_counter()
            latencies = [ms for one in await asyncio.gather(*work) for ms in one]
            elapsed = time.perf_counter() - started
            loads[load].append({
                "scans": len(latencies),
                "scans_per_second": round(len(latencies) / elapsed, 1),
                "p50_ms": round(_percentile(latencies, 0.50), 1),
                "p99_ms": round(_percentile(latencies, 0.99), 1),
                "max_ms": round(max(latencies), 1),
            })  # fmt: skip
            print(f"  {engine} reception, {stations} stations, {load}: {loads[load][-1]}", flush=True)
        printed = sum(z.jobs for z in zebras)
    finally:
        if process is not None:
            process.terminate()
            await process.wait()
        for server in servers:
            server.close()
        await drop(database_url)

    def summary(runs_of_load: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "runs": runs_of_load,
            "median_p50_ms": statistics.median(r["p50_ms"] for r in runs_of_load),
            "median_p99_ms": statistics.median(r["p99_ms"] for r in runs_of_load),
            "median_scans_per_second": statistics.median(r["scans_per_second"] for r in runs_of_load),
        }

    paced = summary(loads["paced"])
    return {
        "stations": stations,
        "scans_per_station": scans,
        "pace_s": pace,
        "paced": paced,
        "saturated": summary(loads["saturated"]),
        "labels_printed": printed,
        "target_p99_ms": 100,
        "met": paced["median_p99_ms"] < 100,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stations", type=int, default=10)
    parser.add_argument("--scans", type=int, default=60)
    parser.add_argument("--reception-runs", type=int, default=3)
    parser.add_argument("--pace", type=float, default=1.0, help="seconds between scans, paced load")
    parser.add_argument("--engines", default="sqlite,postgres")
    args = parser.parse_args()
    os.environ.setdefault("REFURB_SECRET_KEY", SECRET)
    results: dict[str, Any] = {
        "measured_at": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "command": "python -m tests.bench.intake " + " ".join(sys.argv[1:]),
        "import": {},
        "reception": {},
    }
    for engine in args.engines.split(","):
        print(f"{engine}: importing", flush=True)
        results["import"][engine] = await bench_import(engine, args.rows, args.runs)
        print(f"{engine}: reception", flush=True)
        results["reception"][engine] = await bench_reception(
            engine, args.stations, args.scans, args.reception_runs, args.pace
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
