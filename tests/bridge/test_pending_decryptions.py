"""An encrypted event without its key: it waits, its sender is told once, and it ends."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from mautrix.types import EncryptedEvent

from bridge.e2ee.pending import PendingDecryptions


def encrypted(event_id: str) -> EncryptedEvent:
    return EncryptedEvent.deserialize(
        cast(
            Any,
            {
                "type": "m.room.encrypted",
                "event_id": event_id,
                "room_id": "!room:hs",
                "sender": "@alice:hs",
                "origin_server_ts": 1,
                "content": {
                    "algorithm": "m.megolm.v1.aes-sha2",
                    "ciphertext": "x",
                    "sender_key": "k",
                    "device_id": "D",
                    "session_id": "s",
                },
            },
        )
    )


class Outcomes:
    def __init__(self, key_after_waits: int | None) -> None:
        self.key_after_waits = key_after_waits  # None: the key never comes
        self.waits = 0
        self.log: list[str] = []
        self.done = asyncio.Event()
        self.pending = PendingDecryptions(self.wait, self.arrived, self.told, self.gave_up)

    async def wait(self, event: EncryptedEvent, timeout: float) -> bool:
        self.waits += 1
        await asyncio.sleep(0)
        return self.key_after_waits is not None and self.waits >= self.key_after_waits

    async def arrived(self, event: EncryptedEvent) -> None:
        self.log.append(f"handled {event.event_id}")
        self.done.set()

    async def told(self, event: EncryptedEvent) -> None:
        self.log.append("told")

    async def gave_up(self, event: EncryptedEvent) -> None:
        self.log.append("failed")
        self.done.set()


async def test_a_key_that_arrives_at_once_needs_no_notice() -> None:
    outcomes = Outcomes(key_after_waits=1)
    outcomes.pending.add(encrypted("$a"))
    await outcomes.done.wait()
    assert outcomes.log == ["handled $a"]
    assert "$a" not in outcomes.pending


async def test_a_late_key_gets_one_notice_and_the_event_is_handled() -> None:
    outcomes = Outcomes(key_after_waits=2)
    outcomes.pending.add(encrypted("$a"))
    outcomes.pending.add(encrypted("$a"))  # Synapse sent it again meanwhile
    await outcomes.done.wait()
    assert outcomes.log == ["told", "handled $a"]


async def test_a_key_that_never_comes_fails_the_event() -> None:
    outcomes = Outcomes(key_after_waits=None)
    outcomes.pending.add(encrypted("$a"))
    await outcomes.done.wait()
    assert outcomes.log == ["told", "failed"]
    assert "$a" not in outcomes.pending
