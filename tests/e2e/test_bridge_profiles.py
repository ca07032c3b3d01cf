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

    # Query_Stat in `online`: a new nickname and a new face.
    mark = session.user.mark()
    qq_server.state.change_profile(CONTACT, nick="小明", face=E2E_ACCOUNTS[CONTACT].face + 1)
    await session.command("online", "小明")
    avatar = await shows(session, contact, "小明 (QQ)")
    assert avatar != first_avatar
    changes = member_events(session, room, contact, mark)
    assert changes and changes[-1]["displayname"] == "小明 (QQ)"
    assert changes[-1]["avatar_url"] == avatar

    # Nothing changed: the answer comes with no profile change before it. (Sync hands out
    # events in the order they happened, so one set before the answer would be seen by now.)
    mark = session.user.mark()
    await session.command("online", "小明")
    assert member_events(session, room, contact, mark) == []

    # Query_Stat in `friends`, GetInfo in `info` and in `pm`.
    for command, nick in (
        ("friends", "小明2"),
        (f"info {CONTACT}", "小明3"),
        (f"pm {CONTACT}", "小明4"),
    ):
        mark = session.user.mark()
        qq_server.state.change_profile(CONTACT, nick=nick)
        await session.command(command, nick if command != f"pm {CONTACT}" else "already")
        assert await shows(session, contact, f"{nick} (QQ)") == avatar  # the face is the same
        assert [c["displayname"] for c in member_events(session, room, contact, mark)] == [
            f"{nick} (QQ)"
        ]
