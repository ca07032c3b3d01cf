"""An encrypted event without its key: it waits, its sender is told once, and it ends; a
restart takes the wait up again where it was."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from mautrix.types import EncryptedEvent

from bridge.e2ee.pending import PendingDecryptions


def encrypted(event_id: str) -> EncryptedEvent:
    raw: Any = {
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
    }
    return EncryptedEvent.deserialize(raw)


class MemoryWaitingStore:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[dict[str, Any], float, bool]] = {}

    async def add_waiting_event(self, event_id: str, event: dict[str, Any]) -> bool:
        if event_id in self.rows:
            return False
        self.rows[event_id] = (event, 0.0, False)
        return True

    async def waiting_event_told(self, event_id: str) -> None:
        event, waited, _ = self.rows[event_id]
        self.rows[event_id] = (event, waited, True)

    async def forget_waiting_event(self, event_id: str) -> None:
        self.rows.pop(event_id, None)

    async def waiting_events(self) -> list[tuple[dict[str, Any], float, bool]]:
        return list(self.rows.values())


class Outcomes:
    def __init__(self, key_after_waits: int | None, store: MemoryWaitingStore | None = None):
        self.key_after_waits = key_after_waits  # None: the key never comes
        self.timeouts: list[float] = []
        self.log: list[str] = []
        self.done = asyncio.Event()
        self.store = store or MemoryWaitingStore()
        self.pending = PendingDecryptions(
            self.store, self.wait, self.arrived, self.told, self.gave_up
        )

    async def wait(self, event: EncryptedEvent, timeout: float) -> bool:
        self.timeouts.append(timeout)
        await asyncio.sleep(0)
        return self.key_after_waits is not None and len(self.timeouts) >= self.key_after_waits

    async def arrived(self, event: EncryptedEvent) -> None:
        self.log.append(f"handled {event.event_id}")
        self.done.set()

    async def told(self, event: EncryptedEvent) -> None:
        self.log.append("told")

    async def gave_up(self, event: EncryptedEvent) -> None:
        self.log.append("failed")
        self.done.set()


async def settle(outcomes: Outcomes) -> None:
    await outcomes.done.wait()
    for _ in range(3):  # the record is forgotten right after the outcome
        await asyncio.sleep(0)


async def test_a_key_that_arrives_at_once_needs_no_notice() -> None:
    outcomes = Outcomes(key_after_waits=1)
    await outcomes.pending.add(encrypted("$a"))
    assert "$a" in outcomes.store.rows  # recorded before the transaction is acknowledged
    await settle(outcomes)
    assert outcomes.log == ["handled $a"]
    assert "$a" not in outcomes.pending and outcomes.store.rows == {}


async def test_a_late_key_gets_one_notice_and_the_event_is_handled() -> None:
    outcomes = Outcomes(key_after_waits=2)
    await outcomes.pending.add(encrypted("$a"))
    await outcomes.pending.add(encrypted("$a"))  # Synapse sent it again meanwhile
    await settle(outcomes)
    assert outcomes.log == ["told", "handled $a"]
    assert outcomes.timeouts == [3.0, 600.0]


async def test_a_key_that_never_comes_fails_the_event() -> None:
    outcomes = Outcomes(key_after_waits=None)
    await outcomes.pending.add(encrypted("$a"))
    await settle(outcomes)
    assert outcomes.log == ["told", "failed"]
    assert "$a" not in outcomes.pending and outcomes.store.rows == {}


async def test_a_restart_resumes_the_wait_for_the_time_left_without_telling_twice() -> None:
    store = MemoryWaitingStore()
    store.rows["$a"] = (cast(dict[str, Any], encrypted("$a").serialize()), 103.0, True)
    outcomes = Outcomes(key_after_waits=None, store=store)
    assert await outcomes.pending.resume() == 1
    await settle(outcomes)
    assert outcomes.log == ["failed"]  # told before the restart: not again
    assert outcomes.timeouts == [500.0]
    assert store.rows == {}
