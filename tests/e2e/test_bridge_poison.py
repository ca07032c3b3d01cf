"""Bad events never stall the bridge, and a replayed event is handled once (issue 8).

Written from the user's side on the real Synapse: each poison message gets one notice in the
room (or goes out as QQ text), and a normal message sent after them all still reaches QQ, in
order. The idempotency tests speak the appservice API to the bridge as Synapse does, because
only that way can a transaction id be reused on purpose (the fault suite shows the same with a
real Synapse restart).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from mautrix.types import EventType, Obj, RoomID

from bridge.formatter.message import EMPTY_NOTICE, NO_TEXT_NOTICE

from .harness import BridgeRunner, LoggedIn, QQPeerFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_poison_messages_are_answered_and_never_stall_the_queue(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("poison", 30040)
    peer = await qq_peer(30041)
    room = await session.open_portal(30041)
    user = session.user

    async def expect_notice(content: dict[str, Any], says: str) -> None:
        mark = user.mark()
        await user.send_content(room, content)
        await user.wait_for_text(room, says, sender=puppet(30041), after=mark)

    deep = "<b>" * 600 + "deep" + "</b>" * 600  # was a RecursionError, then a stalled bridge
    await user.send_content(
        room,
        {"msgtype": "m.text", "body": "deep", "format": "org.matrix.custom.html",
         "formatted_body": deep},
    )  # fmt: skip
    await expect_notice({"msgtype": "m.text", "body": " \n\t\u3000"}, "the message is empty")
    # (Synapse refuses a body that is missing or not a string; the malformed test sends both.)
    # An unknown msgtype: its body is the fallback the spec asks clients to show.
    await user.send_content(room, {"msgtype": "org.example.poll", "body": "poll fallback"})
    mark = user.mark()
    encrypted: dict[str, Any] = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "ciphertext": "AAAA",
        "sender_key": "k",
        "device_id": "DEV",
        "session_id": "s",
    }
    await user.client.send_message_event(room, EventType.ROOM_ENCRYPTED, Obj.deserialize(encrypted))
    await user.wait_for_text(room, "encrypted", sender=puppet(30041), after=mark)
    await user.send(room, "after the poison")

    deep_text, *rest = await peer.texts_from(30040, 3)
    assert deep_text.strip("*") == "deep"  # bold markers for the first 50 levels only
    assert rest == ["poll fallback", "after the poison"]


async def test_a_transaction_over_one_mebibyte_is_taken(
    logged_in: LoggedIn, bridge_runner: BridgeRunner
) -> None:
    """aiohttp's default body limit (1 MiB) answered 413 for ever: Synapse batched the events
    sent while the bridge was down into one transaction too large to deliver."""
    session = await logged_in("bigtxn", 30042)
    await bridge_runner.stop()
    mark = session.user.mark()
    for index in range(20):  # 20 x 60 KB: about 1.2 MB in one transaction
        await session.user.send(session.room, f"frobnicate{index} " + "x" * 60_000)
    await session.user.send(session.room, "ping")
    await bridge_runner.start()
    await session.user.wait_for_text(session.room, "QQ 30042", sender=session.bot, after=mark)
    # Commands are answered in the background, so in any order: each answer, whenever it comes.
    for index in range(20):
        answer = await session.user.wait_for_text(
            session.room, f"`frobnicate{index}`", sender=session.bot, after=mark
        )
        assert "Unknown command" in answer.body


class FakeHomeserverPush:
    """PUTs appservice transactions to the bridge as Synapse does, with ids of our choosing."""

    def __init__(self, config: Any) -> None:
        self.url = f"http://127.0.0.1:{config['appservice.port']}/_matrix/app/v1/transactions"
        self.headers = {"Authorization": f"Bearer {config['appservice.hs_token']}"}

    async def put(self, txn_id: str, events: list[dict[str, Any]]) -> int:
        async with (
            aiohttp.ClientSession() as http,
            http.put(f"{self.url}/{txn_id}", json={"events": events}, headers=self.headers) as r,
        ):
            return r.status


def message_event(room: RoomID, sender: str, body: str) -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "event_id": f"$test-{secrets.token_hex(8)}",
        "room_id": room,
        "sender": sender,
        "origin_server_ts": 1,
        "content": {"msgtype": "m.text", "body": body},
    }


async def test_events_count_not_transaction_ids(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, bridge_runner: BridgeRunner
) -> None:
    session = await logged_in("txnids", 30043)
    peer = await qq_peer(30044)
    room = await session.open_portal(30044)
    push = FakeHomeserverPush(bridge_runner.config)
    txn = f"reused-{secrets.token_hex(4)}"
    first = message_event(room, session.user.mxid, "first")
    second = message_event(room, session.user.mxid, "second in a reused transaction id")

    assert await push.put(txn, [first]) == 200
    # Synapse on SQLite starts transaction ids at 1 again after a restart: same id, new event.
    assert await push.put(txn, [second]) == 200
    # A retried transaction, or the same event in another one: no second copy.
    assert await push.put(f"{txn}-again", [first, second]) == 200
    await session.user.send(room, "last")
    # The queue is first in, first out: a second copy of either would stand before "last".
    assert await peer.texts_from(30043, 3) == [
        "first",
        "second in a reused transaction id",
        "last",
    ]


async def test_a_replayed_command_runs_once(
    logged_in: LoggedIn, bridge_runner: BridgeRunner
) -> None:
    session = await logged_in("replay", 30045)
    push = FakeHomeserverPush(bridge_runner.config)
    ping = message_event(session.room, session.user.mxid, "ping")
    mark = session.user.mark()
    assert await push.put(f"ping-{secrets.token_hex(4)}", [ping]) == 200
    await session.user.wait_for_text(session.room, "QQ 30045", sender=session.bot, after=mark)
    assert await push.put(f"ping-{secrets.token_hex(4)}", [ping]) == 200
    await session.command("ping", "QQ 30045")  # the replay's answer would have come first
    answers = [e for e in session.user.events[mark:] if "QQ 30045" in e.body]
    assert len(answers) == 2


async def test_malformed_event_is_answered_and_the_transaction_taken(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, bridge_runner: BridgeRunner
) -> None:
    session = await logged_in("malformed", 30046)
    peer = await qq_peer(30047)
    room = await session.open_portal(30047)
    push = FakeHomeserverPush(bridge_runner.config)
    broken = message_event(room, session.user.mxid, "x")
    broken["content"] = {"msgtype": "m.text", "body": "x", "m.relates_to": "not an object"}
    no_body = message_event(room, session.user.mxid, "x")
    del no_body["content"]["body"]
    number_body = message_event(room, session.user.mxid, "x")
    number_body["content"]["body"] = 5
    fine = message_event(room, session.user.mxid, "after the malformed ones")
    mark = session.user.mark()
    events = [broken, no_body, number_body, fine]
    assert await push.put(f"bad-{secrets.token_hex(4)}", events) == 200
    assert await peer.texts_from(30046, 1) == ["after the malformed ones"]
    await session.user.wait_for_text(room, "the message is malformed", after=mark)
    await session.user.wait_for_text(room, EMPTY_NOTICE, after=mark)
    await session.user.wait_for_text(room, NO_TEXT_NOTICE, after=mark)


async def test_a_malformed_login_is_redacted_and_never_logged(
    logged_in: LoggedIn, bridge_runner: BridgeRunner, caplog: pytest.LogCaptureFixture
) -> None:
    """mautrix's SerializerError quotes the whole content: it must reach neither the log nor
    stay in the room."""
    session = await logged_in("badlogin2", 30069)
    push = FakeHomeserverPush(bridge_runner.config)
    sent = await session.user.send(session.room, "a message to stand in for the login")
    malformed = message_event(session.room, session.user.mxid, "x")
    malformed["event_id"] = sent  # a real event, so that the bot can redact it
    malformed["content"] = {
        "msgtype": "m.text",
        "body": "login 30069 hunter2-secret",
        "m.relates_to": "not an object",
    }
    mark = session.user.mark()
    with caplog.at_level(logging.DEBUG):
        assert await push.put(f"badlogin-{secrets.token_hex(4)}", [malformed]) == 200
        await session.user.wait_for_text(session.room, "I removed your message", after=mark)
    redacted = await session.user.client.get_event(session.room, sent)
    assert not redacted.content.serialize().get("body")
    assert "hunter2-secret" not in caplog.text
