"""The simulator as a whole: world, protocol core and HTTP server, with a maintenance task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType

from ..clock import Clock, RealClock
from .accounts import Account, sample_accounts
from .core import ServerCore
from .httpserver import HttpServer
from .settings import SimulatorSettings
from .world import World

log = logging.getLogger(__name__)


class Simulator:
    """A QQ HTTP v1.1 server in-process::

        async with Simulator() as sim:      # the sample accounts, on an ephemeral port
            ... talk to sim.url ...
            sim.state.queue(10001)          # inspect the pure state

    With a FakeClock, ``await clock.advance(s)`` wakes the maintenance task; ``sweep()``
    runs the same maintenance at once.
    """

    def __init__(
        self,
        accounts: list[Account] | None = None,
        settings: SimulatorSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or SimulatorSettings()
        self.clock: Clock = clock or RealClock()
        self.state = World(sample_accounts() if accounts is None else accounts, self.settings)
        self.core = ServerCore(self.state, self.clock)
        self.http = HttpServer(self.core.handle, self.settings, self.clock)
        self._host = "127.0.0.1"
        self._maintenance: asyncio.Task[None] | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        await self.http.start(host, port)
        self._host = host
        self._maintenance = asyncio.create_task(self._maintain(), name="qq-simulator-maintenance")
        log.info(
            "QQ simulator listening on %s with %d accounts", self.url, len(self.state.accounts)
        )

    async def stop(self) -> None:
        if self._maintenance is not None:
            self._maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintenance
            self._maintenance = None
        await self.http.close()

    @property
    def port(self) -> int:
        return self.http.port

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    def sweep(self) -> None:
        """End lapsed sessions and abort stalled connections, as of the clock's now."""
        self.core.sweep()
        self.http.reap()

    async def _maintain(self) -> None:
        while True:
            await self.clock.sleep(self.settings.maintenance_interval)
            try:
                self.sweep()
            except Exception:  # a bug here must not stop the maintenance for good
                log.exception("simulator maintenance failed")

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
