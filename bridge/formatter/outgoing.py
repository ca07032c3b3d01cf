"""What the formatter hands back to the bridge core, and the one I/O hook it accepts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mautrix.types import EventID, MessageEventContent

# The formatter never does network I/O itself: to quote a replied-to message the caller lends it
# a function that returns that event's content, or None when the event is unknown.
FetchEvent = Callable[[EventID], Awaitable[MessageEventContent | None]]


@dataclass(frozen=True)
class Outgoing:
    """One Matrix event's fate on QQ.

    ``text`` is what to send to QQ (None: send nothing); ``notice`` is what to tell the Matrix
    user in the room, e.g. that part of the message could not be carried (None: say nothing).
    The formatter never returns both None: what is not sent, the sender is told about.
    """

    text: str | None
    notice: str | None = None
