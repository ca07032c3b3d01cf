"""The GetMsgEx loop: it fetches events, hands each batch over, and is the session's heartbeat.

A fetched batch is gone from the server, so a round (fetch, then hand over) is never cut in
half: ``stop`` lets the round in progress finish. While a batch is being handed over (the
bridge journals it; that may be slow) a watchdog sends keep-alives so the session does not
lapse meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from ..clock import Clock
from ..wire import InvalidUin, LoginRefused, NoReply, Penalty, WireError
from ..wire.replies import BatchUnreadable, Event
from .backoff import Backoff
from .errors import ServerUnreachable, TransportError
from .reachability import sleep_or_until
from .schedule import PollSchedule
from .settings import ClientSettings

log = logging.getLogger(__name__)

EventHandler = Callable[[list[Event]], Awaitable[None]]


class Poller:
    def __init__(
        self,
        *,
        uin: int,
        clock: Clock,
        settings: ClientSettings,
        schedule: PollSchedule,
        fetch: Callable[[], Awaitable[list[Event]]],
        keep_alive: Callable[[], Awaitable[None]],
        deliver: EventHandler | None,
        last_contact: Callable[[], float],
        max_silence: Callable[[], float],
        until_reachable: Callable[[], Awaitable[None]],
    ) -> None:
        self._uin = uin
        self._clock = clock
        self._settings = settings
        self._schedule = schedule
        self._fetch = fetch
        self._keep_alive = keep_alive
        self._deliver = deliver
        self._last_contact = last_contact
        self._max_silence = max_silence
        self._until_reachable = until_reachable
        self._unreachable = False  # the last round found the server unreachable
        self._backoff = Backoff(
            settings.backoff_initial, settings.backoff_max, settings.backoff_jitter
        )
        self._loop_task: asyncio.Task[None] | None = None
        self._round: asyncio.Task[float | None] | None = None

    @property
    def running(self) -> bool:
        return self._loop_task is not None and not self._loop_task.done()

    def start(self) -> None:
        if not self.running:
            self._loop_task = asyncio.create_task(self._loop(), name=f"qq-poll {self._uin}")

    async def stop(self) -> None:
        task, self._loop_task = self._loop_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._round is not None:  # the batch already fetched still reaches the handler
            await asyncio.gather(self._round, return_exceptions=True)
            self._round = None

    async def _loop(self) -> None:
        budget = self._settings.poll_budget
        if budget is not None:
            budget.join()
        try:
            await self._rounds()
        finally:
            if budget is not None:
                budget.leave()

    async def _rounds(self) -> None:
        while True:
            self._round = asyncio.ensure_future(self._poll_once())
            delay = await asyncio.shield(self._round)
            self._round = None
            if delay is None:
                return
            if self._unreachable:
                # Back-off, but no longer than until the shared probe sees the server back.
                await sleep_or_until(self._clock, delay, self._until_reachable())
            else:
                await self._clock.sleep(delay)

    async def _poll_once(self) -> float | None:
        """One round; the seconds to wait before the next, or None to end the loop."""
        self._unreachable = False
        try:
            events = await self._fetch()
        except (LoginRefused, InvalidUin):
            return None  # the client already says BAD_CREDENTIALS
        except (TransportError, NoReply) as error:
            self._unreachable = isinstance(error, ServerUnreachable)
            delay = self._backoff.next_delay()
            log.info("QQ %d: poll failed (%s); retrying in %.1f s", self._uin, error, delay)
            return delay
        except Penalty:
            return self._settings.penalty_wait
        except WireError:
            # A reply we cannot read: whatever it held is lost (the server forgets a batch
            # once sent, so asking again would not bring it back); say so, and carry on.
            log.exception("QQ %d: unreadable GetMsgEx reply", self._uin)
            await self._hand_over([BatchUnreadable()])
            return self._schedule.next_interval(self._clock.now())
        self._backoff.reset()
        if events:
            self._schedule.note_activity(self._clock.now())
            await self._hand_over(events)
        return self._schedule.next_interval(self._clock.now())

    async def _hand_over(self, events: list[Event]) -> None:
        if self._deliver is None:
            log.debug("QQ %d: %d events and no handler", self._uin, len(events))
            return
        watchdog = asyncio.create_task(self._keep_session_alive())
        try:
            backoff = Backoff(
                self._settings.backoff_initial,
                self._settings.backoff_max,
                self._settings.backoff_jitter,
            )
            while True:
                try:
                    await self._deliver(events)
                    return
                except Exception:
                    # The events exist nowhere else now: keep them and try again.
                    delay = backoff.next_delay()
                    log.exception("QQ %d: event handler failed; retry in %.1f s", self._uin, delay)
                    await self._clock.sleep(delay)
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    async def _keep_session_alive(self) -> None:
        while True:
            due = self._last_contact() + self._max_silence()
            wait = due - self._clock.now()
            if wait > 0:
                await self._clock.sleep(wait)
                continue
            try:
                await self._keep_alive()
            except (TransportError, WireError) as error:
                log.info("QQ %d: keep-alive failed: %s", self._uin, error)
                await self._clock.sleep(self._max_silence())
