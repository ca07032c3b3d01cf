"""The Matrix presence of puppets, kept as QQ says for as long as QQ says it.

A homeserver turns a presence that no one refreshes to offline: Synapse after its
``presence.sync_online_timeout`` (30 s unless set), and online to unavailable after
``presence.idle_timeout``. So setting a puppet's presence once is not enough: the contacts QQ
last reported online or busy are set again every ``bridge.presence_refresh`` seconds. An
offline (or invisible: QQ shows it as offline, seed 004) contact is set offline once; offline
does not decay.

What QQ reports comes from every logged-in user's client: a status message (MT 99) and
Query_Stat at login and in ``friends`` and ``online``. A puppet is one Matrix user whoever
reported it, so the last report wins. When the last user who could see a contact logs out, the
bridge can no longer tell, and shows the contact offline rather than online for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from mautrix.types import PresenceState

from .qq.client import Status

if TYPE_CHECKING:
    from .core import Bridge

log = logging.getLogger("bridge.presence")

PRESENCE_OF_STATUS = {
    Status.ONLINE: PresenceState.ONLINE,
    Status.BUSY: PresenceState.UNAVAILABLE,
    Status.OFFLINE: PresenceState.OFFLINE,
    Status.INVISIBLE: PresenceState.OFFLINE,
}
# The statuses that decay on the homeserver unless set again.
KEPT = frozenset({Status.ONLINE, Status.BUSY})


class PresenceKeeper:
    """``report`` what QQ says; ``start`` the refresh at start-up, ``stop`` it at shutdown."""

    def __init__(self, bridge: Bridge, refresh: float) -> None:
        self.bridge = bridge
        self.refresh = refresh  # seconds
        self._kept: dict[int, Status] = {}  # contacts shown online or busy: what QQ said last
        self._seen_by: dict[int, set[str]] = {}  # contact -> the users whose QQ reported it
        self._task: asyncio.Task[None] | None = None

    def status(self, uin: int) -> Status | None:
        """What the bridge shows for ``uin`` as long as QQ says so (None: offline or unknown)."""
        return self._kept.get(uin)

    async def report(self, mxid: str, uin: int, status: Status) -> None:
        """``mxid``'s QQ says contact ``uin`` is ``status``: show it now, and keep showing it.
        What is shown and refreshed already is not set again (a list repeats the same)."""
        if self._kept.get(uin) != status:
            await self._set(uin, status)
        self._seen_by.setdefault(uin, set()).add(mxid)
        if status in KEPT:
            self._kept[uin] = status
        else:
            self._kept.pop(uin, None)

    async def forget_user(self, mxid: str) -> None:
        """``mxid`` logged out: contacts no one else sees go offline rather than stay as they
        were (nothing would tell the bridge when they change)."""
        for uin, users in list(self._seen_by.items()):
            users.discard(mxid)
            if users:
                continue
            del self._seen_by[uin]
            if self._kept.pop(uin, None) is not None:
                try:
                    await self._set(uin, Status.OFFLINE)
                except Exception:  # the homeserver's own time-out makes it offline anyway
                    log.warning("Could not show QQ %d offline", uin, exc_info=True)

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep(), name="presence refresh")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _keep(self) -> None:
        while True:
            await self.bridge.clock.sleep(self.refresh)
            for uin, status in list(self._kept.items()):
                try:
                    await self._set(uin, status)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # the homeserver away: the next round tries again
                    log.warning("Could not refresh the presence of QQ %d: %s", uin, error)

    async def _set(self, uin: int, status: Status) -> None:
        intent = self.bridge.puppet_intent(uin)
        await intent.set_presence(PRESENCE_OF_STATUS[status], ignore_cache=True)
