"""The terminal client's pure parts: what a line means, how events are worded."""

from __future__ import annotations

from datetime import datetime

import pytest

from bridge.qq.client import ConnectionState
from bridge.qq.codes import AddResult, Status
from bridge.qq.console import render
from bridge.qq.console.commands import (
    Accept,
    AddFriend,
    Command,
    Help,
    Nothing,
    Quit,
    Reject,
    Remove,
    SendMessage,
    SetStatus,
    ShowFriends,
    ShowInfo,
    ShowOnline,
    Usage,
    parse_line,
)
from bridge.qq.wire.replies import (
    FriendList,
    FriendRequest,
    OnlineFriend,
    OnlineFriends,
    Profile,
    RequestAccepted,
    RequestRejected,
    StatusChange,
    TextMessage,
    UnknownEvent,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/msg 10001 hello there\n", SendMessage(10001, "hello there")),
        ("/msg 10001   spaced  out  ", SendMessage(10001, "  spaced  out  ")),
        ("/msg 10001 a&b,c%d=e+f 你好", SendMessage(10001, "a&b,c%d=e+f 你好")),
        ("/status online", SetStatus(Status.ONLINE)),
        ("/status BUSY", SetStatus(Status.BUSY)),
        ("/status invisible", SetStatus(Status.INVISIBLE)),
        ("/status offline", SetStatus(Status.OFFLINE)),
        ("/add 10003", AddFriend(10003, "")),
        ("/add 10003 我是你同学, hi", AddFriend(10003, "我是你同学, hi")),
        ("/accept 10004", Accept(10004)),
        ("/reject 10004", Reject(10004, "")),
        ("/reject 10004 not now", Reject(10004, "not now")),
        ("/remove 10002", Remove(10002)),
        ("/friends", ShowFriends()),
        ("/online", ShowOnline()),
        ("/info 10002", ShowInfo(10002)),
        ("/quit", Quit()),
        ("/QUIT\r\n", Quit()),
        ("/help", Help()),
        ("", Nothing()),
        ("   \n", Nothing()),
    ],
)
def test_commands_parse(line: str, expected: Command) -> None:
    assert parse_line(line, last_peer=None) == expected


@pytest.mark.parametrize(
    "line",
    [
        "/msg",
        "/msg 10001",
        "/msg abc hello",
        "/msg -5 hello",
        "/msg 99999999999 too big",
        "/msg ١٢٣ arabic digits",
        "/status away",
        "/add",
        "/add x",
        "/accept",
        "/reject nope",
        "/remove",
        "/info",
        "/friends now",
        "/quit please",
        "/frobnicate",
    ],
)
def test_malformed_commands_say_how_to_write_them(line: str) -> None:
    result = parse_line(line, last_peer=10001)
    assert isinstance(result, Usage)
    assert result.message


def test_a_plain_line_goes_to_the_last_peer_and_keeps_its_spacing() -> None:
    assert parse_line(" hi, there /not a command\n", last_peer=10002) == SendMessage(
        10002, " hi, there /not a command"
    )


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        (r"/msg 10002 one\ntwo", "one\ntwo"),
        (r"first\nsecond", "first\nsecond"),
        (r"a path: C:\\new", "a path: C:\\new"),
        (r"C:\temp \x", r"C:\temp \x"),
    ],
)
def test_backslash_n_is_a_new_line(typed: str, sent: str) -> None:
    assert parse_line(typed, last_peer=10002) == SendMessage(10002, sent)


def test_a_plain_line_without_a_peer_explains_what_to_do() -> None:
    result = parse_line("hello", last_peer=None)
    assert isinstance(result, Usage) and "/msg" in result.message


WHEN = datetime(2005, 8, 22, 13, 5, 9)


def test_a_message_shows_the_time_the_sender_and_every_line() -> None:
    event = TextMessage(10001, "first\r\nsecond")
    lines = render.event_lines(event, WHEN, {10001: "小明"})
    assert lines[0] == "[13:05:09] 小明 (10001): first"
    assert lines[1].strip() == "second" and lines[1].startswith(" ")


@pytest.mark.parametrize(
    ("event", "words"),
    [
        (StatusChange(10002, Status.BUSY), "10002 is now busy"),
        (FriendRequest(10004, "hi"), "10004 asks to be your friend: hi"),
        (RequestAccepted(10001, ""), "10001 accepted your friend request"),
        (RequestRejected(10003, "no"), "10003 rejected your friend request: no"),
        (UnknownEvent(7, 10003, "x"), "unknown event MT=7 from 10003"),
    ],
)
def test_other_events_are_worded_with_time_and_sender(event: object, words: str) -> None:
    (line,) = render.event_lines(event, WHEN, {})  # type: ignore[arg-type]
    assert line.startswith("[13:05:09] * ")
    assert words in line


def test_lists_and_profiles_are_readable() -> None:
    assert render.friends_lines(FriendList(2, [10002, 10003]), {10002: "小红"}) == [
        "2 friends:",
        "  小红 (10002)",
        "  10003",
    ]
    online = OnlineFriends(1, [OnlineFriend(10002, 141, Status.BUSY, "小红")])
    assert render.online_lines(online) == ["1 online:", "  小红 (10002) busy"]
    profile = Profile(10002, "小红", 3, {"SX": "1", "PR": "a\r\nb", "BT": "9"})
    lines = render.profile_lines(profile)
    assert any("Sex" in line and "female" in line for line in lines)
    assert any("Blood type" in line and "unknown (9)" in line for line in lines)
    assert lines[-1].strip() == "b"


def test_state_and_add_lines() -> None:
    line = render.state_line(ConnectionState.RECONNECTING, "connection refused", WHEN)
    assert line == "[13:05:09] * reconnecting: connection refused"
    assert "request sent" in render.add_result_line(10001, AddResult.NEEDS_VERIFICATION, True)
    assert "now your friend" in render.add_result_line(10002, AddResult.ADDED, False)
    assert "does not accept" in render.add_result_line(10005, AddResult.REFUSED, False)
