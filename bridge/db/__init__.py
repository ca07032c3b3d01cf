"""The bridge's SQL store (SQLite or PostgreSQL), migrated with alembic at start-up."""

from .database import Database
from .queues import QueueDepths
from .rows import (
    InboundRow,
    LoginState,
    NewOutbound,
    OutboundRow,
    OutboundState,
    PortalKind,
    PortalRow,
    PuppetRow,
    UserRow,
)
from .state_store import SQLStateStore

__all__ = [
    "Database",
    "InboundRow",
    "LoginState",
    "NewOutbound",
    "OutboundRow",
    "OutboundState",
    "PortalKind",
    "PortalRow",
    "PuppetRow",
    "QueueDepths",
    "SQLStateStore",
    "UserRow",
]
