"""Matrix → QQ: the queue stored before Synapse's transaction is acknowledged, sent in order.

Each row is sent with the QQ client's paced send queue; the outcome (sent, or failed with a
reason shown in the room) is written back, so a restart resumes exactly where it stopped.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

from . import metrics
from .db import OutboundRow, OutboundState
from .db.journal import PAGE
from .formatter.fallbacks import REDACTION_NOTICE
from .qq.client import QQ_FAILURES, SendFailed
from .worker import Worker

if TYPE_CHECKING:
    from .user import User

log = logging.getLogger("bridge.outbound")

SENT, FAILED = OutboundState.SENT, OutboundState.FAILED
# On a row sent or being sent: the note that makes a redaction of it answered once
# (db.note_redacted); on a row still pending after a restart, it is not sent again.
REDACTED = "redacted in Matrix"
SEND_FAILURES: tuple[type[Exception], ...] = (SendFailed, *QQ_FAILURES)


class Outbound:
    def __init__(self, user: User) -> None:
        self.user = user
        self.worker = Worker(f"outbound {user.mxid}", self._drain, user.bridge.clock)
        self._sending: str | None = None  # the Matrix event id being handed to QQ right now
        self._cancelled: set[str] = set()
        # Rows queued by this process since the queue was last read, as in inbound.py: the
        # worker takes them from here instead of reading them back (a query per message); at
        # most a page of them, the rest read from the store again once these are sent.
        self._fresh: deque[OutboundRow] = deque()
        self._queue_read = False
        self._overflowed = False

    def queued(self, row: OutboundRow | None) -> None:
        """A row was committed to the queue (None: one whose row the store did not return)."""
        if row is None or self._overflowed or len(self._fresh) >= PAGE:
            self._overflowed = True  # in the store, which is read once these are sent
        else:
            self._fresh.append(row)
        self.worker.wake()

    async def cancel(self, event_id: str) -> bool:
        """A redaction of a message not yet sent: drop it from the queue instead."""
        if event_id == self._sending:
            return False  # already in the QQ client's hands
        # Told before the database is asked: the worker may hold this row in a page it read
        # earlier, and must not start sending it while the update runs.
        self._cancelled.add(event_id)
        db = self.user.bridge.db
        try:
            cancelled = await db.cancel_outbound(
                self.user.mxid, event_id, "redacted before sending"
            )
        except BaseException:
            self._cancelled.discard(event_id)
            raise
        if not cancelled:
            self._cancelled.discard(event_id)
        return cancelled

    async def redacted(self, event_id: str) -> bool:
        """The user redacted ``event_id`` in Matrix. True when it reached QQ, which cannot
        delete it, and the user has not been told so yet: they are to be told now.

        A message still queued is dropped instead (nothing to tell). One in the QQ client's
        hands is noted in the database and told about once it is sent (or its failure is
        told). Anything else never went to QQ (a reaction, a notice, a command) and needs no
        word.
        """
        if await self.cancel(event_id):
            return False
        state = await self.user.bridge.db.note_redacted(self.user.mxid, event_id, REDACTED)
        if state is OutboundState.PENDING:
            for row in self._fresh:  # the database first: memory follows the note
                if row.event_id == event_id:
                    row.error = REDACTED
        return state is SENT

    async def _drain(self) -> None:
        if not self._fresh:
            self._queue_read = False  # woken with nothing handed over: read the store
        while True:
            if not self._queue_read:
                await self._drain_queue()
            # A failure raises with the row still first here: the retry starts with it. A row
            # left pending (a new client logged in meanwhile) is sent again at once.
            while self._fresh:
                if await self._send(self._fresh[0]):
                    self._fresh.popleft()
            if not self._overflowed:
                break
            self._overflowed, self._queue_read = False, False
        self._cancelled.clear()  # what was cancelled is failed in the database: never read again

    async def _drain_queue(self) -> None:
        """Every pending row in the store, oldest first, a page at a time."""
        db, sent = self.user.bridge.db, set()
        try:
            # A row left pending (sent again by a new client) comes back first.
            while rows := await db.pending_outbound(self.user.mxid):
                left_pending = False
                for row in rows:
                    if await self._send(row):
                        sent.add(row.id)
                    else:
                        left_pending = True
                if len(rows) < PAGE and not left_pending:
                    break  # the last page: rows queued since then are in self._fresh
        finally:
            if sent:  # also after a failure: a row is never sent twice from here
                self._fresh = deque(row for row in self._fresh if row.id not in sent)
        self._queue_read = True

    async def _send(self, row: OutboundRow) -> bool:
        """Send one row; False if it stays pending (for a client logged in meanwhile)."""
        user, db = self.user, self.user.bridge.db
        client = await user.wait_for_client()
        portal = await user.bridge.portal(user, row.uin)
        # A notice goes before the row is finished: if the homeserver is away, the worker
        # retries the row, and the sender is told (perhaps twice, never not at all).
        if client is None:
            await portal.notice("Not sent to QQ: you are not logged in. Send `login` to the bot.")
            await db.finish_outbound(row.id, FAILED, "not logged in")
            metrics.failed(metrics.TO_QQ)
            return True
        if row.uin not in user.friends and not portal.warned_not_friend:
            portal.warned_not_friend = True
            await portal.notice(
                f"QQ {row.uin} is not your friend: QQ may not show them this message "
                "until they have written to you or accepted you as a friend."
            )
        if row.event_id in self._cancelled:
            self._cancelled.discard(row.event_id)
            return True  # failed in the database by cancel()
        if row.error == REDACTED:
            # Redacted while a client before a restart (or a new login) was sending it: the
            # user deleted it, so it is not sent again.
            await db.finish_outbound(row.id, FAILED, REDACTED)
            return True
        self._sending = row.event_id
        try:
            await client.send_text(row.uin, row.text)
        except SEND_FAILURES as error:
            if client is not user.client:
                self._sending = None
                return False  # logged in again meanwhile: still pending, for the new client
            reason = getattr(error, "reason", None) or str(error)
            log.warning("Message %s to QQ %d failed: %s", row.event_id, row.uin, reason)
            await portal.notice(f"Not sent to QQ: {reason}")
            self._sending = None
            await db.finish_outbound(row.id, FAILED, reason)
            metrics.failed(metrics.TO_QQ)
            return True
        except BaseException:
            self._sending = None
            raise
        # Still "sending" until the row says SENT: a redaction meanwhile notes the pending row,
        # and the note comes back here; one after it finds the row sent and is answered there.
        try:
            note = await db.sent_outbound(row.id)
        finally:
            self._sending = None
        metrics.bridged(metrics.TO_QQ)
        if note == REDACTED:
            await portal.notice(REDACTION_NOTICE)
        return True
