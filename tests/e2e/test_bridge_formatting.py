"""What Matrix sends that QQ's plain text cannot carry as is: formatting, replies, edits, media."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .harness import LoggedIn, QQPeerFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_rich_matrix_events_reach_qq_readably(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("rich", 30013)
    peer = await qq_peer(30014)
    room = await session.open_portal(30014)
    user = session.user
    first = await user.send(room, "plain start")
    await user.send_content(
        room,
        {
            "msgtype": "m.text",
            "body": "**bold** and a link",
            "format": "org.matrix.custom.html",
            "formatted_body": "<b>bold</b> &amp; a <a href='https://example.org'>link</a>",
        },
    )
    await user.send_content(room, {"msgtype": "m.emote", "body": "waves"})
    await user.send_content(
        room,
        {
            "msgtype": "m.text",
            "body": "a reply",
            "m.relates_to": {"m.in_reply_to": {"event_id": first}},
        },
    )
    await user.send_content(
        room,
        {
            "msgtype": "m.text",
            "body": "* plain start, fixed",
            "m.new_content": {"msgtype": "m.text", "body": "plain start, fixed"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": first},
        },
    )
    mark = user.mark()
    await user.send_content(
        room,
        {"msgtype": "m.image", "body": "cat.png", "url": "mxc://localhost/abc"},
    )
    texts = await peer.texts_from(30013, 6)
    assert texts[0] == "plain start"
    assert "bold" in texts[1] and "& a link" in texts[1] and "https://example.org" in texts[1]
    assert texts[2].startswith("* ") and texts[2].endswith(" waves")
    assert texts[3].startswith("> plain start") and texts[3].endswith("a reply")
    assert "plain start, fixed" in texts[4] and texts[4] != "plain start, fixed"
    assert "cat.png" in texts[5]
    notice = await user.wait_for_text(room, "QQ cannot carry", after=mark)
    assert notice.msgtype == "m.notice"

    mark = user.mark()
    await user.client.react(room, first, "👍")
    await user.wait_for_text(room, "Reactions are not sent to QQ", after=mark)
