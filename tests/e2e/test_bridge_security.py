"""Issue 11: no password in Matrix history, logs or world-readable files.

The login page and the provisioning API over HTTP, redaction of anything that looks like a
login in any room the bridge reads, the management room of exactly two, and racing logins.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
import pytest
from mautrix.types import RoomCreatePreset, UserID

from bridge.login import IN_USE, OK, log_in
from bridge.qq.client import ConnectionState
from bridge.qq.simulator import Simulator

from .harness import E2E_ACCOUNTS, BridgeRunner, LoggedIn, QQPeerFactory, UserFactory
from .matrix_user import MatrixUser

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _management_room(user: MatrixUser, bot: str) -> Any:
    room = await user.dm(bot)
    await user.wait_for_text(room, "Send `login", sender=bot)
    return room


async def login_link(user: MatrixUser, room: Any, bot: str) -> str:
    mark = user.mark()
    await user.send(room, "login")
    reply = await user.wait_for_text(room, "Open this link", sender=bot, after=mark)
    found = re.search(r"https?://\S+", reply.body)
    assert found is not None
    return found.group(0)


async def _redacted(user: MatrixUser, room: Any, event_id: Any) -> bool:
    event = await user.client.get_event(room, event_id)
    return not event.content.serialize().get("body")


async def _wait_redacted(user: MatrixUser, room: Any, event_id: Any) -> None:
    """Until the bridge's redaction of ``event_id`` reaches the user's /sync."""
    await user.wait_for(
        lambda e: (
            e.room_id == room
            and e.type == "m.room.redaction"
            and event_id in (e.raw.get("redacts"), e.content.get("redacts"))
        )
    )


# --- the login page ---------------------------------------------------------------------


async def test_the_login_link_logs_in_without_the_password_entering_matrix(
    new_user: UserFactory, bot: str
) -> None:
    user = await new_user("link")
    room = await _management_room(user, bot)
    link = await login_link(user, room, bot)
    password = E2E_ACCOUNTS[30052].password
    async with aiohttp.ClientSession() as http:
        async with http.get(link) as page:
            assert page.status == 200
            assert "Log in to QQ" in await page.text() and user.mxid in await page.text()
            assert page.headers["Cache-Control"] == "no-store"
            assert page.headers["Referrer-Policy"] == "no-referrer"
            assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        async with http.post(link, data={"uin": "30052", "password": "wrong"}) as refused:
            assert refused.status == 403
            assert "QQ refused the login" in await refused.text()
        async with http.post(link, data={"uin": "30052", "password": password}) as done:
            assert done.status == 200, await done.text()
            assert "Logged in to QQ as 30052" in await done.text()
        for method in (http.get, http.post):
            async with method(link) as used:
                assert used.status == 404  # single use
                assert "expired or was already used" in await used.text()
    await user.wait_for_text(room, "through the login page", sender=bot)
    mark = user.mark()
    await user.send(room, "ping")
    await user.wait_for_text(room, "30052: online", sender=bot, after=mark)
    assert not any(password in text for text in await user.texts(room))


async def test_a_link_works_for_its_own_user_only_and_a_made_up_one_not_at_all(
    new_user: UserFactory, bot: str, bridge_config: Any
) -> None:
    user = await new_user("linkowner")
    room = await _management_room(user, bot)
    link = await login_link(user, room, bot)
    newer = await login_link(user, room, bot)
    base = bridge_config.public_address
    async with aiohttp.ClientSession() as http:
        for dead in (link, f"{base}/qq-bridge/login/made-up-token"):
            async with http.get(dead) as page:
                assert page.status == 404
        async with http.get(newer) as page:
            assert page.status == 200 and user.mxid in await page.text()
        async with http.post(newer, data={"uin": "30x", "password": "pw"}) as bad:
            assert bad.status == 400  # a typo costs nothing: the link still works
        async with http.get(newer) as page:
            assert page.status == 200


async def test_login_with_arguments_still_works_and_points_to_the_link(
    new_user: UserFactory, bot: str
) -> None:
    user = await new_user("args")
    room = await _management_room(user, bot)
    password = E2E_ACCOUNTS[30053].password
    sent = await user.send(room, f"login 30053 {password}")
    await user.wait_for_text(room, "Logged in to QQ as 30053", sender=bot)
    await user.wait_for_text(room, "send `login` alone", sender=bot)
    assert await _redacted(user, room, sent)
    await user.send(room, "logout")
    await user.wait_for_text(room, "Logged out of QQ", sender=bot)


# --- redaction ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "!qq login 30054 {pw}",
        "log in 30054 {pw}",
        "login30054 {pw}",
        "LOGIN  30054 {pw}",
    ],
)
async def test_a_mistyped_login_is_redacted_in_the_management_room(
    new_user: UserFactory, bot: str, text: str
) -> None:
    """The bot redacts in the user's DM, so it has the power to there (trusted_private_chat)."""
    user = await new_user("mistyped")
    room = await _management_room(user, bot)
    sent = await user.send(room, text.format(pw=E2E_ACCOUNTS[30054].password))
    await _wait_redacted(user, room, sent)
    assert await _redacted(user, room, sent)


async def test_a_formatted_login_is_redacted(new_user: UserFactory, bot: str) -> None:
    user = await new_user("formatted")
    room = await _management_room(user, bot)
    pw = E2E_ACCOUNTS[30054].password
    sent = await user.send_content(
        room,
        {
            "msgtype": "m.text",
            "body": "see below",
            "format": "org.matrix.custom.html",
            "formatted_body": f"<p>login <code>30054</code> {pw}</p>",
        },
    )
    await _wait_redacted(user, room, sent)


async def test_a_login_in_an_older_dm_with_the_bot_is_redacted(
    new_user: UserFactory, bot: str
) -> None:
    user = await new_user("olddm")
    old = await _management_room(user, bot)
    await _management_room(user, bot)  # the newer DM is the management room now
    sent = await user.send(old, f"login 30054 {E2E_ACCOUNTS[30054].password}")
    await _wait_redacted(user, old, sent)
    await user.wait_for_text(old, "I removed your message", sender=bot)


async def test_a_login_typed_in_a_portal_is_redacted_and_not_sent_to_qq(
    logged_in: LoggedIn, qq_peer: QQPeerFactory
) -> None:
    session = await logged_in("portalpw", 30055)
    peer = await qq_peer(30056)
    room = await session.open_portal(30056)
    sent = await session.user.send(room, f"login 30055 {E2E_ACCOUNTS[30055].password}")
    await _wait_redacted(session.user, room, sent)
    await session.user.wait_for_text(room, "I removed your message")
    await session.user.send(room, "after the password")
    assert await peer.texts_from(30055, 1) == ["after the password"]


async def test_a_login_the_bot_cannot_redact_is_answered(new_user: UserFactory, bot: str) -> None:
    """In a DM made with the private_chat preset the bot has no power to redact: it says so."""
    user = await new_user("nopower")
    room = await user.client.create_room(
        preset=RoomCreatePreset.PRIVATE, is_direct=True, invitees=[UserID(bot)]
    )
    await user.wait_for_text(room, "Send `login", sender=bot)
    sent = await user.send(room, f"login 30049 {E2E_ACCOUNTS[30049].password}")
    await user.wait_for_text(room, "I could not remove it here: delete it yourself", sender=bot)
    await user.wait_for_text(room, "Logged in to QQ as 30049", sender=bot)
    assert not await _redacted(user, room, sent)
    mark = user.mark()
    await user.send(room, "logout")
    await user.wait_for_text(room, "Logged out of QQ", sender=bot, after=mark)


# --- the management room --------------------------------------------------------------------


async def test_a_dm_with_a_third_person_is_not_a_management_room(
    new_user: UserFactory, bot: str
) -> None:
    user, other = await new_user("crowd"), await new_user("third")
    room = await user.client.create_room(
        preset=RoomCreatePreset.TRUSTED_PRIVATE,
        is_direct=True,
        invitees=[UserID(bot), other.mxid],
    )
    await user.wait_for_text(room, "could read your login and my answers", sender=bot)
    mark = user.mark()
    await user.send(room, "ping")
    await user.wait_for(
        lambda e: (
            e.room_id == room
            and e.type == "m.room.member"
            and e.raw.get("state_key") == bot
            and e.content.get("membership") == "leave"
        )
    )
    assert not [e for e in user.events[mark:] if e.sender == bot and "QQ" in e.body]


async def test_someone_joining_the_management_room_ends_it(
    new_user: UserFactory, bot: str, bridge_runner: BridgeRunner
) -> None:
    user, other = await new_user("joined"), await new_user("joiner")
    room = await _management_room(user, bot)
    await user.client.invite_user(room, other.mxid)
    notice = await user.wait_for_text(room, "no longer take commands here", sender=bot)
    assert other.mxid in notice.body
    found = await bridge_runner.bridge.db.get_user(user.mxid)
    assert found is not None and found.management_room is None


# --- racing logins ----------------------------------------------------------------------------


async def test_two_users_racing_to_one_number_leave_one_session(
    bridge_runner: BridgeRunner, qq_server: Simulator
) -> None:
    bridge = bridge_runner.bridge
    first, second = await bridge.user("@racer1:localhost"), await bridge.user("@racer2:localhost")
    password = E2E_ACCOUNTS[30057].password
    results = await asyncio.gather(
        log_in(bridge, first, 30057, password), log_in(bridge, second, 30057, password)
    )
    assert sorted(result.code for result in results) == [IN_USE, OK]
    winner, loser = (first, second) if results[0].ok else (second, first)
    assert "already bridged for another Matrix user" in next(r for r in results if not r.ok).message
    assert qq_server.state.is_online(30057)
    assert winner.client is not None and winner.client.state is ConnectionState.ONLINE
    assert loser.client is None and not loser.has_credentials
    # The same user twice at once: both work, one session.
    again = await asyncio.gather(
        log_in(bridge, winner, 30057, password), log_in(bridge, winner, 30057, password)
    )
    assert [result.code for result in again] == [OK, OK]
    assert qq_server.state.is_online(30057)
    assert winner.client is not None and winner.client.state is ConnectionState.ONLINE
    await winner.logout()
