"""QQ events as journal rows (bridge/db/events.py): every type comes back as it went in."""

from __future__ import annotations

import json
from typing import get_args

import pytest

from bridge.db.events import EVENT_TYPES, UnreadableEvent, decode_event, describe, encode_event
from bridge.qq.client import (
    BatchUnreadable,
    Event,
    EventsDropped,
    FriendRequest,
    RequestAccepted,
    RequestRejected,
    Status,
    StatusChange,
    TextMessage,
    UnknownEvent,
)

ONE_OF_EACH: list[Event] = [
    TextMessage(10002, "a & b,\r\nc 中文 😀"),
    StatusChange(10003, Status.BUSY),
    FriendRequest(10004, "hi"),
    RequestAccepted(10005, ""),
    RequestRejected(10006, "no, thanks"),
    UnknownEvent(7, 10007, "x:y"),
    EventsDropped(1200, 80),
    BatchUnreadable(),
]


def test_the_examples_cover_every_event_type() -> None:
    assert {type(event) for event in ONE_OF_EACH} == set(get_args(Event))
    assert set(EVENT_TYPES) == {cls.__name__ for cls in get_args(Event)}


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda event: type(event).__name__)
def test_every_event_comes_back_as_it_went_in(event: Event) -> None:
    type_name, payload = encode_event(event)
    assert type_name == type(event).__name__
    assert decode_event(type_name, payload) == event
    assert type(decode_event(type_name, payload)) is type(event)


def test_a_status_is_kept_as_its_number_and_read_back_as_the_enum() -> None:
    type_name, payload = encode_event(StatusChange(10003, Status.INVISIBLE))
    assert json.loads(payload) == {"sender": 10003, "status": 40}
    event = decode_event(type_name, payload)
    assert isinstance(event, StatusChange) and event.status is Status.INVISIBLE


def test_text_no_database_can_hold_becomes_a_replacement_character() -> None:
    _, payload = encode_event(TextMessage(10002, "a\x00b\ud800c"))
    assert json.loads(payload) == {"sender": 10002, "text": "a\ufffdb\ufffdc"}
    payload.encode("utf-8")  # no lone surrogate left


@pytest.mark.parametrize(
    ("type_name", "payload"),
    [
        ("Photo", '{"sender": 1}'),  # a type this bridge does not know
        ("TextMessage", '{"sender": 1}'),  # a field missing
        ("TextMessage", '{"sender": 1, "text": "a", "extra": 2}'),  # a field too many
        ("StatusChange", '{"sender": 1, "status": 99}'),  # no such status
        ("TextMessage", "not json"),
    ],
)
def test_a_row_that_holds_no_event_is_unreadable(type_name: str, payload: str) -> None:
    with pytest.raises(UnreadableEvent):
        decode_event(type_name, payload)


def test_describe_finds_sender_and_text_even_in_an_unreadable_row() -> None:
    assert describe(*encode_event(TextMessage(10002, "hi"))) == (10002, "hi")
    assert describe(*encode_event(RequestRejected(10006, "no"))) == (10006, "no")
    assert describe("Photo", '{"sender": 5, "url": "x"}') == (5, 'Photo {"sender": 5, "url": "x"}')
    assert describe("TextMessage", "not json") == (0, "not json")
