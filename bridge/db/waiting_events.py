"""Encrypted events waiting for their keys (bridge/e2ee/pending.py), so a restart keeps them."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import delete, select, update

from .crypto_models import CryptoWaitingEventModel as Waiting
from .store_base import StoreBase


class WaitingEventQueries(StoreBase):
    async def add_waiting_event(self, event_id: str, event: dict[str, Any]) -> bool:
        """Record that ``event`` waits for its key; False if it already did."""
        statement = (
            self._insert(Waiting)
            .values(event_id=event_id, event=event, received_at=time.time(), told=False)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(Waiting.event_id)
        )
        async with self._sessions.begin() as session:
            return await session.scalar(statement) is not None

    async def waiting_event_told(self, event_id: str) -> None:
        """Its sender was told that it waits."""
        statement = update(Waiting).where(Waiting.event_id == event_id).values(told=True)
        async with self._sessions.begin() as session:
            await session.execute(statement)

    async def forget_waiting_event(self, event_id: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(Waiting).where(Waiting.event_id == event_id))

    async def waiting_events(self) -> list[tuple[dict[str, Any], float, bool]]:
        """(event, seconds it has waited, told) of every waiting event, oldest first."""
        now = time.time()
        async with self._sessions() as session:
            rows = await session.scalars(select(Waiting).order_by(Waiting.received_at))
            return [(row.event, max(0.0, now - row.received_at), row.told) for row in rows]
