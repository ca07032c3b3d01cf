"""The failures the client adds to the codec's: the network, a session the server will not
keep, and a send it gave up on."""

from __future__ import annotations

from ..wire import WireError


class TransportError(Exception):
    """The request never got an answer: connection refused, reset, timed out, bad HTTP."""


class SessionDropped(TransportError):
    """The server said RES=20 (not logged in) again right after a fresh re-login.

    A TransportError because it is handled like one: the poll loop and the send queue wait
    with their back-off before trying (and so logging in) again, instead of logging in once
    per request while the server keeps forgetting us.
    """


# Everything a request to QQ can end in besides its result: the server's refusals and
# malformed replies (WireError) and the network's failures (TransportError).
QQ_FAILURES: tuple[type[Exception], ...] = (WireError, TransportError)


class SendFailed(Exception):
    """A queued send was given up; ``reason`` says why in words a user can read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
