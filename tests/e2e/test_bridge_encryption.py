"""End-to-bridge encryption (issue 9): encrypted management room and portals, both ways.

The user here has a real encryption device (crypto_user.py, mautrix's OlmMachine), so every
message goes over Synapse as ``m.room.encrypted`` and only the bridge bot's device can read it.
The session's bridge is restarted for this module with ``bridge.encryption.allow`` (and
``default``) on, and restarted as it was afterwards.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any, cast

import pytest
from mautrix.api import Method, Path
from mautrix.types import EventType, Obj, PaginationDirection, RoomID

from bridge.e2ee.events import KEY_MISSING_NOTICE, KEY_NEVER_ARRIVED_REASON
from bridge.notices import marked
from bridge.qq.simulator import Simulator

from .crypto_user import EncryptedMatrixUser, login, open_encrypted_portal
from .harness import E2E_ACCOUNTS, BridgeRunner, QQPeerFactory
from .matrix_user import MatrixUser
from .test_bridge_poison import FakeHomeserverPush

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.usefixtures("encrypting_bridge"),
]


async def history_types(user: MatrixUser, room: RoomID, sender: str) -> set[str]:
    """The types of the messages ``sender`` has in the room's history, as the homeserver
    stores them (state events and redactions are never encrypted, so they are left out)."""
    page = await user.client.get_messages(room, PaginationDirection.BACKWARD, limit=200)
    events = page.events  # type: ignore[attr-defined]
    return {
        str(event.type)
        for event in events
        if event.sender == sender
        and getattr(event, "state_key", None) is None
        and str(event.type) != "m.room.redaction"
    }


async def test_commands_work_in_an_encrypted_management_room(
    crypto_user: Callable[[str], EncryptedMatrixUser], bot: str
) -> None:
    user = await crypto_user("e2eemgmt").start()
    room = await login(user, bot, 30070)
    mark = user.mark()
    await user.send(room, "ping")
    reply = await user.wait_for_text(room, "QQ 30070", sender=bot, after=mark)
    assert "online" in reply.body
    # Everything on the homeserver, both ways, is ciphertext.
    assert await history_types(user, room, bot) == {"m.room.encrypted"}
    assert await history_types(user, room, user.mxid) == {"m.room.encrypted"}


async def test_an_encrypted_portal_bridges_both_ways(
    crypto_user: Callable[[str], EncryptedMatrixUser],
    bot: str,
    puppet: Callable[[int], str],
    qq_peer: QQPeerFactory,
) -> None:
    user = await crypto_user("e2eeportal").start()
    room = await login(user, bot, 30071)
    peer = await qq_peer(30072)
    await user.send(room, "pm 30072")
    portal = await user.wait_for_invite(puppet(30072))
    await user.join(portal)

    first = await user.send(portal, "hello from an encrypted room")
    assert await peer.texts_from(30071, 1) == ["hello from an encrypted room"]

    # Replies (the quote is decrypted too), edits and reactions take the usual way.
    reply = {"msgtype": "m.text", "body": "a reply", "m.relates_to": {
        "m.in_reply_to": {"event_id": first}}}  # fmt: skip
    await user.send_content(portal, reply)
    await user.send_content(
        portal,
        {
            "msgtype": "m.text",
            "body": "* hello, fixed",
            "m.new_content": {"msgtype": "m.text", "body": "hello, fixed"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": first},
        },
    )
    texts = await peer.texts_from(30071, 3)
    assert texts[1].startswith("> hello from an encrypted room") and texts[1].endswith("a reply")
    assert "hello, fixed" in texts[2]
    mark = user.mark()
    # Encrypted as Element does (mautrix's client would send it in clear).
    client = user.crypto_client
    reaction: Any = {"m.relates_to": {"rel_type": "m.annotation", "event_id": first, "key": "👍"}}
    encrypted = await client.encrypt(portal, EventType.REACTION, Obj.deserialize(reaction))
    await client.send_message_event(
        portal, EventType.ROOM_ENCRYPTED, cast(Any, encrypted), disable_encryption=True
    )
    await user.wait_for_text(portal, "Reactions are not sent to QQ", after=mark)

    await peer.client.send_text(30071, "hello back, in clear on QQ")
    await user.wait_for_text(portal, "hello back, in clear on QQ", sender=puppet(30072))
    assert await history_types(user, portal, puppet(30072)) == {"m.room.encrypted"}
    assert await history_types(user, portal, user.mxid) == {"m.room.encrypted"}


async def raw_event(user: MatrixUser, room: RoomID, event_id: str) -> dict[str, Any]:
    """The event as the homeserver holds it (and pushes it): still encrypted."""
    raw = await user.client.api.request(Method.GET, Path.v3.rooms[room].event[event_id])
    assert isinstance(raw, dict)
    return raw


async def test_a_replayed_encrypted_message_reaches_qq_once(
    crypto_user: Callable[[str], EncryptedMatrixUser],
    bot: str,
    puppet: Callable[[int], str],
    qq_peer: QQPeerFactory,
    encrypting_bridge: BridgeRunner,
) -> None:
    user = await crypto_user("e2eereplay").start()
    peer = await qq_peer(30074)
    portal = await open_encrypted_portal(user, bot, puppet, 30073, 30074)
    event_id = await user.send(portal, "once only")
    assert await peer.texts_from(30073, 1) == ["once only"]

    encrypted = await raw_event(user, portal, event_id)
    assert encrypted["type"] == "m.room.encrypted"
    push = FakeHomeserverPush(encrypting_bridge.config)
    for _ in range(2):  # a retried transaction, and the event again in a new one
        assert await push.put(f"replay-{secrets.token_hex(4)}", [encrypted]) == 200
    await user.send(portal, "last")
    # First in, first out: a second copy of "once only" would stand before "last".
    assert await peer.texts_from(30073, 2) == ["once only", "last"]


async def test_a_message_whose_key_never_comes_is_answered(
    crypto_user: Callable[[str], EncryptedMatrixUser],
    bot: str,
    puppet: Callable[[int], str],
    encrypting_bridge: BridgeRunner,
) -> None:
    """One notice while the bridge waits for the key, then the failure: never silence."""
    user = await crypto_user("e2eenokey").start()
    portal = await open_encrypted_portal(user, bot, puppet, 30075, 30076)
    app = encrypting_bridge.app
    assert app is not None and app.matrix is not None
    app.matrix.pending.quiet_wait, app.matrix.pending.key_wait = 0.2, 0.5
    orphan = {
        "type": "m.room.encrypted",
        "event_id": f"$nokey-{secrets.token_hex(8)}",
        "room_id": portal,
        "sender": user.mxid,
        "origin_server_ts": 1,
        "content": {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgAEhAAAA",
            "sender_key": "k" * 43,
            "device_id": "NOSUCHDEV",
            "session_id": "s" * 43,
        },
    }
    mark = user.mark()
    push = FakeHomeserverPush(encrypting_bridge.config)
    assert await push.put(f"nokey-{secrets.token_hex(4)}", [orphan]) == 200
    assert await push.put(f"nokey-{secrets.token_hex(4)}", [orphan]) == 200  # told once
    await user.wait_for_text(portal, KEY_MISSING_NOTICE, sender=puppet(30076), after=mark)
    await user.wait_for_text(portal, KEY_NEVER_ARRIVED_REASON, sender=puppet(30076), after=mark)
    notices = [e for e in user.events[mark:] if e.body == marked(KEY_MISSING_NOTICE)]
    assert len(notices) == 1
    outcome = await encrypting_bridge.bridge.db.event_outcome(orphan["event_id"])
    assert outcome == ("failed", KEY_NEVER_ARRIVED_REASON)
    # Its wait was recorded for a restart, and is forgotten now that it has ended.
    db = encrypting_bridge.bridge.db
    for _ in range(50):
        if not await db.waiting_events():
            break
        await asyncio.sleep(0.05)
    assert await db.waiting_events() == []


async def test_an_encrypted_dm_the_user_starts_with_a_puppet_becomes_the_portal(
    crypto_user: Callable[[str], EncryptedMatrixUser],
    bot: str,
    puppet: Callable[[int], str],
    qq_peer: QQPeerFactory,
) -> None:
    """Element makes a new DM encrypted by default: the puppet joins and brings the bot in."""
    user = await crypto_user("e2eeadopt").start()
    await login(user, bot, 30077)
    peer = await qq_peer(30078)
    room = await user.dm(puppet(30078))
    await user.wait_for_join(room, bot)
    await user.send(room, "hello from a DM I made")
    assert await peer.texts_from(30077, 1) == ["hello from a DM I made"]
    await peer.client.send_text(30077, "got it")
    await user.wait_for_text(room, "got it", sender=puppet(30078))
    assert await history_types(user, room, puppet(30078)) == {"m.room.encrypted"}


async def test_the_bot_keeps_its_device_and_sessions_across_a_restart(
    crypto_user: Callable[[str], EncryptedMatrixUser],
    bot: str,
    encrypting_bridge: BridgeRunner,
) -> None:
    user = await crypto_user("e2eerestart").start()
    room = await login(user, bot, 30079)
    device = encrypting_bridge.bridge.encryption.device_id
    await encrypting_bridge.stop()
    await encrypting_bridge.start()
    assert encrypting_bridge.bridge.encryption.device_id == device
    mark = user.mark()
    await user.send(room, "ping")  # the same Megolm session as before the restart
    await user.wait_for_text(room, "QQ 30079", sender=bot, after=mark)


async def room_named(user: EncryptedMatrixUser, room: RoomID, name: str) -> None:
    await user.wait_for(
        lambda e: e.room_id == room and e.type == "m.room.name" and e.content.get("name") == name
    )


async def test_an_encrypted_portal_is_named_after_the_contact_and_follows_their_nickname(
    crypto_user: Callable[[str], EncryptedMatrixUser],
    bot: str,
    puppet: Callable[[int], str],
    qq_peer: QQPeerFactory,
    qq_server: Simulator,
) -> None:
    """The bot is a member of an encrypted portal, so clients would call it "X and QQ bridge
    bot": the room carries the contact's name instead, as it changes on QQ."""
    user = await crypto_user("e2eenamed").start()
    management = await login(user, bot, 30094)
    await qq_peer(30095)
    await user.send(management, "pm 30095")
    portal = await user.wait_for_invite(puppet(30095))
    await user.join(portal)
    await room_named(user, portal, f"{E2E_ACCOUNTS[30095].nick} (QQ)")

    qq_server.state.change_profile(30095, nick="新名字")
    await user.send(management, "friends")
    await room_named(user, portal, "新名字 (QQ)")


async def test_an_encrypted_dm_the_user_starts_is_named_once_the_bot_is_in(
    crypto_user: Callable[[str], EncryptedMatrixUser],
    bot: str,
    puppet: Callable[[int], str],
    qq_peer: QQPeerFactory,
) -> None:
    user = await crypto_user("e2eenameddm").start()
    await login(user, bot, 30096)
    await qq_peer(30097)
    room = await user.dm(puppet(30097))
    await room_named(user, room, f"{E2E_ACCOUNTS[30097].nick} (QQ)")
