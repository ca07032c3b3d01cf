"""The Matrix room of one (Matrix user, QQ contact) pair: a DM with the contact's puppet.

A portal is also how a friend request arrives: the puppet invites the user to a room that holds
the request text (kind "request"); joining it accepts the request and the room becomes the DM,
rejecting the invite refuses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, cast

from mautrix.errors import IntentError, MForbidden, MNotFound
from mautrix.types import (
    EventID,
    EventType,
    MessageType,
    RoomCreatePreset,
    RoomID,
    TextMessageEventContent,
    UserID,
)

from .db import PortalRow
from .e2ee.sending import room_is_encrypted, send_message
from .puppet import Puppet

if TYPE_CHECKING:
    from .core import Bridge
    from .user import User

log = logging.getLogger("bridge.portal")

MEGOLM = "m.megolm.v1.aes-sha2"
DM = "dm"
REQUEST = "request"


class Portal:
    def __init__(self, bridge: Bridge, row: PortalRow, user: User, puppet: Puppet) -> None:
        self.bridge = bridge
        self.row = row
        self.user = user
        self.puppet = puppet
        self.warned_not_friend = False
        # Creating a room takes a while; a message, `pm` and an invite at once must not make
        # three rooms for one contact.
        self._room_lock = asyncio.Lock()

    @property
    def uin(self) -> int:
        return self.row.uin

    @property
    def room_id(self) -> RoomID | None:
        return RoomID(self.row.room_id) if self.row.room_id else None

    @property
    def is_request(self) -> bool:
        return self.row.kind == REQUEST

    # --- rooms --------------------------------------------------------------------------

    async def ensure_room(self) -> RoomID:
        """The DM room, created (and the user invited) the first time it is needed.

        With ``bridge.encryption.require`` a room in clear is made encrypted first, or, where
        the puppet may not, left for a new (encrypted) one."""
        room_id, _ = await self._room(DM)
        if not await self.enforce_encryption():
            await self.forget()
            room_id, _ = await self._room(DM)
        return room_id

    async def open_dm(self) -> bool:
        """Make sure the DM room exists; True if this call created it (also when a room in
        clear was given up under ``bridge.encryption.require``)."""
        _, created = await self._room(DM)
        if not await self.enforce_encryption():
            await self.forget()
            _, created = await self._room(DM)
        return created

    async def open_request_room(self) -> RoomID:
        """An invite from the puppet into a new room for a friend request (unless one exists)."""
        room_id, _ = await self._room(REQUEST)
        return room_id

    async def adopt_room(self, room_id: RoomID) -> bool:
        """The user made a DM with the puppet themselves: it becomes the portal, if none exists."""
        async with self._room_lock:
            if self.room_id:
                return False
            await self._save(room_id, DM)
            return True

    async def _room(self, kind: str) -> tuple[RoomID, bool]:
        """(the room, whether this call created it)."""
        async with self._room_lock:
            if self.room_id:
                return self.room_id, False
            await self.puppet.sync_to_matrix()
            extra = {}
            if kind == REQUEST:
                extra = {
                    "name": f"Friend request from {self.puppet.displayname}",
                    "topic": "Join to accept this QQ friend request; reject the invite to refuse.",
                }
            encrypted = self.bridge.config.encryption_default
            initial_state = self._bridge_state()
            if encrypted:
                initial_state.append(
                    {"type": "m.room.encryption", "content": {"algorithm": MEGOLM}}
                )
            # In an encrypted portal the bot (its device) joins before the owner is invited: the
            # owner's first message must already be encrypted for the bot's device too.
            bot = UserID(self.bridge.config.bot_mxid)
            room_id = await self.puppet.intent.create_room(
                preset=RoomCreatePreset.TRUSTED_PRIVATE,
                is_direct=True,
                invitees=[bot] if encrypted else [self.user.mxid],
                initial_state=initial_state,
                **extra,
            )
            await self._save(room_id, kind)
            if encrypted:
                await self.bridge.db.state_store.set_encryption_info(room_id, {"algorithm": MEGOLM})
                await self.bridge.bot.join_room_by_id(room_id)
                await self.puppet.intent.invite_user(
                    room_id, UserID(self.user.mxid), extra_content={"is_direct": True}
                )
            log.info("Created %s portal %s for %s, QQ %d", kind, room_id, self.user.mxid, self.uin)
            return room_id, True

    async def enforce_encryption(self) -> bool:
        """Under ``bridge.encryption.require``: the room is encrypted, turning encryption on
        if it was not (the puppet's m.room.encryption, then the bot joins to hold the keys).
        False when the puppet may not turn it on. Always True without ``require``."""
        room_id = self.room_id
        if not room_id or not self.bridge.config.encryption_required:
            return True
        if await room_is_encrypted(self.bridge, self.puppet.intent, room_id):
            return True
        content = {"algorithm": MEGOLM}
        try:
            await self.puppet.intent.send_state_event(
                room_id, EventType.ROOM_ENCRYPTION, cast(Any, content)
            )
        except (MForbidden, IntentError):  # IntentError: mautrix read the power levels first
            log.info("May not turn encryption on in portal %s", room_id)
            return False
        await self.bridge.db.state_store.set_encryption_info(room_id, content)
        await self.invite_bot()
        log.info("Turned encryption on in portal %s (bridge.encryption.require)", room_id)
        return True

    async def invite_bot(self) -> None:
        """Bring the bot (and its encryption device) into this encrypted portal."""
        if not self.room_id or self.bridge.encryption is None:
            return
        bot = UserID(self.bridge.config.bot_mxid)
        if await self.bridge.db.state_store.is_joined(self.room_id, bot):
            return
        with contextlib.suppress(MForbidden):  # already invited
            await self.puppet.intent.invite_user(self.room_id, bot)
        await self.bridge.bot.join_room_by_id(self.room_id)

    async def became_friend(self) -> None:
        """A request room turns into the ordinary DM once the request is accepted."""
        if self.is_request and self.room_id:
            await self.puppet.intent.set_room_name(self.room_id, "")
            await self._save(self.room_id, DM)

    async def forget(self) -> None:
        """The user left or refused: the puppet leaves and the next message makes a new room."""
        room_id = self.room_id
        await self.bridge.db.delete_portal(self.user.mxid, self.uin)
        self.bridge.forget_portal(self)
        self.row.room_id = None
        if room_id:
            with contextlib.suppress(MForbidden, MNotFound):
                await self.puppet.intent.leave_room(room_id)

    async def _save(self, room_id: RoomID, kind: str) -> None:
        self.row.room_id, self.row.kind = room_id, kind
        await self.bridge.db.save_portal(self.row)

    def _bridge_state(self) -> list[dict[str, Any]]:
        """m.bridge (MSC2346) and its older name, so clients can show where the room leads."""
        content = {
            "bridgebot": self.bridge.config.bot_mxid,
            "protocol": {"id": "qq", "displayname": "QQ"},
            "channel": {"id": str(self.uin), "displayname": self.puppet.displayname},
        }
        state_key = f"qq://qq/{self.uin}"
        return [
            {"type": kind, "state_key": state_key, "content": content}
            for kind in ("m.bridge", "uk.half-shot.bridge")
        ]

    # --- sending into Matrix --------------------------------------------------------------

    async def send(self, text: str, txn_id: str, notice: bool = False) -> EventID:
        """Send as the puppet; ``txn_id`` makes a replay after a crash a no-op on Synapse."""
        msgtype = MessageType.NOTICE if notice else MessageType.TEXT
        content = TextMessageEventContent(msgtype=msgtype, body=text)
        room_id = await self.ensure_room()
        try:
            return await send_message(self.bridge, self.puppet.intent, room_id, content, txn_id)
        except MForbidden:
            # The room is gone for us (the user left while we were away): start a new one.
            log.warning("Portal %s refused a message; making a new room", room_id)
            await self.forget()
            room_id = await self.ensure_room()
            return await send_message(
                self.bridge, self.puppet.intent, room_id, content, f"{txn_id}-new"
            )

    async def notice(self, text: str, txn_id: str | None = None) -> EventID | None:
        """A notice from the bridge in this room, only if the room exists."""
        if not self.room_id:
            return None
        return await self.bridge.send_notice(self.puppet.intent, self.room_id, text, txn_id)
