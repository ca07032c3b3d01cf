"""m.text, m.notice and m.emote: the text reaches QQ exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.formatter import Outgoing, matrix_to_qq
from bridge.formatter.text import strip_outer_blank_lines

from .events import from_content, from_event, text

EXACT = [
    "hello",
    "a & b, 50% off, x=1+2",
    "第一行\n第二行 😀👨‍👩‍👧",
    "&amp; is not decoded in a plain body",
    "  indented first line\n\tand a tab",
    "trailing spaces kept   ",
    "inner\n\n\nblank lines kept",
    "> not a reply, just a quote I typed",
    "* stars * and _underscores_",
    "windows\r\nline ends",
]


@pytest.mark.parametrize("body", EXACT)
@pytest.mark.parametrize("msgtype", ["m.text", "m.notice"])
async def test_plain_body_is_exact(body: str, msgtype: str) -> None:
    content = from_event({"msgtype": msgtype, "body": body})
    assert await matrix_to_qq(content, sender_name="Bob") == Outgoing(body, None)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("\n\nhello\n", "hello"),
        (" \n\t\n  hi there \n \n", "  hi there "),
        ("\u3000\nx\n\u3000", "x"),
    ],
)
async def test_outer_blank_lines_stripped(body: str, expected: str) -> None:
    assert (await matrix_to_qq(from_event(text(body)), sender_name="Bob")).text == expected


EMPTY = Outgoing(None, "Not sent to QQ: the message is empty.")


@pytest.mark.parametrize("body", ["", " ", "\n\n", "\n\t", "\u3000", " \t\n \u3000 "])
@pytest.mark.parametrize("msgtype", ["m.text", "m.notice", "m.emote"])
async def test_blank_text_is_not_sent_and_the_sender_is_told(body: str, msgtype: str) -> None:
    # Ideographic space (U+3000) is whitespace too: a message of nothing else shows nothing.
    out = await matrix_to_qq(from_event({"msgtype": msgtype, "body": body}), sender_name="Bob")
    assert out == EMPTY


async def test_blank_html_and_body_are_not_sent_and_the_sender_is_told() -> None:
    out = await matrix_to_qq(from_event(text(" ", "<p> </p><br>")), sender_name="Bob")
    assert out == EMPTY


async def test_emote() -> None:
    content = from_event({"msgtype": "m.emote", "body": "waves at 大家"})
    assert await matrix_to_qq(content, sender_name="Bob Li") == Outgoing(
        "* Bob Li waves at 大家", None
    )


async def test_emote_with_html() -> None:
    content = from_event(
        {
            "msgtype": "m.emote",
            "body": "*really* waves",
            "format": "org.matrix.custom.html",
            "formatted_body": "<em>really</em> waves",
        }
    )
    assert (await matrix_to_qq(content, sender_name="Bob")).text == "* Bob _really_ waves"


async def test_blank_emote_is_not_sent_and_the_sender_is_told() -> None:
    content = from_event({"msgtype": "m.emote", "body": "  "})
    assert await matrix_to_qq(content, sender_name="Bob") == EMPTY


# Hypothesis' default text strategy already excludes surrogates; anything else goes.
bodies = st.text()


@given(bodies)
async def test_any_plain_body_survives(body: str) -> None:
    out = await matrix_to_qq(from_content(text(body)), sender_name="Bob")
    stripped = strip_outer_blank_lines(body)
    assert out == (Outgoing(stripped, None) if stripped else EMPTY)


@given(bodies.filter(lambda b: b.split("\n")[0].strip() and b.split("\n")[-1].strip()))
async def test_plain_body_without_outer_blank_lines_is_exact(body: str) -> None:
    out = await matrix_to_qq(from_content(text(body)), sender_name="Bob")
    assert out.text == body


@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1).map(lambda s: f"x{s}x"))
async def test_property_holds_through_full_event_deserialization(body: str) -> None:
    out = await matrix_to_qq(from_event(text(body)), sender_name="Bob")
    assert out.text == body


def test_strip_outer_blank_lines_keeps_inner() -> None:
    assert strip_outer_blank_lines("\n \n a \n\n b \n \n") == " a \n\n b "
    assert strip_outer_blank_lines(" \n\t") == ""


async def test_emote_without_sender_name() -> None:
    content = from_event({"msgtype": "m.emote", "body": "waves"})
    assert (await matrix_to_qq(content, sender_name=" ")).text == "* waves"
