"""Allocation at the scale of a large programme: 5,000 households against 3,000 devices, on PostgreSQL.

    python -m tests.bench.allocation [--households 5000] [--devices 3000] [--runs 5]

A fresh PostgreSQL database (REFURB_BENCH_POSTGRES_URL, default REFURB_TEST_POSTGRES_URL,
then the local server) gets, as set-up straight into the tables (not the product):
- one programme with `--households` eligible households and an open commission session;
- for each timed "match all" (plus one warm-up), another programme with `--households`
  approved households, each with the decision and allocations the rules propose for it,
  and `--devices` devices in stock of the kinds asked for (laptops, desktops, printers,
  4G keys; grades A/B/C, a few computers with no OS recorded, stocked over the past year);
then VACUUM ANALYZE, as autovacuum does for a live database.

Households are drawn with a fixed seed from realistic compositions: one or two adults,
zero to five children of 0-17, a computer at home in a third of them, internet in seven
out of ten, a printer asked for by one in three, a few in social hotels, waiting 0-30 months.

Timed (median of `--runs`, after one warm-up each):
  a. proposals + priority for every eligible household of the programme, in process: the
     households read from the database, each one's needs, the priority order of all
     (`rules.order`) and the proposal of each (`rules.propose`). Target < 1 s.
  b. "match all" over HTTP (POST /api/v1/allocations/match-all?programme=…) against the
     bench server (uvicorn, one worker, tests.bench.benchapp), on a programme of its own
     and fresh stock each run; checked after: no device reserved twice, no allocation with
     two devices, every device reserved has exactly one `reserve` event. Target < 3 s.
  c. the commission agenda page (GET /commission/{session}) over HTTP, the first page of
     the 5,000-household agenda, in French. Target < 200 ms.
Results go to tests/bench/results/allocation.json.
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

from tests.bench.common import RESULTS, database, drop, prepare, start_server

RESULT_FILE = RESULTS / "allocation.json"
TARGETS_MS = {"proposals_and_priority": 1000.0, "match_all": 3000.0, "agenda_page": 200.0}
HELD_ON = datetime.date(2027, 3, 15)
QPVS = [("QN09301M", "Les Courtillières"), ("QN09302M", "L'Abreuvoir"), ("QN09303M", "Karl Marx")]
SCHOOLS = ["Collège Pierre-Sémard", "Collège Jean-Pierre Timbaud", "École Marie Curie", "École Paul Éluard"]
#: Stock of the kinds a programme of computers, printers and connections asks for.
DEVICE_KINDS = ["laptop"] * 45 + ["desktop"] * 30 + ["printer"] * 10 + ["connectivity"] * 15
OPERATING_SYSTEMS = ["Windows 11 Pro", "Windows 10 Pro", "Linux Mint 21.3", "Emmabuntüs DE5"]
COMPUTERS = {"laptop", "desktop", "tablet"}
#: The OS a browser able to open the school digital workspace (ENT) runs on, for this programme.
SUITABLE_OS = ["Windows 10", "Windows 11", "Linux Mint", "Emmabuntüs"]


def _programme(name: str) -> Any:
    from refurb.distribution.schemas import ProgrammeIn

    return ProgrammeIn(
        name=name,
        territory="Bench",
        starts_on=datetime.date(2027, 1, 1),
        ends_on=datetime.date(2027, 12, 31),
        equipment=["desktop", "laptop", "printer", "connection"],
        modes=["donation", "loan"],
        loan_months=12,
        minimum_grade="B",
        rules={"suitable_os": SUITABLE_OS},
        qpvs=[{"code": c, "name": n} for c, n in QPVS],
    )


def _composition(chance: random.Random) -> dict[str, Any]:
    """One family's needs form, drawn from realistic proportions."""
    year = HELD_ON.year
    children = chance.choices([0, 1, 2, 3, 4, 5], weights=[8, 27, 32, 20, 9, 4])[0]
    has_printer = chance.random() < 0.2
    has_internet = chance.random() < 0.7
    requests = ["laptop"] if chance.random() < 0.6 else ["desktop"]
    if chance.random() < 0.35:
        requests.append("printer")
    if not has_internet and chance.random() < 0.5:
        requests.append("connection")
    return {
        "qpv_code": chance.choice(QPVS)[0],
        "school": chance.choice(SCHOOLS),
        "adults": chance.choices([1, 2], weights=[45, 55])[0],
        "children_birth_years": sorted(year - chance.randrange(0, 18) for _ in range(children)),
        "computers": chance.choices([0, 1, 2], weights=[64, 30, 6])[0],
        "has_printer": has_printer,
        "has_internet": has_internet,
        "requests": requests,
        "social_hotel": chance.random() < 0.05,
        "waiting_since": HELD_ON - datetime.timedelta(days=chance.randrange(0, 900)),
        "can_pay_rent": chance.choice(["yes", "no", "unknown"]),
        "can_install": chance.choice(["yes", "no", "unknown"]),
        "can_use": chance.choice(["yes", "no", "unknown"]),
    }


async def _households(
    programme_id: int, organisation_id: int, count: int, status: str, chance: random.Random
) -> list[tuple[int, dict[str, Any]]]:
    """`count` households of the programme in `status`: their ids and needs forms."""
    from refurb.codes.service import mint
    from refurb.core.codes import CodeType
    from refurb.db import write_transaction
    from refurb.distribution.tables import Household

    made: list[tuple[int, dict[str, Any]]] = []
    now = datetime.datetime.now(tz=datetime.UTC)
    for start in range(0, count, 1000):
        size = min(1000, count - start)
        async with write_transaction():
            codes = await mint(CodeType.HOUSEHOLD, size)
            forms = [_composition(chance) for _ in codes]
            rows = [
                Household(
                    code=code.compact,
                    programme=programme_id,
                    referring_organisation=organisation_id,
                    family_reference=f"bench-{programme_id}-{start + i}",
                    status=status,
                    version=1,
                    last_activity_at=now,
                    **form,
                )
                for i, (code, form) in enumerate(zip(codes, forms, strict=True))
            ]
            inserted = await Household.insert(*rows).returning(Household.id, Household.code)
        ids = {r["code"]: r["id"] for r in inserted}
        made += [(ids[code.compact], form) for code, form in zip(codes, forms, strict=True)]
    return made


async def _approved(programme_id: int, organisation_id: int, count: int, chance: random.Random) -> int:
    """Approved households with the decision the rules propose and one allocation per unit; how many."""
    from refurb.db import insert_many, write_transaction
    from refurb.distribution import commission, rules
    from refurb.distribution.tables import CommissionSession, Decision, Programme

    programme = (
        await Programme.select(Programme.rules, Programme.rules_version)
        .where(Programme.id == programme_id)
        .first()
    )
    ruleset = commission.rule_set(programme)
    session = await CommissionSession.insert(
        CommissionSession(programme=programme_id, held_on=HELD_ON, members=["Bench"], status="closed")
    ).returning(CommissionSession.id)
    households = await _households(programme_id, organisation_id, count, "approved", chance)
    allocations = 0
    now = datetime.datetime.now(tz=datetime.UTC)
    for start in range(0, len(households), 1000):
        chunk = households[start : start + 1000]
        proposals = []
        for household_id, form in chunk:
            needs = commission.needs_of({"id": household_id, "code": f"F{household_id:08d}", **form}, HELD_ON)
            proposals.append(rules.propose(needs, ruleset))
        async with write_transaction():
            decided = await Decision.insert(
                *[
                    Decision(
                        session=session[0]["id"],
                        household=household_id,
                        kind="approve",
                        proposal=proposal.to_json(),
                        lines=[line.to_json() for line in proposal.lines],
                        rule_set_version=ruleset.version,
                        mode="donation",
                        actor_name="Bench",
                    )
                    for (household_id, _), proposal in zip(chunk, proposals, strict=True)
                ]
            ).returning(Decision.id, Decision.household)
            decision_of = {r["household"]: r["id"] for r in decided}
            values = [
                (household_id, programme_id, decision_of[household_id], line.kind.value,
                 line.connection.value if line.connection else None, "donation", "to_match", now, now)
                for (household_id, _), proposal in zip(chunk, proposals, strict=True)
                for line in proposal.lines
                for _ in range(line.quantity)
            ]  # fmt: skip
            await insert_many(
                "allocation",
                ("household", "programme", "decision", "kind", "connection", "mode", "status",
                 "created_at", "updated_at"),
                values,
            )  # fmt: skip
            allocations += len(values)
    return allocations


async def _stock(count: int, chance: random.Random) -> None:
    """`count` devices in stock, with their import event: kinds mixed, graded, stocked over a year."""
    from refurb.codes.service import mint
    from refurb.core.codes import CodeType
    from refurb.db import insert_many, write_transaction

    now = datetime.datetime.now(tz=datetime.UTC)
    columns = ("code", "kind", "manufacturer", "model", "state", "version", "in_manifest", "stocked_at",
               "grade", "os", "created_at", "updated_at")  # fmt: skip
    async with write_transaction():
        codes = await mint(CodeType.DEVICE, count)
        rows = []
        for code in codes:
            kind = chance.choice(DEVICE_KINDS)
            computer = kind in COMPUTERS
            os_name = chance.choice(OPERATING_SYSTEMS) if computer and chance.random() > 0.05 else ""
            grade = chance.choices(["A", "B", "C"], weights=[30, 55, 15])[0]
            stocked = now - datetime.timedelta(days=chance.randrange(365), minutes=chance.randrange(1440))
            rows.append(
                (code.compact, kind, "Dell", "Latitude 5490", "in_stock", 1, True, stocked, grade, os_name,
                 now, now)
            )  # fmt: skip
        ids = await insert_many("device", columns, rows, returning="id")
        await insert_many(
            "device_event",
            ("device", "action", "to_state", "actor_name", "payload", "created_at", "updated_at"),
            [(r["id"], "import", "in_stock", "Bench", '{"reason": "bench"}', now, now) for r in ids],
        )


async def _proposals_and_priority(programme_id: int) -> int:
    """What the agenda computes for all: every eligible household's priority order and proposal."""
    from refurb.distribution import commission, rules
    from refurb.distribution.tables import Household, Programme

    programme = (
        await Programme.select(Programme.rules, Programme.rules_version)
        .where(Programme.id == programme_id)
        .first()
    )
    ruleset = commission.rule_set(programme)
    rows = await Household.select(
        Household.id,
        Household.code,
        Household.qpv_code,
        Household.adults,
        Household.children_birth_years,
        Household.computers,
        Household.has_printer,
        Household.has_internet,
        Household.requests,
        Household.social_hotel,
        Household.waiting_since,
        Household.can_pay_rent,
        Household.can_install,
        Household.can_use,
    ).where((Household.programme == programme_id) & (Household.status == "eligible"))
    ranked = rules.order((commission.needs_of(row, HELD_ON) for row in rows), ruleset)
    proposals = [rules.propose(r.needs, ruleset) for r in ranked]
    return len(proposals)


async def _check_matching(programme_id: int) -> dict[str, Any]:
    """After a match all: nothing double-booked, one reserve event per reserved device; the counts."""
    from refurb.db import fetch

    rows = await fetch("SELECT status, device, kind FROM allocation WHERE programme = {}", programme_id)
    devices = [r["device"] for r in rows if r["status"] == "reserved"]
    assert len(devices) == len(set(devices)), "a device reserved for two allocations"
    assert all(r["device"] is None for r in rows if r["status"] == "to_match")
    events = await fetch(
        "SELECT a.device, COUNT(e.id) AS n FROM allocation a "
        "JOIN device_event e ON e.device = a.device AND e.action = 'reserve' "
        "WHERE a.programme = {} AND a.status = 'reserved' GROUP BY a.device",
        programme_id,
    )
    assert len(events) == len(devices), "a reserved device without its reserve event"
    assert all(e["n"] == 1 for e in events), "a device reserved twice"
    states = await fetch(
        "SELECT DISTINCT d.state FROM allocation a JOIN device d ON d.id = a.device WHERE a.programme = {}",
        programme_id,
    )
    assert [s["state"] for s in states] in ([], ["reserved"]), states
    return {
        "allocations": len(rows),
        "reserved": len(devices),
        "to_match": sum(1 for r in rows if r["status"] == "to_match"),
    }


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def bench(households: int, devices: int, runs: int) -> dict[str, Any]:
    from refurb import db
    from refurb.accounts import service as accounts
    from refurb.core.roles import OrganisationKind, Role
    from refurb.distribution import commission, service
    from refurb.distribution.schemas import SessionIn

    folder = Path(tempfile.mkdtemp())
    database_url = await database("postgres", folder, prefix="refurb_bench_alloc")
    server = None
    chance = random.Random(17)  # noqa: S311 - repeatable bench data, not secrets
    try:
        await prepare(database_url)
        print("seeding…", flush=True)
        started = time.perf_counter()
        organisation_id = await accounts.create_organisation(
            "Ville bench", OrganisationKind.COORDINATOR, None
        )
        await accounts.create_user("coord", Role.COORDINATOR, "Ville bench", password="bench-pass-1")
        token = await accounts.create_token("coord")
        actor = service.Actor(None, "Bench")
        agenda_programme = (await service.create_programme(_programme("Bench agenda"), actor)).id
        await _households(agenda_programme, organisation_id, households, "eligible", chance)
        session = await commission.create_session(
            SessionIn(programme=agenda_programme, held_on=HELD_ON, members=["Mme Roux (PRE)"]), actor
        )
        matching_programmes = []
        for run in range(runs + 1):
            made = (await service.create_programme(_programme(f"Bench matching {run}"), actor)).id
            allocations = await _approved(made, organisation_id, households, chance)
            matching_programmes.append((made, allocations))
        for table in ("device", "device_event", "household", "allocation", "decision"):
            await db.fetch(f"VACUUM ANALYZE {table}")
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)

        server, url = start_server(database_url, workers=1)
        headers = {"authorization": f"Bearer {token}", "accept-language": "fr"}
        timings: dict[str, list[float]] = {key: [] for key in TARGETS_MS}
        matched: list[dict[str, Any]] = []
        async with httpx.AsyncClient(base_url=url, timeout=300) as http:
            for run in range(runs + 1):
                began = time.perf_counter()
                proposed = await _proposals_and_priority(agenda_programme)
                a = _ms(began)
                assert proposed == households, proposed

                # fresh stock for this run only: what the earlier runs left is what no allocation could take
                await _stock(devices, chance)
                await db.fetch("ANALYZE device")
                programme_id, allocations = matching_programmes[run]
                began = time.perf_counter()
                response = await http.post(
                    "/api/v1/allocations/match-all", params={"programme": programme_id}, headers=headers
                )
                b = _ms(began)
                assert response.status_code == 200, response.text[:300]
                counts = await _check_matching(programme_id)
                assert counts["allocations"] == allocations
                assert counts["reserved"] == response.json()["reserved"]

                began = time.perf_counter()
                page = await http.get(f"/commission/{session.id}", headers=headers)
                c = _ms(began)
                assert page.status_code == 200, page.text[:300]
                assert page.text.count('id="item-F') == commission.AGENDA_PAGE

                label = "warm-up" if run == 0 else f"run {run}/{runs}"
                print(
                    f"  {label}: proposals+priority {a:.0f} ms, match all {b:.0f} ms "
                    f"({counts['reserved']} reserved, {counts['to_match']} short of "
                    f"{counts['allocations']}), agenda page {c:.0f} ms",
                    flush=True,
                )
                if run:
                    timings["proposals_and_priority"].append(a)
                    timings["match_all"].append(b)
                    timings["agenda_page"].append(c)
                    matched.append({**counts, "shortage": response.json()["shortage"]})
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        await db.current_engine().close_connection_pool()
        await drop(database_url)
    medians = {key: round(statistics.median(values), 1) for key, values in timings.items()}
    return {
        "households": households,
        "devices_per_run": devices,
        "runs": runs,
        "median_ms": medians,
        "all_runs_ms": {key: [round(v, 1) for v in values] for key, values in timings.items()},
        "target_ms": TARGETS_MS,
        "met": {key: medians[key] < TARGETS_MS[key] for key in TARGETS_MS},
        "matching": matched,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--devices", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    result = await bench(args.households, args.devices, args.runs)
    summary = {
        "measured_at": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} · {os.cpu_count()} CPU · Python {platform.python_version()}",
        "engine": "postgres",
        "command": "python -m tests.bench.allocation " + " ".join(sys.argv[1:]),
        "method": (
            "a: in process, households read + needs + rules.order + rules.propose for all eligible; "
            "b: POST /api/v1/allocations/match-all?programme= over HTTP (uvicorn, 1 worker), fresh "
            "programme and stock each run; c: GET /commission/{session} over HTTP (first page, fr). "
            "Median of the runs after one warm-up."
        ),
        **result,
    }
    RESULT_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULT_FILE.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print()
    for key, target in TARGETS_MS.items():
        value = result["median_ms"][key]
        verdict = "met" if value < target else "NOT met"
        print(f"{key:24} median {value:>8.1f} ms   target < {target:.0f} ms: {verdict}")
    print(f"written to {RESULT_FILE.relative_to(RESULTS.parents[2])}")


if __name__ == "__main__":
    asyncio.run(main())
