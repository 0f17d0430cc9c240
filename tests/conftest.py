"""Test harness: every database test runs on SQLite and on PostgreSQL.

The `engine` fixture is session-scoped and parametrised, so pytest runs all
SQLite cases, then all PostgreSQL cases. Per engine, a template database is
migrated once (which tests the migrations) and seeded with a cast of users;
each test gets a fresh copy (a file copy, or CREATE DATABASE … TEMPLATE).

PostgreSQL comes from REFURB_TEST_POSTGRES_URL (an admin connection, e.g.
postgresql://postgres@127.0.0.1:5432/postgres). Without it the PostgreSQL cases
are skipped with a message, except in CI (CI=true) where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_SCRATCH = Path(tempfile.mkdtemp(prefix="refurb-tests-"))
os.environ["PICCOLO_CONF"] = "refurb.db"
os.environ["REFURB_DATABASE_URL"] = f"sqlite:///{_SCRATCH}/import-time.sqlite3"
os.environ["REFURB_VAR_DIR"] = str(_SCRATCH / "var")
_KEEP = ("REFURB_DATABASE_URL", "REFURB_VAR_DIR")
for _name in [n for n in os.environ if n.startswith("REFURB_") and not n.startswith("REFURB_TEST_")]:
    if _name not in _KEEP:
        del os.environ[_name]  # a developer's own settings must not leak into the tests

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import pytest  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402
from piccolo.engine.sqlite import SQLiteEngine  # noqa: E402

from refurb import db  # noqa: E402
from refurb.core.roles import OrganisationKind, Role  # noqa: E402
from refurb.settings import Settings  # noqa: E402
from refurb.wiring import wire  # noqa: E402

wire()  # every area's tables and contributions, as the app has them

POSTGRES_URL = os.environ.get("REFURB_TEST_POSTGRES_URL")
POSTGRES_REQUIRED = (
    os.environ.get("CI", "").lower() == "true" or os.environ.get("REFURB_TEST_REQUIRE_POSTGRES") == "1"
)
SECRET_KEY = "test-secret-key-" + "x" * 32
SIGNING_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # a fixed Ed25519 seed: tests only
LICENCE_KEY = "cmVmdXJiLXRlc3RzLWxpY2VuY2Uta2V5LTAxMjM0NTY="  # a fixed Fernet key: tests only
PASSWORD = "correct-horse-battery"
RUN_ID = uuid.uuid4().hex[:8]

DONOR_ORG = "Donor One"
OTHER_DONOR_ORG = "Donor Two"
WORKSHOP_ORG = "Workshop"
OPERATOR_ORG = "Operator"

# username → (role, organisation); one per role, plus a donor of another company.
CAST: dict[str, tuple[Role, str]] = {
    "admin": (Role.ADMIN, OPERATOR_ORG),
    "coordinator": (Role.COORDINATOR, OPERATOR_ORG),
    "donor": (Role.DONOR, DONOR_ORG),
    "technician": (Role.TECHNICIAN, WORKSHOP_ORG),
    "supervisor": (Role.SUPERVISOR, WORKSHOP_ORG),
    "driver": (Role.DRIVER, WORKSHOP_ORG),
    "bus_staff": (Role.BUS_STAFF, OPERATOR_ORG),
    "auditor": (Role.AUDITOR, OPERATOR_ORG),
    "other_donor": (Role.DONOR, OTHER_DONOR_ORG),
}


@dataclass
class Template:
    """A migrated, seeded database to copy for each test."""

    kind: str
    location: str  # a file path (SQLite) or a database name (PostgreSQL)
    tokens: dict[str, str]


def _pg_url(database: str) -> str:
    assert POSTGRES_URL is not None
    parts = urlsplit(POSTGRES_URL)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _seed() -> dict[str, str]:
    from refurb.accounts import service as accounts

    for name, kind in (
        (DONOR_ORG, OrganisationKind.DONOR),
        (OTHER_DONOR_ORG, OrganisationKind.DONOR),
        (WORKSHOP_ORG, OrganisationKind.WORKSHOP),
        (OPERATOR_ORG, OrganisationKind.OPERATOR),
    ):
        await accounts.create_organisation(name, kind)
    tokens = {}
    for username, (role, organisation) in CAST.items():
        await accounts.create_user(
            username, role, organisation, password=PASSWORD, display_name=username.title()
        )
        tokens[username] = await accounts.create_token(username, "tests")
    return tokens


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[Template]:
    """The engine under test, with its template database."""
    if request.param == "postgres":
        if not POSTGRES_URL:
            if POSTGRES_REQUIRED:
                pytest.fail("REFURB_TEST_POSTGRES_URL is not set, and PostgreSQL tests are required in CI")
            pytest.skip("PostgreSQL not configured: set REFURB_TEST_POSTGRES_URL to run these cases too")
        name = f"refurb_{RUN_ID}_tpl"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        engine = PostgresEngine(config={"dsn": _pg_url(name)})
        db.use_engine(engine)
        await db.upgrade()
        tokens = await _seed()
        yield Template("postgres", name, tokens)
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = _SCRATCH / "template.sqlite3"
        db.use_engine(SQLiteEngine(path=str(path), timeout=db.SQLITE_BUSY_TIMEOUT_S))
        await db.upgrade()
        tokens = await _seed()
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        yield Template("sqlite", str(path), tokens)


_counter = iter(range(1_000_000))


@pytest.fixture
async def database(engine: Template, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh copy of the template; yields its REFURB_DATABASE_URL."""
    if engine.kind == "sqlite":
        path = tmp_path / "refurb.sqlite3"
        shutil.copyfile(engine.location, path)
        pooled = db.PooledSQLiteEngine(path=str(path), timeout=db.SQLITE_BUSY_TIMEOUT_S)
        db.use_engine(pooled)
        yield f"sqlite:///{path}"
        await pooled.close_idle()
    else:
        name = f"refurb_{RUN_ID}_{next(_counter)}"
        await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{engine.location}"')
        db.use_engine(PostgresEngine(config={"dsn": _pg_url(name)}))
        yield _pg_url(name)
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for an app under test."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": SECRET_KEY,
        "signing_key": SIGNING_KEY,
        "licence_key": LICENCE_KEY,
        "var_dir": tmp_path / "var",
        "db_pool_min": 1,
        "db_pool_max": 60,
    }
    values.update(overrides)
    return Settings(**values)


_built: dict[str, Any] = {}


def app_for(settings: Settings) -> Any:
    """An app for `settings`: built once per configuration, then pointed at each test's database.

    Building the routes is most of an app's cost; what differs between two tests
    (the database, the files folder) is what `bind` sets.
    """
    from refurb.app import bind, create_app

    key = settings.model_dump_json(exclude={"database_url", "var_dir"}) + settings.resolved_secret_key()
    if key not in _built:
        _built[key] = create_app(settings)
    else:
        bind(_built[key], settings)
    return _built[key]


@pytest.fixture
async def app(database: str, tmp_path: Path) -> AsyncIterator[Any]:
    """The service on the test database, its lifespan running (the pool is open)."""
    application = app_for(make_settings(database, tmp_path))
    async with running(application):
        yield application


@contextlib.asynccontextmanager
async def running(application: Any) -> AsyncIterator[None]:
    """Run the app's lifespan in its own task (anyio scopes must exit where they entered)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with application.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # startup failed: raise its error
    try:
        yield
    finally:
        stop.set()
        await task


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, in this event loop."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def tokens(engine: Template) -> dict[str, str]:
    """Bearer tokens of the cast, by username."""
    return engine.tokens


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def as_user(tokens: dict[str, str]) -> Any:
    """`as_user("technician")` → headers authenticating as that cast member."""

    def headers(username: str, **extra: str) -> dict[str, str]:
        return {**bearer(tokens[username]), **extra}

    return headers


@pytest.fixture(scope="session")
def scratch() -> Path:
    """A folder for the whole run."""
    return _SCRATCH


@pytest.fixture
async def empty_database(engine: Template, tmp_path: Path) -> AsyncIterator[str]:
    """A database with nothing in it yet (not even migrations); yields its URL."""
    if engine.kind == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.sqlite3"
    else:
        name = f"refurb_{RUN_ID}_empty_{next(_counter)}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        yield _pg_url(name)
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class FakePrinter:
    """A raw TCP "printer" on localhost that keeps what it receives."""

    port: int = 0
    received: list[bytes] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def printer_server() -> AsyncIterator[FakePrinter]:
    fake = FakePrinter()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        fake.received.append(await reader.read())
        writer.close()
        fake.done.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    async with server:
        yield fake
