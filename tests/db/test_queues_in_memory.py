"""The journals' rows handed to their workers in memory (inbound.py, outbound.py): every row
still delivered exactly once and in order, whether it was left by an earlier run (in the store
only), just committed (in memory too), past the memory's page (in the store again) or failed
once (retried first)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from mautrix.types import EventID
from sqlalchemy import select

from bridge.db import Database, InboundRow, OutboundRow, OutboundState
from bridge.db.journal import PAGE
from bridge.db.models import InboundModel
from bridge.inbound import Inbound
from bridge.outbound import Outbound
from bridge.qq.clock import FakeClock
from bridge.qq.wire.replies import Event, TextMessage
from bridge.worker import LAST_RETRY

from .people import ALICE, outbound


class Gate:
    """Holds deliveries until opened; fails the rows named in ``fail_once`` once each."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.open.set()
        self.fail_once: set[int] = set()
        self.done: list[int] = []

    async def pass_(self, row_id: int) -> None:
        await self.open.wait()
        if row_id in self.fail_once:
            self.fail_once.discard(row_id)
            raise RuntimeError(f"row {row_id} fails once")
        self.done.append(row_id)


class GatedInbound(Inbound):
    """Delivers to the gate instead of Matrix; the rest (marking rows done) is Inbound's."""

    gate: Gate

    async def _deliver(self, row: InboundRow) -> EventID | None:
        await self.gate.pass_(row.id)
        return EventID(f"$event{row.id}")


class GatedOutbound(Outbound):
    gate: Gate

    async def _send(self, row: OutboundRow) -> bool:
        await self.gate.pass_(row.id)
        await self.user.bridge.db.finish_outbound(row.id, OutboundState.SENT)
        return True


def fake_user(database: Any, clock: FakeClock) -> Any:
    return SimpleNamespace(mxid=ALICE, bridge=SimpleNamespace(db=database, clock=clock))


async def drained(worker: Any, clock: FakeClock) -> None:
    """Until the worker is idle, moving the clock past any back-off it waits out."""
    while not worker.idle.is_set():
        await clock.advance(LAST_RETRY)
        await asyncio.sleep(0.01)


async def test_inbound_rows_from_store_memory_and_overflow_each_once_in_order(
    users: Database,
) -> None:
    clock, gate = FakeClock(), Gate()
    earlier = await users.add_inbound(ALICE, [TextMessage(10002, f"old {i}") for i in range(3)])
    inbound = GatedInbound(fake_user(users, clock))
    inbound.gate = gate
    gate.open.clear()  # the worker is busy: what comes meanwhile piles up
    texts: list[Event] = [TextMessage(10002, f"new {i}") for i in range(PAGE + 30)]
    for start in range(0, len(texts), 10):
        await inbound.record(texts[start : start + 10])
    rows = await users.pending_inbound(ALICE, limit=None)
    gate.fail_once = {earlier[1].id, rows[-1].id, rows[40].id}
    gate.open.set()
    await drained(inbound.worker, clock)
    assert gate.done == [row.id for row in rows]  # all, once each, in order
    assert await users.pending_inbound(ALICE) == []
    await inbound.worker.stop()


async def test_outbound_rows_from_store_memory_and_overflow_each_once_in_order(
    users: Database,
) -> None:
    clock, gate = FakeClock(), Gate()
    earlier = await users.add_outbound([outbound(f"$old{i}") for i in range(3)])
    queue = GatedOutbound(fake_user(users, clock))
    queue.gate = gate
    gate.open.clear()
    for i in range(PAGE + 30):
        claimed, row = await users.claim_message(f"$new{i}", "!dm:hs", outbound(f"$new{i}"))
        assert claimed and row is not None
        queue.queued(row)
    rows = await users.pending_outbound(ALICE, limit=None)
    gate.fail_once = {earlier[2].id, rows[50].id, rows[-1].id}
    gate.open.set()
    await drained(queue.worker, clock)
    assert gate.done == [row.id for row in rows]
    assert await users.pending_outbound(ALICE) == []
    assert await users.claim_message("$new0", "!dm:hs", outbound("$new0")) == (False, None)
    await queue.worker.stop()


class CountedFinishes:
    """The store, counting the transactions that mark inbound rows done."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.marked: list[list[int]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.database, name)

    async def finish_inbound(self, delivered: dict[int, str | None]) -> None:
        await self.database.finish_inbound(delivered)
        self.marked.append(sorted(delivered))


async def held_inbound(store: Any, clock: FakeClock, gate: Gate, *batches: int) -> GatedInbound:
    """An inbound queue over ``store`` whose deliveries wait at ``gate`` (closed here), with one
    recorded batch of that many QQ texts for each number in ``batches``."""
    inbound = GatedInbound(fake_user(store, clock))
    inbound.gate = gate
    gate.open.clear()
    sent = 0
    for size in batches:
        await inbound.record([TextMessage(10002, f"m{i}") for i in range(sent, sent + size)])
        sent += size
    return inbound


async def test_inbound_rows_delivered_in_one_drain_are_marked_done_in_one_transaction(
    users: Database,
) -> None:
    clock, gate = FakeClock(), Gate()
    counted = CountedFinishes(users)
    inbound = await held_inbound(counted, clock, gate, 1)
    gate.open.set()
    await drained(inbound.worker, clock)  # the journal is read once, at the first drain
    counted.marked.clear()
    gate.done.clear()
    gate.open.clear()  # from now on, batches are handed over in memory while the worker waits
    for size in (5, 3):
        await inbound.record([TextMessage(10002, f"later {i}") for i in range(size)])
    rows = await users.pending_inbound(ALICE)
    gate.open.set()
    await drained(inbound.worker, clock)
    assert gate.done == [row.id for row in rows]
    assert counted.marked == [[row.id for row in rows]]  # one write for the whole drain
    async with users.engine.connect() as connection:
        marked = await connection.execute(
            select(InboundModel.event_id)
            .where(InboundModel.id.in_([row.id for row in rows]))
            .order_by("id")
        )
        assert [event_id for (event_id,) in marked] == [f"$event{row.id}" for row in rows]
    await inbound.worker.stop()


async def test_rows_delivered_before_a_failure_are_marked_and_never_delivered_again(
    users: Database,
) -> None:
    clock, gate = FakeClock(), Gate()
    counted = CountedFinishes(users)
    inbound = await held_inbound(counted, clock, gate, 4)
    rows = await users.pending_inbound(ALICE)
    gate.fail_once = {rows[2].id}
    gate.open.set()
    await drained(inbound.worker, clock)
    ids = [row.id for row in rows]
    assert gate.done == ids
    # The failed drain marked the two before the failure; the retry, the other two.
    assert counted.marked == [ids[:2], ids[2:]]
    assert await users.pending_inbound(ALICE) == []
    await inbound.worker.stop()


class FailsToMarkAPageOnce(CountedFinishes):
    """The store, failing the first write that marks a whole page of rows done."""

    failed = False

    async def finish_inbound(self, delivered: dict[int, str | None]) -> None:
        if len(delivered) >= PAGE and not self.failed:
            self.failed = True
            raise OSError("database is locked")
        await super().finish_inbound(delivered)


async def test_a_failed_write_marking_rows_done_delivers_none_of_them_again(
    users: Database,
) -> None:
    clock, gate = FakeClock(), Gate()
    failing = FailsToMarkAPageOnce(users)
    inbound = await held_inbound(failing, clock, gate, PAGE + 3)
    rows = await users.pending_inbound(ALICE, limit=None)
    gate.open.set()
    await drained(inbound.worker, clock)
    assert failing.failed
    assert gate.done == [row.id for row in rows]  # each once, though a write failed
    assert await users.pending_inbound(ALICE) == []
    await inbound.worker.stop()
