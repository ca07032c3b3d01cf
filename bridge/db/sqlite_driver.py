"""aiosqlite that runs SQLite in the event loop's thread, and waits for a lock in its own.

aiosqlite runs every call (make a cursor, execute, fetch, close it, COMMIT) on a thread of its
own and hands the result back to the event loop. Every such trip wakes that thread and then
the loop; on a virtual machine with an idle second core that costs far more CPU than the SQL
itself: a one-row transaction is ~15 µs of SQLite, and its trips were a fifth of all the
bridge's CPU (docs/performance.md).

What makes a thread necessary is waiting: a statement that needs the write lock while another
connection holds it. SQLite waits for it in its busy handler, which sleeps; done in the loop's
thread that would stop the loop, and with it the very coroutine that holds the lock and would
release it (a deadlock until the time-out). So each connection's busy time-out is 0: every call
runs at once in the loop's thread, and one that finds the lock taken (SQLITE_BUSY) is run again
in aiosqlite's thread with the real time-out, where waiting costs the loop nothing. SQLite
allows that retry: a statement that got SQLITE_BUSY changed nothing, and is what the busy
handler would have retried itself. Other busy codes (SQLITE_BUSY_SNAPSHOT: the transaction's
snapshot is stale) cannot be waited out, and fail at once as they did before.

Everything else SQLite does here is CPU, or writes to the WAL that no fsync waits for
(``synchronous=NORMAL``), except the checkpoint a COMMIT runs once the WAL passes ~4 MB, which
syncs the disk (a few ms every few hundred messages on our benchmark machine;
docs/performance.md). That stays in the loop's thread: a bridge is not that write-heavy.

This overrides one method aiosqlite keeps private (``Connection._execute``, through which all
its calls go) and uses its ``_conn``; its version is pinned in constraints.txt, and tests/db
exercise every path, so an aiosqlite that changed them fails there first.
"""

from __future__ import annotations

import asyncio
import sqlite3
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.engine import make_url

# aiosqlite's default: rows a cursor iterated with ``async for`` fetches per trip.
_ITER_CHUNK_SIZE = 64


class Connection(aiosqlite.Connection):
    def __init__(self, connector: Any, busy_timeout_ms: int) -> None:
        super().__init__(connector, _ITER_CHUNK_SIZE)
        self._busy_timeout_ms = busy_timeout_ms
        # The last call handed to aiosqlite's thread. Until it is done, every call goes there
        # after it: SQLite would make a call from the loop's thread wait for it, and it may be
        # waiting for a lock that only the loop can release (its awaiter may be gone: a task
        # cancelled while waiting does not stop the thread's call).
        self._in_thread: asyncio.Future[Any] | None = None

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` in the loop's thread; in aiosqlite's if it must wait for
        another connection's lock, or for a call of this one that did."""
        if not self._running or not self._connection:
            raise ValueError("Connection closed")  # as aiosqlite's
        if self._in_thread is None or self._in_thread.done():
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                    raise
        call = asyncio.get_running_loop().create_future()
        call.add_done_callback(_retrieved)
        self._tx.put_nowait((call, partial(self._waiting, fn, *args, **kwargs)))
        self._in_thread = call
        return await asyncio.shield(call)  # done only when the thread is

    def _waiting(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """In aiosqlite's thread: ``fn`` with the busy time-out, which is 0 in the loop's."""
        connection = self._conn
        connection.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        try:
            return fn(*args, **kwargs)
        finally:
            connection.execute("PRAGMA busy_timeout=0")

    def begin(self) -> None:
        """BEGIN (deferred): takes no lock until the transaction's first read or write."""
        self._conn.execute("BEGIN")


def _retrieved(call: asyncio.Future[Any]) -> None:
    """Marks the exception of a call whose awaiter was cancelled as seen: it was raised to no
    one, and asyncio would log it as never retrieved."""
    if not call.cancelled():
        call.exception()


def connector(url: str, busy_timeout_ms: int) -> Any:
    """For ``create_async_engine(async_creator=...)``: opens the database of ``url`` with the
    arguments SQLAlchemy's aiosqlite dialect would use, but always ``check_same_thread=False``
    (the dialect leaves it on for an in-memory database; the connection is used from two
    threads, one at a time) and a busy time-out of 0 (``busy_timeout_ms`` is the wait in
    aiosqlite's thread)."""
    parsed = make_url(url)
    args, kwargs = parsed.get_dialect()().create_connect_args(parsed)
    opener = partial(sqlite3.connect, *args, **{**kwargs, "check_same_thread": False, "timeout": 0})

    async def connect() -> aiosqlite.Connection:
        connection = Connection(opener, busy_timeout_ms)
        # As SQLAlchemy does for the connections it makes itself: a connection left open must
        # not keep the process from exiting (a supervisor restarts a bridge that dies, not one
        # that hangs).
        connection._thread.daemon = True
        return await connection

    return connect
