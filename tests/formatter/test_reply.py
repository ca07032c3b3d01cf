"""Replies: the fallback is stripped and a short quote of the replied-to message goes first."""

from __future__ import annotations

from typing import Any

from mautrix.types import EventID, MessageEventContent

from bridge.formatter import Outgoing, matrix_to_qq

from .events import ROOM, FakeEvents, from_content, from_event, text

ORIGINAL = "$original:example.org"


def element_reply(reply_html: str, quoted_body: str, reply_body: str) -> dict[str, Any]:
    """A reply as Element (before fallbacks were dropped) sends it, both fallbacks included."""
    quoted_lines = quoted_body.split("\n")
    fallback = "\n".join(
        [f"> <@alice:example.org> {quoted_lines[0]}", *(f"> {line}" for line in quoted_lines[1:])]
    )
    html_fallback = (
        f'<mx-reply><blockquote><a href="https://matrix.to/#/{ROOM}/{ORIGINAL}?via=example.org">'
        'In reply to</a> <a href="https://matrix.to/#/@alice:example.org">@alice:example.org</a>'
        f"<br>{'<br>'.join(quoted_lines)}</blockquote></mx-reply>"
    )
    return text(
        f"{fallback}\n\n{reply_body}",
        html_fallback + reply_html,
        **{"m.relates_to": {"m.in_reply_to": {"event_id": ORIGINAL}}},
    )


def bare_reply(body: str, **relation: Any) -> dict[str, Any]:
    """A reply without fallbacks, as current clients send it."""
    return text(body, **{"m.relates_to": {"m.in_reply_to": {"event_id": ORIGINAL}, **relation}})


async def test_element_reply_quotes_fetched_event() -> None:
    events = FakeEvents({ORIGINAL: text("are you coming tonight?")})
    content = from_event(element_reply("<b>yes</b>, at 8", "are you coming?", "**yes**, at 8"))
    out = await matrix_to_qq(content, sender_name="Bob", fetch_event=events)
    assert out == Outgoing("> are you coming tonight?\n*yes*, at 8", None)
    assert events.asked == [ORIGINAL]


async def test_plain_text_reply_fallback_stripped_from_body() -> None:
    content = from_event(
        text(
            "> <@alice:example.org> 你好\n> 第二行\n\n好的 & ok",
            **{"m.relates_to": {"m.in_reply_to": {"event_id": ORIGINAL}}},
        )
    )
    events = FakeEvents({ORIGINAL: text("你好\n第二行")})
    out = await matrix_to_qq(content, sender_name="Bob", fetch_event=events)
    assert out.text == "> 你好 第二行\n好的 & ok"


async def test_unknown_event_quotes_body_fallback() -> None:
    content = from_event(element_reply("sure", "dinner at 8?\nor 9", "sure"))
    out = await matrix_to_qq(content, sender_name="Bob", fetch_event=FakeEvents())
    assert out.text == "> dinner at 8? or 9\nsure"


async def test_without_fetch_function_quotes_body_fallback() -> None:
    content = from_event(element_reply("sure", "dinner at 8?", "sure"))
    assert (await matrix_to_qq(content, sender_name="Bob")).text == "> dinner at 8?\nsure"


async def test_fetch_failure_still_sends_the_reply() -> None:
    async def broken(event_id: EventID) -> MessageEventContent | None:
        raise ConnectionError("homeserver unreachable")

    content = from_event(element_reply("sure", "dinner at 8?", "sure"))
    out = await matrix_to_qq(content, sender_name="Bob", fetch_event=broken)
    assert out == Outgoing("> dinner at 8?\nsure", None)


async def test_reply_without_fallback_or_fetchable_event_has_no_quote() -> None:
    out = await matrix_to_qq(
        from_event(bare_reply("ok")), sender_name="B", fetch_event=FakeEvents()
    )
    assert out == Outgoing("ok", None)


async def test_reply_without_fallback_quotes_fetched_event() -> None:
    events = FakeEvents({ORIGINAL: text("lunch?")})
    out = await matrix_to_qq(from_event(bare_reply("ok")), sender_name="B", fetch_event=events)
    assert out.text == "> lunch?\nok"


async def test_long_quote_is_cut_to_60_characters_on_one_line() -> None:
    long = "一二三四五六七八九十" * 5 + "\n" + "abcdefghij" * 3
    events = FakeEvents({ORIGINAL: text(long)})
    out = await matrix_to_qq(from_event(bare_reply("嗯")), sender_name="B", fetch_event=events)
    assert out.text == "> " + "一二三四五六七八九十" * 5 + " abcdefghi…\n嗯"


async def test_quote_of_exactly_60_characters_is_not_cut() -> None:
    events = FakeEvents({ORIGINAL: text("x" * 60)})
    out = await matrix_to_qq(from_event(bare_reply("y")), sender_name="B", fetch_event=events)
    assert out.text == f"> {'x' * 60}\ny"


async def test_quote_of_a_reply_leaves_out_its_own_fallback() -> None:
    events = FakeEvents({ORIGINAL: element_reply("<i>second</i>", "first", "_second_")})
    out = await matrix_to_qq(from_event(bare_reply("third")), sender_name="B", fetch_event=events)
    assert out.text == "> _second_\nthird"


async def test_quote_of_media_and_emote() -> None:
    events = FakeEvents(
        {
            ORIGINAL: {"msgtype": "m.image", "body": "cat.jpg", "url": "mxc://example.org/c"},
            "$emote": {"msgtype": "m.emote", "body": "waves"},
        }
    )
    image = await matrix_to_qq(from_event(bare_reply("cute")), sender_name="B", fetch_event=events)
    assert image == Outgoing("> [image: cat.jpg]\ncute", None)
    to_emote = text("hi", **{"m.relates_to": {"m.in_reply_to": {"event_id": "$emote"}}})
    out = await matrix_to_qq(from_event(to_emote), sender_name="B", fetch_event=events)
    assert out.text == "> * waves\nhi"


async def test_quote_of_edited_event_uses_its_new_content() -> None:
    async def fetch(event_id: EventID) -> MessageEventContent | None:
        return from_content(
            text(
                " * fixed",
                **{
                    "m.new_content": text("fixed"),
                    "m.relates_to": {"rel_type": "m.replace", "event_id": "$older"},
                },
            )
        )

    out = await matrix_to_qq(from_event(bare_reply("ok")), sender_name="B", fetch_event=fetch)
    assert out.text == "> fixed\nok"


async def test_fallback_of_emote_keeps_sender() -> None:
    content = from_event(
        text(
            "> * <@alice:example.org> waves\n\nhello",
            **{"m.relates_to": {"m.in_reply_to": {"event_id": ORIGINAL}}},
        )
    )
    out = await matrix_to_qq(content, sender_name="B")
    assert out.text == "> * @alice:example.org waves\nhello"


async def test_typed_quote_that_is_not_a_fallback_is_kept() -> None:
    # No blank line after the "> <…>" lines: not Element's fallback shape, so it is the user's.
    body = "> <nick> said this on IRC\nand I agree"
    out = await matrix_to_qq(from_event(bare_reply(body)), sender_name="B")
    assert out.text == body


async def test_body_fallback_ignored_when_html_has_none() -> None:
    # Clients write both fallbacks or neither.
    body = "> <nick> typed quote\n\nmine"
    content = from_event(
        text(
            body,
            "<blockquote>&lt;nick&gt; typed quote</blockquote><p>mine</p>",
            **{"m.relates_to": {"m.in_reply_to": {"event_id": ORIGINAL}}},
        )
    )
    events = FakeEvents({ORIGINAL: text("earlier")})
    out = await matrix_to_qq(content, sender_name="B", fetch_event=events)
    assert out.text == "> earlier\n> <nick> typed quote\n\nmine"
    # Nothing to fetch: the typed quote must not be mistaken for a fallback to quote from.
    assert (await matrix_to_qq(content, sender_name="B")).text == "> <nick> typed quote\n\nmine"


async def test_thread_fallback_is_not_quoted() -> None:
    events = FakeEvents({ORIGINAL: text("latest in thread")})
    content = from_event(
        text(
            "in the thread",
            **{
                "m.relates_to": {
                    "rel_type": "m.thread",
                    "event_id": "$root",
                    "is_falling_back": True,
                    "m.in_reply_to": {"event_id": ORIGINAL},
                }
            },
        )
    )
    out = await matrix_to_qq(content, sender_name="B", fetch_event=events)
    assert out == Outgoing("in the thread", None)
    assert events.asked == []


async def test_reply_in_thread_is_quoted() -> None:
    events = FakeEvents({ORIGINAL: text("this one")})
    content = from_event(
        text(
            "yes",
            **{
                "m.relates_to": {
                    "rel_type": "m.thread",
                    "event_id": "$root",
                    "is_falling_back": False,
                    "m.in_reply_to": {"event_id": ORIGINAL},
                }
            },
        )
    )
    assert (await matrix_to_qq(content, sender_name="B", fetch_event=events)).text == (
        "> this one\nyes"
    )


async def test_reply_that_is_only_a_fallback_is_not_sent_and_the_sender_is_told() -> None:
    events = FakeEvents({ORIGINAL: text("hi")})
    content = from_event(element_reply("", "hi", ""))
    out = await matrix_to_qq(content, sender_name="B", fetch_event=events)
    assert out == Outgoing(None, "Not sent to QQ: the message is empty.")


async def test_media_reply_is_quoted_and_noticed() -> None:
    events = FakeEvents({ORIGINAL: text("send me the photo")})
    content = from_event(
        {
            "msgtype": "m.image",
            "body": "photo.png",
            "url": "mxc://example.org/p",
            "m.relates_to": {"m.in_reply_to": {"event_id": ORIGINAL}},
        }
    )
    out = await matrix_to_qq(content, sender_name="B", fetch_event=events)
    assert out == Outgoing(
        "> send me the photo\n[image: photo.png]",
        "QQ cannot carry images: only its name was sent.",
    )
