"""Erasure speed: importing wiping reports and issuing a batch certificate.

    python -m tests.bench.erasure [--devices 1000] [--media 1200] [--drives 24] [--runs 3]
                                  [--engines postgres,sqlite] [--modes folder,single]

Each run, on a fresh database: a donor batch of `--devices` received devices
whose manifest declared `--media` disks with their serials (some devices have
two). Then, timed one by one, through the same services as the API:

1. "workbench": one eReuse Workbench v11 snapshot per device (its disks verified
   by EraseSectors), uploaded without naming the device: stored with its SHA-256,
   parsed, matched by the host serial and the disk serials, records written, the
   device's hardware filled, and the device moved to sanitized. Two ways, each on
   its own fresh database: "folder" — all snapshots in one upload, as
   `POST /api/v1/erasure-reports/folder` does (a USB stick of snapshots); and
   "single" — one upload per snapshot, one after the other, as
   `POST /api/v1/erasure-reports` does (Workbench posting each machine).
2. "nwipe": one ShredOS log of `--drives` drives (PRNG Stream, blank, verify
   last): the second disks of `--drives` devices, pulled and wiped on a rack,
   matched by serial; those devices then pass and are sanitized.
3. "certificate": the batch certificate — every device and medium judged, the
   canonical JSON signed with Ed25519, the PDF with its 1,200-row annex rendered,
   both stored.

Medians over `--runs` runs; the target is < 3 s for each on PostgreSQL, and the
total is printed too. Results go to tests/bench/results/erasure.json.
PostgreSQL comes from REFURB_BENCH_POSTGRES_URL (default REFURB_TEST_POSTGRES_URL,
then the local server).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from refurb.wiring import wire
from tests.bench.common import database, drop, prepare
from tests.fixtures.erasure.make_nwipe_log import Drive, LogSpec, render

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "erasure.json"
SECRET = "bench-secret-" + "e" * 40
SIGNING_KEY = "YmVuY2gtc2lnbmluZy1rZXktMzItYnl0ZXMtbG9uZyE="
TARGET_S = 3.0


def snapshot(host: str, disks: list[str], index: int) -> bytes:
    """A Workbench 11 snapshot of one laptop whose disks were wiped by EraseSectors (zeros, then random)."""
    start = datetime.datetime(2026, 11, 20, 8, 0, tzinfo=datetime.UTC) + datetime.timedelta(minutes=index)
    steps = [
        {
            "type": "StepZero",
            "severity": "Info",
            "startTime": start.isoformat(),
            "endTime": (start + datetime.timedelta(minutes=40)).isoformat(),
        },
        {
            "type": "StepRandom",
            "severity": "Info",
            "startTime": (start + datetime.timedelta(minutes=40)).isoformat(),
            "endTime": (start + datetime.timedelta(minutes=95)).isoformat(),
        },
    ]
    components: list[dict[str, Any]] = [
        {
            "type": "Processor",
            "model": "Intel Core i5-8350U CPU @ 1.70GHz",
            "manufacturer": "Intel Corp.",
            "serialNumber": None,
            "actions": [],
        },
        {"type": "RamModule", "size": "8192.0 mebibyte", "serialNumber": f"R{index:07d}", "actions": []},
    ]
    for disk in disks:
        components.append(
            {
                "type": "HardDrive",
                "interface": "ATA",
                "size": "500107.0 MB",
                "serialNumber": disk,
                "model": "ST500LM021-1KJ152",
                "manufacturer": "Seagate",
                "actions": [
                    {
                        "type": "EraseSectors",
                        "severity": "Info",
                        "startTime": steps[0]["startTime"],
                        "endTime": steps[1]["endTime"],
                        "steps": steps,
                    }
                ],
            }
        )
    return json.dumps(
        {
            "type": "Snapshot",
            "software": "Workbench",
            "version": "11.0b11",
            "uuid": str(uuid.uuid4()),
            "closed": True,
            "endTime": steps[1]["endTime"],
            "elapsed": 5700,
            "device": {
                "type": "Laptop",
                "manufacturer": "Dell Inc.",
                "model": "Latitude 5490",
                "serialNumber": host,
                "actions": [],
            },
            "components": components,
        }
    ).encode()


async def _setup(devices: int, media: int, drives: int) -> dict[str, Any]:
    """A technician, a donor batch of received devices and their declared disks."""
    from refurb.accounts import service as accounts
    from refurb.core.kinds import DeviceKind
    from refurb.core.lifecycle import State
    from refurb.core.roles import OrganisationKind, Role
    from refurb.devices import service as device_service
    from refurb.devices.tables import Device
    from refurb.erasure.service import DeclaredMedia, add_declared_media
    from refurb.intake import service as batches

    tag = uuid.uuid4().hex[:6].upper()
    workshop = f"Atelier {tag}"
    donor = f"Donateur {tag}"
    await accounts.create_organisation(workshop, OrganisationKind.WORKSHOP, None)
    await accounts.create_organisation(donor, OrganisationKind.DONOR, None)
    user_id, _ = await accounts.create_user(
        f"t{tag.lower()}", Role.TECHNICIAN, workshop, password="bench-pass-1"
    )
    technician = await accounts.principal_for_user(user_id)
    batch = await batches.create_batch(await accounts.organisation_id(donor), f"PO-{tag}")
    actor = device_service.Actor(None, "bench", None)
    two_disks = media - devices  # that many devices have a second disk
    plan = []
    for i in range(devices):
        host = f"HOST{tag}{i:06d}"
        disks = [f"WD{tag}{i:06d}A"] + ([f"WD{tag}{i:06d}B"] if i < two_disks else [])
        plan.append((host, disks))
        await device_service.register(
            kind=DeviceKind.LAPTOP,
            actor=actor,
            manufacturer="Dell Inc.",
            model="Latitude 5490",
            serial=host,
            batch_id=batch.id,
            donor_id=batch.donor_id,
            state=State.RECEIVED,
            reason="bench",
        )
    rows = await Device.select(Device.id, Device.serial).where(Device.batch == batch.id)
    ids = {row["serial"]: row["id"] for row in rows}
    await add_declared_media([DeclaredMedia(ids[host], len(disks), disks) for host, disks in plan])
    return {"technician": technician, "batch": batch.code, "plan": plan, "two_disks": two_disks}


async def _run(devices: int, media: int, drives: int, mode: str) -> dict[str, float]:
    from refurb.erasure import certificates, uploads

    setup = await _setup(devices, media, drives)
    technician, plan = setup["technician"], setup["plan"]
    pulled = {disks[1] for _, disks in plan[setup["two_disks"] - drives : setup["two_disks"]]}
    snapshots = [
        snapshot(host, [d for d in disks if d not in pulled], i) for i, (host, disks) in enumerate(plan)
    ]
    start = datetime.datetime(2026, 11, 21, 9, 0)
    rack = [
        Drive(
            f"sd{chr(96 + i // 26) if i >= 26 else ''}{chr(97 + i % 26)}",
            " ATA    ",
            "ST500LM021-1KJ152",
            serial,
            500_107_862_016,
            120_000_000,
        )
        for i, serial in enumerate(sorted(pulled))
    ]
    log = render(LogSpec(start=start, drives=rack)).encode()
    timings: dict[str, float] = {}

    started = time.perf_counter()
    sanitized = 0
    if mode == "folder":
        files = [(content, f"snapshot-{i:04d}.json") for i, content in enumerate(snapshots)]
        reports = await uploads.import_reports(files, technician)
        sanitized = sum(len(r.sanitized) for r in reports)
    else:
        for content in snapshots:
            report = await uploads.import_report(content, "snapshot.json", technician)
            sanitized += len(report.sanitized)
    timings["workbench"] = time.perf_counter() - started
    assert sanitized == devices - drives, sanitized  # the devices whose second disk is on the rack wait

    started = time.perf_counter()
    report = await uploads.import_report(log, "nwipe_log_20261121-090000.txt", technician)
    moved = report.sanitized
    timings["nwipe"] = time.perf_counter() - started
    assert len(report.records) == drives, report
    assert len(moved) == drives, moved

    started = time.perf_counter()
    issued = await certificates.issue_for_batch(setup["batch"], technician)
    timings["certificate"] = time.perf_counter() - started
    assert (issued.devices, issued.media) == (devices, media), issued
    timings["total"] = timings["workbench"] + timings["nwipe"] + timings["certificate"]
    return timings


async def bench(engine: str, devices: int, media: int, drives: int, runs: int, mode: str) -> dict[str, Any]:
    from refurb import db
    from refurb.erasure import certificates
    from refurb.settings import Settings

    results: list[dict[str, float]] = []
    for run in range(runs):
        database_url = await database(engine, Path(tempfile.mkdtemp()))
        try:
            await prepare(database_url)
            wire()
            certificates.configure(Settings(database_url=database_url, signing_key=SIGNING_KEY))
            timings = await _run(devices, media, drives, mode)
            results.append(timings)
            print(
                f"  {engine} {mode} run {run + 1}: "
                + ", ".join(f"{k} {v:.3f} s" for k, v in timings.items()),
                flush=True,
            )
        finally:
            if database_url.startswith("postgresql"):
                await db.current_engine().close_connection_pool()
            await drop(database_url)
    medians = {key: round(statistics.median(r[key] for r in results), 3) for key in results[0]}
    return {
        "runs": [{k: round(v, 3) for k, v in r.items()} for r in results],
        "median_s": medians,
        "per_second": {
            "snapshots": round(devices / medians["workbench"], 1),
            "nwipe_drives": round(drives / medians["nwipe"], 1),
        },
        "target_s": TARGET_S,
        "met_each": {k: medians[k] < TARGET_S for k in ("workbench", "nwipe", "certificate")},
        "met_total": medians["total"] < TARGET_S,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--media", type=int, default=1200)
    parser.add_argument("--drives", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="postgres,sqlite")
    parser.add_argument("--modes", default="folder,single")
    args = parser.parse_args()
    os.environ.setdefault("REFURB_SECRET_KEY", SECRET)
    results: dict[str, Any] = {
        "measured_at": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "command": "python -m tests.bench.erasure " + " ".join(sys.argv[1:]),
        "workload": {
            "devices": args.devices,
            "media": args.media,
            "nwipe_drives": args.drives,
            "workbench_snapshots": args.devices,
        },
    }
    for engine in args.engines.split(","):
        results[engine] = {}
        for mode in args.modes.split(","):
            print(f"{engine}, snapshots uploaded {mode}:", flush=True)
            results[engine][mode] = await bench(
                engine, args.devices, args.media, args.drives, args.runs, mode
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
