"""Plain rows passed between the store and the bridge core, free of any ORM state."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ..qq.client import Event
from .events import decode_event


class LoginState(enum.StrEnum):
    """Whether a user's QQ login is to be kept (``users.login_state``): LOGGED_IN resumes at
    start-up; BAD_CREDENTIALS waits for a new ``login`` (QQ refused the stored one)."""

    LOGGED_IN = "logged_in"
    LOGGED_OUT = "logged_out"
    BAD_CREDENTIALS = "bad_credentials"


class OutboundState(enum.StrEnum):
    """Where a row of the outbound queue is (``outbound.state``): PENDING until QQ accepted
    it (SENT) or the bridge gave up on it (FAILED, with the reason in ``error``)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass
class UserRow:
    """A Matrix user of the bridge. ``password_md5`` is the plain md5 (the store seals it)."""

    mxid: str
    uin: int | None = None
    # The md5 is the QQ credential itself: never in a repr, so never in a log or traceback.
    password_md5: str | None = field(default=None, repr=False)
    management_room: str | None = None
    login_state: LoginState = LoginState.LOGGED_OUT
    status: int = 10


@dataclass
class PuppetRow:
    """A QQ contact shown as a Matrix user."""

    uin: int
    nick: str = ""
    face: int | None = None
    name_set: bool = False
    avatar_set: bool = False
    avatar_mxc: str | None = None


class PortalKind(enum.StrEnum):
    """What a portal's room is for; stored as its value (the ``portals.kind`` CHECK)."""

    DM = "dm"  # the chat with the contact
    REQUEST = "request"  # a friend request waiting for an answer: joining accepts it


@dataclass
class PortalRow:
    """The Matrix room of one (Matrix user, QQ contact) pair."""

    owner: str
    uin: int
    room_id: str | None = None
    kind: PortalKind = PortalKind.DM


@dataclass
class InboundRow:
    """One QQ event fetched, to deliver to Matrix: ``type`` and ``payload`` as
    ``events.encode_event`` wrote them; ``event()`` reads them back."""

    id: int
    owner: str
    type: str
    payload: str
    received_at: float
    done: bool = False
    event_id: str | None = None

    def event(self) -> Event:
        """The QQ event of this row; raises ``events.UnreadableEvent`` if it holds none."""
        return decode_event(self.type, self.payload)


@dataclass
class NewOutbound:
    """One Matrix event to send to QQ, before the store has given it an id."""

    owner: str
    uin: int
    room_id: str
    event_id: str
    text: str


@dataclass
class OutboundRow:
    """One Matrix event to send to QQ."""

    id: int
    owner: str
    uin: int
    room_id: str
    event_id: str
    text: str
    created_at: float
    state: OutboundState = OutboundState.PENDING
    error: str | None = None
