"""What every query class shares: the session factory and portable upserts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ..security import CredentialVault
from .models import Base

DialectInsert = postgresql.Insert | sqlite.Insert
T = TypeVar("T")


class StoreBase:
    """Holds the sessions; each public method of a subclass is one short transaction."""

    # Seals the stored QQ logins; None (tests of the store alone) stores them as given.
    _vault: CredentialVault | None = None

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str) -> None:
        self._sessions = sessions
        self._dialect = dialect

    @property
    def _engine(self) -> AsyncEngine:
        """For the statements of every message (the journals): SQL on a connection skips the
        ORM session's bookkeeping, about a third of each statement's CPU."""
        engine = self._sessions.kw["bind"]
        assert isinstance(engine, AsyncEngine)
        return engine

    async def _transaction(self, work: Callable[[Connection], T]) -> T:
        """``work(connection)`` in one transaction (committed if it returns, rolled back if it
        raises), for the statements of every message. Its statements run in one greenlet:
        SQLAlchemy's async connection would start one per statement, and for BEGIN and COMMIT,
        and those cost more than a journal's statement itself (docs/performance.md)."""
        async with self._engine.connect() as connection:
            return await connection.run_sync(_in_transaction, work)

    def _insert(self, model: type[Base]) -> DialectInsert:
        """An INSERT that understands ON CONFLICT, which both databases support."""
        if self._dialect == "postgresql":
            return postgresql.insert(model)
        return sqlite.insert(model)

    def _upsert(
        self,
        model: type[Base],
        values: Mapping[str, Any],
        key: Iterable[str],
        update: Iterable[str] | None = None,
    ) -> DialectInsert:
        """INSERT `values`, or UPDATE the row with the same `key` columns.

        The update sets the `update` columns, by default every non-key column of `values`.
        """
        key = list(key)
        if update is None:
            update = [name for name in values if name not in key]
        insert = self._insert(model).values(dict(values))
        changes = {name: insert.excluded[name] for name in update}
        return insert.on_conflict_do_update(index_elements=key, set_=changes)


def _in_transaction(connection: Connection, work: Callable[[Connection], T]) -> T:
    with connection.begin():
        return work(connection)
