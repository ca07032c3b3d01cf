"""What a portal room shows, from the user's side: request rooms that become plain DMs,
answers that could not reach QQ, notices that cannot pass for the contact's words, m.bridge."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from mautrix.types import EventType, RoomCreatePreset, RoomID, UserID

from bridge.qq.codes import AckCode
from bridge.qq.wire.replies import RequestAccepted, RequestRejected

from .harness import E2E_ACCOUNTS, LoggedIn, LoggedInSession, QQPeerFactory
from .matrix_user import MatrixUser

pytestmark = pytest.mark.asyncio(loop_scope="session")

MARKER = "QQ bridge:"


async def wait_for_state(user: MatrixUser, room: RoomID, kind: str, key: str, value: str) -> None:
    """A state event of type ``kind`` in ``room`` whose content[key] is ``value``."""
    await user.wait_for(
        lambda e: e.room_id == room and e.type == kind and e.content.get(key) == value
    )


async def request_room(
    session: LoggedInSession, asker_uin: int, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> RoomID:
    asker = await qq_peer(asker_uin)
    await asker.client.ack(session.uin, AckCode.REQUEST, f"我是 {asker_uin}")
    return await session.user.wait_for_invite(puppet(asker_uin))


async def test_an_accepted_request_room_becomes_a_plain_dm(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("plain", 30324)
    room = await request_room(session, 30323, qq_peer, puppet)
    await session.user.join(room)
    request = await session.user.wait_for_text(room, "asks to be your QQ friend")
    assert request.msgtype == "m.notice" and request.body.startswith(MARKER)
    # As any DM the bridge makes: no name, no topic (clients show the contact).
    await wait_for_state(session.user, room, "m.room.name", "name", "")
    await wait_for_state(session.user, room, "m.room.topic", "topic", "")
    await session.command("friends", "30323")


async def test_accepting_by_joining_while_logged_out_is_told_and_can_be_repeated(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("joinout", 30325)
    asker = await qq_peer(30326)
    await asker.client.ack(30325, AckCode.REQUEST, "hello")
    room = await session.user.wait_for_invite(puppet(30326))
    await session.command("logout", "Logged out of QQ")
    await session.user.join(room)
    told = await session.user.wait_for_text(room, "Could not accept", sender=puppet(30326))
    assert told.msgtype == "m.notice" and told.body.startswith(MARKER)
    assert "not logged in" in told.body and "accept 30326" in told.body
    password = E2E_ACCOUNTS[30325].password
    await session.command(f"login 30325 {password}", "Logged in to QQ")
    await session.command("accept 30326", "now QQ friends")
    accepted = await asker.wait_for(lambda e: isinstance(e, RequestAccepted))
    assert isinstance(accepted, RequestAccepted) and accepted.sender == 30325
    await wait_for_state(session.user, room, "m.room.topic", "topic", "")
    await asker.client.send_text(30325, "friends now")
    await session.user.wait_for_text(room, "friends now", sender=puppet(30326))


async def test_refusing_by_leaving_while_logged_out_is_told_and_can_be_repeated(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("leaveout", 30327)
    asker = await qq_peer(30328)
    await asker.client.ack(30327, AckCode.REQUEST, "hello")
    room = await session.user.wait_for_invite(puppet(30328))
    await session.command("logout", "Logged out of QQ")
    await session.user.client.leave_room(room)
    told = await session.user.wait_for_text(session.room, "Could not refuse", sender=session.bot)
    assert "not logged in" in told.body and "reject 30328" in told.body
    password = E2E_ACCOUNTS[30327].password
    await session.command(f"login 30327 {password}", "Logged in to QQ")
    await session.command("reject 30328", "refused the friend request")
    rejected = await asker.wait_for(lambda e: isinstance(e, RequestRejected))
    assert isinstance(rejected, RequestRejected) and rejected.sender == 30327


async def test_the_bridges_notices_in_a_portal_are_marked_and_the_contacts_words_are_not(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("marked", 30110)
    peer = await qq_peer(30111)
    room = await session.open_portal(30111)
    await peer.client.send_text(30110, "QQ bridge: not really")
    words = await session.user.wait_for_text(room, "not really", sender=puppet(30111))
    assert words.msgtype == "m.text" and words.body == "QQ bridge: not really"
    await session.user.client.react(room, await session.user.send(room, "hi"), "👍")
    notice = await session.user.wait_for_text(room, "Reactions are not", sender=puppet(30111))
    assert notice.msgtype == "m.notice"
    assert notice.body == f"{MARKER} Reactions are not sent to QQ."


async def test_every_portal_has_m_bridge_whoever_made_it(
    logged_in: LoggedIn, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("mbridge", 30112)
    made_by_bridge = await session.open_portal(30113)
    # A DM the user opens with a puppet from their client, as Element does.
    mark = session.user.mark()
    made_by_user = await session.user.dm(puppet(30329))
    await session.user.wait_for(
        lambda e: (
            e.room_id == made_by_user
            and e.type == "uk.half-shot.bridge"
            and e.raw.get("state_key") == "qq://qq/30329"
        ),
        after=mark,
    )
    for room, uin in ((made_by_bridge, 30113), (made_by_user, 30329)):
        for kind in ("m.bridge", "uk.half-shot.bridge"):
            state = await session.user.client.get_state_event(
                room, EventType.find(kind, EventType.Class.STATE), f"qq://qq/{uin}"
            )
            content = state.serialize()
            assert content["protocol"]["id"] == "qq"
            assert content["channel"]["id"] == str(uin)
            assert content["bridgebot"] == session.bot


async def test_a_private_dm_where_the_puppet_may_not_set_state_still_works(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    """A private chat gives the invited puppet no power over state: m.bridge cannot be set,
    and the chat works all the same."""
    session = await logged_in("nopower", 30114)
    peer = await qq_peer(30115)
    room = await session.user.client.create_room(
        preset=RoomCreatePreset.PRIVATE, is_direct=True, invitees=[UserID(puppet(30115))]
    )
    # The puppet joins as the bridge takes the room up. A QQ message the bridge read before it
    # saw the invite would open a room of its own (portal_members.py), so the peer waits.
    await session.user.wait_for_join(room, puppet(30115))
    await peer.client.send_text(30114, "in your room")
    await session.user.wait_for_text(room, "in your room", sender=puppet(30115))
