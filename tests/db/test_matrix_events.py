"""Matrix events recorded by id, pages of pending rows, and cancelling one queued row."""

from __future__ import annotations

import time

from sqlalchemy import update

from bridge.db import Database
from bridge.db.models import MatrixEventModel
from bridge.qq.client import TextMessage

from .people import ALICE, BOB, outbound


async def test_an_event_is_claimed_once(users: Database) -> None:
    assert await users.claim_event("$a", "!room:hs")
    assert not await users.claim_event("$a", "!room:hs")
    assert await users.event_outcome("$a") == ("handled", None)
    assert await users.event_outcome("$never") is None


async def test_a_claim_and_its_outbound_row_go_in_together(users: Database) -> None:
    assert await users.claim_event("$m", "!dm:hs", outbound("$m", text="一"))
    # The replay queues nothing more, even with other text.
    assert not await users.claim_event("$m", "!dm:hs", outbound("$m", text="二"))
    assert [row.text for row in await users.pending_outbound(ALICE)] == ["一"]


async def test_a_failed_event_is_recorded_once_and_blocks_a_later_claim(users: Database) -> None:
    assert await users.fail_event("$bad", "!dm:hs", "nested too deeply")
    assert not await users.fail_event("$bad", "!dm:hs", "nested too deeply")
    assert await users.event_outcome("$bad") == ("failed", "nested too deeply")
    assert not await users.claim_event("$bad", "!dm:hs", outbound("$bad"))
    assert await users.pending_outbound(ALICE) == []


async def test_old_records_are_pruned(users: Database) -> None:
    await users.claim_event("$old", "!r:hs")
    await users.claim_event("$new", "!r:hs")
    async with users._sessions.begin() as session:
        await session.execute(
            update(MatrixEventModel)
            .where(MatrixEventModel.event_id == "$old")
            .values(received_at=time.time() - 40 * 86400)
        )
    assert await users.prune_matrix_events(older_than=30 * 86400) == 1
    assert await users.event_outcome("$old") is None
    assert await users.event_outcome("$new") is not None


async def test_pending_rows_come_in_pages(users: Database) -> None:
    await users.add_inbound(ALICE, [TextMessage(10002, str(n)) for n in range(5)])
    first = await users.pending_inbound(ALICE, limit=2)
    second = await users.pending_inbound(ALICE, after=first[-1].id, limit=2)
    third = await users.pending_inbound(ALICE, after=second[-1].id, limit=2)
    assert [row.event() for row in first + second + third] == [
        TextMessage(10002, str(n)) for n in range(5)
    ]
    assert await users.pending_inbound(ALICE, after=third[-1].id, limit=2) == []

    await users.add_outbound([outbound(f"$o{n}", text=str(n)) for n in range(3)])
    page = await users.pending_outbound(ALICE, limit=2)
    rest = await users.pending_outbound(ALICE, after=page[-1].id, limit=2)
    assert [row.text for row in page + rest] == ["0", "1", "2"]


async def test_cancelling_touches_only_the_owner_s_pending_row(users: Database) -> None:
    await users.add_outbound([outbound("$x"), outbound("$y", owner=BOB)])
    assert not await users.cancel_outbound(ALICE, "$y", "redacted")  # Bob's, not Alice's
    assert await users.cancel_outbound(ALICE, "$x", "redacted before sending")
    assert not await users.cancel_outbound(ALICE, "$x", "redacted")  # already failed
    assert await users.pending_outbound(ALICE) == []
    assert [row.event_id for row in await users.pending_outbound(BOB)] == ["$y"]
