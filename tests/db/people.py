"""The bridge users the journal tests share, and a queued message for them."""

from __future__ import annotations

from bridge.db import NewOutbound

ALICE = "@alice:example.org"
BOB = "@bob:example.org"


def outbound(event_id: str, owner: str = ALICE, text: str = "hello") -> NewOutbound:
    return NewOutbound(owner=owner, uin=10002, room_id="!dm:hs", event_id=event_id, text=text)
