"""The record of Matrix events acted on: idempotency by event id, never by transaction id.

Synapse may deliver one event more than once: it retries a transaction the bridge did not
acknowledge, and on SQLite it starts transaction ids at 1 again after a restart (so a
transaction id says nothing about what was seen). The bridge therefore records the id of every
event it acts on, in the same database transaction as the event's first effect, and a second
delivery finds the record and does nothing. Rows are pruned by age (JOURNAL_RETENTION).
"""

from __future__ import annotations

import functools
import time
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, delete

from .journal import JournalQueries, outbound_row, queued_values
from .models import MatrixEventModel
from .rows import NewOutbound, OutboundRow
from .store_base import DialectInsert

HANDLED, FAILED = "handled", "failed"


def record_values(event_id: str, room_id: str, outcome: str, error: str | None) -> dict[str, Any]:
    """The columns of an event's record."""
    return {
        "event_id": event_id,
        "room_id": room_id,
        "received_at": time.time(),
        "outcome": outcome,
        "error": error,
    }


class MatrixEventQueries(JournalQueries):
    async def claim_event(
        self, event_id: str, room_id: str, outbound: NewOutbound | None = None
    ) -> bool:
        """Record ``event_id`` as handled; False if it was recorded before (do nothing then).

        ``outbound``, the text the event sends to QQ, is queued in the same transaction, so an
        event is either both recorded and queued, or neither (and Synapse's retry starts over).
        """

        def claim(connection: Connection) -> bool:  # SQL, not an ORM session (journal.py)
            record = record_values(event_id, room_id, HANDLED, None)
            if connection.execute(self._record_statement, record).rowcount != 1:
                return False
            if outbound is not None:
                connection.execute(self._queue_outbound, queued_values(outbound, time.time()))
            return True

        return await self._transaction(claim)

    async def claim_message(
        self, event_id: str, room_id: str, outbound: NewOutbound
    ) -> tuple[bool, OutboundRow | None]:
        """``claim_event`` with ``outbound``, and the queued row: (claimed, the row).

        The row is None if the event was handled before, or (never in practice) its text was
        queued already; the caller hands a row it gets straight to the queue's worker."""

        def claim(connection: Connection) -> tuple[bool, OutboundRow | None]:
            record = record_values(event_id, room_id, HANDLED, None)
            if connection.execute(self._record_statement, record).rowcount != 1:
                return False, None
            queued = queued_values(outbound, time.time())
            row = connection.execute(self._queue_outbound_returning, queued).first()
            return True, outbound_row(row._mapping) if row is not None else None

        return await self._transaction(claim)

    async def fail_event(self, event_id: str, room_id: str, error: str) -> bool:
        """Record that ``event_id`` could not be handled, and why; False if already recorded
        (as handled or failed), so its sender is told only once."""
        record = record_values(event_id, room_id, FAILED, error)
        return await self._transaction(
            lambda c: c.execute(self._record_statement, record).rowcount == 1
        )

    @functools.cached_property
    def _record_statement(self) -> DialectInsert:
        """INSERT an event's record (its values: ``record_values``); it changes no row if the
        event was recorded before. The row count says which, without a RETURNING (a trip to
        the database's thread fewer). Built once: every Matrix event runs it."""
        return self._insert(MatrixEventModel).on_conflict_do_nothing(index_elements=["event_id"])

    async def event_outcome(self, event_id: str) -> tuple[str, str | None] | None:
        """(outcome, error) recorded for ``event_id``, or None if it was never acted on."""
        async with self._sessions() as session:
            row = await session.get(MatrixEventModel, event_id)
            return (row.outcome, row.error) if row else None

    async def prune_matrix_events(self, older_than: float) -> int:
        """Forget events recorded more than ``older_than`` seconds ago; how many.

        Safe once Synapse no longer retries the transactions they came in (minutes to hours).
        """
        cutoff = time.time() - older_than
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(MatrixEventModel).where(MatrixEventModel.received_at < cutoff)
            )
        return cast(CursorResult[Any], result).rowcount
