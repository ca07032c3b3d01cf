"""Work that runs after the appservice transaction is acknowledged, and is told when it fails.

An event is recorded as handled (bridge/db/matrix_events.py) before its background work runs,
so that work is never tried again: if it fails, the room it came from hears so rather than
nothing. The tasks are kept until done, and cancelled at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from mautrix.types import RoomID

from .logs import failure

log = logging.getLogger("bridge.background")

Tell = Callable[[RoomID, str], Awaitable[None]]
Why = Callable[[BaseException], str]


class Background:
    """``later(work, tell=room)``; ``await stop()`` at shutdown."""

    def __init__(self, tell: Tell, why: Why) -> None:
        self._tell = tell
        self._why = why
        self._tasks: set[asyncio.Task[None]] = set()

    def later(self, work: Coroutine[Any, Any, object], tell: RoomID | None = None) -> None:
        """Run ``work`` in the background; if it fails, the room ``tell`` is told."""
        task = asyncio.create_task(self._guarded(work, tell))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, work: Coroutine[Any, Any, object], tell: RoomID | None) -> None:
        try:
            await work
        except Exception as error:
            log.error("Handling an event failed: %s", failure(error))
            if tell is not None:
                with contextlib.suppress(Exception):  # the homeserver may be what failed
                    await self._tell(tell, f"Something went wrong: {self._why(error)}.")

    async def idle(self) -> None:
        """Return once no work is left, including work started meanwhile (a signal for tests
        that what an event set off has ended)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
