"""The one way the bridge sends a message event: encrypted when the room is encrypted.

Every sender (a puppet in its portal, the bot in a management room) goes through
``send_message``, so with encryption allowed no message leaves in clear text into an encrypted
room. With encryption off, messages go in clear text as before (the notice that the bridge
cannot read the chat must be readable). Whether a room is encrypted comes from the state store,
or once from the homeserver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from mautrix.appservice import IntentAPI
from mautrix.errors import MNotFound
from mautrix.types import (
    EventContent,
    EventID,
    EventType,
    RoomEncryptionStateEventContent,
    RoomID,
)

if TYPE_CHECKING:
    from ..core import Bridge


async def room_is_encrypted(bridge: Bridge, intent: IntentAPI, room_id: RoomID) -> bool:
    store = bridge.db.state_store
    known = await store.is_encrypted(room_id)
    if known is not None:
        return known
    try:
        content = await intent.get_state_event(room_id, EventType.ROOM_ENCRYPTION)
    except MNotFound:
        await store.set_unencrypted(room_id)
        return False
    await store.set_encryption_info(room_id, cast(RoomEncryptionStateEventContent, content))
    return True


async def send_message(
    bridge: Bridge,
    intent: IntentAPI,
    room_id: RoomID,
    content: EventContent,
    txn_id: str | None = None,
    event_type: EventType = EventType.ROOM_MESSAGE,
) -> EventID:
    """Send ``content`` as ``intent``'s user; ``txn_id`` makes a resend a no-op on Synapse."""
    if bridge.encryption is not None and await room_is_encrypted(bridge, intent, room_id):
        await intent.ensure_joined(room_id)
        encrypted = await bridge.encryption.encrypt(room_id, event_type, content)
        return await intent.send_message_event(
            room_id, EventType.ROOM_ENCRYPTED, cast(EventContent, encrypted), txn_id=txn_id
        )
    return await intent.send_message_event(room_id, event_type, content, txn_id=txn_id)
