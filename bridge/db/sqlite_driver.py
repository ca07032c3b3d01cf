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
runs at once in the loop's thread, and one that finds the lock taken (SQLITE_BUSY, or
SQLITE_BUSY_RECOVERY while another process recovers the WAL) is run again in aiosqlite's
thread with the real time-out, where waiting costs the loop nothing. SQLite allows that retry:
a statement that got SQLITE_BUSY changed nothing, and is what the busy handler would have
retried itself. SQLITE_BUSY_SNAPSHOT (the transaction read a snapshot that another has since
written past) cannot be waited out, and fails at once, as it did with the busy handler. A call
that is more than one statement (a script, a dump, a backup) could not be retried that way,
and runs in aiosqlite's thread from the start; the bridge makes none.

What else the loop's thread now waits for, besides CPU: reads of pages that are in neither
SQLite's cache (2 MB a connection) nor the OS's; writes to the WAL, which no fsync waits for
(``synchronous=NORMAL``); and the checkpoints that sync the disk: the one a COMMIT runs once the
WAL passes 1,000 pages (4 MB; 5-8 ms every few hundred messages on our benchmark machine,
docs/performance.md), and the last connection's when the bridge stops. Recovering the WAL after
a crash happens on the first read after start-up. A bridge is not that I/O-heavy.

This overrides one method aiosqlite keeps private (``Connection._execute``, through which all
its calls go) and uses its ``_conn``; its version is pinned in constraints.txt, and tests/db
exercise every path, so an aiosqlite that changed them fails there first.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
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
        if getattr(fn, "__name__", None) in _MORE_THAN_ONE_STATEMENT:
            return await self._in_aiosqlite_thread(self._waiting, fn, *args, **kwargs)
        # Parameters given as an iterator (executemany) would be spent by a first try.
        args = tuple(list(arg) if isinstance(arg, Iterator) else arg for arg in args)
        if self._in_thread is None or self._in_thread.done():
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                if not _can_wait_for(error):
                    raise
        return await self._in_aiosqlite_thread(self._waiting, fn, *args, **kwargs)

    async def _in_aiosqlite_thread(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        call = asyncio.get_running_loop().create_future()
        self._tx.put_nowait((call, partial(fn, *args, **kwargs)))
        self._in_thread = call
        # Shielded: a cancelled awaiter leaves the call running, and _in_thread must say so.
        return await asyncio.shield(call)

    def _waiting(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """In aiosqlite's thread: ``fn`` with the busy time-out, which is 0 in the loop's."""
        connection = self._conn
        connection.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        try:
            return fn(*args, **kwargs)
        finally:
            with contextlib.suppress(sqlite3.ProgrammingError):  # fn closed the connection
                connection.execute("PRAGMA busy_timeout=0")

    def begin(self) -> None:
        """BEGIN (deferred): takes no lock until the transaction's first read or write."""
        # SQLAlchemy begins only on a connection whose last call is done: one cancelled while
        # it waited in the thread is invalidated, never used again.
        assert self._in_thread is None or self._in_thread.done()
        self._conn.execute("BEGIN")


# aiosqlite's calls (by the name of what they run) that are not one statement.
_MORE_THAN_ONE_STATEMENT = frozenset({"executescript", "dumper", "backup"})


def _can_wait_for(error: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY and its extended codes that SQLite's busy handler would wait out."""
    code = getattr(error, "sqlite_errorcode", None)  # absent from errors Python raises itself
    return (
        code is not None
        and code & 0xFF == sqlite3.SQLITE_BUSY
        and code != sqlite3.SQLITE_BUSY_SNAPSHOT
    )


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
