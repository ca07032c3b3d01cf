"""SQLite in the event loop's thread (bridge/db/sqlite_driver.py): only a statement that must
wait for another connection's lock goes to aiosqlite's thread, so waiting never blocks the loop."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.db import Database, UserRow, sqlite_driver
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
    """The calls handed to aiosqlite's thread: ``queued`` counts them as they are handed over,
    ``calls`` names them as they run there, and ``started`` is set when the first runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        self.started = threading.Event()
        self.queued = 0
        self._queue_grew = asyncio.Condition()
        run, queue = (
            sqlite_driver.Connection._waiting,
            sqlite_driver.Connection._in_aiosqlite_thread,
        )

        def running(connection: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.calls.append(getattr(fn, "__name__", repr(fn)))
            self.started.set()
            return run(connection, fn, *args, **kwargs)

        async def queued(connection: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.queued += 1
            async with self._queue_grew:
                self._queue_grew.notify_all()
            return await queue(connection, fn, *args, **kwargs)

        monkeypatch.setattr(sqlite_driver.Connection, "_waiting", running)
        monkeypatch.setattr(sqlite_driver.Connection, "_in_aiosqlite_thread", queued)

    async def until_queued(self, count: int) -> None:
        async with self._queue_grew:
            await asyncio.wait_for(self._queue_grew.wait_for(lambda: self.queued >= count), 10)


async def test_a_transaction_no_one_else_holds_a_lock_for_never_leaves_the_loops_thread(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = Trips(monkeypatch)
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (v) VALUES ('a')"))
        rows = await connection.execute(text("INSERT INTO t (v) VALUES ('b') RETURNING id"))
        assert rows.scalar_one() == 2
    assert await _values(engine) == ["a", "b"]
    assert trips.calls == []


async def test_a_write_waiting_for_another_connections_lock_leaves_the_loop_running(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = Trips(monkeypatch)
    async with engine.connect() as holder:
        await holder.execute(text("INSERT INTO t (v) VALUES ('held')"))  # the write lock
        waiting = asyncio.ensure_future(_insert(engine, "waiting"))
        # The other writer waits in aiosqlite's thread, and the loop runs on meanwhile: this
        # coroutine gets the answer of a thread of its own only through the loop.
        assert await asyncio.to_thread(trips.started.wait, 10)
        assert not waiting.done()
        await holder.commit()
    await asyncio.wait_for(waiting, 10)
    assert await _values(engine) == ["held", "waiting"]
    assert trips.calls == ["execute"]  # then its COMMIT ran in the loop's thread again


async def test_a_stale_snapshot_fails_at_once_since_no_wait_can_cure_it(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction that read, then wants to write after another connection committed, gets
    SQLITE_BUSY_SNAPSHOT: it must start again, and waiting for the lock would not help."""
    trips = Trips(monkeypatch)
    async with engine.connect() as stale:
        await stale.execute(text("SELECT count(*) FROM t"))  # its snapshot: no rows
        await _insert(engine, "meanwhile")
        with pytest.raises(OperationalError, match="locked"):
            await stale.execute(text("INSERT INTO t (v) VALUES ('stale')"))
    assert trips.calls == []
    assert await _values(engine) == ["meanwhile"]


async def test_a_writer_cancelled_while_it_waits_for_the_lock_is_cleaned_up_behind_it(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Its statement goes on waiting in aiosqlite's thread. What its cancellation then does on
    the same connection (close the cursor, roll back) must queue behind that statement there,
    not run beside it from the loop's thread: one SQLite connection, one thread at a time."""
    trips = Trips(monkeypatch)
    async with engine.connect() as holder:
        await holder.execute(text("INSERT INTO t (v) VALUES ('held')"))
        waiting = asyncio.ensure_future(_insert(engine, "cancelled"))
        assert await asyncio.to_thread(trips.started.wait, 10)
        waiting.cancel()
        await trips.until_queued(2)  # its clean-up, handed to the thread behind the statement
        assert not waiting.done()  # which still waits for the lock
        await holder.commit()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiting, 10)
    assert await _values(engine) == ["held"]
    # SQLAlchemy closed the connection it gave up, behind the statement: without an error.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def _values(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(text("SELECT v FROM t ORDER BY id"))).scalars())


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


async def test_parameters_given_as_an_iterator_survive_a_wait_for_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """executemany's rows from a generator: the first try, which found the lock taken, must not
    have spent the row it read."""
    trips = Trips(monkeypatch)
    path = tmp_path / "rows.db"
    holder, waiter = [await sqlite_driver.connector(f"sqlite:///{path}", 10_000)() for _ in "ab"]
    try:
        await holder.execute("CREATE TABLE t (v INTEGER)")
        await holder.execute("BEGIN")
        await holder.execute("INSERT INTO t VALUES (-1)")  # the write lock
        rows = asyncio.ensure_future(
            waiter.executemany("INSERT INTO t VALUES (?)", ((i,) for i in range(5)))
        )
        assert await asyncio.to_thread(trips.started.wait, 10)
        await holder.execute("COMMIT")
        await asyncio.wait_for(rows, 10)
        values = await waiter.execute_fetchall("SELECT v FROM t ORDER BY v")
        assert [v for (v,) in values] == [-1, 0, 1, 2, 3, 4]
        assert trips.calls == ["executemany"]
    finally:
        await holder.close()
        await waiter.close()


async def test_a_script_runs_in_aiosqlite_thread_where_it_may_wait(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retry would run again the statements of the script that had already run."""
    trips = Trips(monkeypatch)
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, sqlite_driver.Connection)
        await driver.executescript(
            "INSERT INTO t (v) VALUES ('one'); INSERT INTO t (v) VALUES ('two');"
        )
    assert trips.calls == ["executescript"]
    assert await _values(engine) == ["one", "two"]


def _error(code: int | None) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database is locked")
    if code is not None:
        error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    ("code", "waited_for"),
    [
        (sqlite3.SQLITE_BUSY, True),
        (sqlite3.SQLITE_BUSY_RECOVERY, True),  # another process recovering the WAL
        (sqlite3.SQLITE_BUSY_TIMEOUT, True),
        (sqlite3.SQLITE_BUSY_SNAPSHOT, False),  # the transaction must start again
        (sqlite3.SQLITE_LOCKED, False),  # a conflict within this connection's shared cache
        (None, False),  # an error Python's sqlite3 raises itself
    ],
)
def test_which_errors_are_waited_for_in_aiosqlite_thread(
    code: int | None, waited_for: bool
) -> None:
    """As SQLite's busy handler: SQLITE_BUSY and its extended codes, but a stale snapshot."""
    assert sqlite_driver._can_wait_for(_error(code)) is waited_for
