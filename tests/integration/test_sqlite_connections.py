"""SQLite keeps a few connections open; none comes back dirty, and writers queue."""

from __future__ import annotations

import asyncio

import pytest

from refurb import db
from refurb.codes.tables import CodeCounter


@pytest.fixture
def pooled(database: str) -> db.PooledSQLiteEngine:
    if not database.startswith("sqlite"):
        pytest.skip("PostgreSQL has its own pool")
    engine = db.current_engine()
    assert isinstance(engine, db.PooledSQLiteEngine)
    return engine


async def test_a_rolled_back_transaction_leaves_nothing_behind(pooled: db.PooledSQLiteEngine) -> None:
    before = await CodeCounter.count()

    async def half_way() -> None:
        async with db.write_transaction():
            await CodeCounter.insert(CodeCounter(letter="Z", last_serial=5))
            raise RuntimeError("refused half-way")

    with pytest.raises(RuntimeError):
        await half_way()
    assert await CodeCounter.count() == before
    assert all(not connection.in_transaction for connection in pooled._idle)
    async with db.write_transaction():  # the kept connection takes the next write
        await CodeCounter.insert(CodeCounter(letter="Z", last_serial=6))
    assert await CodeCounter.select(CodeCounter.last_serial).where(CodeCounter.letter == "Z") == [
        {"last_serial": 6}
    ]


async def test_concurrent_writers_all_land_and_connections_are_kept(pooled: db.PooledSQLiteEngine) -> None:
    await CodeCounter.insert(CodeCounter(letter="Y", last_serial=0))

    async def bump() -> None:
        async with db.write_transaction():
            rows = await CodeCounter.select(CodeCounter.last_serial).where(CodeCounter.letter == "Y")
            await asyncio.sleep(0)  # let the other writers try to get in
            await CodeCounter.update({CodeCounter.last_serial: rows[0]["last_serial"] + 1}).where(
                CodeCounter.letter == "Y"
            )

    await asyncio.gather(*(bump() for _ in range(40)))
    rows = await CodeCounter.select(CodeCounter.last_serial).where(CodeCounter.letter == "Y")
    assert rows == [{"last_serial": 40}]
    assert 1 <= len(pooled._idle) <= 8
    await pooled.close_idle()
    assert pooled._idle == []
