"""One-time login links: a random token, bound to one Matrix user, valid a few minutes.

Only a hash of each token is kept, in memory: a restart forgets every link (the user asks for
a new one), and nothing on disk can be replayed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

LINK_LIFETIME = 600.0  # seconds: time to open the link, find the password and type it
MAX_ATTEMPTS = 5  # wrong passwords through one link before it stops working
TOKEN_BYTES = 24  # token_urlsafe(24): 32 characters, 192 random bits


@dataclass
class _Link:
    mxid: str
    expires: float
    attempts: int = 0


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginLinks:
    """``token = links.issue(mxid)``; ``links.owner(token)``; ``links.used(token)``.

    ``now``: the clock, in seconds (monotonic or the bridge's clock).
    """

    def __init__(self, now: Callable[[], float], lifetime: float = LINK_LIFETIME) -> None:
        self._now = now
        self._lifetime = lifetime
        self._links: dict[str, _Link] = {}

    def issue(self, mxid: str) -> str:
        """A new token for ``mxid``; any earlier link of theirs stops working."""
        self._drop_expired()
        for key in [key for key, link in self._links.items() if link.mxid == mxid]:
            del self._links[key]
        token = secrets.token_urlsafe(TOKEN_BYTES)
        self._links[_key(token)] = _Link(mxid, self._now() + self._lifetime)
        return token

    def owner(self, token: str) -> str | None:
        """The Matrix user the link was made for; None if unknown, used up or expired."""
        link = self._links.get(_key(token))
        if link is None or link.expires <= self._now() or link.attempts >= MAX_ATTEMPTS:
            return None
        return link.mxid

    def attempt(self, token: str) -> str | None:
        """Like ``owner``, counting one login attempt against the link."""
        mxid = self.owner(token)
        if mxid is not None:
            self._links[_key(token)].attempts += 1
        return mxid

    def used(self, token: str) -> None:
        """The login through the link worked: it never works again."""
        self._links.pop(_key(token), None)

    def _drop_expired(self) -> None:
        now = self._now()
        for key in [key for key, link in self._links.items() if link.expires <= now]:
            del self._links[key]
