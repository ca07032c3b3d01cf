"""An account's owner changes their nickname or face (World.change_profile): friends see it in
Query_Stat and anyone in GetInfo, and nothing else announces it (no MT message in the seeds)."""

from __future__ import annotations

import pytest

from bridge.qq.codes import Command, Status
from bridge.qq.simulator import Simulator
from bridge.qq.wire import requests as build
from bridge.qq.wire.replies import OnlineFriend, OnlineFriends, Profile

from .test_roundtrip import call, log_in


async def test_a_new_nickname_and_face_show_in_query_stat_and_get_info(sim: Simulator) -> None:
    await log_in(sim, 10001, "password1")
    await log_in(sim, 10003, "password3")
    queued = sim.state.queue(10001)

    sim.state.change_profile(10003, nick="Bobby, the 2nd", face=42)

    online = await call(sim, Command.QUERY_STAT, build.query_stat(10001, 2))
    assert online == OnlineFriends(1, [OnlineFriend(10003, 42, Status.ONLINE, "Bobby, the 2nd")])
    profile = await call(sim, Command.GET_INFO, build.get_info(10001, 3, 10003))
    assert isinstance(profile, Profile)
    assert (profile.nick, profile.face) == ("Bobby, the 2nd", 42)
    assert sim.state.queue(10001) == queued  # no message tells of it


async def test_only_what_is_given_changes(sim: Simulator) -> None:
    before = sim.state.accounts[10003]
    sim.state.change_profile(10003, face=7)
    after = sim.state.accounts[10003]
    assert (after.nick, after.face) == (before.nick, 7)
    assert after.password_md5 == before.password_md5  # the login still works
    await log_in(sim, 10003, "password3")


def test_unknown_accounts_and_bad_faces_are_refused(sim: Simulator) -> None:
    with pytest.raises(KeyError):
        sim.state.change_profile(99999, nick="nobody")
    with pytest.raises(ValueError):
        sim.state.change_profile(10003, face=-1)
