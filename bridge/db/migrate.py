"""Bring a database schema up to date with the alembic migrations shipped in this package."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

# Found next to this file so that it works from an installed package, not only a checkout.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic `Config` built in code: the package ships no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


async def upgrade_to_head(engine: AsyncEngine) -> list[str]:
    """Apply every missing migration in one transaction; return the revisions applied.

    An up-to-date database gets no DDL at all, so the result is then empty.
    """
    async with engine.begin() as connection:
        applied = await connection.run_sync(_upgrade_to_head)
    if applied:
        log.info("Applied database migrations: %s", ", ".join(applied))
    return applied


def _upgrade_to_head(connection: Connection) -> list[str]:
    applied: list[str] = []

    def record(*, step: Any, **_: Any) -> None:
        applied.append(str(step.up_revision_id))

    config = alembic_config(connection)
    config.attributes["on_version_apply"] = record
    command.upgrade(config, "head")
    return applied
