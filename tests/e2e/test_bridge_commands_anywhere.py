"""Commands after `!qq` in a portal or any room with the bridge; Markdown replies as HTML."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .harness import E2E_ACCOUNTS, LoggedIn, QQPeerFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_prefixed_command_in_a_portal_runs_and_is_not_sent_to_qq(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("anywhere", 30062)
    peer = await qq_peer(30063)
    room = await session.open_portal(30063)
    mark = session.user.mark()
    await session.user.send(room, "!qq ping")
    reply = await session.user.wait_for_text(room, "QQ 30062", after=mark)
    assert reply.sender == puppet(30063)  # the bot is not in the portal: the puppet answers
    assert "online" in reply.body
    await session.user.send(room, "!QQ frobnicate")
    await session.user.wait_for_text(room, "Unknown command `frobnicate`", after=mark)
    await session.user.send(room, "after the commands")
    # Only the plain message reached QQ, so the commands did not.
    assert await peer.texts_from(30062, 1) == ["after the commands"]
    # In the management room the prefix is optional.
    await session.command("!qq ping", "QQ 30062")


async def test_a_login_after_the_prefix_in_a_portal_is_redacted_then_run(
    logged_in: LoggedIn, qq_peer: QQPeerFactory
) -> None:
    session = await logged_in("anywherelogin", 30064)
    await qq_peer(30065)
    room = await session.open_portal(30065)
    mark = session.user.mark()
    typed = await session.user.send(room, f"!qq login 30064 {E2E_ACCOUNTS[30064].password}")
    await session.user.wait_for_text(room, "Logged in to QQ as 30064", after=mark)
    redacted = await session.user.client.get_event(room, typed)
    assert not redacted.content.serialize().get("body"), "the password must be redacted first"


async def test_replies_are_markdown_with_html(logged_in: LoggedIn) -> None:
    session = await logged_in("markdown", 30066)
    reply = await session.command("help", "Commands:")
    content = reply.content
    assert content["msgtype"] == "m.notice"
    assert content["format"] == "org.matrix.custom.html"
    assert "<code>ping</code>" in content["formatted_body"]
    assert "`ping`" in content["body"]  # the Markdown source, for clients without HTML
