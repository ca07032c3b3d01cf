"""QQ → Matrix: every event is journalled in SQL first, then delivered, then marked done.

The Matrix transaction id of a delivery is derived from its journal row, so replaying the journal
after a crash makes Synapse answer with the event it already has instead of a duplicate.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

import aiohttp
from mautrix.errors import MatrixConnectionError, MatrixRequestError
from mautrix.types import EventID

from . import metrics
from .db import InboundRow
from .db.journal import PAGE
from .db.text import storable
from .homeserver import is_unreachable
from .qq.codes import Status
from .qq.wire.replies import (
    BatchUnreadable,
    Event,
    EventsDropped,
    FriendRequest,
    RequestAccepted,
    RequestRejected,
    StatusChange,
    TextMessage,
    UnknownEvent,
)
from .worker import Worker

if TYPE_CHECKING:
    from .user import User

log = logging.getLogger("bridge.inbound")

MESSAGE, STATUS, REQUEST, ACCEPTED, REJECTED, UNKNOWN, DROPPED = (
    "message",
    "status",
    "request",
    "accepted",
    "rejected",
    "unknown",
    "dropped",
)
# A row that fails this many times in a row is handed to the user as a notice instead.
MAX_ATTEMPTS = 5


def is_transient(error: BaseException) -> bool:
    """A failure that goes away by itself: the homeserver or the network briefly away."""
    if isinstance(error, MatrixRequestError):
        return error.http_status >= 500 or error.http_status == 429 or error.http_status == 0
    return isinstance(error, MatrixConnectionError | aiohttp.ClientError | TimeoutError | OSError)


def journal_item(event: Event) -> tuple[int, str, str]:
    """(uin, kind, text): what the journal keeps of one QQ event."""
    match event:
        case TextMessage(sender, text):
            return sender, MESSAGE, text
        case StatusChange(sender, status):
            return sender, STATUS, str(int(status))
        case FriendRequest(sender, text):
            return sender, REQUEST, text
        case RequestAccepted(sender, text):
            return sender, ACCEPTED, text
        case RequestRejected(sender, reason):
            return sender, REJECTED, reason
        case UnknownEvent(kind, sender, text):
            return sender, UNKNOWN, f"{kind}:{text}"
        case EventsDropped(count, senders):
            # The client bounds a batch (ClientSettings.max_batch_*): the rest is told, not lost
            # in silence, and never becomes thousands of rooms.
            text = (
                f"QQ sent more at once than the bridge takes in one batch: {count} events from "
                f"{senders} senders were not bridged."
            )
            return 0, DROPPED, text
        case BatchUnreadable():
            text = (
                "A reply from the QQ server could not be read, so the QQ messages in it, if "
                "any, are lost: QQ sends each message only once."
            )
            return 0, DROPPED, text
    raise TypeError(f"not a QQ event: {event!r}")


class Inbound:
    def __init__(self, user: User) -> None:
        self.user = user
        self.worker = Worker(f"inbound {user.mxid}", self._drain, user.bridge.clock)
        self._failures: dict[int, int] = {}
        # Rows journalled by this process since the journal was last read: the worker takes
        # them from here instead of reading them back (a query per batch). Only committed rows
        # are put here, and the journal is read once first (at start-up) for older ones. At
        # most a page of them: past that (Synapse away for long) they are read from the
        # journal again, a page at a time, as before.
        self._fresh: deque[InboundRow] = deque()
        self._journal_read = False
        self._overflowed = False

    async def record(self, events: list[Event]) -> None:
        """Called by the QQ client with each polled batch, before it polls again."""
        items = [(uin, kind, storable(text)) for uin, kind, text in map(journal_item, events)]
        rows = await self.user.bridge.db.add_inbound(self.user.mxid, items)
        if self._overflowed or len(self._fresh) + len(rows) > PAGE:
            self._overflowed = True  # in the journal, which is read once these are done
        else:
            self._fresh.extend(rows)
        self.worker.wake()

    async def _drain(self) -> None:
        while True:
            if not self._journal_read:
                await self._drain_journal()
            # A failure raises with the row still first here: the retry starts with it.
            while self._fresh:
                await self._deliver_or_hand_over(self._fresh[0])
                self._fresh.popleft()
            if not self._overflowed:
                return
            self._overflowed, self._journal_read = False, False

    async def _drain_journal(self) -> None:
        """Every pending row in the journal, oldest first, a page at a time."""
        db, after, delivered = self.user.bridge.db, 0, set()
        try:
            while rows := await db.pending_inbound(self.user.mxid, after=after):
                for row in rows:
                    await self._deliver_or_hand_over(row)
                    delivered.add(after := row.id)
                if len(rows) < PAGE:
                    break  # the last page: rows journalled since are in self._fresh
        finally:
            if delivered:  # also after a failure: a row is never delivered twice from here
                self._fresh = deque(row for row in self._fresh if row.id not in delivered)
        self._journal_read = True

    async def _deliver_or_hand_over(self, row: InboundRow) -> None:
        try:
            event_id = await self._deliver(row)
        except Exception as error:
            # Synapse or the network away: retry (the worker backs off, and the homeserver
            # watch ends the back-off once Synapse answers) for as long as it takes. Anything
            # else is retried a few times, then handed over as a notice.
            if is_transient(error):
                if is_unreachable(error):
                    self.user.bridge.homeserver.unreachable()
                raise
            if self._count_failure(row) < MAX_ATTEMPTS:
                raise
            log.exception("Giving up delivering journal row %d", row.id)
            event_id = await self._hand_over(row)
            metrics.failed(metrics.TO_MATRIX)
        else:
            metrics.bridged(metrics.TO_MATRIX)
        await self.user.bridge.db.finish_inbound(row.id, event_id)
        self._failures.pop(row.id, None)

    def _count_failure(self, row: InboundRow) -> int:
        self._failures[row.id] = self._failures.get(row.id, 0) + 1
        return self._failures[row.id]

    async def _hand_over(self, row: InboundRow) -> EventID | None:
        """The last resort for a row that cannot be delivered: its text in the bot's room."""
        try:
            return await self.user.notify(
                f"A QQ event from {row.uin} could not be bridged: {row.text}",
                txn_id=f"qq-in-{row.id}-notice",
            )
        except Exception:  # the text stays in the journal; the queue must not stop here
            log.exception("Could not even hand journal row %d over as a notice", row.id)
            return None

    async def _deliver(self, row: InboundRow) -> EventID | None:
        bridge, user = self.user.bridge, self.user
        txn_id = f"qq-in-{row.id}"
        if row.kind == STATUS:
            user.note_friend(row.uin)
            await bridge.presence.report(user.mxid, row.uin, Status(int(row.text)))
            return None
        if row.kind == DROPPED:
            return await user.notify(row.text, txn_id)
        if row.kind in (REJECTED, UNKNOWN):
            return await user.notify(_notice_text(row, await user.name_of(row.uin)), txn_id)
        await user.learn_profile(row.uin, fresh=row.kind == REQUEST)
        portal = await bridge.portal(user, row.uin)
        if row.kind == MESSAGE:
            return await portal.send(row.text, txn_id)
        name = await user.name_of(row.uin)
        if row.kind == ACCEPTED:
            user.friends.add(row.uin)
            await portal.became_friend()
            return await portal.send(f"{name} accepted your friend request.", txn_id, notice=True)
        # A friend request: its own room, unless a DM with this contact already exists.
        if portal.room_id is None or portal.is_request:
            await portal.open_request_room()  # kept if a replay finds it made already
            hint = "Join this room to accept, or reject the invite to refuse."
        else:
            hint = f"Send `accept {row.uin}` or `reject {row.uin} [reason]` to the bridge bot."
        text = f"{name} asks to be your QQ friend: {row.text}\n{hint}"
        return await portal.send(text, txn_id, notice=True)


def _notice_text(row: InboundRow, name: str) -> str:
    if row.kind == REJECTED:
        reason = f": {row.text}" if row.text else "."
        return f"{name} refused your friend request{reason}"
    kind, _, text = row.text.partition(":")
    return f"QQ sent an event of unknown type {kind} from {name}: {text}"
