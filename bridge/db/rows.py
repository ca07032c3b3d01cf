"""Plain rows passed between the store and the bridge core, free of any ORM state."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass
class UserRow:
    """A Matrix user of the bridge. ``password_md5`` is the plain md5 (the store seals it)."""

    mxid: str
    uin: int | None = None
    # The md5 is the QQ credential itself: never in a repr, so never in a log or traceback.
    password_md5: str | None = field(default=None, repr=False)
    management_room: str | None = None
    login_state: str = "logged_out"
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


class PortalKind(StrEnum):
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
    """One QQ event fetched, to deliver to Matrix."""

    id: int
    owner: str
    uin: int
    kind: str
    text: str
    received_at: float
    done: bool = False
    event_id: str | None = None


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
    state: str = "pending"  # "pending" | "sent" | "failed"
    error: str | None = None


OUTBOUND_STATES = ("pending", "sent", "failed")
