"""Faults for real: a throwaway PostgreSQL cluster restarted under load, servers killed with -9.

Shared by the suite's short, deterministic fault tests (`tests/integration/test_faults.py`)
and the long runs of the benchmark (`python -m tests.bench.faults`). Everything runs
in real processes: `initdb`/`pg_ctl` (as the `postgres` user when run as root), `refurb
serve`, and HTTP clients that retry with their Idempotency-Key as a bus tablet would.

    python -m tests.fault_harness seed <database url> <devices>   (prints what it made, as JSON)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

__all__ = (
    "Cluster",
    "LoadResult",
    "Server",
    "manifest_csv",
    "missing_postgres_binaries",
    "run_load",
    "seed",
    "snapshot_folder",
    "verify",
)

ROOT = Path(__file__).resolve().parents[1]
SECRET = "fault-secret-" + "f" * 40
LICENCE_KEY = "ZmF1bHQtbGljZW5jZS1rZXktMzItYnl0ZXMtbG9uZyE="
RETRIED_CODES = ("idempotency_in_flight", "device_busy")


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def missing_postgres_binaries() -> str | None:
    """Why a throwaway cluster cannot be made here, or None."""
    missing = [name for name in ("initdb", "pg_ctl") if _binary(name) is None]
    return f"{' and '.join(missing)} not found (install postgresql)" if missing else None


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster of its own, on a free port, that a test may restart or stop."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="refurb-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        """The superuser's URL (trust authentication on 127.0.0.1)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """initdb once, then start and wait until it answers."""
        if not self.data.exists():
            if self.as_postgres:
                uid = pwd.getpwnam("postgres")
                os.chown(self.folder, uid.pw_uid, uid.pw_gid)
            self._run(_binary("initdb") or "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self._pg_ctl("start")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
        self._run(
            _binary("pg_ctl") or "pg_ctl", action, "-D", str(self.data), "-w", "-t", "60",
            "-l", str(self.folder / "log"), "-o", options, *extra,
        )  # fmt: skip

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every connection is cut, and the server comes back."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        """Stop and remove everything."""
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._run(_binary("pg_ctl") or "pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        shutil.rmtree(self.folder, ignore_errors=True)


def _env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("REFURB_")},
        "REFURB_DATABASE_URL": database_url,
        "REFURB_SECRET_KEY": SECRET,
        "REFURB_LICENCE_KEY": LICENCE_KEY,
        "REFURB_DB_POOL_MAX": "10",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


class Server:
    """`refurb serve` in its own process (one worker), killable."""

    def __init__(self, database_url: str, var_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.var_dir = var_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.log = var_dir.parent / f"serve-{self.port}.log"  # what the server said, for a failed test

    def start(self) -> None:
        """Start and wait for /health."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "refurb", "serve", "--port", str(self.port)],
            env=_env(self.database_url, REFURB_VAR_DIR=str(self.var_dir)),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self._log_file(),
        )
        self._stderr.close()  # the child keeps its own copy
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            if self.process.poll() is not None:
                raise RuntimeError("refurb serve exited at start")
            time.sleep(0.2)
        raise RuntimeError("refurb serve did not answer /health")

    def _log_file(self) -> Any:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._stderr = self.log.open("ab")
        return self._stderr

    def kill(self) -> None:
        """SIGKILL: no cleanup, no last write."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_kib(self) -> int:
        """Resident memory of the server process."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def open_fds(self) -> int:
        """How many file descriptors the server holds."""
        assert self.process is not None
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))


# --- seeding (in a subprocess: its own engine, nothing shared with the caller) --------------------


async def _seed(
    database_url: str,
    count: int,
    labelled: int = 0,
    labelled_state: str = "received",
    refurbished: int = 0,
) -> dict[str, Any]:
    from refurb import db
    from refurb.accounts import service as accounts
    from refurb.codes.service import mint
    from refurb.core.codes import CodeType
    from refurb.core.roles import OrganisationKind, Role
    from refurb.core.stages import Stage
    from refurb.intake import service as intake
    from refurb.settings import parse_database_url
    from refurb.stations import service as stations
    from refurb.timestamps import utcnow
    from refurb.wiring import wire

    wire()
    engine = db.engine_for(parse_database_url(database_url))
    db.use_engine(engine)
    await db.upgrade()
    await accounts.create_organisation("Atelier", OrganisationKind.WORKSHOP)
    donor = await accounts.create_organisation("Donneur", OrganisationKind.DONOR)
    tokens = {}
    for username, role, organisation in (
        ("tech", Role.TECHNICIAN, "Atelier"),
        ("boss", Role.SUPERVISOR, "Atelier"),
        ("don", Role.DONOR, "Donneur"),
    ):
        await accounts.create_user(username, role, organisation, password="fault-pass-1")
        tokens[username] = await accounts.create_token(username, "faults")
    station = await stations.create_station("Réception fautes", Stage.RECEPTION)
    empty = await intake.create_batch(donor, "PO-FAULT-IMPORT")
    labels = await intake.create_batch(donor, "PO-FAULT-LABELS")

    async def devices(how_many: int, prefix: str, batch_id: int | None, state: str = "received") -> list[str]:
        # setup, not the product: received devices with their import event, in two statements
        now = utcnow()
        async with db.write_transaction():
            codes = [code.compact for code in await mint(CodeType.DEVICE, how_many)]
            rows = await db.insert_many(
                "device",
                ("code", "kind", "serial", "batch", "donor", "state", "version", "created_at", "updated_at"),
                [
                    (
                        code,
                        "laptop",
                        f"{prefix}{n:06d}",
                        batch_id,
                        donor if batch_id else None,
                        state,
                        1,
                        now,
                        now,
                    )
                    for n, code in enumerate(codes)
                ],
                returning="id",
            )
            await db.insert_many(
                "device_event",
                ("device", "action", "to_state", "actor_name", "payload", "created_at", "updated_at"),
                [(row["id"], "import", state, "seed", '{"reason": "faults"}', now, now) for row in rows],
            )
        return codes

    codes = await devices(count, "FAULT", None) if count else []
    labelled_codes = await devices(labelled, "LABEL", labels.id, labelled_state) if labelled else []
    licensable = await devices(refurbished, "LIC", None, "refurbished") if refurbished else []
    return {
        "tokens": tokens,
        "station": station.code,
        "codes": codes,
        "import_batch": empty.code,
        "label_batch": labels.code,
        "labelled": labelled_codes,
        "refurbished": licensable,
    }


def seed(
    database_url: str,
    count: int,
    labelled: int = 0,
    labelled_state: str = "received",
    refurbished: int = 0,
) -> dict[str, Any]:
    """Migrate a fresh database; make a technician, a supervisor, a donor, a station, `count` received
    devices, an empty batch to import a manifest into, a batch of `labelled` devices to print and
    `refurbished` devices ready for a licence."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fault_harness",
            "seed",
            database_url,
            str(count),
            str(labelled),
            labelled_state,
            str(refurbished),
        ],
        env=_env(database_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- load: clients that retry with their key until they get an answer -------------------------------


@dataclasses.dataclass
class LoadResult:
    """What the clients saw."""

    sent: int = 0  # requests, retries included
    acknowledged: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (device code, key)
    statuses: dict[int, int] = dataclasses.field(default_factory=dict)
    errors: dict[str, int] = dataclasses.field(default_factory=dict)  # transport errors by kind
    outage_started: float | None = None
    first_ok_after_outage: float | None = None
    restarted_at: float | None = None
    back_at: float | None = None

    def seen(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


async def run_load(
    url: str,
    token: str,
    station: str,
    codes: list[str],
    *,
    clients: int,
    seconds: float,
    fault: Any = None,
    fault_at: float = 0.0,
    pace: float = 0.0,
) -> LoadResult:
    """`clients` clients reject devices (half by the action API, half by station scans) for `seconds`.

    Each request carries its own Idempotency-Key; on a 503, a 409 in flight or a
    dropped connection the client retries the same key (0.2 s apart) until it
    gets a final answer, as the station page does. `pace`: seconds each client
    waits between two devices (0: back to back). `fault`, a blocking callable
    (a database restart), runs in a thread `fault_at` seconds in.
    """
    result = LoadResult()
    queue = list(codes)
    started = time.monotonic()
    headers = {"authorization": f"Bearer {token}"}

    async def one(http: httpx.AsyncClient, code: str, by_scan: bool) -> None:
        key = uuid.uuid4().hex
        while True:
            result.sent += 1
            try:
                if by_scan:
                    body = {
                        "station": station,
                        "text": code,
                        "action": "reject",
                        "inputs": {"reason": "faults"},
                    }
                    response = await http.post(
                        "/api/v1/scans", json=body, headers={**headers, "idempotency-key": key}
                    )
                else:
                    response = await http.post(
                        f"/api/v1/devices/{code}/actions/reject",
                        json={"reason": "faults"},
                        headers={**headers, "idempotency-key": key},
                    )
            except httpx.TransportError as error:
                result.errors[type(error).__name__] = result.errors.get(type(error).__name__, 0) + 1
                await asyncio.sleep(0.2)
                continue
            result.seen(response.status_code)
            retry = response.status_code in (502, 503, 504) or (
                response.status_code == 409
                and response.json().get("code") in ("idempotency_in_flight", "device_busy")
            )
            if retry:
                if result.restarted_at is not None and result.outage_started is None:
                    result.outage_started = time.monotonic()
                await asyncio.sleep(0.2)
                continue
            if 200 <= response.status_code < 300:
                now = time.monotonic()
                if (
                    result.back_at is not None
                    and result.first_ok_after_outage is None
                    and now >= result.back_at
                ):
                    result.first_ok_after_outage = now
                result.acknowledged.append((code, key))
            return

    async def client(index: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            while queue and time.monotonic() - started < seconds:
                await one(http, queue.pop(), by_scan=index % 2 == 1)
                await asyncio.sleep(pace)

    async def inject() -> None:
        if fault is None:
            return
        await asyncio.sleep(fault_at)
        result.restarted_at = time.monotonic()
        await asyncio.to_thread(fault)
        result.back_at = time.monotonic()

    await asyncio.gather(inject(), *(client(i) for i in range(clients)))
    return result


async def verify(database_url: str, result: LoadResult) -> dict[str, int]:
    """Compare what clients were told with the events: lost must be 0, doubled must be 0."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT d.code, count(*) AS n FROM device_event e JOIN device d ON d.id = e.device "
            "WHERE e.action = 'reject' GROUP BY d.code"
        )
    finally:
        await connection.close()
    events = {row["code"]: row["n"] for row in rows}
    acknowledged = {code for code, _ in result.acknowledged}
    return {
        "acknowledged": len(result.acknowledged),
        "events": sum(events.values()),
        "lost": sum(1 for code in acknowledged if events.get(code, 0) == 0),
        "doubled": sum(1 for n in events.values() if n > 1),
        "unacknowledged_but_recorded": sum(1 for code in events if code not in acknowledged),
    }


# --- files a killed server was busy with ------------------------------------------------------------


def manifest_csv(rows: int, tag: str) -> bytes:
    """A donor's asset list: `;`-separated, French headers, two disks per machine."""
    lines = ["Numéro de série;Type;Fabricant;Modèle;Numéros de série des disques"]
    lines += [f"{tag}{n:07d};Portable;Dell;Latitude 5490;S{tag}{n:07d},W{tag}{n:07d}" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def snapshot_folder(count: int, tag: str) -> list[tuple[str, bytes]]:
    """`count` Workbench v11 snapshots of machines nobody declared (each becomes an unmatched report)."""
    files = []
    for n in range(count):
        snapshot = {
            "type": "Snapshot", "software": "Workbench", "version": "11.0b11", "uuid": str(uuid.uuid4()),
            "closed": True, "endTime": "2026-11-20T09:35:00+00:00", "elapsed": 5700,
            "device": {"type": "Laptop", "manufacturer": "Dell Inc.", "model": "Latitude 5490",
                       "serialNumber": f"H{tag}{n:06d}", "actions": []},
            "components": [{
                "type": "HardDrive", "interface": "ATA", "size": "500107.0 MB",
                "serialNumber": f"D{tag}{n:06d}", "model": "ST500LM021-1KJ152", "manufacturer": "Seagate",
                "actions": [{"type": "EraseBasic", "severity": "Info", "steps": [],
                             "startTime": "2026-11-20T08:00:00+00:00",
                             "endTime": "2026-11-20T09:35:00+00:00"}],
            }],
        }  # fmt: skip
        files.append((f"snapshot-{n:05d}.json", json.dumps(snapshot).encode()))
    return files


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        database, count, labelled, state, refurbished = sys.argv[2:7]
        made = _seed(database, int(count), int(labelled), state, int(refurbished))
        print(json.dumps(asyncio.run(made)))
