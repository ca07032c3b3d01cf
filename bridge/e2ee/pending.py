"""Encrypted events whose key has not arrived yet: each waits, once, for its key.

A client sends the room key to the bot's device just before the message, but the two may come
in different appservice transactions, and a key from a device the bot has not met may take
longer. Waiting inside the transaction would hold back the very transaction that brings the
key, so the wait happens here, after the transaction is acknowledged: a short quiet wait, then
one notice to the sender, then a long wait; the event is then handled as if it had just arrived
(same event id, so the idempotency record still decides), or failed with a notice.

Kept in memory: a restart of the bridge while an event waits forgets it, after its sender was
told that it waits (docs/reliability.md).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from mautrix.types import EncryptedEvent, EventID
from mautrix.util import background_task

log = logging.getLogger("bridge.e2ee.pending")

# Seconds before the sender is told that the key is missing, and before the bridge gives up.
QUIET_WAIT = 3.0
KEY_WAIT = 600.0

Waiter = Callable[[EncryptedEvent, float], Awaitable[bool]]
Handler = Callable[[EncryptedEvent], Awaitable[None]]


class PendingDecryptions:
    """``pending.add(event)`` once SessionNotFound was raised for it; replays are ignored."""

    def __init__(
        self,
        wait_for_key: Waiter,
        arrived: Handler,
        still_waiting: Handler,
        gave_up: Handler,
    ) -> None:
        self._wait_for_key = wait_for_key
        self._arrived = arrived
        self._still_waiting = still_waiting
        self._gave_up = gave_up
        self._waiting: set[EventID] = set()
        self.quiet_wait = QUIET_WAIT
        self.key_wait = KEY_WAIT

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._waiting

    def add(self, event: EncryptedEvent) -> None:
        if event.event_id in self._waiting:
            return  # Synapse sent it again while it waits
        self._waiting.add(event.event_id)
        background_task.create(self._wait(event))

    async def _wait(self, event: EncryptedEvent) -> None:
        try:
            if not await self._wait_for_key(event, self.quiet_wait):
                await self._still_waiting(event)
                if not await self._wait_for_key(event, self.key_wait):
                    log.warning("No key arrived for %s; giving up", event.event_id)
                    await self._gave_up(event)
                    return
            await self._arrived(event)
        except Exception:
            log.exception("Waiting for the key of %s failed", event.event_id)
        finally:
            self._waiting.discard(event.event_id)
