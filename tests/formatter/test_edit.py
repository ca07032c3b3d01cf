"""Edits: QQ cannot change a sent message, so the new text goes out marked as a correction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mautrix.types import MessageEventContent

from bridge.formatter import Outgoing, matrix_to_qq

from .events import FakeEvents, from_content, from_event, text

REPLACE = {"rel_type": "m.replace", "event_id": "$original:example.org"}
# Both ways the core may hold an edit: a whole event (mautrix swaps m.new_content in) or bare
# content (m.new_content stays among the unrecognised fields).
BOTH = pytest.mark.parametrize("load", [from_event, from_content], ids=["event", "content"])
Load = Callable[[dict[str, Any]], MessageEventContent]


def element_edit(new: dict[str, Any]) -> dict[str, Any]:
    """An edit as Element sends it: a "* "-prefixed fallback around m.new_content."""
    outer = {**new, "body": f" * {new['body']}", "m.new_content": new, "m.relates_to": REPLACE}
    if "formatted_body" in new:
        outer["formatted_body"] = f" * {new['formatted_body']}"
    return outer


@BOTH
async def test_edit_sends_new_text_marked(load: Load) -> None:
    out = await matrix_to_qq(load(element_edit(text("see you at 9"))), sender_name="Bob")
    assert out == Outgoing("[edit] see you at 9", None)


@BOTH
async def test_edit_with_html(load: Load) -> None:
    content = load(element_edit(text("**now** 9", "<strong>now</strong> 9")))
    assert (await matrix_to_qq(content, sender_name="Bob")).text == "[edit] *now* 9"


@BOTH
async def test_edit_of_emote(load: Load) -> None:
    content = load(element_edit({"msgtype": "m.emote", "body": "waves again"}))
    assert (await matrix_to_qq(content, sender_name="Bob")).text == "[edit] * Bob waves again"


@BOTH
async def test_edit_of_a_reply_has_no_quote(load: Load) -> None:
    # Element leaves the reply relation out of m.new_content: edits cannot change it.
    events = FakeEvents({"$original:example.org": text("question")})
    content = load(element_edit(text("better answer")))
    out = await matrix_to_qq(content, sender_name="Bob", fetch_event=events)
    assert out == Outgoing("[edit] better answer", None)
    assert events.asked == []


@BOTH
async def test_edit_to_blank_is_not_sent_and_the_sender_is_told(load: Load) -> None:
    out = await matrix_to_qq(load(element_edit(text(" \n "))), sender_name="Bob")
    assert out == Outgoing(None, "Not sent to QQ: the message is empty.")


@BOTH
async def test_edit_of_media_caption(load: Load) -> None:
    new = {
        "msgtype": "m.image",
        "body": "new caption",
        "filename": "cat.jpg",
        "url": "mxc://example.org/c",
    }
    out = await matrix_to_qq(load(element_edit(new)), sender_name="Bob")
    assert out == Outgoing(
        "[edit] [image: cat.jpg]\nnew caption",
        "QQ cannot carry images: only its name and caption were sent.",
    )


async def test_edit_without_new_content_uses_its_own_body() -> None:
    # Invalid per spec; the body is all there is, sent as it stands.
    content = from_content(text("* typo fixed", **{"m.relates_to": REPLACE}))
    assert (await matrix_to_qq(content, sender_name="Bob")).text == "[edit] * typo fixed"
