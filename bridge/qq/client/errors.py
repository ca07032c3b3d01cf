"""The failures the client adds to the codec's: the network, a session the server will not
keep, and a send it gave up on."""

from __future__ import annotations

from ..wire import MalformedReply, NoReply, ServerRefused, WireError


class TransportError(Exception):
    """The request never got an answer: connection refused, reset, timed out, bad HTTP."""


class ServerUnreachable(TransportError):
    """No connection, or no reply in time: the server (or the path to it) is down.

    Unlike a bad HTTP status, this is what the shared transport's probe watches for: while
    the server is unreachable, clients wait for the probe to see it back rather than each
    trying on its own (``QQTransport.wait_reachable``).
    """


class ReplyTooLarge(MalformedReply):
    """A reply body longer than ``max_reply_bytes``; the rest was never read.

    The protocol's largest real reply is a few KB (a GetInfo, a list of 160 friends), so
    this is a broken or hostile server. Handled as any unreadable reply (``is_unreadable``).
    """

    def __init__(self, limit: int) -> None:
        super().__init__(f"the QQ server's reply is longer than {limit} bytes")
        self.limit = limit


class SessionDropped(TransportError):
    """The server said RES=20 (not logged in) again right after a fresh re-login.

    A TransportError because it is handled like one: the poll loop and the send queue wait
    with their back-off before trying (and so logging in) again, instead of logging in once
    per request while the server keeps forgetting us.
    """


def is_unreadable(error: BaseException) -> bool:
    """A reply came but cannot be read (no RES, RES not a number, cut short, too long).

    Not a refusal: a server that states a RES (``ServerRefused`` and its subclasses) meant
    it, and NULL (``NoReply``) is the server's own answer to a request it cannot parse. An
    unreadable reply says nothing about the request, so it is worth a few more tries.
    """
    return isinstance(error, WireError) and not isinstance(error, ServerRefused | NoReply)


# Everything a request to QQ can end in besides its result: the server's refusals and
# malformed replies (WireError) and the network's failures (TransportError).
QQ_FAILURES: tuple[type[Exception], ...] = (WireError, TransportError)


class SendFailed(Exception):
    """A queued send was given up; ``reason`` says why in words a user can read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
