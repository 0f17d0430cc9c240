"""What every benchmark needs: a fresh database on each engine, a server to load, settings to run it with.

PostgreSQL comes from REFURB_BENCH_POSTGRES_URL (default REFURB_TEST_POSTGRES_URL,
then the local server). Benchmarks are run on demand, never by the test suite.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

__all__ = (
    "LICENCE_KEY",
    "RESULTS",
    "ROOT",
    "SECRET",
    "admin_url",
    "database",
    "db_url",
    "drop",
    "env",
    "free_port",
    "prepare",
    "start_server",
)

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results"
SECRET = "bench-secret-" + "b" * 40
LICENCE_KEY = "YmVuY2gtbGljZW5jZS1rZXktMzItYnl0ZXMtbG9uZyE="  # a Fernet key: 32 bytes, urlsafe base64


def admin_url() -> str:
    """A PostgreSQL connection allowed to create databases."""
    return (
        os.environ.get("REFURB_BENCH_POSTGRES_URL")
        or os.environ.get("REFURB_TEST_POSTGRES_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )


def db_url(name: str) -> str:
    """The URL of database `name` on the benchmark's server."""
    return urlunsplit(urlsplit(admin_url())._replace(path=f"/{name}"))


def env(database_url: str) -> dict[str, str]:
    """The environment a benchmark's server or CLI runs with (none of the developer's REFURB_ settings)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("REFURB_")},
        "REFURB_DATABASE_URL": database_url,
        "REFURB_SECRET_KEY": SECRET,
        "REFURB_LICENCE_KEY": LICENCE_KEY,
        "PYTHONPATH": str(ROOT),
    }


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(database_url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """The bench app (the service plus a trivial endpoint) under uvicorn; its process and URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            *("-m", "uvicorn", "tests.bench.benchapp:create_bench_app", "--factory"),
            *("--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"),
        ],
        env=env(database_url),
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/bench/noop", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the bench server did not start")


async def database(engine: str, folder: Path, prefix: str = "refurb_bench") -> str:
    """A fresh, empty database: a SQLite file in `folder`, or a new PostgreSQL database."""
    if engine == "sqlite":
        return f"sqlite:///{folder / 'bench.sqlite3'}"
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return db_url(name)


async def drop(database_url: str) -> None:
    """Remove a PostgreSQL database made by `database` (a SQLite file goes with its folder)."""
    if database_url.startswith("postgresql"):
        admin = await asyncpg.connect(admin_url())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database_url.rsplit("/", 1)[1]}" WITH (FORCE)')
        finally:
            await admin.close()


async def prepare(database_url: str) -> None:
    """Wire the areas, migrate, and point the tables at the database (in this process)."""
    from refurb import db
    from refurb.settings import parse_database_url
    from refurb.wiring import wire

    wire()
    engine = db.engine_for(parse_database_url(database_url))
    db.use_engine(engine)
    if database_url.startswith("postgresql"):
        await engine.start_connection_pool(min_size=2, max_size=10)
    else:
        db.prepare_sqlite_file(Path(database_url.removeprefix("sqlite:///")))
    await db.upgrade()
