"""Alembic runs at start-up: it builds the schema once, matches the models, and then idles."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bridge.db import Database
from bridge.db.engine import create_engine
from bridge.db.migrate import MIGRATIONS_DIR, alembic_config, upgrade_to_head
from bridge.db.models import Base

from .conftest import DatabaseLocation

TABLES = {
    "users",
    "puppets",
    "portals",
    "face_avatars",
    "inbound",
    "outbound",
    "matrix_events",
    "mx_registrations",
    "mx_room_state",
    "mx_members",
    "crypto_account",
    "crypto_olm_sessions",
    "crypto_megolm_inbound",
    "crypto_megolm_outbound",
    "crypto_message_index",
    "crypto_tracked_users",
    "crypto_devices",
    "crypto_cross_signing_keys",
    "crypto_cross_signing_signatures",
    "crypto_waiting_events",
}


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()
    assert head_revision() == "0004"


async def test_first_upgrade_builds_the_schema_and_the_second_does_nothing(
    location: DatabaseLocation,
) -> None:
    engine = create_engine(location.url, location.schema)
    try:
        assert await upgrade_to_head(engine) == ["0001", "0002", "0003", "0004"]
        assert await upgrade_to_head(engine) == []
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()
    assert tables == {*TABLES, "alembic_version"}
    assert version == head_revision()


async def test_reopening_an_up_to_date_database_keeps_its_data(location: DatabaseLocation) -> None:
    database = await location.open()
    await database.save_face_mxc(7, "mxc://hs/seven")
    await database.close()

    database = await location.open()
    try:
        assert await upgrade_to_head(database.engine) == []
        assert await database.get_face_mxc(7) == "mxc://hs/seven"
    finally:
        await database.close()


async def test_migrated_schema_matches_the_models(database: Database) -> None:
    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_postgres_tables_live_in_the_chosen_schema(location: DatabaseLocation) -> None:
    if location.schema is None:
        pytest.skip("schemas are a PostgreSQL feature")
    database = await location.open()
    try:
        async with database.engine.connect() as connection:
            found = await connection.scalars(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": location.schema},
            )
            assert set(found) == {*TABLES, "alembic_version"}
    finally:
        await database.close()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Any) -> None:
    database = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}")
    try:
        async with database.engine.connect() as connection:
            assert await connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
    finally:
        await database.close()


async def test_a_failed_migration_leaves_no_tables(tmp_path: Any) -> None:
    """SQLAlchemy emits BEGIN itself on SQLite, so the migration's DDL is transactional."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            # The migration will fail at the index of this name, after creating earlier tables.
            await connection.execute(text("CREATE TABLE blocker (x INTEGER)"))
            await connection.execute(text("CREATE INDEX ix_outbound_pending ON blocker (x)"))
        with pytest.raises(Exception, match="ix_outbound_pending"):
            await upgrade_to_head(engine)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert tables == {"blocker"}
    finally:
        await engine.dispose()


def test_unknown_databases_and_sqlite_schemas_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database"):
        create_engine("mysql+aiomysql://localhost/bridge")
    with pytest.raises(ValueError, match="PostgreSQL"):
        create_engine("sqlite+aiosqlite:///bridge.db", schema="elsewhere")
