"""The connection state a user sees, and the one place that changes it.

The client reports what happened (a ``Happening``); ``TRANSITIONS`` says what each does to the
state, so every rule of the state machine is in the table below rather than spread over the
client's code paths.
"""

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


class Happening(enum.Enum):
    """What the client saw, as ``StateReporter.saw`` is told it."""

    LOGIN_STARTED = enum.auto()
    LOGIN_ACCEPTED = enum.auto()
    CREDENTIALS_REFUSED = enum.auto()  # LoginRefused or InvalidUin: only a new login helps
    LOGIN_FAILED = enum.auto()  # network or unreadable reply, and no one will retry
    LOGIN_FAILED_RETRYING = enum.auto()  # the same while the poll loop keeps trying
    CONNECTION_LOST = enum.auto()  # a request met a network error
    SERVER_ANSWERED = enum.auto()  # a command got through after a login
    SESSION_DROPPED = enum.auto()  # the server forgot a session right after a re-login
    LOGGED_OUT = enum.auto()


_ANY: frozenset[ConnectionState] = frozenset(ConnectionState)

# Happening -> (the states it applies in, the state it leads to). Elsewhere it changes nothing:
# a network error matters only to a client that was ONLINE (one LOGGING_IN reports the failed
# login instead), and a reply only ends RECONNECTING (not a refusal or a logout).
TRANSITIONS: dict[Happening, tuple[frozenset[ConnectionState], ConnectionState]] = {
    Happening.LOGIN_STARTED: (_ANY, ConnectionState.LOGGING_IN),
    Happening.LOGIN_ACCEPTED: (_ANY, ConnectionState.ONLINE),
    Happening.CREDENTIALS_REFUSED: (_ANY, ConnectionState.BAD_CREDENTIALS),
    Happening.LOGIN_FAILED: (_ANY, ConnectionState.LOGGED_OUT),
    Happening.LOGIN_FAILED_RETRYING: (_ANY, ConnectionState.RECONNECTING),
    Happening.CONNECTION_LOST: (frozenset({ConnectionState.ONLINE}), ConnectionState.RECONNECTING),
    Happening.SERVER_ANSWERED: (
        frozenset({ConnectionState.RECONNECTING}),
        ConnectionState.ONLINE,
    ),
    Happening.SESSION_DROPPED: (_ANY, ConnectionState.RECONNECTING),
    Happening.LOGGED_OUT: (_ANY, ConnectionState.LOGGED_OUT),
}

StateCallback = Callable[[ConnectionState, str], Awaitable[None]]


class StateReporter:
    """Holds the state and tells ``on_state`` about every change (never about a repeat)."""

    def __init__(self, uin: int, on_state: StateCallback | None) -> None:
        self.current = ConnectionState.LOGGED_OUT
        self._uin = uin
        self._on_state = on_state

    async def saw(self, happening: Happening, detail: str = "") -> None:
        """Apply ``happening`` to the state (``TRANSITIONS``); ``detail`` says why, for the
        user (no secret in it)."""
        applies_in, state = TRANSITIONS[happening]
        if self.current not in applies_in or state is self.current:
            return
        log.info("QQ %d: %s -> %s %s", self._uin, self.current.value, state.value, detail)
        self.current = state
        if self._on_state is not None:
            try:
                await self._on_state(state, detail)
            except Exception:
                # A broken listener must not break the connection it is listening to.
                log.exception("QQ %d: on_state callback failed", self._uin)
