"""Create the async engine, tuned for whichever of SQLite and PostgreSQL the URL names."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import PoolResetState

from ..security import private_sqlite_files
from . import sqlite_driver

# Milliseconds a SQLite writer waits for another connection's write lock before failing (in
# aiosqlite's thread: sqlite_driver.py).
SQLITE_BUSY_TIMEOUT_MS = 10_000


def create_engine(url: str, schema: str | None = None) -> AsyncEngine:
    """An engine for `url`; on PostgreSQL, `schema` (if given) is the only schema searched.

    ``hide_parameters``: an error's message and SQLAlchemy's own logging never show the values
    of a statement, since some (the stored login) are secrets.
    """
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        if schema is not None:
            raise ValueError("a schema can only be chosen on PostgreSQL")
        private_sqlite_files(url)  # before SQLite makes the file with the umask's permissions
        # The pool's reset is ours (below): SQLAlchemy's rolls back even after a commit.
        engine = create_async_engine(
            url,
            hide_parameters=True,
            pool_reset_on_return=None,
            async_creator=sqlite_driver.connector(url, SQLITE_BUSY_TIMEOUT_MS),
        )
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        connect_args: dict[str, Any] = {}
        if schema is not None:
            connect_args["server_settings"] = {"search_path": schema}
        # pre_ping: a PostgreSQL restart must not cost the bridge its next request.
        return create_async_engine(
            url, connect_args=connect_args, pool_pre_ping=True, hide_parameters=True
        )
    raise ValueError(
        f"unsupported database {backend!r}: use sqlite+aiosqlite or postgresql+asyncpg"
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Python's sqlite3 would BEGIN lazily and skip DDL; SQLAlchemy emits BEGIN below, so that
        # migrations are atomic and every transaction starts where SQLAlchemy says it does.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL: readers never block the writer, and commits need no full fsync of the database.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "reset")
    def on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        # A connection goes back to the pool with no transaction open, as SQLAlchemy's own
        # reset ensures, but without its ROLLBACK after every COMMIT: SQLite itself says
        # whether a transaction is open.
        if state.asyncio_safe and dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        # Straight on the driver's connection: SQLAlchemy would compile the statement, make a
        # cursor, use it and close it, for every transaction of every message.
        driver = connection.connection.driver_connection
        assert isinstance(driver, sqlite_driver.Connection)  # checked out just now
        driver.begin()
