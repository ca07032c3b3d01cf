"""Chatting through the bridge, both ways, on a real Synapse and the QQ simulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from mautrix.types import UserID

from bridge.qq.codes import Status
from bridge.qq.wire.replies import StatusChange

from .harness import E2E_ACCOUNTS, LoggedIn, QQPeerFactory, UserFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")

TRICKY = "a & b, 100% = ok + more\r\n第二行：中文，逗号 😀"


async def test_login_is_redacted_and_resumes_state(new_user: UserFactory, bot: str) -> None:
    user = await new_user("login")
    room = await user.dm(bot)
    await user.wait_for_text(room, "Send `login", sender=bot)
    login_event = await user.send(room, f"login 30020 {E2E_ACCOUNTS[30020].password}")
    await user.wait_for_text(room, "Logged in to QQ as 30020", sender=bot)
    redacted = await user.client.get_event(room, login_event)
    assert not redacted.content.serialize().get("body"), "the password must be redacted"
    mark = user.mark()
    await user.send(room, "ping")
    reply = await user.wait_for_text(room, "QQ 30020", sender=bot, after=mark)
    assert "online" in reply.body


async def test_wrong_password_and_commands_before_login(new_user: UserFactory, bot: str) -> None:
    user = await new_user("badlogin")
    room = await user.dm(bot)
    await user.wait_for_text(room, "Send `login", sender=bot)
    for command in ("friends", "pm 30002", "status busy"):
        mark = user.mark()
        await user.send(room, command)
        await user.wait_for_text(room, "not logged in", sender=bot, after=mark)
    await user.send(room, "login 30021 wrong-password")
    await user.wait_for_text(room, "QQ refused the login", sender=bot)
    assert not [e for e in user.events if "stored login" in e.body]
    await user.send(room, "login 100 whatever")
    await user.wait_for_text(room, "not a valid QQ number", sender=bot)
    await user.send(room, "frobnicate")
    await user.wait_for_text(room, "Unknown command `frobnicate`", sender=bot)


async def test_a_mistyped_login_keeps_the_working_one(logged_in: LoggedIn) -> None:
    session = await logged_in("typo", 30019)
    await session.command("login 30019 not-the-password", "QQ refused the login")
    reply = await session.command("ping", "QQ 30019")
    assert "online" in reply.body
    assert not [e for e in session.user.events if "stored login" in e.body]


async def test_qq_message_opens_a_dm_and_text_is_exact(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("chat", 30001)
    peer = await qq_peer(30002)
    await peer.client.send_text(30001, TRICKY)
    room = await session.user.wait_for_invite(puppet(30002))
    await session.user.join(room)
    event = await session.user.wait_for_text(room, "第二行", sender=puppet(30002))
    assert event.body == TRICKY
    profile = await session.user.client.get_profile(UserID(puppet(30002)))
    assert profile.displayname == f"{E2E_ACCOUNTS[30002].nick} (QQ)"
    assert profile.avatar_url and str(profile.avatar_url).startswith("mxc://")

    await session.user.send(room, TRICKY)
    await session.user.send(room, "second, in order")
    assert await peer.texts_from(30001, 2) == [TRICKY, "second, in order"]


async def test_long_matrix_message_is_split_in_order(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("long", 30022)
    peer = await qq_peer(30023)
    room = await session.open_portal(30023)
    text = "长" * 500  # 1,500 bytes of UTF-8: three QQ messages
    await session.user.send(room, text)
    pieces = await peer.texts_from(30022, 3)
    assert "".join(pieces) == text
    assert all(len(piece.encode()) <= 700 for piece in pieces)


async def test_status_becomes_presence_and_back(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("presence", 30024)
    peer = await qq_peer(30025)
    await session.open_portal(30025)  # Synapse shows presence only to those sharing a room
    await peer.client.set_status(Status.BUSY)

    async def presence_is(state: str) -> None:
        for _ in range(100):
            presence = await session.user.client.get_presence(UserID(puppet(30025)))
            if presence.presence.value == state:
                return
            await session.user.wait_briefly()
        raise AssertionError(f"presence never became {state}")

    await presence_is("unavailable")
    await peer.client.set_status(Status.ONLINE)
    await presence_is("online")

    await session.command("status busy", "now busy")
    event = await peer.wait_for(lambda e: isinstance(e, StatusChange) and e.sender == 30024)
    assert isinstance(event, StatusChange) and event.status is Status.BUSY
