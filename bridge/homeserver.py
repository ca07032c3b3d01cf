"""Noticing that the homeserver is back, so that queues held up by an outage resume at once.

A queue that cannot reach the homeserver backs off (bridge/worker.py), up to half a minute.
Waiting out that back-off after Synapse is back would leave messages late for no reason, and
letting every user's queue retry every second would hammer a homeserver that is down. So the
queues report the outage here, and one probe per bridge (a GET of the unauthenticated
``/_matrix/client/versions``) runs every ``PROBE_INTERVAL`` until the homeserver answers; any
transaction or ping from the homeserver counts as an answer too. Then every queue retries now.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aiohttp
from mautrix.errors import MatrixConnectionError, MatrixRequestError

from .qq.clock import Clock

log = logging.getLogger("bridge.homeserver")

PROBE_INTERVAL = 1.0  # seconds between probes while the homeserver is away
PROBE_TIMEOUT = 5.0


class HomeserverWatch:
    """``unreachable()`` when a delivery failed for want of the homeserver; ``seen()`` when it
    spoke to us. ``on_back`` is called once per outage, when it answers again."""

    def __init__(
        self,
        url: str,
        session: Callable[[], aiohttp.ClientSession],
        clock: Clock,
        on_back: Callable[[], None],
    ) -> None:
        self._url = url.rstrip("/") + "/_matrix/client/versions"
        self._session = session
        self._clock = clock
        self._on_back = on_back
        self._probe: asyncio.Task[None] | None = None

    @property
    def probing(self) -> bool:
        return self._probe is not None and not self._probe.done()

    def unreachable(self) -> None:
        """A request found no homeserver (no connection, 502/503/504: see is_unreachable)."""
        if not self.probing:
            self._probe = asyncio.create_task(self._run(), name="homeserver probe")

    def seen(self) -> None:
        if self.probing:
            assert self._probe is not None
            self._probe.cancel()
            self._probe = None
            self._back()

    async def stop(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)
            self._probe = None

    async def _run(self) -> None:
        missed = False
        while True:
            await self._clock.sleep(PROBE_INTERVAL)
            if await self._answers():
                self._probe = None
                # Answering at once means it was never away (a request failed for some other
                # reason): the queues keep their own back-off rather than retry every second.
                if missed:
                    self._back()
                return
            missed = True

    async def _answers(self) -> bool:
        timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT)
        try:
            async with self._session().get(self._url, timeout=timeout) as response:
                return response.status == 200
        except (aiohttp.ClientError, OSError, TimeoutError):
            return False

    def _back(self) -> None:
        log.info("The homeserver answers again; resuming deliveries")
        self._on_back()


def is_unreachable(error: BaseException) -> bool:
    """The homeserver is not there (or its proxy says so), as opposed to failing a request."""
    if isinstance(error, MatrixRequestError):
        return error.http_status in (0, 502, 503, 504)
    return isinstance(
        error, MatrixConnectionError | aiohttp.ClientConnectionError | TimeoutError | OSError
    )
