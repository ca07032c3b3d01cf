"""The connection state a user sees, and the one place that changes it."""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class ConnectionState(enum.Enum):
    LOGGED_OUT = "logged out"
    LOGGING_IN = "logging in"
    ONLINE = "online"
    RECONNECTING = "reconnecting"
    BAD_CREDENTIALS = "bad credentials"


StateCallback = Callable[[ConnectionState, str], Awaitable[None]]


class StateReporter:
    """Holds the state and tells ``on_state`` about every change (never about a repeat)."""

    def __init__(self, uin: int, on_state: StateCallback | None) -> None:
        self.current = ConnectionState.LOGGED_OUT
        self._uin = uin
        self._on_state = on_state

    async def set(self, state: ConnectionState, detail: str = "") -> None:
        if state is self.current:
            return
        log.info("QQ %d: %s -> %s %s", self._uin, self.current.value, state.value, detail)
        self.current = state
        if self._on_state is not None:
            try:
                await self._on_state(state, detail)
            except Exception:
                # A broken listener must not break the connection it is listening to.
                log.exception("QQ %d: on_state callback failed", self._uin)
