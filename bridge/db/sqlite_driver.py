"""aiosqlite with fewer trips to its thread: what never touches the database file runs at once.

aiosqlite runs each call on a thread of its own and hands the result back to the event loop.
Every such trip wakes that thread and then the loop; on a virtual machine with an idle second
core that costs far more CPU than the SQL (a one-row transaction is ~15 µs of SQLite and was
~1 ms with its trips; docs/performance.md). SQLAlchemy makes up to four trips per statement
(make a cursor, execute, fetch, close it) plus one for BEGIN and one for COMMIT.

Making and closing a cursor and a deferred BEGIN do no I/O and take no lock, so they run here,
in the loop's thread; whatever may wait for the disk or for another connection's lock
(executing, fetching, COMMIT, ROLLBACK) still goes to aiosqlite's thread. A one-statement
transaction takes two or three trips instead of five or six. This uses three names aiosqlite
keeps private (``Connection._conn`` and ``_thread``, ``Cursor._cursor``); its version is pinned in
constraints.txt, and tests/db exercise every path, so an aiosqlite that renamed them fails
there first.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Any

import aiosqlite
from aiosqlite.context import contextmanager
from sqlalchemy.engine import make_url

# aiosqlite's default: rows a cursor iterated with ``async for`` fetches per trip.
_ITER_CHUNK_SIZE = 64


class Cursor(aiosqlite.Cursor):
    async def close(self) -> None:
        self._cursor.close()  # frees the statement: no I/O, no lock to wait for


class Connection(aiosqlite.Connection):
    @contextmanager  # as aiosqlite's: awaited, or used with ``async with`` (SQLAlchemy does)
    async def cursor(self) -> aiosqlite.Cursor:
        return Cursor(self, self._conn.cursor())

    def begin(self) -> None:
        """BEGIN (deferred): takes no lock until the transaction's first read or write."""
        self._conn.execute("BEGIN")


def connector(url: str) -> Any:
    """For ``create_async_engine(async_creator=...)``: opens the database of ``url`` with the
    arguments SQLAlchemy's aiosqlite dialect would use, but always ``check_same_thread=False``
    (the dialect leaves it on for an in-memory database): the connection is used from the
    loop's thread too."""
    parsed = make_url(url)
    args, kwargs = parsed.get_dialect()().create_connect_args(parsed)
    opener = partial(sqlite3.connect, *args, **{**kwargs, "check_same_thread": False})

    async def connect() -> aiosqlite.Connection:
        connection = Connection(opener, _ITER_CHUNK_SIZE)
        # As SQLAlchemy does for the connections it makes itself: a connection left open must
        # not keep the process from exiting (a supervisor restarts a bridge that dies, not one
        # that hangs).
        connection._thread.daemon = True
        return await connection

    return connect
