"""The inbound journal and the outbound queue: batches, duplicates, pending and finishing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError

from bridge.db import Database, NewOutbound, OutboundRow, OutboundState
from bridge.db.models import InboundModel
from bridge.qq.client import Event, FriendRequest, TextMessage

from .people import ALICE, BOB, outbound


@contextmanager
def counting_transactions(database: Database) -> Iterator[list[int]]:
    """Counts the transactions begun inside the block (the list holds one entry each)."""
    begun: list[int] = []

    def on_begin(_connection: Any) -> None:
        begun.append(1)

    event.listen(database.engine.sync_engine, "begin", on_begin)
    try:
        yield begun
    finally:
        event.remove(database.engine.sync_engine, "begin", on_begin)


# inbound


async def test_inbound_batch_is_one_transaction_with_ids_in_order(users: Database) -> None:
    items: list[Event] = [
        TextMessage(10002, "一"),
        TextMessage(10003, "二"),
        FriendRequest(10002, "三"),
    ]
    before = time.time()
    with counting_transactions(users) as begun:
        added = await users.add_inbound(ALICE, items)
    after = time.time()

    assert len(begun) == 1
    assert [row.event() for row in added] == items
    assert [row.type for row in added] == ["TextMessage", "TextMessage", "FriendRequest"]
    assert [row.id for row in added] == sorted({row.id for row in added})
    for row in added:
        assert row.owner == ALICE
        assert before <= row.received_at <= after
        assert (row.done, row.event_id) == (False, None)
    assert await users.pending_inbound(ALICE) == added

    later = await users.add_inbound(ALICE, [TextMessage(10004, "四")])
    assert later[0].id > added[-1].id


async def test_inbound_batch_is_all_or_nothing(users: Database) -> None:
    broken: list[Any] = [TextMessage(10002, "kept?"), ("not", "an", "event")]
    with pytest.raises(TypeError):
        await users.add_inbound(ALICE, broken)
    assert await users.pending_inbound() == []


async def test_empty_inbound_batch(users: Database) -> None:
    assert await users.add_inbound(ALICE, []) == []
    assert await users.pending_inbound() == []


async def test_inbound_needs_a_known_owner(users: Database) -> None:
    with pytest.raises(IntegrityError):
        await users.add_inbound("@stranger:hs", [TextMessage(1, "hi")])


async def test_pending_inbound_by_owner_and_overall(users: Database) -> None:
    first = await users.add_inbound(ALICE, [TextMessage(10, "a1")])
    second = await users.add_inbound(BOB, [TextMessage(20, "b1")])
    third = await users.add_inbound(ALICE, [TextMessage(10, "a2")])
    assert await users.pending_inbound(ALICE) == first + third
    assert await users.pending_inbound(BOB) == second
    assert await users.pending_inbound() == first + second + third
    assert await users.pending_inbound("@nobody:hs") == []


async def test_finished_inbound_leaves_the_pending_list(users: Database) -> None:
    first, second, third = await users.add_inbound(
        ALICE, [TextMessage(10, "a"), TextMessage(10, "b"), TextMessage(10, "c")]
    )
    # first: nothing worth sending to Matrix
    await users.finish_inbound({second.id: "$delivered", first.id: None})
    assert await users.pending_inbound() == [third]

    async with users.engine.connect() as connection:
        finished = await connection.execute(
            select(InboundModel.id, InboundModel.done, InboundModel.event_id).order_by("id")
        )
        assert [tuple(row) for row in finished] == [
            (first.id, True, None),
            (second.id, True, "$delivered"),
            (third.id, False, None),
        ]


async def test_finishing_an_unknown_inbound_row_fails_and_marks_none(users: Database) -> None:
    (row,) = await users.add_inbound(ALICE, [TextMessage(10, "a")])
    with pytest.raises(LookupError):
        await users.finish_inbound({row.id: "$x", 12345: "$y"})
    assert await users.pending_inbound() == [row]


# outbound


async def test_outbound_batch_is_one_transaction_with_ids_in_order(users: Database) -> None:
    items = [outbound("$1", text="一"), outbound("$2", owner=BOB), outbound("$3")]
    before = time.time()
    with counting_transactions(users) as begun:
        added = await users.add_outbound(items)
    after = time.time()

    assert len(begun) == 1
    assert [row.id for row in added] == sorted({row.id for row in added})
    for row, item in zip(added, items, strict=True):
        assert (row.owner, row.uin, row.room_id, row.event_id, row.text) == (
            item.owner,
            item.uin,
            item.room_id,
            item.event_id,
            item.text,
        )
        assert before <= row.created_at <= after
        assert (row.state, row.error) == ("pending", None)
    assert await users.pending_outbound() == added


async def test_outbound_duplicates_are_ignored_and_not_returned(users: Database) -> None:
    first = await users.add_outbound([outbound("$1"), outbound("$2")])
    # Synapse retries the transaction, with one new event; the batch repeats one of its own.
    retry = await users.add_outbound(
        [outbound("$2", text="changed"), outbound("$3"), outbound("$3", text="again")]
    )
    assert [row.event_id for row in retry] == ["$3"]
    assert retry[0].text == "hello"
    assert retry[0].id > first[-1].id
    assert await users.pending_outbound() == first + retry
    assert await users.add_outbound([outbound("$1")]) == []
    assert await users.add_outbound([]) == []


async def test_outbound_batch_is_all_or_nothing(users: Database) -> None:
    broken = [outbound("$1"), outbound("$2", owner="@stranger:hs"), outbound("$3")]
    with pytest.raises(IntegrityError):
        await users.add_outbound(broken)
    assert await users.pending_outbound() == []
    # The rolled-back event ids were not remembered.
    assert [row.event_id for row in await users.add_outbound([outbound("$1")])] == ["$1"]


async def test_pending_outbound_by_owner_and_finish(users: Database) -> None:
    a1, b1, a2, a3 = await users.add_outbound(
        [outbound("$a1"), outbound("$b1", owner=BOB), outbound("$a2"), outbound("$a3")]
    )
    assert await users.pending_outbound(ALICE) == [a1, a2, a3]
    assert await users.pending_outbound(BOB) == [b1]

    await users.finish_outbound(a1.id, OutboundState.SENT)
    await users.finish_outbound(a2.id, OutboundState.FAILED, "QQ said 0x0A: not a friend")
    assert await users.pending_outbound(ALICE) == [a3]
    assert await users.pending_outbound() == [b1, a3]

    # Back to pending (a retry), and what the failed row recorded.
    await users.finish_outbound(a2.id, OutboundState.PENDING)
    (_, again, _) = await users.pending_outbound()
    assert again == OutboundRow(**{**vars(a2), "state": OutboundState.PENDING, "error": None})


async def test_failed_outbound_keeps_its_error(users: Database) -> None:
    (row,) = await users.add_outbound([outbound("$1")])
    await users.finish_outbound(row.id, OutboundState.FAILED, "timeout")
    async with users.engine.connect() as connection:
        stored = await connection.execute(text("SELECT state, error FROM outbound"))
        assert [tuple(r) for r in stored] == [("failed", "timeout")]


async def test_a_redaction_is_noted_once_on_a_row_sent_or_being_sent(users: Database) -> None:
    sent, pending, failed, bobs = await users.add_outbound(
        [outbound("$sent"), outbound("$pending"), outbound("$failed"), outbound("$b", owner=BOB)]
    )
    await users.finish_outbound(sent.id, OutboundState.SENT)
    await users.finish_outbound(failed.id, OutboundState.FAILED, "timeout")
    await users.finish_outbound(bobs.id, OutboundState.SENT)
    note = "redacted in Matrix"

    assert await users.note_redacted(ALICE, "$sent", note) is OutboundState.SENT
    assert await users.note_redacted(ALICE, "$sent", note) is None  # the second time: nothing
    # Pending: the row in the QQ client's hands (the outbound queue cancels any other).
    assert await users.note_redacted(ALICE, "$pending", note) is OutboundState.PENDING
    assert await users.note_redacted(ALICE, "$failed", note) is None
    assert await users.note_redacted(ALICE, "$never-queued", note) is None  # a reaction
    assert await users.note_redacted(ALICE, "$b", note) is None  # someone else's
    async with users.engine.connect() as connection:
        stored = await connection.execute(text("SELECT event_id, state, error FROM outbound"))
        assert sorted(tuple(r) for r in stored) == [
            ("$b", "sent", None),
            ("$failed", "failed", "timeout"),
            ("$pending", "pending", note),
            ("$sent", "sent", note),
        ]
    # Sent at last: the note comes back, for its sender to be told now.
    assert await users.sent_outbound(pending.id) == note
    assert await users.sent_outbound(bobs.id) is None


async def test_finish_outbound_checks_its_arguments(users: Database) -> None:
    (row,) = await users.add_outbound([outbound("$1")])
    with pytest.raises(ValueError, match="state"):
        await users.finish_outbound(row.id, "delivered")  # type: ignore[arg-type]
    with pytest.raises(LookupError):
        await users.finish_outbound(row.id + 1000, OutboundState.SENT)
    assert await users.pending_outbound() == [row]


async def test_sqlite_pending_queries_use_the_pending_indexes(users: Database) -> None:
    if users.engine.dialect.name != "sqlite":
        pytest.skip("query plans are checked on SQLite, where they are deterministic")
    executed: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        executed.append((statement, parameters))

    event.listen(users.engine.sync_engine, "before_cursor_execute", record)
    try:
        await users.pending_inbound(ALICE)
        await users.pending_inbound()
        await users.pending_outbound(ALICE)
        await users.pending_outbound()
    finally:
        event.remove(users.engine.sync_engine, "before_cursor_execute", record)

    selects = [(sql, params) for sql, params in executed if sql.lstrip().startswith("SELECT")]
    assert len(selects) == 4
    async with users.engine.connect() as connection:
        for sql, params in selects:
            plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            details = " ".join(str(row[-1]) for row in plan)
            assert "ix_inbound_pending" in details or "ix_outbound_pending" in details, details


async def test_prune_deletes_only_old_finished_rows(
    users: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = 86400.0
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now - 40 * day)  # rows journalled 40 days ago
    old_done, old_pending = await users.add_inbound(
        ALICE, [TextMessage(10, "a"), TextMessage(10, "b")]
    )
    old_sent, old_waiting = await users.add_outbound(
        [NewOutbound(ALICE, 10, "!r:x", "$old1", "c"), NewOutbound(ALICE, 10, "!r:x", "$old2", "d")]
    )
    monkeypatch.setattr(time, "time", lambda: now)
    (recent_done,) = await users.add_inbound(ALICE, [TextMessage(10, "e")])
    (recent_sent,) = await users.add_outbound([NewOutbound(ALICE, 10, "!r:x", "$new", "f")])
    await users.finish_inbound({old_done.id: "$x", recent_done.id: "$y"})
    await users.finish_outbound(old_sent.id, OutboundState.SENT)
    await users.finish_outbound(recent_sent.id, OutboundState.SENT)

    assert await users.prune_finished(older_than=30 * day) == 2
    assert [row.id for row in await users.pending_inbound()] == [old_pending.id]
    assert [row.id for row in await users.pending_outbound()] == [old_waiting.id]
    assert await users.prune_finished(older_than=30 * day) == 0
    # A new row never reuses a pruned id, so transaction ids derived from ids stay unique.
    (newest,) = await users.add_inbound(ALICE, [TextMessage(10, "g")])
    assert newest.id > recent_done.id
