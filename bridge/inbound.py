"""QQ → Matrix: every event is journalled in SQL first, then delivered, then marked done.

The Matrix transaction id of a delivery is derived from its journal row, so replaying the journal
after a crash makes Synapse answer with the event it already has instead of a duplicate. That is
also why rows are marked done together, once a drain of the queue ends (or every page of rows),
not one transaction each: a row delivered but not yet marked when the bridge dies is delivered
again under the same transaction id, and Synapse (which keeps a transaction id's answer for 30
minutes) sends nothing new.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, assert_never

import aiohttp
from mautrix.errors import MatrixConnectionError, MatrixRequestError
from mautrix.types import EventID

from . import metrics
from .db import InboundRow
from .db.events import describe
from .db.journal import PAGE
from .homeserver import is_unreachable
from .notices import escape
from .qq.client import (
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

# A row that fails this many times in a row is handed to the user as a notice instead.
MAX_ATTEMPTS = 5

# The client bounds a batch (ClientSettings.max_batch_*): the rest is told, not lost in silence,
# and never becomes thousands of rooms.
DROPPED = (
    "QQ sent more at once than the bridge takes in one batch: {count} events from {senders} "
    "senders were not bridged."
)
UNREADABLE = (
    "A reply from the QQ server could not be read, so the QQ messages in it, if any, are lost: "
    "QQ sends each message only once."
)


def is_transient(error: BaseException) -> bool:
    """A failure that goes away by itself: the homeserver or the network briefly away."""
    if isinstance(error, MatrixRequestError):
        return error.http_status >= 500 or error.http_status == 429 or error.http_status == 0
    return isinstance(error, MatrixConnectionError | aiohttp.ClientError | TimeoutError | OSError)


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
        # Rows delivered and not yet marked done in the journal: row id -> Matrix event.
        self._delivered: dict[int, EventID | None] = {}

    async def record(self, events: list[Event]) -> None:
        """Called by the QQ client with each polled batch, before it polls again."""
        rows = await self.user.bridge.db.add_inbound(self.user.mxid, events)
        if self._overflowed or len(self._fresh) + len(rows) > PAGE:
            self._overflowed = True  # in the journal, which is read once these are done
        else:
            self._fresh.extend(rows)
        self.worker.wake()

    async def _drain(self) -> None:
        try:
            await self._deliver_all()
        finally:  # also after a failure: what was delivered is marked
            await self._mark_delivered()

    async def _mark_delivered(self) -> None:
        """Mark the rows delivered so far done, in one transaction. Forgotten only once
        written: if the write fails, they are marked with the next ones."""
        if self._delivered:
            await self.user.bridge.db.finish_inbound(self._delivered)
            self._delivered = {}

    async def _mark_if_a_page(self) -> None:
        """Mark a page of delivered rows at once: memory stays bounded in a long drain. Called
        once the row is off the queue, so a failure here never has it delivered again."""
        if len(self._delivered) >= PAGE:
            await self._mark_delivered()

    async def _deliver_all(self) -> None:
        if not self._fresh:
            # Woken with nothing handed over (a login, the homeserver back, rows another
            # path left): the journal is the truth, read it.
            self._journal_read = False
        while True:
            if not self._journal_read:
                await self._drain_journal()
            # A failure raises with the row still first here: the retry starts with it.
            while self._fresh:
                await self._deliver_or_hand_over(self._fresh[0])
                self._fresh.popleft()
                await self._mark_if_a_page()
            if not self._overflowed:
                return
            self._overflowed, self._journal_read = False, False

    async def _drain_journal(self) -> None:
        """Every pending row in the journal, oldest first, a page at a time."""
        db, after, delivered = self.user.bridge.db, 0, set()
        try:
            # Rows delivered but not marked are pending in the journal: mark them first, or
            # they would be read, and delivered, again.
            await self._mark_delivered()
            while rows := await db.pending_inbound(self.user.mxid, after=after):
                for row in rows:
                    await self._deliver_or_hand_over(row)
                    delivered.add(after := row.id)
                    await self._mark_if_a_page()
                await self._mark_delivered()  # before the next page is read
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
        self._delivered[row.id] = event_id  # marked done when this drain ends (_drain)
        self._failures.pop(row.id, None)

    def _count_failure(self, row: InboundRow) -> int:
        self._failures[row.id] = self._failures.get(row.id, 0) + 1
        return self._failures[row.id]

    async def _hand_over(self, row: InboundRow) -> EventID | None:
        """The last resort for a row that cannot be delivered: its text in the bot's room."""
        sender, text = describe(row.type, row.payload)
        try:
            return await self.user.notify(
                f"A QQ event from {sender} could not be bridged: {text}",
                txn_id=f"qq-in-{row.id}-notice",
            )
        except Exception:  # the text stays in the journal; the queue must not stop here
            log.exception("Could not even hand journal row %d over as a notice", row.id)
            return None

    async def _deliver(self, row: InboundRow) -> EventID | None:
        """Deliver the event of ``row``; the Matrix event sent, if any. Every event type is
        handled here: mypy's ``assert_never`` fails the type check for one left out."""
        user, txn_id = self.user, f"qq-in-{row.id}"
        event = row.event()
        match event:
            case TextMessage(sender, text):
                await user.learn_profile(sender)
                return await (await user.bridge.portal(user, sender)).send(text, txn_id)
            case StatusChange(sender, status):
                user.note_friend(sender)
                await user.bridge.presence.report(user.mxid, sender, status)
                return None
            case FriendRequest(sender, text):
                return await self._friend_request(sender, text, txn_id)
            case RequestAccepted(sender, _):
                await user.learn_profile(sender)
                portal = await user.bridge.portal(user, sender)
                name = escape(await user.name_of(sender))
                await user.friends.befriend(sender)
                return await portal.announce(f"{name} accepted your friend request.", txn_id)
            case RequestRejected(sender, reason):
                name = await user.name_of(sender)
                ending = f": {reason}" if reason else "."
                return await user.notify(f"{name} refused your friend request{ending}", txn_id)
            case UnknownEvent(kind, sender, text):
                name = await user.name_of(sender)
                text = f"QQ sent an event of unknown type {kind} from {name}: {text}"
                return await user.notify(text, txn_id)
            case EventsDropped(count, senders):
                return await user.notify(DROPPED.format(count=count, senders=senders), txn_id)
            case BatchUnreadable():
                return await user.notify(UNREADABLE, txn_id)
            case _:
                assert_never(event)

    async def _friend_request(self, sender: int, text: str, txn_id: str) -> EventID | None:
        """A friend request: its own room, unless a DM with this contact already exists."""
        user = self.user
        await user.learn_profile(sender, fresh=True)  # a stranger's profile may be new
        portal = await user.bridge.portal(user, sender)
        name = escape(await user.name_of(sender))
        if portal.room_id is None or portal.is_request:
            await portal.open_request_room()  # kept if a replay finds it made already
            hint = "Join this room to accept, or reject the invite to refuse."
        else:
            hint = f"Send `accept {sender}` or `reject {sender} [reason]` to the bridge bot."
        text = f"{name} asks to be your QQ friend: {escape(text)}\n{hint}"
        return await portal.announce(text, txn_id)
