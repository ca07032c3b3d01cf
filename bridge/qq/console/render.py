"""How the terminal client words what happens. Pure: values in, lines out."""

from __future__ import annotations

from datetime import datetime

from ..client import ConnectionState
from ..codes import AddResult
from ..wire.replies import (
    BatchUnreadable,
    Event,
    EventsDropped,
    FriendList,
    FriendRequest,
    OnlineFriends,
    Profile,
    RequestAccepted,
    RequestRejected,
    StatusChange,
    TextMessage,
    UnknownEvent,
)


def stamp(when: datetime) -> str:
    return when.strftime("[%H:%M:%S]")


def who(uin: int, nicks: dict[int, str]) -> str:
    nick = nicks.get(uin)
    return f"{nick} ({uin})" if nick else str(uin)


def event_lines(event: Event, when: datetime, nicks: dict[int, str]) -> list[str]:
    """One event as lines, each starting with the time; a message keeps its line breaks."""
    prefix = stamp(when)
    if isinstance(event, TextMessage):
        lines = event.text.replace("\r\n", "\n").split("\n")
        head = f"{prefix} {who(event.sender, nicks)}: {lines[0]}"
        return [head, *(f"{' ' * len(prefix)}   {line}" for line in lines[1:])]
    if isinstance(event, EventsDropped):
        return [f"{prefix} * {event.count} events from {event.senders} senders were dropped"]
    if isinstance(event, BatchUnreadable):
        return [f"{prefix} * a reply from the server could not be read; its events are lost"]
    sender = who(event.sender, nicks)
    if isinstance(event, StatusChange):
        return [f"{prefix} * {sender} is now {event.status.word}"]
    if isinstance(event, FriendRequest):
        reason = f": {event.text}" if event.text else ""
        return [f"{prefix} * {sender} asks to be your friend{reason} (/accept or /reject)"]
    if isinstance(event, RequestAccepted):
        return [f"{prefix} * {sender} accepted your friend request"]
    if isinstance(event, RequestRejected):
        reason = f": {event.reason}" if event.reason else ""
        return [f"{prefix} * {sender} rejected your friend request{reason}"]
    assert isinstance(event, UnknownEvent)
    return [f"{prefix} * unknown event MT={event.type} from {sender}: {event.text}"]


def state_line(state: ConnectionState, detail: str, when: datetime) -> str:
    return f"{stamp(when)} * {state.value}" + (f": {detail}" if detail else "")


def friends_lines(friends: FriendList, nicks: dict[int, str]) -> list[str]:
    if not friends.uins:
        return ["no friends yet"]
    return [f"{friends.count} friends:", *(f"  {who(uin, nicks)}" for uin in friends.uins)]


def online_lines(online: OnlineFriends) -> list[str]:
    if not online.friends:
        return ["no friends online"]
    return [f"{online.count} online:"] + [
        f"  {friend.nick} ({friend.uin}) {friend.status.word}" for friend in online.friends
    ]


def profile_lines(profile: Profile) -> list[str]:
    rows = profile.readable()
    width = max(len(label) for label, _ in rows)
    lines = []
    for label, value in rows:
        first, *more = value.replace("\r\n", "\n").split("\n")
        lines.append(f"  {label.ljust(width)}  {first}")
        lines.extend(f"  {' ' * width}  {line}" for line in more)
    return lines


def add_result_line(uin: int, result: AddResult, reason_sent: bool) -> str:
    if result is AddResult.ADDED:
        return f"{uin} is now your friend"
    if result is AddResult.NEEDS_VERIFICATION:
        return f"{uin} verifies friends: request sent" + ("" if reason_sent else " (no reason)")
    return f"{uin} does not accept friends"
