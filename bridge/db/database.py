"""The bridge's database: opened (and migrated) once at start-up, shared by everything."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from ..security import CredentialVault
from .contacts import ContactQueries
from .crypto_cache import CachedCryptoStore
from .crypto_store import SQLCryptoStore
from .engine import create_engine
from .matrix_events import MatrixEventQueries
from .migrate import upgrade_to_head
from .queues import QueueQueries
from .state_store import SQLStateStore
from .waiting_events import WaitingEventQueries


class Database(ContactQueries, MatrixEventQueries, WaitingEventQueries, QueueQueries):
    """Every query of the bridge; each method is one short transaction.

    ``db = await Database.open("sqlite+aiosqlite:///bridge.db")`` (or a
    ``postgresql+asyncpg://`` URL); ``await db.close()`` when done.
    """

    engine: AsyncEngine
    state_store: SQLStateStore

    def __init__(self, engine: AsyncEngine, vault: CredentialVault | None = None) -> None:
        # Rows are copied out before a session ends, so nothing needs reloading after commit.
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        super().__init__(sessions, engine.dialect.name)
        self.engine = engine
        self._vault = vault
        self.state_store = SQLStateStore(sessions, engine.dialect.name)

    @classmethod
    async def open(
        cls, url: str, schema: str | None = None, vault: CredentialVault | None = None
    ) -> Database:
        """Connect and migrate the schema to the latest revision.

        `schema` (PostgreSQL only) puts every table in that existing schema instead of the
        connection's default, so that several bridges or test runs can share one database.
        `vault` seals the stored QQ logins (the bridge always gives one).
        """
        engine = create_engine(url, schema)
        try:
            await upgrade_to_head(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, vault)

    def crypto_store(self, account_id: str, pickle_key: str) -> SQLCryptoStore:
        """The bot device's encryption store, in this database (bridge/e2ee/), with what every
        message reads kept in memory (crypto_cache.py)."""
        return CachedCryptoStore(
            self._sessions, self._dialect, account_id=account_id, pickle_key=pickle_key
        )

    async def close(self) -> None:
        await self.engine.dispose()
