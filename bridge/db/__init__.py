"""The bridge's SQL store (SQLite or PostgreSQL), migrated with alembic at start-up."""

from .database import Database
from .rows import InboundRow, NewOutbound, OutboundRow, PortalRow, PuppetRow, UserRow
from .state_store import SQLStateStore

__all__ = [
    "Database",
    "InboundRow",
    "NewOutbound",
    "OutboundRow",
    "PortalRow",
    "PuppetRow",
    "SQLStateStore",
    "UserRow",
]
