"""Media, locations, stickers, unknown types, reactions and redactions."""

from __future__ import annotations

from typing import Any

import pytest
from mautrix.types import Event, ReactionEvent, RedactionEvent

from bridge.formatter import (
    Outgoing,
    matrix_to_qq,
    reaction_to_qq,
    redaction_to_qq,
    sticker_to_qq,
)

from .events import ROOM, from_event

KINDS = [
    ("m.image", "image", "images"),
    ("m.file", "file", "files"),
    ("m.audio", "audio", "audio"),
    ("m.video", "video", "videos"),
]


def media(msgtype: str, body: str, **extra: Any) -> dict[str, Any]:
    return {
        "msgtype": msgtype,
        "body": body,
        "url": "mxc://example.org/abc",
        "info": {"mimetype": "application/octet-stream", "size": 1234},
        **extra,
    }


@pytest.mark.parametrize(("msgtype", "word", "plural"), KINDS)
async def test_media_sends_its_name(msgtype: str, word: str, plural: str) -> None:
    out = await matrix_to_qq(from_event(media(msgtype, "报告 2024.pdf")), sender_name="Bob")
    assert out == Outgoing(
        f"[{word}: 报告 2024.pdf]", f"QQ cannot carry {plural}: only its name was sent."
    )


@pytest.mark.parametrize(("msgtype", "word", "plural"), KINDS)
async def test_media_with_caption(msgtype: str, word: str, plural: str) -> None:
    content = from_event(media(msgtype, "look at this & that", filename="x.bin"))
    out = await matrix_to_qq(content, sender_name="Bob")
    assert out == Outgoing(
        f"[{word}: x.bin]\nlook at this & that",
        f"QQ cannot carry {plural}: only its name and caption were sent.",
    )


async def test_media_filename_equal_to_body_is_no_caption() -> None:
    out = await matrix_to_qq(
        from_event(media("m.image", "a.png", filename="a.png")), sender_name="B"
    )
    assert out == Outgoing("[image: a.png]", "QQ cannot carry images: only its name was sent.")


async def test_media_caption_with_html() -> None:
    content = from_event(
        media(
            "m.image",
            "**wow**",
            filename="a.png",
            format="org.matrix.custom.html",
            formatted_body="<b>wow</b>",
        )
    )
    assert (await matrix_to_qq(content, sender_name="B")).text == "[image: a.png]\n*wow*"


async def test_media_without_any_name() -> None:
    out = await matrix_to_qq(from_event(media("m.file", "")), sender_name="B")
    assert out == Outgoing("[file]", "QQ cannot carry files: only a placeholder was sent.")


async def test_location_from_element() -> None:
    geo = "geo:31.2304,121.4737;u=35"
    content = from_event(
        {
            "msgtype": "m.location",
            "body": f"Location {geo} at 2024-05-01T08:00:00.000Z",
            "geo_uri": geo,
            "org.matrix.msc3488.asset": {"type": "m.self"},
        }
    )
    out = await matrix_to_qq(content, sender_name="B")
    assert out == Outgoing(f"[location: Location {geo} at 2024-05-01T08:00:00.000Z]", None)


async def test_location_with_plain_description() -> None:
    content = from_event(
        {"msgtype": "m.location", "body": "外滩", "geo_uri": "geo:31.2400,121.4900"}
    )
    out = await matrix_to_qq(content, sender_name="B")
    assert out == Outgoing("[location: 外滩 geo:31.2400,121.4900]", None)


STICKER = {
    "body": "😀 grinning face",
    "url": "mxc://example.org/sticker",
    "info": {"w": 256, "h": 256, "mimetype": "image/png"},
}


async def test_sticker_event() -> None:
    content = from_event(dict(STICKER), "m.sticker")
    assert sticker_to_qq(content) == Outgoing("[sticker: 😀 grinning face]", None)
    # The core may also hand the sticker to matrix_to_qq: mautrix gives it msgtype m.sticker.
    assert await matrix_to_qq(content, sender_name="B") == Outgoing(
        "[sticker: 😀 grinning face]", None
    )


async def test_sticker_without_description() -> None:
    content = from_event({**STICKER, "body": ""}, "m.sticker")
    assert sticker_to_qq(content) == Outgoing("[sticker]", None)


async def test_unknown_msgtype_sends_its_body() -> None:
    # The spec makes body the fallback clients show for msgtypes they do not know.
    content = from_event({"msgtype": "org.example.poll", "body": "Lunch? 1) yes 2) no"})
    out = await matrix_to_qq(content, sender_name="B")
    assert out == Outgoing("Lunch? 1) yes 2) no", None)


async def test_unknown_msgtype_without_body_is_not_sent_and_says_so() -> None:
    content = from_event({"msgtype": "org.example.poll", "org.example.question": "Lunch?"})
    out = await matrix_to_qq(content, sender_name="B")
    assert out == Outgoing(
        None, "Not sent to QQ: the bridge cannot carry messages of type org.example.poll."
    )


async def test_message_without_msgtype() -> None:
    out = await matrix_to_qq(from_event({"body": "odd"}), sender_name="B")
    assert out == Outgoing(
        None, "Not sent to QQ: the bridge cannot carry messages without a msgtype."
    )


async def test_verification_request_is_not_sent_and_says_why() -> None:
    content = from_event(
        {
            "msgtype": "m.key.verification.request",
            "body": "Bob is requesting to verify your key, but your client does not support it.",
            "from_device": "ABCDEF",
            "methods": ["m.sas.v1"],
            "to": "@qq_10001:example.org",
        }
    )
    # Its body only says the client cannot verify; it is for a Matrix device, not for QQ.
    assert await matrix_to_qq(content, sender_name="B") == Outgoing(
        None, "Not sent to QQ: QQ users cannot verify Matrix devices."
    )


def test_reaction() -> None:
    event = Event.deserialize(
        {
            "type": "m.reaction",
            "event_id": "$r:example.org",
            "room_id": ROOM,
            "sender": "@bob:example.org",
            "origin_server_ts": 1,
            "content": {
                "m.relates_to": {"rel_type": "m.annotation", "event_id": "$m", "key": "👍"}
            },
        }
    )
    assert isinstance(event, ReactionEvent)
    key = event.content.relates_to.key
    assert key == "👍"
    assert reaction_to_qq(key) == Outgoing(None, "Reactions are not sent to QQ.")


def test_redaction() -> None:
    event = Event.deserialize(
        {
            "type": "m.room.redaction",
            "event_id": "$x:example.org",
            "room_id": ROOM,
            "sender": "@bob:example.org",
            "origin_server_ts": 1,
            "redacts": "$m:example.org",
            "content": {"redacts": "$m:example.org"},
        }
    )
    assert isinstance(event, RedactionEvent)
    assert redaction_to_qq() == Outgoing(
        None, "QQ cannot delete messages; it was already delivered."
    )
