"""Profiles follow QQ, from the user's side (issue 10, item 2): a contact's new nickname or face
shows on their puppet as soon as the bridge learns it (Query_Stat at login and in `online` and
`friends`, GetInfo in `info` and `pm`), with no homeserver call when nothing changed.

The contact changes their profile on the simulator (World.change_profile: QQ v1.1 has no
command for it, and nothing announces it). The user sees the puppet's member event in the
portal: Synapse sends one for every display name or avatar the bridge sets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mautrix.types import RoomID, UserID

from bridge.qq.simulator import Simulator

from .harness import E2E_ACCOUNTS, LoggedIn, LoggedInSession, QQPeerFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")

USER, CONTACT = 30160, 30161


def member_events(session: LoggedInSession, room: RoomID, mxid: str, after: int) -> list[Any]:
    """The contents of ``mxid``'s member events in ``room`` seen since ``after``."""
    return [
        event.content
        for event in session.user.events[after:]
        if event.room_id == room
        and event.type == "m.room.member"
        and event.raw.get("state_key") == mxid
    ]


async def member_event(
    session: LoggedInSession, room: RoomID, mxid: str, name: str, after: int
) -> dict[str, Any]:
    """Wait for a member event of ``mxid`` in ``room`` with display name ``name``."""
    event = await session.user.wait_for(
        lambda e: (
            e.room_id == room
            and e.type == "m.room.member"
            and e.raw.get("state_key") == mxid
            and e.content.get("displayname") == name
        ),
        after=after,
    )
    return event.content


async def shows(session: LoggedInSession, mxid: str, name: str) -> str:
    """The puppet's global profile has display name ``name``; its avatar URL."""
    profile = await session.user.client.get_profile(UserID(mxid))
    assert profile.displayname == name
    return str(profile.avatar_url)


async def test_a_new_nickname_and_face_follow_wherever_the_bridge_learns_them(
    logged_in: LoggedIn,
    qq_peer: QQPeerFactory,
    qq_server: Simulator,
    puppet: Callable[[int], str],
) -> None:
    await qq_peer(CONTACT)  # online: the user's login reads its profile from Query_Stat
    qq_server.state.change_profile(CONTACT, nick="登录前")  # before the bridge ever saw it
    session = await logged_in("profiles", USER)
    contact = puppet(CONTACT)
    first_avatar = await shows(session, contact, "登录前 (QQ)")
    room = await session.open_portal(CONTACT)

    # Query_Stat in `online`: a new nickname and a new face (a member event for each).
    mark = session.user.mark()
    qq_server.state.change_profile(CONTACT, nick="小明", face=E2E_ACCOUNTS[CONTACT].face + 1)
    await session.command("online", "小明")
    avatar = await shows(session, contact, "小明 (QQ)")
    assert avatar != first_avatar
    await session.user.wait_for(
        lambda e: (
            e.room_id == room
            and e.type == "m.room.member"
            and e.content.get("avatar_url") == avatar
        ),
        after=mark,
    )

    # Nothing changed: no member event. The next real change (in `friends`) is the barrier:
    # the puppet's member events come in order, so one from the `online` would come first.
    mark = session.user.mark()
    await session.command("online", "小明")
    qq_server.state.change_profile(CONTACT, nick="小明2")
    await session.command("friends", "小明2")
    await member_event(session, room, contact, "小明2 (QQ)", mark)
    assert [c.get("displayname") for c in member_events(session, room, contact, mark)] == [
        "小明2 (QQ)"
    ]
    assert await shows(session, contact, "小明2 (QQ)") == avatar  # the face is the same

    # GetInfo in `info` and in `pm`.
    for command, nick, answer in (
        (f"info {CONTACT}", "小明3", "小明3"),
        (f"pm {CONTACT}", "小明4", "already"),
    ):
        mark = session.user.mark()
        qq_server.state.change_profile(CONTACT, nick=nick)
        await session.command(command, answer)
        await member_event(session, room, contact, f"{nick} (QQ)", mark)
        assert await shows(session, contact, f"{nick} (QQ)") == avatar
