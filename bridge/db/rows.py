"""Plain rows passed between the store and the bridge core, free of any ORM state."""

from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass
class PortalRow:
    """The Matrix room of one (Matrix user, QQ contact) pair."""

    owner: str
    uin: int
    room_id: str | None = None
    kind: str = "dm"  # "dm" | "request"


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


PORTAL_KINDS = ("dm", "request")
OUTBOUND_STATES = ("pending", "sent", "failed")
