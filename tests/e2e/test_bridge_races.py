"""What an impatient or unusual user does: commands twice at once, edits, group rooms."""

from __future__ import annotations

import gc
from collections.abc import Callable

import pytest
from mautrix.types import UserID

from bridge.qq.client import QQClient
from bridge.qq.simulator import Simulator

from .harness import E2E_ACCOUNTS, BridgeRunner, LoggedIn, UserFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_two_logins_at_once_leave_nothing_behind_after_logout(
    logged_in: LoggedIn, qq_server: Simulator
) -> None:
    session = await logged_in("twice", 30035)
    password = E2E_ACCOUNTS[30035].password
    mark = session.user.mark()
    await session.user.send(session.room, f"login 30035 {password}")
    await session.user.send(session.room, f"login 30035 {password}")
    for _ in range(2):
        await session.user.wait_for_text(session.room, "Logged in to QQ as 30035", after=mark)
        mark = session.user.mark()
    await session.command("logout", "Logged out of QQ")
    # The logout stopped the user's client before it answered; a client that either login
    # left behind would still be polling (and would log in again on its next poll).
    gc.collect()
    stray = [o for o in gc.get_objects() if isinstance(o, QQClient) and o.uin == 30035]
    assert [client for client in stray if client.polling] == []
    assert not qq_server.state.is_online(30035)


async def test_pm_twice_at_once_makes_one_room(
    logged_in: LoggedIn, puppet: Callable[[int], str], bridge_runner: BridgeRunner
) -> None:
    session = await logged_in("pmtwice", 30036)
    mark = session.user.mark()
    await session.user.send(session.room, "pm 30037")
    await session.user.send(session.room, "pm 30037")
    await session.user.wait_for_text(session.room, "Opened a chat with", after=mark)
    await session.user.wait_for_text(session.room, "You already have a chat with", after=mark)
    invited = await session.user.wait_for_invite(puppet(30037))
    # Both commands have answered, so any room either made exists by now: the homeserver's
    # list of the puppet's rooms is complete (30037 talks to no one else in these tests).
    assert await bridge_runner.bridge.puppet_intent(30037).get_joined_rooms() == [invited]


async def test_a_number_released_by_logout_can_be_used_by_someone_else(
    logged_in: LoggedIn, new_user: UserFactory, bot: str
) -> None:
    first = await logged_in("first", 30038)
    await first.command("logout", "Logged out of QQ")
    second = await logged_in("second", 30038)
    await second.command("ping", "30038: online")


async def test_an_edited_login_redacts_the_original_too(new_user: UserFactory, bot: str) -> None:
    user = await new_user("edits")
    room = await user.dm(bot)
    await user.wait_for_text(room, "Send `login", sender=bot)
    typo = await user.send(room, f"logn 30039 {E2E_ACCOUNTS[30039].password}")
    await user.wait_for_text(room, "Unknown command `logn`", sender=bot)
    await user.send_content(
        room,
        {
            "msgtype": "m.text",
            "body": f"* login 30039 {E2E_ACCOUNTS[30039].password}",
            "m.new_content": {
                "msgtype": "m.text",
                "body": f"login 30039 {E2E_ACCOUNTS[30039].password}",
            },
            "m.relates_to": {"rel_type": "m.replace", "event_id": typo},
        },
    )
    await user.wait_for_text(room, "Logged in to QQ as 30039", sender=bot)
    original = await user.client.get_event(room, typo)
    assert not original.content.serialize().get("body"), "the typo'd login must be redacted"


async def test_the_bot_refuses_a_group_room(new_user: UserFactory, bot: str) -> None:
    user = await new_user("group")
    room = await user.client.create_room(invitees=[UserID(bot)])  # not a direct chat
    await user.wait_for_text(room, "only take commands in a direct chat", sender=bot)
