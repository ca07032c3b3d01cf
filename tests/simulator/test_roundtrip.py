"""The lead's codec against this server: build with wire.requests, decode with wire.replies."""

from __future__ import annotations

import pytest

from bridge.qq.clock import FakeClock
from bridge.qq.codes import AckCode, AddResult, Command, Status
from bridge.qq.simulator import Simulator
from bridge.qq.wire import requests as build
from bridge.qq.wire.fields import NoReply
from bridge.qq.wire.replies import (
    Added,
    FriendList,
    FriendRequest,
    LoginOk,
    LoginRefused,
    NotLoggedIn,
    OnlineFriend,
    OnlineFriends,
    Penalty,
    Profile,
    RequestAccepted,
    StatusChange,
    TextMessage,
)
from tests.qq.decoding import decode

from .helpers import post


async def call(sim: Simulator, command: Command, body: bytes) -> object:
    replies = await post(sim, body)
    if not replies:
        raise NoReply()
    return decode(command, replies[0])


async def log_in(sim: Simulator, uin: int, password: str) -> object:
    return await call(sim, Command.LOGIN, build.login(uin, 1, build.password_md5(password)))


async def test_login_and_logout(sim: Simulator) -> None:
    assert await log_in(sim, 10001, "password1") == LoginOk(heartbeat=60, lapse=300)
    with pytest.raises(LoginRefused) as refused:
        await log_in(sim, 10002, "wrong")
    assert refused.value.reason == "密码错误"
    assert await call(sim, Command.LOGOUT, build.logout(10001, 2)) is None
    with pytest.raises(NotLoggedIn):
        await call(sim, Command.GET_MSG_EX, build.get_msg_ex(10001, 3))


async def test_list_and_query_stat(sim: Simulator) -> None:
    await log_in(sim, 10001, "password1")
    await log_in(sim, 10003, "password3")
    friends = await call(sim, Command.LIST, build.list_friends(10001, 2))
    assert friends == FriendList(2, [10002, 10003])
    assert await call(sim, Command.LIST, build.list_friends(10001, 3, tn=0)) == FriendList(2)
    online = await call(sim, Command.QUERY_STAT, build.query_stat(10001, 4))
    assert online == OnlineFriends(1, [OnlineFriend(10003, 3, Status.ONLINE, "Bob")])
    assert await call(sim, Command.QUERY_STAT, build.query_stat(10001, 5, tn=0)) == (
        OnlineFriends(1)
    )


async def test_get_info(sim: Simulator) -> None:
    await log_in(sim, 10002, "password2")
    profile = await call(sim, Command.GET_INFO, build.get_info(10002, 2, 10001))
    assert isinstance(profile, Profile)
    assert (profile.uin, profile.nick, profile.level, profile.face) == (10001, "小明", 3, 270)
    assert profile.fields["PR"] == "网络为媒,关系为本,信息为财,客户为主.\r\n第二行 & 100%"
    assert ("Blood type", "B") in profile.readable()
    brief = await call(sim, Command.GET_INFO, build.get_info(10002, 3, 10004, level=0))
    assert isinstance(brief, Profile) and brief.nick == "Carol & co, ltd"


async def test_friending(sim: Simulator) -> None:
    await log_in(sim, 10003, "password3")
    await log_in(sim, 10004, "password4")
    added = await call(sim, Command.ADD_TO_LIST, build.add_to_list(10003, 2, 10004))
    assert added == Added(10004, AddResult.ADDED)
    added = await call(sim, Command.ADD_TO_LIST, build.add_to_list(10004, 3, 10001))
    assert added == Added(10001, AddResult.NEEDS_VERIFICATION)
    added = await call(sim, Command.ADD_TO_LIST, build.add_to_list(10004, 4, 10005))
    assert added == Added(10005, AddResult.REFUSED)
    request = build.ack_add_to_list(10004, 5, 10001, AckCode.REQUEST, "加我, 好吗?")
    assert await call(sim, Command.ACK_ADD_TO_LIST, request) is None
    await log_in(sim, 10001, "password1")
    events = await call(sim, Command.GET_MSG_EX, build.get_msg_ex(10001, 6))
    assert FriendRequest(10004, "加我, 好吗?") in events  # type: ignore[operator]
    accept = build.ack_add_to_list(10001, 7, 10004, AckCode.ACCEPT, "好")
    assert await call(sim, Command.ACK_ADD_TO_LIST, accept) is None
    events = await call(sim, Command.GET_MSG_EX, build.get_msg_ex(10004, 8))
    assert RequestAccepted(10001, "好") in events  # type: ignore[operator]
    assert await call(sim, Command.DEL_FROM_LIST, build.del_from_list(10004, 9, 10001)) is None
    with pytest.raises(Penalty):
        await call(sim, Command.DEL_FROM_LIST, build.del_from_list(10004, 10, 10001))


async def test_status_and_messages(sim: Simulator, clock: FakeClock) -> None:
    await log_in(sim, 10001, "password1")
    await log_in(sim, 10002, "password2")
    assert await call(sim, Command.CHANGE_STAT, build.change_stat(10002, 2, Status.BUSY)) is None
    text = "你好, world & 100%\r\nline two"
    assert await call(sim, Command.CLTMSG, build.cltmsg(10002, 3, 10001, text)) is None
    with pytest.raises(Penalty):
        await call(sim, Command.CLTMSG, build.cltmsg(10002, 4, 10001, "too fast"))
    events = await call(sim, Command.GET_MSG_EX, build.get_msg_ex(10001, 5))
    assert events == [
        StatusChange(10002, Status.ONLINE),
        StatusChange(10002, Status.BUSY),
        TextMessage(10002, text),
    ]
    longest = "好" * (build.MESSAGE_LIMIT // 3)
    await clock.advance(20)
    for piece in build.split_text(longest + "x" * 10):
        assert await call(sim, Command.CLTMSG, build.cltmsg(10002, 6, 10001, piece)) is None
        await clock.advance(0.5)
