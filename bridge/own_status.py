"""The user's own QQ status: set with the ``status`` command, stored, and set again at every
login, since the server starts each session ONLINE (seed 004: Login has no status field), which
would show an invisible user to everyone after a bridge restart or a new login.

Re-logins inside one client (a lapsed session) are the client's own (``QQClient`` restores
the status it last set); a new client (``login``, the resume after a restart) is this module's.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .outbound import SEND_FAILURES
from .qq.client import Status

if TYPE_CHECKING:
    from .qq.client import QQClient
    from .user import User

log = logging.getLogger("bridge.own_status")


async def choose(user: User, status: Status) -> None:
    """Set ``user``'s QQ status now and store it for every later login.

    Raises NotLoggedInError, or the client's errors (SendFailed when QQ kept refusing); then
    nothing is stored.
    """
    await user.require_client().set_status(status)
    await user.bridge.db.set_user_status(user.mxid, int(status))
    user.row.status = int(status)  # the database first: memory follows only a write


async def restore(user: User, client: QQClient) -> None:
    """A new login of ``user``'s: set their stored status again, unless it is ONLINE (what
    the server starts with). A failure is told, and the login stands."""
    if user.status is Status.ONLINE:
        return
    try:
        await client.set_status(user.status)
    except SEND_FAILURES as error:
        log.warning("Could not set the QQ status of %s again: %s", user.mxid, error)
        word = user.status.word
        try:
            await user.notify(
                f"Logged in, but QQ did not take your status {word} again ({error}): you "
                f"show as online. Send `status {word}` to try again."
            )
        except Exception:  # the homeserver away: the login itself must still stand
            log.warning("Could not tell %s their status was not restored", user.mxid)
