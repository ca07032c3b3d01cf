"""Database fixtures: every test runs on a fresh SQLite file and a fresh PostgreSQL schema.

`temporary_database(kind)` is a plain async context manager so that end-to-end tests can use it
too. PostgreSQL comes from $QQ_BRIDGE_TEST_POSTGRES (e.g.
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``); without it, or without a reachable server,
the PostgreSQL variants are skipped, saying why.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bridge.db import Database, UserRow

from .people import ALICE, BOB

POSTGRES_URL_VARIABLE = "QQ_BRIDGE_TEST_POSTGRES"
DATABASE_KINDS = ("sqlite", "postgres")


@dataclass(frozen=True)
class DatabaseLocation:
    """Where a test database lives: enough to open it again after closing it."""

    url: str
    schema: str | None = None

    async def open(self) -> Database:
        return await Database.open(self.url, schema=self.schema)


@asynccontextmanager
async def temporary_location(kind: str) -> AsyncIterator[DatabaseLocation]:
    """An empty database of `kind` ("sqlite" or "postgres"), removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="qq-bridge-db-") as directory:
            yield DatabaseLocation(f"sqlite+aiosqlite:///{Path(directory) / 'bridge.db'}")
    elif kind == "postgres":
        async with _temporary_postgres_schema() as location:
            yield location
    else:
        raise ValueError(f"unknown database kind {kind!r}; use one of {DATABASE_KINDS}")


@asynccontextmanager
async def temporary_database(kind: str) -> AsyncIterator[Database]:
    """A migrated, open `Database` of `kind` ("sqlite" or "postgres"), removed afterwards."""
    async with temporary_location(kind) as location:
        database = await location.open()
        try:
            yield database
        finally:
            await database.close()


@asynccontextmanager
async def _temporary_postgres_schema() -> AsyncIterator[DatabaseLocation]:
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"PostgreSQL tests need ${POSTGRES_URL_VARIABLE} (a postgresql+asyncpg:// URL)")
    # Parallel runs and end-to-end tests share one database, each in a schema of its own.
    schema = f"qq_bridge_test_{uuid.uuid4().hex}"
    admin = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": 5})
    try:
        try:
            async with admin.begin() as connection:
                await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        except (OSError, SQLAlchemyError) as error:
            pytest.skip(f"PostgreSQL at ${POSTGRES_URL_VARIABLE} is unreachable: {error}")
        try:
            yield DatabaseLocation(url, schema)
        finally:
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        await admin.dispose()


@pytest.fixture(params=DATABASE_KINDS)
async def location(request: pytest.FixtureRequest) -> AsyncIterator[DatabaseLocation]:
    """An empty database, not yet opened (so not yet migrated)."""
    async with temporary_location(request.param) as found:
        yield found


@pytest.fixture(params=DATABASE_KINDS)
async def database(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """A migrated, open database, on SQLite and on PostgreSQL."""
    async with temporary_database(request.param) as opened:
        yield opened


@pytest.fixture
async def users(database: Database) -> Database:
    """A database with ALICE and BOB (tests/db/people.py) as bridge users."""
    await database.save_user(UserRow(ALICE, uin=1))
    await database.save_user(UserRow(BOB, uin=2))
    return database
