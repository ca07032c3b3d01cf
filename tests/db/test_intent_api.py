"""mautrix's real IntentAPI, run against the SQL state store with a scripted homeserver.

Only the HTTP layer is replaced: IntentAPI decides from the store which requests it can skip,
so the requests it still makes show that the store answers as IntentAPI expects.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from mautrix.api import HTTPAPI, Method
from mautrix.appservice import AppServiceAPI, IntentAPI
from mautrix.errors import MNotFound
from mautrix.types import EventType, Membership, PowerLevelStateEventContent, RoomID, UserID
from mautrix.util.logging import TraceLogger

from bridge.db import Database, SQLStateStore

ROOM = RoomID("!dm:example.org")
BOT = UserID("@qqbot:example.org")
PUPPET = UserID("@qq_10002:example.org")
ALICE = UserID("@alice:example.org")
CREATE_EVENT = {
    "type": "m.room.create",
    "room_id": ROOM,
    "event_id": "$create",
    "sender": BOT,
    "state_key": "",
    "origin_server_ts": 1,
    "content": {"room_version": "10"},
}


class ScriptedHomeserver:
    """Answers the few client-server endpoints IntentAPI uses here, and logs each request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str]] = []  # (method, path, acting user)
        self.power_levels: dict[str, Any] = {"users": {BOT: 100}, "users_default": 0}

    async def request(
        self,
        method: Method,
        path: Any,
        content: Any = None,
        headers: Any = None,
        query_params: Any = None,
        *_: Any,
        **__: Any,
    ) -> Any:
        path = str(path)
        self.requests.append((str(method.value), path, (query_params or {}).get("user_id", "")))
        if path.endswith("/register"):
            return {"user_id": (query_params or {}).get("user_id")}
        if "/join/" in path:
            return {"room_id": ROOM}
        if path.endswith("/invite"):
            return {}
        if "/state/m.room.power_levels" in path:
            if method == Method.PUT:
                self.power_levels = content
                return {"event_id": "$levels"}
            return self.power_levels
        if "/state/m.room.create" in path:
            return CREATE_EVENT
        raise MNotFound(404, f"the scripted homeserver has no {method.value} {path}")

    def take(self) -> list[tuple[str, str, str]]:
        """The requests made since the last call."""
        taken, self.requests = self.requests, []
        return taken


@pytest.fixture
async def homeserver(monkeypatch: pytest.MonkeyPatch) -> ScriptedHomeserver:
    scripted = ScriptedHomeserver()
    # A bound method is no descriptor: every HTTPAPI calls it without passing itself.
    monkeypatch.setattr(HTTPAPI, "request", scripted.request)
    return scripted


@pytest.fixture
async def appservice(database: Database) -> AsyncIterator[AppServiceAPI]:
    api = AppServiceAPI(
        base_url="http://homeserver.invalid",
        bot_mxid=BOT,
        token="as_token",
        # Importing mautrix makes TraceLogger the logger class; getLogger is typed as Logger.
        log=cast(TraceLogger, logging.getLogger("test.appservice")),
        state_store=database.state_store,
    )
    yield api
    await api.session.close()


def endpoints(requests: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """(method, last path segment): the state event type, "invite", "register"…"""
    return [(method, path.rstrip("/").rsplit("/", 1)[-1]) for method, path, _ in requests]


async def test_ensure_registered_registers_once(
    appservice: AppServiceAPI, homeserver: ScriptedHomeserver, database: Database
) -> None:
    puppet: IntentAPI = appservice.intent(PUPPET)
    await puppet.ensure_registered()
    assert homeserver.take() == [("POST", "_matrix/client/v3/register", PUPPET)]
    assert await database.state_store.is_registered(PUPPET)

    await puppet.ensure_registered()
    assert homeserver.take() == []


async def test_ensure_joined_joins_once(
    appservice: AppServiceAPI, homeserver: ScriptedHomeserver, database: Database
) -> None:
    puppet: IntentAPI = appservice.intent(PUPPET)
    assert await puppet.ensure_joined(ROOM) is True
    requests = homeserver.take()
    assert [method for method, _, _ in requests] == ["POST", "POST"]
    assert endpoints(requests)[0] == ("POST", "register")
    assert "/join/" in requests[1][1]
    assert await database.state_store.get_membership(ROOM, PUPPET) == Membership.JOIN

    assert await puppet.ensure_joined(ROOM) is False
    assert homeserver.take() == []


async def test_invite_is_skipped_when_the_store_knows_the_member(
    appservice: AppServiceAPI, homeserver: ScriptedHomeserver, database: Database
) -> None:
    bot: IntentAPI = appservice.bot_intent()
    await bot.invite_user(ROOM, ALICE, check_cache=True)
    assert endpoints(homeserver.take())[-1] == ("POST", "invite")
    assert await database.state_store.get_membership(ROOM, ALICE) == Membership.INVITE

    await bot.invite_user(ROOM, ALICE, check_cache=True)
    assert [path for path in endpoints(homeserver.take()) if path[1] == "invite"] == []


async def test_power_levels_are_fetched_once_then_set(
    appservice: AppServiceAPI, homeserver: ScriptedHomeserver, database: Database
) -> None:
    store: SQLStateStore = database.state_store
    bot: IntentAPI = appservice.bot_intent()
    await store.joined(ROOM, BOT)  # as if the bot had created the room

    levels = await bot.get_power_levels(ROOM)
    assert levels.get_user_level(BOT) == 100
    # Joined per the store, so no register or join: only the fetch.
    assert endpoints(homeserver.take()) == [("GET", "m.room.power_levels")]
    assert await store.has_power_levels_cached(ROOM)

    again = await bot.get_power_levels(ROOM)
    assert again.get_user_level(BOT) == 100
    assert homeserver.take() == []

    # Before sending state, IntentAPI checks its power from the store, fetching the create
    # event the first time (room versions 12+ give room creators unlimited power).
    raised = PowerLevelStateEventContent(users={BOT: 100, PUPPET: 50}, users_default=0)
    assert await bot.set_power_levels(ROOM, raised) == "$levels"
    assert endpoints(homeserver.take()) == [
        ("GET", "m.room.create"),
        ("PUT", "m.room.power_levels"),
    ]
    assert await store.has_create_cached(ROOM)
    cached = await store.get_power_levels(ROOM)
    assert cached is not None
    assert cached.get_user_level(PUPPET) == 50
    assert await store.has_power_level(ROOM, PUPPET, EventType.ROOM_MESSAGE)

    raised.users[ALICE] = 50
    assert await bot.set_power_levels(ROOM, raised) == "$levels"
    assert endpoints(homeserver.take()) == [("PUT", "m.room.power_levels")]
