"""Encrypted events whose key has not arrived yet: each waits, once, for its key.

A client sends the room key to the bot's device just before the message, but the two may come
in different appservice transactions, and a key from a device the bot has not met may take
longer. Waiting inside the transaction would hold back the very transaction that brings the
key, so the wait happens here, after the transaction is acknowledged: a short quiet wait, then
one notice to the sender, then a long wait; the event is then handled as if it had just arrived
(same event id, so the idempotency record still decides), or failed with a notice.

Database first: the waiting event is recorded (``crypto_waiting_events``) before its
transaction is acknowledged, with whether its sender was told, and ``resume()`` takes the waits
up again after a restart, for the time they have left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, cast

from mautrix.types import EncryptedEvent, EventID, SerializerError
from mautrix.util import background_task

log = logging.getLogger("bridge.e2ee.pending")

# Seconds before the sender is told that the key is missing, and then before the bridge gives
# up on it.
QUIET_WAIT = 3.0
KEY_WAIT = 600.0

Waiter = Callable[[EncryptedEvent, float], Awaitable[bool]]
Handler = Callable[[EncryptedEvent], Awaitable[None]]


class WaitingStore(Protocol):
    """The queries of bridge/db/waiting_events.py."""

    async def add_waiting_event(self, event_id: str, event: dict[str, Any]) -> bool: ...
    async def waiting_event_told(self, event_id: str) -> None: ...
    async def forget_waiting_event(self, event_id: str) -> None: ...
    async def waiting_events(self) -> list[tuple[dict[str, Any], float, bool]]: ...


class PendingDecryptions:
    """``await pending.add(event)`` once SessionNotFound was raised for it; replays are ignored.

    ``wait_for_key(event, timeout)`` says whether the key is there; ``arrived`` handles the
    event, ``still_waiting`` tells its sender once, ``gave_up`` fails it.
    """

    def __init__(
        self,
        store: WaitingStore,
        wait_for_key: Waiter,
        arrived: Handler,
        still_waiting: Handler,
        gave_up: Handler,
    ) -> None:
        self._store = store
        self._wait_for_key = wait_for_key
        self._arrived = arrived
        self._still_waiting = still_waiting
        self._gave_up = gave_up
        self._waiting: set[EventID] = set()
        self.quiet_wait = QUIET_WAIT
        self.key_wait = KEY_WAIT

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._waiting

    async def add(self, event: EncryptedEvent) -> None:
        """Record the event (in line: before the transaction is acknowledged), then wait."""
        if event.event_id in self._waiting:
            return  # Synapse sent it again while it waits
        await self._store.add_waiting_event(event.event_id, cast(dict[str, Any], event.serialize()))
        self._start(event, waited=0.0, told=False)

    async def resume(self) -> int:
        """Take up the waits a previous run left; how many."""
        resumed = 0
        for raw, waited, told in await self._store.waiting_events():
            try:
                event = EncryptedEvent.deserialize(cast(Any, raw))
            except (SerializerError, KeyError, TypeError, ValueError):
                log.warning("Dropping an unreadable waiting event %s", raw.get("event_id"))
                await self._store.forget_waiting_event(str(raw.get("event_id")))
                continue
            if event.event_id not in self._waiting:
                self._start(event, waited, told)
                resumed += 1
        return resumed

    def _start(self, event: EncryptedEvent, waited: float, told: bool) -> None:
        self._waiting.add(event.event_id)
        background_task.create(self._wait(event, waited, told))

    async def _wait(self, event: EncryptedEvent, waited: float, told: bool) -> None:
        try:
            if await self._wait_once(event, waited, told):
                await self._arrived(event)
            else:
                log.warning("No key arrived for %s; giving up", event.event_id)
                await self._gave_up(event)
            await self._store.forget_waiting_event(event.event_id)
        except asyncio.CancelledError:
            raise  # the bridge is stopping: the record stays for resume()
        except Exception:
            log.exception("Waiting for the key of %s failed", event.event_id)
        finally:
            self._waiting.discard(event.event_id)

    async def _wait_once(self, event: EncryptedEvent, waited: float, told: bool) -> bool:
        """Whether the key came in time; tells the sender once on the way."""
        if not told:
            if await self._wait_for_key(event, max(self.quiet_wait - waited, 0.0)):
                return True
            await self._still_waiting(event)
            await self._store.waiting_event_told(event.event_id)
        left = self.key_wait - max(waited - self.quiet_wait, 0.0)
        return await self._wait_for_key(event, max(left, 0.0))
