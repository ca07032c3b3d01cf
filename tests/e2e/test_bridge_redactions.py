"""Redactions from the user's side (issue 10, item 5): deleting what never reached QQ (a
reaction, a notice, a command) says nothing; deleting a message QQ has says so, once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from mautrix.types import EventID

from bridge.notices import marked

from .harness import BridgeRunner, LoggedIn, QQPeerFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")

CANNOT_DELETE = "QQ cannot delete messages"


async def handled(runner: BridgeRunner, event_id: EventID, timeout: float = 30.0) -> None:
    """Return once the bridge has recorded ``event_id`` and finished the work it set off."""
    db = runner.bridge.db

    async def recorded() -> None:
        while await db.event_outcome(event_id) is None:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(recorded(), timeout)
    assert runner.app is not None and runner.app.matrix is not None
    await asyncio.wait_for(runner.app.matrix.background.idle(), timeout)


async def test_only_a_message_that_reached_qq_is_answered_and_only_once(
    logged_in: LoggedIn,
    qq_peer: QQPeerFactory,
    puppet: Callable[[int], str],
    bridge_runner: BridgeRunner,
) -> None:
    session = await logged_in("redact", 30150)
    peer = await qq_peer(30151)
    user, room = session.user, await session.open_portal(30151)
    message = await user.send(room, "a message QQ receives")
    assert await peer.texts_from(30150, 1) == ["a message QQ receives"]

    # What never reached QQ: a reaction, the bridge's notice about it, a command in the portal.
    mark = user.mark()
    reaction = await user.client.react(room, message, "👍")
    notice = await user.wait_for_text(room, "Reactions are not sent", after=mark)
    mark = user.mark()
    command = await user.send(room, "!qq ping")
    await user.wait_for_text(room, "QQ 30150", sender=puppet(30151), after=mark)
    for event_id in (reaction, EventID(notice.raw["event_id"]), command):
        redaction = await user.client.redact(room, event_id)
        await handled(bridge_runner, redaction)

    # The message itself: told once, however many times it is redacted.
    mark = user.mark()
    first = await user.client.redact(room, message)
    await user.wait_for_text(room, CANNOT_DELETE, sender=puppet(30151), after=mark)
    await handled(bridge_runner, first)
    second = await user.client.redact(room, message)
    await handled(bridge_runner, second)

    texts = await user.texts(room, sender=puppet(30151))
    assert [text for text in texts if CANNOT_DELETE in text] == [
        marked("QQ cannot delete messages; it was already delivered.")
    ]
    assert peer.events and await peer.texts_from(30150, 1) == ["a message QQ receives"]
