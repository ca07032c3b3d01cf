"""QQ events as the inbound journal keeps them: the event's type name and a JSON payload.

A row holds ``type`` (the dataclass's name, ``"TextMessage"``) and ``payload`` (its fields as
a JSON object, a status as its number: ``{"sender": 10002, "text": "hi"}``). Reading a row
back gives the same dataclass, so the inbound worker matches over the very types the QQ client
hands over, and a new event type reaches the journal without a change here (tests/db/
test_journal_events.py round-trips every type of ``Event``).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable
from typing import Any, get_args

from ..qq.client import Event, Status, StatusChange
from .text import storable

# Every event type by name; a union's members, so a new one is journalled as it is added.
EVENT_TYPES: dict[str, Callable[..., Event]] = {cls.__name__: cls for cls in get_args(Event)}


class UnreadableEvent(ValueError):
    """A journal row that is no event: an unknown type name, or a payload that does not fit."""


def encode_event(event: Event) -> tuple[str, str]:
    """(type, payload): the row of ``event``. Text becomes storable (``storable``): a NUL or a
    lone surrogate must not stop the whole batch from being journalled."""
    payload = {
        field.name: _plain(getattr(event, field.name)) for field in dataclasses.fields(event)
    }
    return type(event).__name__, json.dumps(payload, ensure_ascii=False)


def decode_event(type_name: str, payload: str) -> Event:
    """The event a row holds; raises UnreadableEvent for anything ``encode_event`` never
    wrote (a row of a newer or older bridge, a hand-edited one)."""
    make = EVENT_TYPES.get(type_name)
    if make is None:
        raise UnreadableEvent(f"the journal holds an event of unknown type {type_name!r}")
    try:
        fields = json.loads(payload)
        event = make(**fields)
        if isinstance(event, StatusChange):
            event = StatusChange(event.sender, Status(event.status))
    except (ValueError, TypeError) as error:
        raise UnreadableEvent(f"a {type_name} in the journal is unreadable: {error}") from None
    return event


def _plain(value: object) -> object:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, enum.IntEnum):
        return int(value)
    return value


def describe(type_name: str, payload: str) -> tuple[int, str]:
    """(sender, text) of a row for a person, even of one that cannot be decoded: the hand-over
    notice of a row that could not be bridged. Sender 0: none (the client's own reports)."""
    try:
        fields: Any = json.loads(payload)
    except ValueError:
        return 0, payload
    if not isinstance(fields, dict):
        return 0, payload
    sender = fields.get("sender")
    text = fields.get("text", fields.get("reason"))
    return (
        sender if isinstance(sender, int) else 0,
        text if isinstance(text, str) else f"{type_name} {payload}",
    )
