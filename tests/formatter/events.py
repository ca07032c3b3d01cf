"""Build mautrix content objects the way the bridge gets them: from Synapse's JSON."""

from __future__ import annotations

import copy
from typing import Any

from mautrix.types import Event, EventID, MessageEvent, MessageEventContent

ROOM = "!dm:example.org"


def from_event(content: dict[str, Any], event_type: str = "m.room.message") -> MessageEventContent:
    """The content of a full event as an appservice transaction delivers it."""
    event = Event.deserialize(
        {
            "type": event_type,
            "event_id": "$this:example.org",
            "room_id": ROOM,
            "sender": "@bob:example.org",
            "origin_server_ts": 1_700_000_000_000,
            "content": copy.deepcopy(content),
        }
    )
    assert isinstance(event, MessageEvent)
    result: MessageEventContent = event.content
    return result


def from_content(content: dict[str, Any]) -> MessageEventContent:
    """Bare content, deserialized on its own (``m.new_content`` is then left in place)."""
    result: MessageEventContent = MessageEvent.deserialize_content(copy.deepcopy(content))
    return result


def text(body: str, html: str | None = None, /, **extra: Any) -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": "m.text", "body": body, **extra}
    if html is not None:
        content |= {"format": "org.matrix.custom.html", "formatted_body": html}
    return content


class FakeEvents:
    """A FetchEvent backed by a dict; records what was asked for."""

    def __init__(self, events: dict[str, dict[str, Any]] | None = None) -> None:
        self.events = events or {}
        self.asked: list[EventID] = []

    async def __call__(self, event_id: EventID) -> MessageEventContent | None:
        self.asked.append(event_id)
        content = self.events.get(event_id)
        return from_event(content) if content is not None else None
