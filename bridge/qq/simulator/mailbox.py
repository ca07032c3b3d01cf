"""The per-account queues that GetMsgEx empties."""

from __future__ import annotations

from typing import NamedTuple

from ..codes import MessageType


class Item(NamedTuple):
    type: MessageType
    sender: int
    text: str


class Mailboxes:
    """Bounded queues, kept whether or not the owner is logged in.

    Each queue holds at most ``limit`` items of bounded size, so a flood aimed at one
    account costs at most ``limit × message_limit`` bytes; empty queues are dropped.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._queues: dict[int, list[Item]] = {}

    def put(self, owner: int, item: Item) -> bool:
        """Queue ``item`` for ``owner``; False (and nothing queued) when the queue is full."""
        queue = self._queues.setdefault(owner, [])
        if len(queue) >= self.limit:
            return False
        queue.append(item)
        return True

    def take_all(self, owner: int) -> list[Item]:
        return self._queues.pop(owner, [])

    def peek(self, owner: int) -> list[Item]:
        """What ``owner`` would get from GetMsgEx now (a copy, for inspection)."""
        return list(self._queues.get(owner, ()))
