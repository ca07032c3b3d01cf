"""Bridge status in the shape mautrix bridges use (mautrix.util.bridge_state.BridgeState).

Each user's QQ connection (``User.state``) maps to a ``state_event``; when
``homeserver.status_endpoint`` is set, every change is POSTed there as the JSON of a
``BridgeState`` (``{"state_event": "CONNECTED", "user_id", "remote_id": "<uin>", "remote_name",
"timestamp", "ttl", "source": "bridge", "error"?, "message"?}``) with ``Authorization: Bearer
<as_token>``, as mautrix bridges push to their status endpoint. The provisioning API serves the
same object (``GET {prefix}/v1/bridge_state``).

Pushes go out one at a time, in order, each with the state of the moment it is sent; a repeat
of the last state sent for a user within its ``ttl`` is skipped (``should_deduplicate``). A push
that fails is logged, not retried: the next change sends the whole state again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from mautrix.types import UserID
from mautrix.util import background_task
from mautrix.util.bridge_state import BridgeState, BridgeStateEvent

if TYPE_CHECKING:
    from .core import Bridge
    from .user import User

log = logging.getLogger("bridge.status")

STATE_EVENTS = {
    "online": BridgeStateEvent.CONNECTED,
    "logging_in": BridgeStateEvent.CONNECTING,
    "reconnecting": BridgeStateEvent.TRANSIENT_DISCONNECT,
    "bad_credentials": BridgeStateEvent.BAD_CREDENTIALS,
    "logged_out": BridgeStateEvent.LOGGED_OUT,
}
ERRORS = {
    "reconnecting": ("qq-unreachable", "Reconnecting to the QQ server"),
    "bad_credentials": ("qq-login-refused", "QQ refused the stored login: log in again"),
}


def bridge_state(user: User) -> BridgeState:
    """The user's state now, filled (timestamp, ttl, source)."""
    error, message = ERRORS.get(user.state, (None, None))
    uin = str(user.uin) if user.uin is not None else None
    return BridgeState(
        state_event=STATE_EVENTS[user.state],
        user_id=UserID(user.mxid),
        remote_id=uin,
        remote_name=uin,
        error=error,
        message=message,
    ).fill()


class StatusPusher:
    """``changed(user)`` after any change of a user's connection; sends if configured."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self._sent: dict[str, BridgeState] = {}
        self._lock = asyncio.Lock()  # one push at a time, so they arrive in order

    def changed(self, user: User) -> None:
        if self.bridge.config.status_endpoint is not None:
            background_task.create(self._push(user))

    async def _push(self, user: User) -> None:
        async with self._lock:
            url = self.bridge.config.status_endpoint
            if url is None:
                return
            state = bridge_state(user)
            if state.should_deduplicate(self._sent.get(user.mxid)):
                return
            if await state.send(url, self.bridge.config.as_token, log):
                self._sent[user.mxid] = state
