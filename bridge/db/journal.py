"""The two journals that make delivery survive a crash.

Inbound: QQ events are committed before they are sent to Matrix. Outbound: Matrix events are
committed before the appservice transaction is acknowledged. Rows are marked finished, not
deleted, so ids keep increasing and the history can be inspected.

Every message passes through these statements, so they run as SQL on a connection, not through
an ORM session (store_base.py: ``_engine``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import (
    Connection,
    CursorResult,
    RowMapping,
    Table,
    bindparam,
    case,
    delete,
    false,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.sql.dml import ReturningInsert

from ..qq.client import Event
from .events import encode_event
from .models import InboundModel, OutboundModel
from .rows import InboundRow, NewOutbound, OutboundRow, OutboundState
from .store_base import DialectInsert, StoreBase

INBOUND, OUTBOUND = cast(Table, InboundModel.__table__), cast(Table, OutboundModel.__table__)

# Built once, as every statement each message runs: building one is dearer than running it.
# One multi-row INSERT; sort_by_parameter_order makes the database assign ids in order.
_JOURNAL = insert(INBOUND).returning(*INBOUND.c, sort_by_parameter_order=True)
_MARK_DONE = (
    update(INBOUND)
    .where(INBOUND.c.id == bindparam("row_id"))
    .values(done=True, event_id=bindparam("sent"))
)
_MARK_SENT = (
    update(OUTBOUND)
    .where(OUTBOUND.c.id == bindparam("row_id"))
    .values(state=OutboundState.SENT.value)
    .returning(OUTBOUND.c.error)
)

# Pending rows are read this many at a time: a backlog of thousands of long messages must not
# be loaded into memory at once.
PAGE = 100


def queued_values(item: NewOutbound, created_at: float) -> dict[str, Any]:
    """The columns of a new pending ``outbound`` row."""
    return {
        "owner": item.owner,
        "uin": item.uin,
        "room_id": item.room_id,
        "event_id": item.event_id,
        "text": item.text,
        "created_at": created_at,
        "state": OutboundState.PENDING.value,
        "error": None,
    }


def outbound_row(columns: RowMapping) -> OutboundRow:
    """An ``outbound`` row as SQL returns it (its state a string), typed."""
    values = dict(columns)
    return OutboundRow(**{**values, "state": OutboundState(values["state"])})


class JournalQueries(StoreBase):
    # inbound

    async def add_inbound(self, owner: str, events: list[Event]) -> list[InboundRow]:
        """Journal a batch of QQ events in one transaction; ids increase in batch order."""
        if not events:
            return []
        received_at = time.time()
        values = [
            {
                "owner": owner,
                "type": type_name,
                "payload": payload,
                "received_at": received_at,
                "done": False,
                "event_id": None,
            }
            for type_name, payload in map(encode_event, events)
        ]
        inserted = await self._transaction(lambda c: c.execute(_JOURNAL, values).all())
        return [InboundRow(**row._mapping) for row in inserted]

    async def pending_inbound(
        self, owner: str | None = None, after: int = 0, limit: int | None = PAGE
    ) -> list[InboundRow]:
        """Rows not yet delivered to Matrix, oldest first: at most ``limit`` with ids above
        ``after`` (read the next page with the last id seen)."""
        query = select(INBOUND).where(INBOUND.c.done == false(), INBOUND.c.id > after)
        if owner is not None:
            query = query.where(INBOUND.c.owner == owner)
        async with self._engine.connect() as connection:
            rows = await connection.execute(query.order_by(INBOUND.c.id).limit(limit))
            return [InboundRow(**row._mapping) for row in rows]

    async def finish_inbound(self, delivered: Mapping[int, str | None]) -> None:
        """Mark rows delivered, in one statement: row id -> the Matrix event sent, if any.
        LookupError (and nothing marked) if one of the ids was never given out."""
        if not delivered:
            return
        # One UPDATE, not one per row: a drain marks all it delivered at once (inbound.py).
        # Not an executemany either: PostgreSQL's driver does not count the rows it changed.
        # One row (a quiet chat) takes the statement built once.
        if len(delivered) == 1:
            ((row_id, sent),) = delivered.items()
            statement, values = _MARK_DONE, {"row_id": row_id, "sent": sent}
        else:
            statement, values = (
                (
                    update(INBOUND)
                    .where(INBOUND.c.id.in_(list(delivered)))
                    .values(done=True, event_id=case(dict(delivered), value=INBOUND.c.id))
                ),
                {},
            )

        def mark(connection: Connection) -> None:
            if connection.execute(statement, values).rowcount != len(delivered):
                raise LookupError(f"not every inbound row of {sorted(delivered)} exists")

        await self._transaction(mark)  # rolled back if LookupError

    # outbound

    async def add_outbound(self, items: list[NewOutbound]) -> list[OutboundRow]:
        """Queue a batch in one transaction; event ids already queued are skipped, not returned."""
        created_at = time.time()

        def queue(connection: Connection) -> list[OutboundRow]:
            # Row by row: a multi-row INSERT ... ON CONFLICT DO NOTHING cannot say which rows
            # it skipped, and an appservice transaction holds only a handful of events.
            added = []
            for item in items:
                values = queued_values(item, created_at)
                row = connection.execute(self._queue_outbound_returning, values).first()
                if row is not None:
                    added.append(outbound_row(row._mapping))
            return added

        return await self._transaction(queue)

    @functools.cached_property
    def _queue_outbound(self) -> DialectInsert:
        """The INSERT of one pending row (its values: ``queued_values``); nothing if its event
        id is queued already. Built once: every Matrix message runs it."""
        return self._insert(OutboundModel).on_conflict_do_nothing(index_elements=["event_id"])

    @functools.cached_property
    def _queue_outbound_returning(self) -> ReturningInsert[Any]:
        """``_queue_outbound``, returning the row it queued."""
        return self._queue_outbound.returning(*OUTBOUND.c)

    async def pending_outbound(
        self, owner: str | None = None, after: int = 0, limit: int | None = PAGE
    ) -> list[OutboundRow]:
        """Rows not yet sent to QQ nor given up on, oldest first: at most ``limit`` with ids
        above ``after``."""
        query = select(OUTBOUND).where(
            OUTBOUND.c.state == OutboundState.PENDING.value, OUTBOUND.c.id > after
        )
        if owner is not None:
            query = query.where(OUTBOUND.c.owner == owner)
        async with self._engine.connect() as connection:
            rows = await connection.execute(query.order_by(OUTBOUND.c.id).limit(limit))
            return [outbound_row(row._mapping) for row in rows]

    async def cancel_outbound(self, owner: str, event_id: str, reason: str) -> bool:
        """Fail the pending row of ``event_id`` with ``reason``; False if there is none (sent,
        failed already, never queued, or someone else's)."""
        statement = (
            update(OutboundModel)
            .where(
                OutboundModel.event_id == event_id,
                OutboundModel.owner == owner,
                OutboundModel.state == OutboundState.PENDING,
            )
            .values(state=OutboundState.FAILED, error=reason)
        )
        async with self._sessions.begin() as session:
            result = await session.execute(statement)
        return cast(CursorResult[Any], result).rowcount == 1

    async def note_redacted(self, owner: str, event_id: str, note: str) -> OutboundState | None:
        """Write ``note`` on the row of ``event_id`` that was sent or is being sent (once
        cancel_outbound found nothing to cancel, a pending row is the one in the QQ client's
        hands); the state it had. None if there is no such row, or it was noted before: a
        message redacted twice (or by two devices) is answered once, and a reaction, a notice,
        a command or a failure has no row to note."""
        statement = (
            update(OutboundModel)
            .where(
                OutboundModel.event_id == event_id,
                OutboundModel.owner == owner,
                OutboundModel.state.in_([OutboundState.PENDING, OutboundState.SENT]),
                OutboundModel.error.is_(None),
            )
            .values(error=note)
            .returning(OutboundModel.state)
        )
        async with self._sessions.begin() as session:
            state = await session.scalar(statement)
        return OutboundState(state) if state is not None else None

    async def sent_outbound(self, row_id: int) -> str | None:
        """Mark a row sent, keeping its note: the note of a redaction that came while it was
        being sent (whose sender is to be told now), or None."""
        note = await self._transaction(lambda c: c.scalar(_MARK_SENT, {"row_id": row_id}))
        return str(note) if note is not None else None

    async def finish_outbound(
        self, row_id: int, state: OutboundState, error: str | None = None
    ) -> None:
        """Record the outcome of sending a row: SENT, or FAILED with an `error` (PENDING: send
        it again). A state that is no OutboundState raises ValueError."""
        if state not in set(OutboundState):
            raise ValueError(f"outbound state must be one of {list(OutboundState)}, not {state!r}")
        statement = update(OUTBOUND).where(OUTBOUND.c.id == row_id).values(state=state, error=error)

        def finish(connection: Connection) -> None:
            # A missing row means the caller holds an id this database never gave out.
            if connection.execute(statement).rowcount != 1:
                raise LookupError(f"no outbound row with id {row_id}")

        await self._transaction(finish)

    # both

    async def prune_finished(self, older_than: float) -> int:
        """Delete finished rows of both journals older than ``older_than`` seconds; how many.

        Safe once Synapse can no longer retry the transactions they came in (minutes to hours)
        and their transaction ids cannot be reused: row ids are never given out twice.
        """
        cutoff = time.time() - older_than
        async with self._sessions.begin() as session:
            inbound = await session.execute(
                delete(InboundModel).where(
                    InboundModel.done == true(), InboundModel.received_at < cutoff
                )
            )
            outbound = await session.execute(
                delete(OutboundModel).where(
                    OutboundModel.state != OutboundState.PENDING, OutboundModel.created_at < cutoff
                )
            )
        return sum(cast(CursorResult[Any], result).rowcount for result in (inbound, outbound))
