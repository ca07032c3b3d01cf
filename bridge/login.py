"""Logging a Matrix user in to QQ, the one way the command, the login page and the
provisioning API all take.

Two logins to one QQ number (from one Matrix user or two) take turns on a lock per number, so
exactly one ends with the working session and the other is told why. The loser never logs
out: the QQ server keys a session by (address, uin), so a logout sent by the loser would end
the winner's session.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy.exc

from .qq.client import QQ_FAILURES, InvalidUin, LoginRefused, NoReply, QQClient

if TYPE_CHECKING:
    from .core import Bridge
    from .user import User

log = logging.getLogger("bridge.login")

# LoginResult.code values, also the provisioning API's error codes.
OK, IN_USE, REFUSED, INVALID_UIN, NO_REPLY, UNREACHABLE, NOT_ALLOWED = (
    "ok",
    "in_use",
    "refused",
    "invalid_uin",
    "no_reply",
    "unreachable",
    "not_allowed",
)

# The HTTP status each result answers with, on the login page and in the provisioning API.
HTTP_STATUS = {
    OK: 200,
    IN_USE: 409,
    REFUSED: 403,
    INVALID_UIN: 400,
    NO_REPLY: 502,
    UNREACHABLE: 502,
    NOT_ALLOWED: 403,
}


@dataclass(frozen=True)
class LoginResult:
    """``code`` is one of the constants above; ``message`` is for the user (no secret in it)."""

    code: str
    message: str

    @property
    def ok(self) -> bool:
        return self.code == OK


async def log_in(bridge: Bridge, user: User, uin: int, password: str) -> LoginResult:
    """Log ``user`` in to QQ ``uin``; the password is hashed here and then forgotten.

    Never raises for what QQ or another user did: the result says what happened. Raises for
    a failure of the bridge itself (the database), after undoing the half-made login.
    """
    if not bridge.config.has_permission(user.mxid):
        return LoginResult(NOT_ALLOWED, "You are not allowed to use this bridge.")
    md5 = QQClient.hash_password(password)
    async with bridge.uin_lock(uin):
        owner = await bridge.user_by_uin(uin)
        if owner is not None and owner.mxid != user.mxid:
            if owner.has_credentials:
                return LoginResult(IN_USE, f"QQ {uin} is already bridged for another Matrix user.")
            await owner.release_uin()  # its last user logged out, or QQ refused them since
        try:
            await user.login(uin, md5)
        except LoginRefused as refused:
            reason = refused.reason or "no reason given"
            return LoginResult(REFUSED, f"QQ refused the login: {reason}.")
        except InvalidUin:
            return LoginResult(INVALID_UIN, f"QQ says {uin} is not a valid QQ number.")
        except NoReply:
            return LoginResult(
                NO_REPLY, "The QQ server did not answer the login. Check the number and try again."
            )
        except QQ_FAILURES as error:
            return LoginResult(UNREACHABLE, f"Could not reach the QQ server: {error}")
        except sqlalchemy.exc.IntegrityError:
            # Another bridge process on the same database took the number meanwhile.
            return LoginResult(IN_USE, f"QQ {uin} is already bridged for another Matrix user.")
    log.info("%s logged in to QQ %d", user.mxid, uin)
    return LoginResult(
        OK, f"Logged in to QQ as {uin}. Your friends' messages will appear as chats."
    )
