"""The database: engine from `REFURB_DATABASE_URL`, the Piccolo app, migrations.

This module is also Piccolo's configuration module (`PICCOLO_CONF=refurb.db`):
it defines `DB` and `APP_REGISTRY`; each area's tables join with
`register_tables` (for Piccolo's own CLI, `refurb.piccolo_conf` wires them
all). Piccolo binds tables to one global engine;
`use_engine` swaps it, which is how the tests run every case on both engines.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Formatter
from typing import Any, TypeVar

import aiosqlite
import asyncpg
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.forwards import ForwardsMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import AppConfig, AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString
from piccolo.table import Table

from refurb.core.errors import UNSTORABLE, BadInput
from refurb.settings import DatabaseUrl, Settings

T = TypeVar("T")

__all__ = (
    "APP_CONFIG",
    "APP_REGISTRY",
    "DB",
    "MigrationError",
    "chunked",
    "current_engine",
    "database_status",
    "engine_for",
    "insert_many",
    "json_value",
    "migration_status",
    "register_tables",
    "single_write",
    "statements",
    "update_many",
    "upgrade",
    "use_engine",
    "write_transaction",
)

os.environ.setdefault("PICCOLO_CONF", "refurb.db")

APP_NAME = "refurb"
# What a unique index violation raises on each engine.
UNIQUE_VIOLATIONS = (asyncpg.UniqueViolationError, sqlite3.IntegrityError)
SQLITE_BUSY_TIMEOUT_S = 15
POOL_CLOSE_TIMEOUT_S = 5


class MigrationError(Exception):
    """Migrations could not be applied; the message comes from the migration runner."""


def migrations_path() -> Path:
    """`migrations/` of a source checkout, or its copy inside an installed wheel."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_migrations", package.parent / "migrations"):
        if candidate.is_dir():
            return candidate
    raise MigrationError(f"no migrations folder next to {package}")


def register_tables(*tables: type[Table]) -> None:
    """An area's tables join the Piccolo app and the current engine (from its `register()`)."""
    for table in tables:
        if table not in APP_CONFIG.table_classes:
            APP_CONFIG.register_table(table)
        table._meta.db = DB


def engine_for(database: DatabaseUrl) -> Engine:
    """Build (without connecting) the engine for a database URL."""
    if database.engine == "sqlite":
        assert database.sqlite_path is not None
        return PooledSQLiteEngine(path=str(database.sqlite_path), timeout=SQLITE_BUSY_TIMEOUT_S)
    return PostgresEngine(config={"dsn": database.url})


def _refuse_nul(args: Sequence[Any] | None) -> None:
    """SQLite stores a NUL character that PostgreSQL refuses: refuse it here too, before the statement."""
    if args and any(isinstance(value, str) and "\x00" in value for value in args):
        raise BadInput(UNSTORABLE, code="bad_value")


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, keeping a few connections open between queries.

    Piccolo opens a connection — a thread and a file handle — for every query
    outside a transaction and for every transaction: about 1 ms each, a dozen
    times per station scan. Idle connections wait here instead (WAL readers
    without an open transaction hold no lock).
    """

    def __init__(self, path: str, timeout: float, max_idle: int = 8) -> None:
        super().__init__(path=path, timeout=timeout)
        self._idle: list[aiosqlite.Connection] = []
        self._max_idle = max_idle

    async def get_connection(self) -> aiosqlite.Connection:
        if self._idle:
            return self._idle.pop()
        connection = aiosqlite.connect(**self.connection_kwargs)
        worker = getattr(connection, "_thread", None)
        if worker is not None:  # an idle connection must not keep the process alive at exit
            worker.daemon = True
        await connection
        connection.row_factory = dict_factory
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.set_trace_callback(lambda sql: _STATEMENT_LOGS and _log_statement(sql))
        return connection

    async def release(self, connection: aiosqlite.Connection, *, failed: BaseException | None = None) -> None:
        """Keep a connection for the next query, or close it when it is not clean or not needed.

        A connection that met an I/O error (a full disk) is never kept: SQLite may
        leave it unusable, and the next read must get a fresh one.
        """
        worker = getattr(connection, "_thread", None)
        clean = worker is not None and worker.daemon and not connection.in_transaction
        if clean and failed is None and len(self._idle) < self._max_idle:
            self._idle.append(connection)
        else:
            await connection.close()

    async def close_idle(self) -> None:
        """Close the kept connections (at shutdown)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        _refuse_nul(args)
        connection = await self.get_connection()
        failed: BaseException | None = None
        try:
            async with connection.execute(query, args or []) as cursor:
                return await cursor.fetchall()
        except sqlite3.OperationalError as error:
            failed = error
            raise
        finally:
            await self.release(connection, failed=failed)

    async def _run_in_existing_connection(
        self,
        connection: aiosqlite.Connection,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        """Piccolo's, without the `PRAGMA foreign_keys = 1` it sends before every statement.

        Every connection here got that pragma (and the dict rows) once, when it was opened.
        """
        _refuse_nul(args)
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> SQLiteTransaction:
        return _PooledTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)


class _PooledTransaction(SQLiteTransaction):
    """A transaction that hands its connection back to the engine instead of closing it."""

    engine: PooledSQLiteEngine

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            failed = exception if isinstance(exception, sqlite3.OperationalError) else None
            await self.engine.release(self.connection, failed=failed)
            self.engine.current_transaction.reset(self.context)
        return exception is None


DB: Engine = engine_for(Settings().database)

# Filled by the areas' registration (`register_tables`), never by importing them here.
APP_CONFIG = AppConfig(app_name=APP_NAME, migrations_folder_path=str(migrations_path()), table_classes=[])

APP_REGISTRY = AppRegistry(apps=["refurb.db"])


def use_engine(engine: Engine) -> None:
    """Point every table (and Piccolo's migration table) at `engine`."""
    global DB
    DB = engine
    for table in (*APP_CONFIG.table_classes, Migration):
        table._meta.db = engine


def current_engine() -> Engine:
    """The engine the tables use now."""
    return DB


def is_sqlite() -> bool:
    """True on the embedded engine."""
    return isinstance(DB, SQLiteEngine)


_COMPILED: dict[str, str] = {}


def _numbered(sql: str) -> str:
    """`{}` placeholders (Piccolo's raw style) as PostgreSQL's `$1, $2…`, compiled once per statement."""
    compiled = _COMPILED.get(sql)
    if compiled is None:
        pieces, number = [], 0
        for literal, field, _, _ in Formatter().parse(sql):
            pieces.append(literal)
            if field is not None:
                number += 1
                pieces.append(f"${number}")
        compiled = "".join(pieces)
        if len(_COMPILED) < 10_000:  # statements are written in the code; a bound all the same
            _COMPILED[sql] = compiled
    return compiled


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """A hand-written statement with `{}` placeholders: its rows as dicts, in the current transaction if any.

    What `Table.raw(sql, *args)` does, without its per-statement cost (a query
    object, the placeholders parsed again, a pool round for each statement): on
    the hot routes that is about a fifth of a plain transition's Python time.
    """
    engine = DB
    if isinstance(engine, PostgresEngine):
        transaction = engine.current_transaction.get()
        if transaction is not None:
            records = await transaction.connection.fetch(_numbered(sql), *args)
            return [dict(record.items()) for record in records]
        if engine.pool is not None:
            records = await engine.pool.fetch(_numbered(sql), *args)
            return [dict(record.items()) for record in records]
    rows = await engine.run_querystring(QueryString(sql, *args))
    return list(rows) if rows else []


def write_transaction() -> Any:
    """A transaction for writes: IMMEDIATE on SQLite so concurrent writers queue, not fail."""
    if isinstance(DB, SQLiteEngine):
        return _sqlite_write_transaction(DB)
    return DB.transaction()


def single_write() -> Any:
    """Around one write statement: SQLite's writers still queue; PostgreSQL needs no BEGIN and COMMIT."""
    if isinstance(DB, SQLiteEngine):
        return _sqlite_write_transaction(DB)
    return contextlib.nullcontext()


_SQLITE_WRITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


@contextlib.asynccontextmanager
async def _sqlite_write_transaction(engine: SQLiteEngine) -> AsyncIterator[Any]:
    """SQLite has one writer at a time: this process's writers wait in line for it.

    Without the line, each waits in SQLite's busy handler, which sleeps in growing
    steps (up to 100 ms) and lets ten reception stations wait seconds for a lock
    that was free most of the time. Other processes still meet the busy timeout.
    """
    if engine.current_transaction.get() is not None:  # nested: the outer one holds the line
        async with engine.transaction(transaction_type=TransactionType.immediate) as transaction:
            yield transaction
        return
    loop = asyncio.get_running_loop()
    line = _SQLITE_WRITERS.get(loop)
    if line is None:
        line = _SQLITE_WRITERS[loop] = asyncio.Lock()
    async with line, engine.transaction(transaction_type=TransactionType.immediate) as transaction:
        yield transaction


#: Open statement logs (see `statements`); empty in normal running, so a statement costs one check.
_STATEMENT_LOGS: list[list[str]] = []


def _log_statement(sql: str) -> None:
    for log in _STATEMENT_LOGS:
        log.append(sql)


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement the app sends while open, on either engine (for the query budgets of hot routes).

    PostgreSQL's pool connections report through asyncpg's query logger, SQLite's
    through the sqlite3 trace callback (which also sees BEGIN and COMMIT).
    """
    log: list[str] = []
    _STATEMENT_LOGS.append(log)
    try:
        yield log
    finally:
        _STATEMENT_LOGS.remove(log)


async def _watch_connection(connection: asyncpg.Connection) -> None:
    connection.add_query_logger(lambda record: _STATEMENT_LOGS and _log_statement(record.query))


async def _keep_session(_: asyncpg.Connection) -> None:
    """Return a connection to the pool as it is.

    asyncpg's default reset sends one more query (RESET ALL, UNLISTEN, …) per
    release, i.e. per query outside a transaction. Refurb sets no session state,
    listens to nothing and takes no advisory locks; an open transaction is still
    rolled back by asyncpg before this runs.
    """


@contextlib.asynccontextmanager
async def connection_pool(settings: Settings) -> AsyncIterator[None]:
    """Open the PostgreSQL pool for the app's lifetime; close SQLite's kept connections after it."""
    if isinstance(DB, PostgresEngine):
        engine = DB
        await engine.start_connection_pool(
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            reset=_keep_session,
            init=_watch_connection,
        )
        try:
            yield
        finally:
            try:  # a connection broken mid-query is never released: do not wait for it forever
                await asyncio.wait_for(engine.close_connection_pool(), timeout=POOL_CLOSE_TIMEOUT_S)
            except TimeoutError:
                if engine.pool is not None:
                    engine.pool.terminate()
    else:
        try:
            yield
        finally:
            if isinstance(DB, PooledSQLiteEngine):
                await DB.close_idle()


def prepare_sqlite_file(path: Path) -> None:
    """Create the folder and switch the file to WAL, which persists in the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """Applied and pending migration ids, oldest first."""

    applied: Sequence[str]
    pending: Sequence[str]


async def migration_status() -> MigrationStatus:
    """Which migrations of `migrations/` the database has run."""
    manager = BaseMigrationManager()
    with contextlib.redirect_stdout(io.StringIO()):
        await manager.create_migration_table()
        modules = manager.get_migration_modules(APP_CONFIG.resolved_migrations_folder_path)
        known = manager.get_migration_ids(modules)
        ran = await Migration.get_migrations_which_ran(app_name=APP_NAME)
    return MigrationStatus(
        applied=[m for m in known if m in set(ran)],
        pending=[m for m in known if m not in set(ran)],
    )


async def upgrade() -> list[str]:
    """Apply every pending migration; returns the ids applied."""
    if isinstance(DB, SQLiteEngine):
        prepare_sqlite_file(Path(DB.path))
    before = await migration_status()
    if not before.pending:
        return []
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        result = await ForwardsMigrationManager(app_name=APP_NAME).run()
    if not result.success:
        raise MigrationError(result.message or output.getvalue())
    return list(before.pending)


async def database_status() -> dict[str, Any]:
    """Reachability and round-trip time of the database, for `/health`."""
    started = time.perf_counter()
    try:
        await Migration.raw("SELECT 1").run()
    except Exception as exc:
        return {"status": "unavailable", "engine": DB.engine_type, "error": type(exc).__name__}
    return {
        "status": "ok",
        "engine": DB.engine_type,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


# Both engines accept 32,766 bound parameters or more per statement; stay well under.
MAX_PARAMETERS = 30_000
MAX_ROWS_PER_INSERT = 1_000


async def insert_many(
    table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, returning: str | None = None
) -> list[dict[str, Any]]:
    """Many rows in few statements, sent straight to the driver on the caller's write transaction.

    For bulk writes (a 10,000-row manifest): building Piccolo query strings for
    100,000 values costs more than the database does. SQLite gets multi-row
    INSERTs; PostgreSQL one `INSERT … SELECT FROM unnest(arrays)` with one
    parameter per column, whatever the number of rows.
    """
    if not rows:
        return []
    transaction = DB.current_transaction.get()
    if transaction is None:
        raise RuntimeError("insert_many runs inside write_transaction()")
    connection = transaction.connection
    head = f"INSERT INTO {table} ({', '.join(columns)}) "
    tail = f" RETURNING {returning}" if returning else ""
    if not isinstance(DB, SQLiteEngine):
        types = await _column_types(connection, table)
        arrays = ", ".join(f"${i + 1}::{types[name]}[]" for i, name in enumerate(columns))
        sql = head + f"SELECT * FROM unnest({arrays})" + tail  # noqa: S608 - names from code
        values = [list(column) for column in zip(*rows, strict=True)]
        if returning:
            return [dict(record) for record in await connection.fetch(sql, *values)]
        await connection.execute(sql, *values)
        return []
    width = len(columns)
    per_statement = max(1, min(MAX_ROWS_PER_INSERT, MAX_PARAMETERS // width))
    out: list[dict[str, Any]] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        sql = head + "VALUES " + ", ".join(["(" + ", ".join(["?"] * width) + ")"] * len(chunk)) + tail
        values = [value for row in chunk for value in row]
        _refuse_nul(values)
        async with connection.execute(sql, values) as cursor:
            fetched = await cursor.fetchall()  # Piccolo's connections return dicts
        if returning:
            out.extend(fetched)
    return out


def json_value(value: Any, empty: Any = None) -> Any:
    """A JSON column as Python: SQLite gives text, PostgreSQL parsed values; `empty` for NULL."""
    if value is None:
        return empty
    return json.loads(value) if isinstance(value, str) else value


IDS_PER_STATEMENT = 900  # under SQLite's 999 host parameters, with room for a few more


def chunked(values: Sequence[T], size: int = IDS_PER_STATEMENT) -> list[list[T]]:
    """Values in slices small enough for one `IN (…)` list."""
    return [list(values[start : start + size]) for start in range(0, len(values), size)]


async def update_many(
    table: str, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, keep_empty: bool = False
) -> None:
    """Set `columns` of many rows, each row `(key value, *column values)`, in few statements.

    The counterpart of `insert_many` for bulk evidence (a folder of wiping
    reports updates a thousand media): `UPDATE … FROM` a list of values.
    `keep_empty`: an empty text value keeps what the row had.
    """

    def value(name: str, source: str) -> str:
        return f"COALESCE(NULLIF({source}, ''), {table}.{name})" if keep_empty else source

    if not rows:
        return
    transaction = DB.current_transaction.get()
    if transaction is None:
        raise RuntimeError("update_many runs inside write_transaction()")
    connection = transaction.connection
    names = [key, *columns]
    if not isinstance(DB, SQLiteEngine):
        types = await _column_types(connection, table)
        arrays = ", ".join(f"${i + 1}::{types[name]}[]" for i, name in enumerate(names))
        assignments = ", ".join(f"{name} = {value(name, f'v.{name}')}" for name in columns)
        sql = (
            f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({', '.join(names)}) "  # noqa: S608
            f"WHERE {table}.{key} = v.{key}"
        )
        await connection.execute(sql, *[list(column) for column in zip(*rows, strict=True)])
        return
    width = len(names)
    assignments = ", ".join(
        f"{name} = {value(name, f'v.column{index + 2}')}" for index, name in enumerate(columns)
    )
    per_statement = max(1, min(MAX_ROWS_PER_INSERT, MAX_PARAMETERS // width))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values = ", ".join(["(" + ", ".join(["?"] * width) + ")"] * len(chunk))
        sql = f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v WHERE {table}.{key} = v.column1"  # noqa: S608
        async with connection.execute(sql, [value for row in chunk for value in row]):
            pass


_COLUMN_TYPES: dict[str, dict[str, str]] = {}


async def _column_types(connection: asyncpg.Connection, table: str) -> dict[str, str]:
    """PostgreSQL's type of each column, to type unnest's arrays (read once per table)."""
    if table not in _COLUMN_TYPES:
        records = await connection.fetch(
            "SELECT a.attname, format_type(a.atttypid, NULL) AS type FROM pg_attribute a "
            "WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            table,
        )
        _COLUMN_TYPES[table] = {r["attname"]: r["type"] for r in records}
    return _COLUMN_TYPES[table]
