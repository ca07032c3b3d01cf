"""``bridge.encryption.require`` (issue 9): only encrypted chats are bridged.

The session's bridge is restarted for this module with ``require`` on and ``default`` off (which
``require`` overrides): portals the bridge makes are encrypted, a chat in clear is made
encrypted by the puppet or left, and a message sent in clear is answered, never sent to QQ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from mautrix.types import EventType, RoomCreatePreset, RoomID, UserID

from .crypto_user import EncryptedMatrixUser, login
from .harness import QQPeerFactory
from .matrix_user import MatrixUser

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.usefixtures("requiring_bridge"),
]


async def is_encrypted(user: MatrixUser, room: RoomID) -> bool:
    state = await user.client.get_state(room)
    return any(event.type == EventType.ROOM_ENCRYPTION for event in state)


async def test_the_puppet_turns_encryption_on_and_a_message_in_clear_is_refused(
    crypto_user: Callable[[str], EncryptedMatrixUser],
    bot: str,
    puppet: Callable[[int], str],
    qq_peer: QQPeerFactory,
) -> None:
    user = await crypto_user("e2eerequire").start()
    await login(user, bot, 30086)
    peer = await qq_peer(30087)
    # A DM in clear, as a client with encryption off makes one (the invitee may change state).
    room = await MatrixUser.dm(user, puppet(30087))
    await user.wait_for(lambda e: e.room_id == room and e.type == "m.room.encryption", timeout=30)
    await user.wait_for_join(room, bot)
    assert await is_encrypted(user, room)
    await user._know_encrypted(room)

    mark = user.mark()
    clear: Any = {"msgtype": "m.text", "body": "sent in clear"}
    await user.crypto_client.send_message_event(
        room, EventType.ROOM_MESSAGE, cast(Any, clear), disable_encryption=True
    )
    refusal = await user.wait_for_text(room, "Not sent to QQ", after=mark)
    assert "came unencrypted" in refusal.body and "encryption on" in refusal.body
    await user.send(room, "sent encrypted")
    # First in, first out: had the message in clear gone to QQ, it would come first.
    assert await peer.texts_from(30086, 1) == ["sent encrypted"]


async def test_a_chat_the_puppet_may_not_encrypt_is_left_and_pm_makes_an_encrypted_one(
    crypto_user: Callable[[str], EncryptedMatrixUser],
    bot: str,
    puppet: Callable[[int], str],
    qq_peer: QQPeerFactory,
) -> None:
    user = await crypto_user("e2eerequireleft").start()
    management = await login(user, bot, 30088)
    peer = await qq_peer(30089)
    # private_chat: the invitee (the puppet) may not send state, so it cannot turn
    # encryption on.
    room = await user.client.create_room(
        preset=RoomCreatePreset.PRIVATE, is_direct=True, invitees=[UserID(puppet(30089))]
    )
    notice = await user.wait_for_text(room, "bridges only encrypted chats", sender=puppet(30089))
    assert "pm 30089" in notice.body
    await user.wait_for(
        lambda e: (
            e.room_id == room
            and e.type == "m.room.member"
            and e.raw.get("state_key") == puppet(30089)
            and e.content.get("membership") == "leave"
        )
    )
    assert not await is_encrypted(user, room)

    # The portals the bridge makes are encrypted, although `default` is off.
    await user.send(management, "pm 30089")
    portal = await user.wait_for_invite(puppet(30089))
    await user.join(portal)
    assert await is_encrypted(user, portal)
    await peer.client.send_text(30088, "你好 & 🙂")
    await user.wait_for_text(portal, "你好 & 🙂", sender=puppet(30089))
    await user.send(portal, "back")
    assert await peer.texts_from(30088, 1) == ["back"]
