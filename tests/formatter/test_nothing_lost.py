"""No silent drops: every message reaches QQ, or its sender is told what was not sent and why.

Contents are built as the bridge gets them, by mautrix from raw JSON, odd fields included: mautrix
passes a body of the wrong type through as it came, and reads a missing or null body as "".
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mautrix.types import (
    JSON,
    EventID,
    MessageEventContent,
    SerializerError,
    TextMessageEventContent,
)

from bridge.formatter import Outgoing, matrix_to_qq, sticker_to_qq

from .events import FakeEvents, from_content, from_event, text

EMPTY = Outgoing(None, "Not sent to QQ: the message is empty.")
NO_TEXT = Outgoing(None, "Not sent to QQ: the message has no text.")
FAILED = Outgoing(None, "Not sent to QQ: the bridge could not read this message.")
TEXT_TYPES = pytest.mark.parametrize("msgtype", ["m.text", "m.notice", "m.emote"])
NOT_STRINGS = pytest.mark.parametrize(
    "body",
    [5, 1.5, True, ["hello"], {"text": "hello"}],
    ids=["int", "float", "bool", "list", "dict"],
)


@TEXT_TYPES
@pytest.mark.parametrize("raw", [{}, {"body": None}], ids=["missing", "null"])
async def test_missing_or_null_body_is_empty(msgtype: str, raw: dict[str, Any]) -> None:
    content = from_event({"msgtype": msgtype, **raw})
    assert isinstance(content, TextMessageEventContent) and content.body == ""  # mautrix's doing
    assert await matrix_to_qq(content, sender_name="Bob") == EMPTY


@TEXT_TYPES
@NOT_STRINGS
async def test_body_that_is_not_a_string_is_no_text(msgtype: str, body: object) -> None:
    content = from_event({"msgtype": msgtype, "body": body})
    assert isinstance(content, TextMessageEventContent)
    assert not isinstance(content.body, str)  # mautrix passes it through
    assert await matrix_to_qq(content, sender_name="Bob") == NO_TEXT
    assert await matrix_to_qq(
        from_content({"msgtype": msgtype, "body": body}), sender_name="B"
    ) == (NO_TEXT)


@NOT_STRINGS
async def test_html_is_sent_when_the_body_is_not_a_string(body: object) -> None:
    content = from_event(
        {
            "msgtype": "m.text",
            "body": body,
            "format": "org.matrix.custom.html",
            "formatted_body": "<b>hi</b>",
        }
    )
    assert await matrix_to_qq(content, sender_name="Bob") == Outgoing("*hi*", None)


@pytest.mark.parametrize(
    "fields",
    [
        {"format": "org.matrix.custom.html", "formatted_body": 5},
        {"format": "org.matrix.custom.html", "formatted_body": ["<b>x</b>"]},
        {"format": 5, "formatted_body": "<b>x</b>"},
        {"format": "org.matrix.custom.html", "formatted_body": None},
    ],
    ids=["html-int", "html-list", "format-int", "html-null"],
)
async def test_html_fields_of_the_wrong_type_leave_the_body(fields: dict[str, Any]) -> None:
    content = from_event({"msgtype": "m.text", "body": "plain", **fields})
    assert await matrix_to_qq(content, sender_name="Bob") == Outgoing("plain", None)


async def test_reply_with_a_body_that_is_not_a_string() -> None:
    content = from_event(
        {"msgtype": "m.text", "body": 5, "m.relates_to": {"m.in_reply_to": {"event_id": "$q"}}}
    )
    events = FakeEvents({"$q": text("question")})
    assert await matrix_to_qq(content, sender_name="B", fetch_event=events) == NO_TEXT


async def test_quote_of_a_message_without_text_is_left_out() -> None:
    events = FakeEvents({"$q": {"msgtype": "m.text", "body": [1, 2]}})
    content = from_event(text("answer", **{"m.relates_to": {"m.in_reply_to": {"event_id": "$q"}}}))
    out = await matrix_to_qq(content, sender_name="B", fetch_event=events)
    assert out == Outgoing("answer", None)


UNKNOWN = pytest.mark.parametrize("msgtype", ["com.example.poll", "m.new_thing"])


@UNKNOWN
async def test_unknown_msgtype_sends_its_body(msgtype: str) -> None:
    content = from_event({"msgtype": msgtype, "body": "\nLunch?\n1) yes 2) no\n", "extra": [1]})
    assert await matrix_to_qq(content, sender_name="B") == Outgoing("Lunch?\n1) yes 2) no", None)


@UNKNOWN
async def test_unknown_msgtype_sends_its_html(msgtype: str) -> None:
    content = from_event(
        {
            "msgtype": msgtype,
            "body": "**Lunch?**",
            "format": "org.matrix.custom.html",
            "formatted_body": "<b>Lunch?</b>",
        }
    )
    assert await matrix_to_qq(content, sender_name="B") == Outgoing("*Lunch?*", None)


@UNKNOWN
@pytest.mark.parametrize(
    "raw", [{}, {"body": None}, {"body": " \n\u3000"}, {"body": 5}, {"body": ["x"]}, {"body": {}}]
)
async def test_unknown_msgtype_without_usable_body_says_so(
    msgtype: str, raw: dict[str, Any]
) -> None:
    content = from_event({"msgtype": msgtype, **raw})
    assert await matrix_to_qq(content, sender_name="B") == Outgoing(
        None, f"Not sent to QQ: the bridge cannot carry messages of type {msgtype}."
    )


async def test_reply_of_unknown_msgtype_is_sent() -> None:
    content = from_event(
        {
            "msgtype": "m.new_thing",
            "body": "ok",
            "m.relates_to": {"m.in_reply_to": {"event_id": "$q"}},
        }
    )
    assert (await matrix_to_qq(content, sender_name="B")).text == "ok"


@pytest.mark.parametrize("msgtype", [5, "", None, ["m.text"]], ids=["int", "empty", "null", "list"])
async def test_msgtype_that_is_not_a_name(msgtype: object) -> None:
    content = from_event({"msgtype": msgtype, "body": "x"})
    assert await matrix_to_qq(content, sender_name="B") == Outgoing(
        None, "Not sent to QQ: the bridge cannot carry messages without a msgtype."
    )


async def test_media_with_fields_of_the_wrong_type_is_still_described() -> None:
    content = from_event({"msgtype": "m.image", "body": 5, "filename": ["a"], "url": 7})
    assert await matrix_to_qq(content, sender_name="B") == Outgoing(
        "[image]", "QQ cannot carry images: only a placeholder was sent."
    )
    content = from_event({"msgtype": "m.file", "body": "report.pdf", "filename": 5})
    assert await matrix_to_qq(content, sender_name="B") == Outgoing(
        "[file: report.pdf]", "QQ cannot carry files: only its name was sent."
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"body": 5, "geo_uri": "geo:1,2"}, "[location: geo:1,2]"),
        ({"body": "外滩", "geo_uri": 5}, "[location: 外滩]"),
        ({}, "[location]"),
    ],
)
async def test_location_with_fields_of_the_wrong_type(raw: dict[str, Any], expected: str) -> None:
    content = from_event({"msgtype": "m.location", **raw})
    assert await matrix_to_qq(content, sender_name="B") == Outgoing(expected, None)


@pytest.mark.parametrize("body", [5, None, ["x"]])
async def test_sticker_without_a_string_body(body: object) -> None:
    content = from_event({"body": body, "url": "mxc://example.org/s"}, "m.sticker")
    assert sticker_to_qq(content) == Outgoing("[sticker]", None)
    assert await matrix_to_qq(content, sender_name="B") == Outgoing("[sticker]", None)


async def test_edit_whose_new_content_mautrix_cannot_read_sends_its_own_body(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # "info" must be an object: mautrix's deserialize_content fails on this m.new_content. (Had
    # the whole event come this way mautrix would have refused it; a content class deserialized
    # directly keeps m.new_content for the formatter to read.)
    new = {"msgtype": "m.image", "body": "cat.jpg", "info": "big", "url": "mxc://e.org/c"}
    raw = text(
        " * cat.jpg",
        **{"m.new_content": new, "m.relates_to": {"rel_type": "m.replace", "event_id": "$o"}},
    )
    content = TextMessageEventContent.deserialize(JSON(raw))
    with caplog.at_level(logging.WARNING):
        out = await matrix_to_qq(content, sender_name="B")
    assert out == Outgoing("[edit]  * cat.jpg", None)
    assert [record.levelno for record in caplog.records] == [logging.WARNING]


async def test_edit_to_a_body_that_is_not_a_string() -> None:
    new = {"msgtype": "m.text", "body": 5}
    content = from_event(
        {
            **text(" * 5"),
            "m.new_content": new,
            "m.relates_to": {"rel_type": "m.replace", "event_id": "$o"},
        }
    )
    assert await matrix_to_qq(content, sender_name="B") == NO_TEXT


async def test_a_bug_still_sends_the_body(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(content: MessageEventContent, *, emote_prefix: str) -> Outgoing:
        raise AttributeError("a bug")

    monkeypatch.setattr("bridge.formatter.message.render", broken)
    with caplog.at_level(logging.WARNING):
        out = await matrix_to_qq(from_event(text("\nhello\n")), sender_name="B")
    assert out == Outgoing("hello", None)
    assert [record.levelno for record in caplog.records] == [logging.ERROR]
    # Without a body to send, the sender is told.
    out = await matrix_to_qq(from_event({"msgtype": "m.text", "body": 5}), sender_name="B")
    assert out == FAILED


async def test_a_failing_fetch_of_the_quote_still_sends_the_reply() -> None:
    async def broken(event_id: EventID) -> MessageEventContent | None:
        raise RecursionError("deep")

    content = from_event(text("ok", **{"m.relates_to": {"m.in_reply_to": {"event_id": "$q"}}}))
    assert await matrix_to_qq(content, sender_name="B", fetch_event=broken) == Outgoing("ok")


# Any content at all, as far as mautrix lets it through: odd types in every field.
junk = st.one_of(
    st.none(), st.integers(), st.booleans(), st.lists(st.text(max_size=3), max_size=2), st.text()
)
msgtypes = st.one_of(
    st.sampled_from(
        [
            "m.text",
            "m.notice",
            "m.emote",
            "m.image",
            "m.file",
            "m.audio",
            "m.video",
            "m.location",
            "m.sticker",
            "m.key.verification.request",
            "com.example.poll",
            "",
        ]
    ),
    junk,
)
html = st.lists(
    st.sampled_from(["<b>", "</b>", "<p>", "<br>", "<ul><li>", "<blockquote>", " ", "\u3000", "x"]),
    max_size=20,
).map("".join)
relations = st.sampled_from(
    [
        {"m.in_reply_to": {"event_id": "$q"}},
        {"rel_type": "m.thread", "event_id": "$root", "is_falling_back": True},
    ]
)
contents = st.fixed_dictionaries(
    {},
    optional={
        "msgtype": msgtypes,
        "body": st.one_of(junk, st.text(alphabet=" \t\n\u3000>x<@:")),
        "format": st.one_of(st.just("org.matrix.custom.html"), junk),
        "formatted_body": st.one_of(html, junk),
        "filename": junk,
        "geo_uri": junk,
        "url": junk,
        "m.relates_to": relations,
    },
)


@given(contents, st.sampled_from([from_event, from_content]), st.text(max_size=5))
async def test_every_content_is_sent_or_its_sender_told(
    raw: dict[str, Any], load: Any, sender: str
) -> None:
    try:
        content = load(raw)
    except SerializerError:
        return  # mautrix refuses the whole event: nothing reaches the formatter
    events = FakeEvents({"$q": raw})
    out = await matrix_to_qq(content, sender_name=sender, fetch_event=events)
    assert out.text is not None or out.notice is not None
    assert out.text is None or out.text.strip()
