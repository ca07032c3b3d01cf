"""Stand-ins for the homeserver, for the core's unit tests: no Synapse, no network.

``FakeIntent`` records what the bridge asks of Matrix (rooms made, messages sent, presence,
profiles) and fails on demand; ``FakeAppService`` hands out one intent per Matrix ID, as
mautrix's does. The QQ side is a real ``QQClient`` on ``tests/client/scripted.py``'s server.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from mautrix.types import ContentURI, EventID, PresenceState, RoomID, UserID

from bridge.db import SQLStateStore


@dataclass
class Sent:
    """One message event sent: by whom, where, what, with which transaction id."""

    sender: str
    room_id: str
    content: Any
    txn_id: str | None

    @property
    def body(self) -> str:
        return str(getattr(self.content, "body", ""))

    @property
    def msgtype(self) -> str:
        return str(getattr(self.content, "msgtype", ""))


@dataclass
class Homeserver:
    """What all intents share: the rooms, the events and the failures still to come."""

    sent: list[Sent] = field(default_factory=list)
    rooms: dict[str, dict[str, Any]] = field(default_factory=dict)  # room -> create_room kwargs
    presence: dict[str, PresenceState] = field(default_factory=dict)
    displaynames: dict[str, str] = field(default_factory=dict)
    avatars: dict[str, str] = field(default_factory=dict)
    invites: list[tuple[str, str, str]] = field(default_factory=list)  # (room, by, whom)
    left: list[tuple[str, str]] = field(default_factory=list)  # (room, who)
    # Method name -> errors to raise, one per call, before that method works again.
    failures: dict[str, list[BaseException]] = field(default_factory=dict)
    by_txn: dict[tuple[str, str], EventID] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)  # every method called, in order
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def fail(self, method: str, *errors: BaseException) -> None:
        self.failures.setdefault(method, []).extend(errors)

    def check(self, method: str) -> None:
        self.calls.append(method)
        queued = self.failures.get(method)
        if queued:
            raise queued.pop(0)

    def next_id(self, sigil: str) -> str:
        return f"{sigil}{next(self._ids)}:hs"

    def texts(self, room_id: str | None = None) -> list[str]:
        return [s.body for s in self.sent if room_id is None or s.room_id == room_id]


class FakeIntent:
    """The part of mautrix's IntentAPI the bridge core uses."""

    def __init__(self, homeserver: Homeserver, mxid: str, appservice: FakeAppService) -> None:
        self.homeserver = homeserver
        self.mxid = UserID(mxid)
        self._appservice = appservice
        # The request log the bridge puts a filter on (bridge/web: hide_login_links).
        self.api = SimpleNamespace(log=logging.getLogger(f"tests.fake_intent.{mxid}"))

    def user(self, mxid: UserID) -> FakeIntent:
        return self._appservice.intent_for(mxid)

    async def ensure_registered(self) -> None:
        self.homeserver.check("ensure_registered")

    async def set_displayname(self, name: str) -> None:
        self.homeserver.check("set_displayname")
        self.homeserver.displaynames[self.mxid] = name

    async def set_avatar_url(self, mxc: str) -> None:
        self.homeserver.check("set_avatar_url")
        self.homeserver.avatars[self.mxid] = mxc

    async def upload_media(self, data: bytes, **_: Any) -> ContentURI:
        self.homeserver.check("upload_media")
        return ContentURI(f"mxc://hs/{len(data)}-{next(self.homeserver._ids)}")

    async def set_presence(self, presence: PresenceState, **_: Any) -> None:
        self.homeserver.check("set_presence")
        self.homeserver.presence[self.mxid] = presence

    async def create_room(self, **kwargs: Any) -> RoomID:
        self.homeserver.check("create_room")
        room_id = self.homeserver.next_id("!")
        self.homeserver.rooms[room_id] = {"creator": self.mxid, **kwargs}
        return RoomID(room_id)

    async def invite_user(self, room_id: RoomID, user_id: UserID, **_: Any) -> None:
        self.homeserver.check("invite_user")
        self.homeserver.invites.append((room_id, self.mxid, user_id))

    async def join_room_by_id(self, room_id: RoomID, **_: Any) -> RoomID:
        self.homeserver.check("join_room_by_id")
        return room_id

    async def leave_room(self, room_id: RoomID, **_: Any) -> None:
        self.homeserver.check("leave_room")
        self.homeserver.left.append((room_id, self.mxid))

    async def set_room_name(self, room_id: RoomID, name: str, **_: Any) -> EventID:
        self.homeserver.check("set_room_name")
        return EventID(self.homeserver.next_id("$"))

    async def set_room_topic(self, room_id: RoomID, topic: str, **_: Any) -> EventID:
        self.homeserver.check("set_room_topic")
        return EventID(self.homeserver.next_id("$"))

    async def send_message_event(
        self, room_id: RoomID, event_type: Any, content: Any, txn_id: str | None = None, **_: Any
    ) -> EventID:
        self.homeserver.check("send_message_event")
        if txn_id is not None and (self.mxid, txn_id) in self.homeserver.by_txn:
            # Synapse answers a repeated transaction id with the event it already has.
            return self.homeserver.by_txn[(self.mxid, txn_id)]
        event_id = EventID(self.homeserver.next_id("$"))
        self.homeserver.sent.append(Sent(self.mxid, room_id, content, txn_id))
        if txn_id is not None:
            self.homeserver.by_txn[(self.mxid, txn_id)] = event_id
        return event_id


class FakeAppService:
    """``az`` as the Bridge uses it: the bot's intent, one intent per puppet, the state store."""

    def __init__(self, bot_mxid: str, state_store: SQLStateStore) -> None:
        self.homeserver = Homeserver()
        self.state_store = state_store
        self.http_session = None
        self._intents: dict[str, FakeIntent] = {}
        self.intent = self.intent_for(UserID(bot_mxid))

    def intent_for(self, mxid: UserID) -> FakeIntent:
        if mxid not in self._intents:
            self._intents[mxid] = FakeIntent(self.homeserver, mxid, self)
        return self._intents[mxid]
