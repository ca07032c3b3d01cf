"""The bot's commands, typed in the management room as an Element user would."""

from __future__ import annotations

import pytest

from bridge.qq.wire.replies import FriendRequest

from .harness import E2E_ACCOUNTS, LoggedIn, QQPeerFactory, UserFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_help_lists_every_command(logged_in: LoggedIn) -> None:
    session = await logged_in("help", 30026)
    reply = await session.command("help", "Commands")
    for name in (
        "login", "logout", "ping", "status", "friends", "online", "info", "add", "accept",
        "reject", "remove", "pm", "help",
    ):  # fmt: skip
        assert f"- `{name}" in reply.body


async def test_friends_online_and_info(logged_in: LoggedIn, qq_peer: QQPeerFactory) -> None:
    session = await logged_in("friends", 30003)
    await qq_peer(30004)
    nick = E2E_ACCOUNTS[30004].nick
    friends = await session.command("friends", "Your QQ friends")
    assert f"- {nick} (30004): online" in friends.body
    online = await session.command("online", "Online (")
    assert f"{nick} (30004)" in online.body
    info = await session.command("info 30004", "Nickname")
    for line in ("QQ: 30004", f"Nickname: {nick}", "Blood type: B", "Constellation: Leo",
                 "Zodiac: Dragon", "Sex: female", "About: hi, there"):  # fmt: skip
        assert line in info.body


async def test_add_by_auth_mode_and_remove(logged_in: LoggedIn, qq_peer: QQPeerFactory) -> None:
    session = await logged_in("add", 30027)
    needs_approval = await qq_peer(30005)
    await session.command("add 30006", "30006 is now your friend")
    await session.command("add 30007", "does not accept friend requests")
    await session.command("add 30005 hello, it's me", "friend request was sent")
    request = await needs_approval.wait_for(lambda e: isinstance(e, FriendRequest))
    assert isinstance(request, FriendRequest) and request.text == "hello, it's me"
    await session.command("remove 30006", "Removed QQ 30006")
    friends = await session.command("friends", "friends")
    assert "30006" not in friends.body


async def test_pm_opens_a_portal_and_logout(logged_in: LoggedIn, puppet: object) -> None:
    session = await logged_in("pm", 30028)
    room = await session.open_portal(30029)
    await session.user.send(room, "hello stranger")
    warning = await session.user.wait_for_text(room, "not your friend")
    assert "QQ may not show" in warning.body
    await session.command("logout", "Logged out of QQ")
    await session.command("ping", "not logged in")
    mark = session.user.mark()
    await session.user.send(room, "after logging out")
    failed = await session.user.wait_for_text(room, "Not sent to QQ", after=mark)
    assert "not logged in" in failed.body


async def test_outsider_is_refused(new_user: UserFactory, bot: str, bridge_config: object) -> None:
    outsider = await new_user("outsider")
    permissions = bridge_config["bridge.permissions"]  # type: ignore[index]
    bridge_config["bridge.permissions"] = {"@nobody:localhost": "user"}  # type: ignore[index]
    try:
        room = await outsider.dm(bot)
        await outsider.wait_for_text(room, "not allowed", sender=bot)
    finally:
        bridge_config["bridge.permissions"] = permissions  # type: ignore[index]
