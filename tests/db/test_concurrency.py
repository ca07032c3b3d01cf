"""Many coroutines writing at once: SQLite's single writer must queue them, not fail them."""

from __future__ import annotations

import asyncio

from mautrix.types import UserID

from bridge.db import Database, NewOutbound, UserRow
from bridge.qq.client import TextMessage

OWNERS = [f"@user{number}:example.org" for number in range(8)]


async def test_concurrent_writers_all_succeed(database: Database) -> None:
    await asyncio.gather(*(database.save_user(UserRow(owner)) for owner in OWNERS))

    async def traffic(owner: str) -> None:
        for batch in range(5):
            await database.add_inbound(owner, [TextMessage(1, f"{batch}a"), TextMessage(1, "b")])
            await database.add_outbound(
                [NewOutbound(owner, 1, "!r:hs", f"${owner}/{batch}", "text")]
            )
            await database.state_store.registered(UserID(f"@qq_{batch}:{owner}"))

    await asyncio.gather(*(traffic(owner) for owner in OWNERS))

    inbound = await database.pending_inbound()
    assert len(inbound) == len(OWNERS) * 5 * 2
    assert len({row.id for row in inbound}) == len(inbound)
    for owner in OWNERS:
        mine = await database.pending_inbound(owner)
        assert [row.event() for row in mine] == [
            TextMessage(1, text) for b in range(5) for text in (f"{b}a", "b")
        ]
        assert len(await database.pending_outbound(owner)) == 5
