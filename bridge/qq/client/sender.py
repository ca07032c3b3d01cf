"""The per-account send queue: one FIFO, paced, penalties waited out, nothing dropped.

A job is one user-level action (a message, possibly split in pieces; a status change) made
of steps, each one request. Jobs run strictly one after another, so messages keep their
order; the worker task exists only while the queue is non-empty, so an idle account costs
no task here.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from ..clock import Clock
from ..wire import InvalidUin, LoginRefused, NoReply, Penalty, WireError
from .backoff import Backoff
from .errors import SendFailed, ServerUnreachable, TransportError, is_unreadable
from .pacing import Pacer
from .reachability import sleep_or_until
from .settings import ClientSettings

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[None]]


@dataclass
class Job:
    what: str  # for logs and SendFailed reasons, e.g. "message to 10002"
    steps: Sequence[Step]
    pacer: Pacer
    future: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class SendQueue:
    def __init__(
        self,
        clock: Clock,
        settings: ClientSettings,
        on_sent: Callable[[], None] = lambda: None,
        until_reachable: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``until_reachable``: returns once the server answers again (the transport's
        ``wait_reachable``); a back-off after ServerUnreachable ends there at the latest."""
        self._clock = clock
        self._settings = settings
        self._on_sent = on_sent
        self._until_reachable = until_reachable
        self.messages = Pacer(clock, settings.send_interval)
        self.statuses = Pacer(clock, settings.status_interval)
        self._jobs: deque[Job] = deque()
        self._current: Job | None = None
        self._worker: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        """Jobs waiting or in progress."""
        return len(self._jobs) + (self._current is not None)

    async def submit(self, what: str, steps: Sequence[Step], pacer: Pacer) -> None:
        """Queue the steps as one job; return when every step succeeded, else SendFailed."""
        job = Job(what, steps, pacer)
        self._jobs.append(job)
        if self._worker is None:
            self._worker = asyncio.create_task(self._work(), name=f"qq-send {what}")
        await job.future

    async def close(self, reason: str) -> None:
        """Stop the worker and fail every job not yet done with ``reason``."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
        self._fail_all(reason)

    async def _work(self) -> None:
        try:
            while self._jobs:
                job = self._current = self._jobs.popleft()
                if not job.future.done():  # its caller may have given up waiting
                    await self._run_job(job)
                self._current = None
        finally:
            if self._worker is asyncio.current_task():
                self._worker = None

    async def _run_job(self, job: Job) -> None:
        try:
            for number, step in enumerate(job.steps, start=1):
                try:
                    await self._run_step(job, step)
                except SendFailed as failure:
                    if len(job.steps) > 1:
                        failure = SendFailed(
                            f"{failure.reason} (sent {number - 1} of {len(job.steps)} pieces)"
                        )
                    raise failure from None
        except SendFailed as failure:
            log.warning("giving up on %s: %s", job.what, failure.reason)
            _settle(job.future, failure)
        except (LoginRefused, InvalidUin) as refusal:
            # The account cannot log in any more: nothing queued can ever be sent.
            _settle(job.future, SendFailed(f"cannot log in: {refusal}"))
            self._fail_all(f"cannot log in: {refusal}")
        else:
            self._on_sent()
            _settle(job.future, None)

    async def _run_step(self, job: Job, step: Step) -> None:
        settings, clock = self._settings, self._clock
        penalties = no_replies = garbled = 0
        backoff = Backoff(settings.backoff_initial, settings.backoff_max, settings.backoff_jitter)
        network_trouble_since: float | None = None
        while True:
            await job.pacer.wait()
            job.pacer.mark()
            try:
                await step()
                return
            except Penalty:
                penalties += 1
                if penalties > settings.max_penalties:
                    raise SendFailed(
                        f"the QQ server kept refusing {job.what} as too fast "
                        f"({penalties} penalties)"
                    ) from None
                log.info(
                    "%s: penalty %d, waiting %.0f s", job.what, penalties, settings.penalty_wait
                )
                job.pacer.hold_off(settings.penalty_wait)
            except NoReply:
                no_replies += 1
                if no_replies > settings.max_no_reply_retries:
                    raise SendFailed(f"the QQ server did not answer {job.what}") from None
            except TransportError as error:
                now = clock.now()
                network_trouble_since = network_trouble_since or now
                if now - network_trouble_since >= settings.send_give_up_after:
                    raise SendFailed(f"network trouble: {error}") from None
                delay = backoff.next_delay()
                if isinstance(error, ServerUnreachable) and self._until_reachable is not None:
                    # Not a minute's back-off after the server is back: the probe wakes us.
                    await sleep_or_until(clock, delay, self._until_reachable())
                else:
                    await clock.sleep(delay)
            except (LoginRefused, InvalidUin):
                raise
            except WireError as error:
                if not is_unreadable(error):  # a RES we do not know: the server means it
                    raise SendFailed(f"the QQ server refused {job.what}: {error}") from None
                # A reply we cannot read says nothing about the request: the server may or
                # may not have taken it. Sending again may deliver it twice, which beats
                # losing it (docs/protocol.md, at-least-once), but only a few times.
                garbled += 1
                if garbled > settings.max_garbled_retries:
                    raise SendFailed(
                        f"the QQ server's replies to {job.what} could not be read "
                        f"({garbled} times; the last: {error})"
                    ) from None
                delay = backoff.next_delay()
                log.warning("%s: unreadable reply (%s); retrying in %.1f s", job.what, error, delay)
                await clock.sleep(delay)

    def _fail_all(self, reason: str) -> None:
        if self._current is not None:
            _settle(self._current.future, SendFailed(reason))
            self._current = None
        while self._jobs:
            _settle(self._jobs.popleft().future, SendFailed(reason))


def _settle(future: asyncio.Future[None], outcome: BaseException | None) -> None:
    if future.done():
        return
    if outcome is None:
        future.set_result(None)
    else:
        future.set_exception(outcome)
