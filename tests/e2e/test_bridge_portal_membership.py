"""Who is in a portal, seen from the user's side: kicks, leaves, strangers, a second contact.

A portal is the user's private chat with one QQ contact. When the user or the puppet leaves it
ends, and the next message (or `pm`) makes a new chat that works; the puppet invited back into
its old room takes it up again. A puppet stays in no room with anyone else in it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from mautrix.types import EventType, RoomCreatePreset, RoomID, UserID

from .harness import LoggedIn, LoggedInSession, QQPeerFactory, UserFactory
from .matrix_user import MatrixUser, SeenEvent

pytestmark = pytest.mark.asyncio(loop_scope="session")

MARKER = "QQ bridge:"


async def wait_for_member(
    user: MatrixUser, room: RoomID, who: str, membership: str, after: int = 0
) -> SeenEvent:
    """The membership event of ``who`` in ``room`` that the user's client sees."""
    return await user.wait_for(
        lambda e: (
            e.room_id == room
            and e.type == "m.room.member"
            and e.raw.get("state_key") == who
            and e.content.get("membership") == membership
        ),
        after=after,
    )


async def open_own_dm(session: LoggedInSession, puppet_id: str) -> RoomID:
    """A DM the user starts with a puppet from their client, as its creator (a private chat:
    the user may kick the puppet); the puppet joins it as the portal."""
    mark = session.user.mark()
    room = await session.user.client.create_room(
        preset=RoomCreatePreset.PRIVATE, is_direct=True, invitees=[UserID(puppet_id)]
    )
    await wait_for_member(session.user, room, puppet_id, "join", after=mark)
    return room


async def new_portal_on_message(
    session: LoggedInSession, peer_uin: int, puppet_id: str, old: RoomID, text: str
) -> RoomID:
    """The contact's next message invites the user into a new room, where it arrives."""
    room = await session.user.wait_for_invite(puppet_id)
    assert room != old
    await session.user.join(room)
    event = await session.user.wait_for_text(room, text, sender=puppet_id)
    assert event.msgtype == "m.text"
    return room


async def test_kicking_the_puppet_ends_the_portal_and_the_next_message_makes_a_new_one(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("kick", 30100)
    peer = await qq_peer(30101)
    room = await open_own_dm(session, puppet(30101))
    await session.user.client.kick_user(room, UserID(puppet(30101)), "go away")
    told = await session.user.wait_for_text(session.room, "You removed", sender=session.bot)
    assert "pm 30101" in told.body
    # The contact's next message: promptly in a new chat (not five failures and a notice).
    await peer.client.send_text(30100, "after the kick")
    new = await new_portal_on_message(session, 30101, puppet(30101), room, "after the kick")
    await session.user.send(new, "and back")
    assert await peer.texts_from(30100, 1) == ["and back"]
    assert not [e for e in session.user.events if "could not be bridged" in e.body]


async def test_leaving_ends_the_portal_and_pm_opens_a_working_one(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("leave", 30102)
    peer = await qq_peer(30103)
    room = await session.open_portal(30103)
    mark = session.user.mark()
    await session.user.client.leave_room(room)
    # Whether the bridge has handled the leave yet or not, `pm` makes a new chat: it also
    # checks that the room still holds the user.
    await session.command("pm 30103", "Opened a chat")
    new = await session.user.wait_for_invite(puppet(30103))
    assert new != room
    await session.user.join(new)
    await session.user.send(new, "a new chat")
    assert await peer.texts_from(30102, 1) == ["a new chat"]
    await peer.client.send_text(30102, "got it")
    await session.user.wait_for_text(new, "got it", sender=puppet(30103), after=mark)


async def test_the_puppet_invited_back_into_its_old_room_takes_it_up(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("reinvite", 30104)
    peer = await qq_peer(30105)
    room = await open_own_dm(session, puppet(30105))
    await session.user.client.kick_user(room, UserID(puppet(30105)))
    await session.user.wait_for_text(session.room, "You removed", sender=session.bot)
    mark = session.user.mark()
    await session.user.client.invite_user(room, UserID(puppet(30105)))
    await wait_for_member(session.user, room, puppet(30105), "join", after=mark)
    await peer.client.send_text(30104, "back in the old room")
    await session.user.wait_for_text(room, "back in the old room", sender=puppet(30105))
    await session.user.send(room, "welcome back")
    assert await peer.texts_from(30104, 1) == ["welcome back"]
    await session.command("pm 30105", "You already have a chat")


async def test_a_puppet_leaves_a_room_with_others_in_it_with_a_notice(
    logged_in: LoggedIn, new_user: UserFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("group", 30320)
    stranger = await new_user("stranger")
    room = await session.user.client.create_room(
        preset=RoomCreatePreset.PRIVATE, invitees=[stranger.mxid, UserID(puppet(30321))]
    )
    notice = await session.user.wait_for_text(room, "is in this room too", sender=puppet(30321))
    assert notice.msgtype == "m.notice" and notice.body.startswith(MARKER)
    assert stranger.mxid in notice.body
    await wait_for_member(session.user, room, puppet(30321), "leave")
    # That room never became the portal: `pm` opens the chat.
    await session.command("pm 30321", "Opened a chat")


async def test_a_stranger_coming_into_a_portal_ends_it(
    logged_in: LoggedIn,
    new_user: UserFactory,
    qq_peer: QQPeerFactory,
    puppet: Callable[[int], str],
) -> None:
    session = await logged_in("crowd", 30106)
    peer = await qq_peer(30107)
    stranger = await new_user("intruder")
    room = await session.open_portal(30107)
    await session.user.client.invite_user(room, stranger.mxid)
    notice = await session.user.wait_for_text(room, "is in this room too", sender=puppet(30107))
    assert notice.msgtype == "m.notice" and notice.body.startswith(MARKER)
    await wait_for_member(session.user, room, puppet(30107), "leave")
    await stranger.join(room)
    # What the contact writes next is for the user alone: a new chat, not the crowded room.
    await peer.client.send_text(30106, "just for you")
    await new_portal_on_message(session, 30107, puppet(30107), room, "just for you")
    assert not [e for e in stranger.events if "just for you" in e.body]


async def test_a_second_contact_invited_into_a_portal_is_refused(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("second", 30108)
    peer = await qq_peer(30109)
    room = await session.open_portal(30109)
    mark = session.user.mark()
    await session.user.client.invite_user(room, UserID(puppet(30322)))
    notice = await session.user.wait_for_text(
        room, "this room is your chat with", sender=puppet(30109), after=mark
    )
    assert notice.msgtype == "m.notice" and notice.body.startswith(MARKER)
    assert "pm 30322" in notice.body
    await wait_for_member(session.user, room, puppet(30322), "leave", after=mark)
    # The portal is still the first contact's, and the second gets a room of their own.
    await peer.client.send_text(30108, "still here")
    await session.user.wait_for_text(room, "still here", sender=puppet(30109), after=mark)
    await session.command("pm 30322", "Opened a chat")
    second = await session.user.wait_for_invite(puppet(30322))
    assert second != room


async def test_a_second_room_with_the_same_contact_is_refused_in_the_first(
    logged_in: LoggedIn, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("again", 30116)
    room = await session.open_portal(30117)
    mark = session.user.mark()
    other = await session.user.dm(puppet(30117))
    notice = await session.user.wait_for_text(
        room, "into another room, but this is your chat", sender=puppet(30117), after=mark
    )
    assert notice.msgtype == "m.notice" and notice.body.startswith(MARKER)
    state = await session.user.client.get_state_event(other, EventType.ROOM_MEMBER, puppet(30117))
    assert state.serialize()["membership"] == "leave"
