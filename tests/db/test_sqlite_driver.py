"""SQLite with fewer trips to aiosqlite's thread (bridge/db/sqlite_driver.py): what touches the
database file still goes there, so a statement waiting for a lock never blocks the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.db import Database, UserRow
from bridge.db.engine import create_engine
from bridge.qq.wire.replies import TextMessage

from .people import ALICE


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    yield engine
    await engine.dispose()


class Trips:
    """Counts the calls handed to aiosqlite's thread, by what was called."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        real = cast(Callable[..., Awaitable[Any]], aiosqlite.Connection._execute)

        async def counted(connection: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.calls.append(fn.__name__)
            return await real(connection, fn, *args, **kwargs)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)


async def test_a_one_statement_transaction_takes_two_trips_and_one_with_rows_three(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.connect() as connection:  # checked out (and set up) beforehand
        await connection.commit()
    trips = Trips(monkeypatch)
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (v) VALUES ('a')"))
    assert trips.calls == ["execute", "commit"]  # BEGIN and the cursor made and closed here
    trips.calls.clear()
    async with engine.begin() as connection:
        rows = await connection.execute(text("INSERT INTO t (v) VALUES ('b') RETURNING id"))
        assert rows.scalar_one() == 2
    assert trips.calls == ["execute", "fetchall", "commit"]


async def test_a_write_waiting_for_another_connections_lock_leaves_the_loop_running(
    engine: AsyncEngine,
) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.ensure_future(tick())
    try:
        async with engine.connect() as holder:
            await holder.execute(text("INSERT INTO t (v) VALUES ('held')"))  # the write lock
            waiting = asyncio.ensure_future(_insert(engine, "waiting"))
            before = ticks
            while ticks < before + 20:  # the loop runs on (0.2 s) while the other writer
                await asyncio.sleep(0.01)  # waits for the lock, in aiosqlite's thread
            assert not waiting.done()
            await holder.commit()
        await asyncio.wait_for(waiting, 10)
    finally:
        ticker.cancel()
    async with engine.connect() as connection:
        values = (await connection.execute(text("SELECT v FROM t ORDER BY id"))).scalars()
        assert list(values) == ["held", "waiting"]


async def _insert(engine: AsyncEngine, value: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})


async def test_the_journal_works_through_it_from_a_store_reopened(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
    database = await Database.open(url)
    try:
        await database.save_user(UserRow(ALICE))
        rows = await database.add_inbound(ALICE, [TextMessage(10, "a"), TextMessage(10, "b")])
        await database.finish_inbound({rows[0].id: "$a"})
    finally:
        await database.close()
    reopened = await Database.open(url)
    try:
        assert [row.id for row in await reopened.pending_inbound(ALICE)] == [rows[1].id]
    finally:
        await reopened.close()


async def test_an_in_memory_database_works_too() -> None:
    memory = create_engine("sqlite+aiosqlite://")
    try:
        async with memory.begin() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await memory.dispose()


async def test_a_connection_left_open_does_not_keep_the_process_from_exiting(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, aiosqlite.Connection)
        assert driver._thread.daemon  # as SQLAlchemy makes its own: a daemon thread
