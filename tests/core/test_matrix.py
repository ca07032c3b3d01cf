"""Synapse's events routed (bridge/matrix.py): a portal message queued for QQ once however
often it comes, a stranger's message ignored, a command answered after the transaction."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Callable
from typing import cast

from mautrix.types import (
    Event,
    EventID,
    EventType,
    Membership,
    MessageEvent,
    MessageType,
    RoomID,
    TextMessageEventContent,
    UserID,
)

from bridge.commands import Commands
from bridge.matrix import MatrixHandler

from .conftest import ALICE, MANAGEMENT_ROOM, Core

_ids = itertools.count()


def _message(room_id: RoomID, body: str, sender: str = ALICE, event_id: str = "") -> Event:
    return cast(
        Event,
        MessageEvent(
            type=EventType.ROOM_MESSAGE,
            room_id=room_id,
            event_id=EventID(event_id or f"$e{next(_ids)}"),
            sender=UserID(sender),
            timestamp=0,
            content=TextMessageEventContent(msgtype=MessageType.TEXT, body=body),
        ),
    )


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Background work runs on real database threads: wait for it, a few seconds at most."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{what} did not happen")


async def test_a_portal_message_goes_to_qq_once_however_often_it_comes(core: Core) -> None:
    user = await core.alice()
    portal = await core.bridge.portal(user, 10002)
    room_id = await portal.ensure_room()
    handler = MatrixHandler(core.bridge, Commands())
    event = _message(room_id, "hello QQ, 你好")
    for _ in range(3):  # a retried transaction, a reused transaction id: the same event
        await handler.handle_event(event)
    await core.until_idle(user.outbound.worker)
    assert [s.fields["MG"] for s in core.qq.seen if s.command == "CLTMSG"] == ["hello QQ, 你好"]
    assert await core.bridge.db.event_outcome(event.event_id) is not None
    await handler.stop()


async def test_a_message_from_someone_else_in_a_portal_is_not_sent(core: Core) -> None:
    user = await core.alice()
    room_id = await (await core.bridge.portal(user, 10002)).ensure_room()
    handler = MatrixHandler(core.bridge, Commands())
    await handler.handle_event(_message(room_id, "not mine to send", sender="@eve:example.com"))
    await core.until_idle(user.outbound.worker)
    assert [s for s in core.qq.seen if s.command == "CLTMSG"] == []
    assert await core.bridge.db.pending_outbound() == []
    await handler.stop()


async def test_a_command_is_answered_in_the_management_room(core: Core) -> None:
    await core.alice()
    bot = UserID(core.bridge.config.bot_mxid)
    await core.bridge.db.state_store.set_membership(MANAGEMENT_ROOM, bot, Membership.JOIN)
    handler = MatrixHandler(core.bridge, Commands())
    await handler.handle_event(_message(MANAGEMENT_ROOM, "ping"))
    await _until(lambda: bool(core.homeserver.texts(MANAGEMENT_ROOM)), "the answer")
    assert core.homeserver.texts(MANAGEMENT_ROOM) == ["QQ 10001: online. Your QQ status: online."]
    await handler.stop()


async def test_a_command_that_fails_is_answered_not_lost(core: Core) -> None:
    await core.alice(logged_in=False)
    bot = UserID(core.bridge.config.bot_mxid)
    await core.bridge.db.state_store.set_membership(MANAGEMENT_ROOM, bot, Membership.JOIN)
    handler = MatrixHandler(core.bridge, Commands())
    await handler.handle_event(_message(MANAGEMENT_ROOM, "friends"))
    await _until(lambda: bool(core.homeserver.texts(MANAGEMENT_ROOM)), "the answer")
    assert core.homeserver.texts(MANAGEMENT_ROOM) == [
        "You are not logged in to QQ. Send `login` first."
    ]
    await handler.stop()


async def test_a_penalty_is_answered_with_the_configured_wait(core: Core) -> None:
    settings = core.bridge.client_settings
    core.bridge.client_settings = dataclasses.replace(settings, penalty_wait=7.0)
    await core.alice()
    bot = UserID(core.bridge.config.bot_mxid)
    await core.bridge.db.state_store.set_membership(MANAGEMENT_ROOM, bot, Membership.JOIN)
    core.qq.penalties["DelFromList"] = 1
    handler = MatrixHandler(core.bridge, Commands())
    await handler.handle_event(_message(MANAGEMENT_ROOM, "remove 10002"))
    await _until(lambda: bool(core.homeserver.texts(MANAGEMENT_ROOM)), "the answer")
    assert core.homeserver.texts(MANAGEMENT_ROOM) == [
        "QQ says that was too fast (a penalty): wait 7 seconds and try again."
    ]
    await handler.stop()
