"""Faults for real, short versions (the long ones: `python -m tests.bench.faults`).

A PostgreSQL cluster of the test's own is restarted while clients reject
devices through the API and stations: the service recovers by itself, answers
503 with Retry-After meanwhile (never 500), and every action a client was told
is recorded has exactly one event — none lost, none doubled.
"""

from __future__ import annotations

import os
import time

import pytest

from tests.fault_harness import Cluster, Server, missing_postgres_binaries, run_load, seed, verify

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
    assert figures["events"] == figures["acknowledged"] > 50, figures
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
