"""The Matrix room of one (Matrix user, QQ contact) pair: a DM with the contact's puppet.

A portal is also how a friend request arrives: the puppet invites the user to a room that holds
the request text (kind REQUEST); joining it accepts the request and the room becomes the DM,
rejecting the invite refuses it.

A portal holds exactly its user and the puppet (and, in an encrypted room, the bot for its
device): bridge/portal_members.py ends it when anyone else comes in, or when the user or the
puppet leaves. The bridge speaks in a portal through the puppet, always as an ``m.notice`` that
starts with "QQ bridge:" (notices.py), so it is never read as the contact's words.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import TYPE_CHECKING, Any, cast

from mautrix.errors import IntentError, MatrixRequestError, MForbidden, MNotFound
from mautrix.types import (
    EventID,
    EventType,
    Membership,
    MemberStateEventContent,
    MessageType,
    RoomCreatePreset,
    RoomID,
    TextMessageEventContent,
    UserID,
)

from .db import PortalKind, PortalRow
from .e2ee.sending import room_is_encrypted, send_message
from .notices import bridge_notice_content
from .portal_names import name_portal
from .puppet import Puppet

if TYPE_CHECKING:
    from .core import Bridge
    from .user import User

log = logging.getLogger("bridge.portal")

MEGOLM = "m.megolm.v1.aes-sha2"
BRIDGE_STATE_TYPES = ("m.bridge", "uk.half-shot.bridge")
# What a room the puppet no longer can use answers: it left or was kicked, the room is gone.
GONE = (MForbidden, MNotFound, IntentError)


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
        return self.row.kind is PortalKind.REQUEST

    # --- rooms --------------------------------------------------------------------------

    async def ensure_room(self) -> RoomID:
        """The DM room, created (and the user invited) the first time it is needed.

        With ``bridge.encryption.require`` a room in clear is made encrypted first, or, where
        the puppet may not, left for a new (encrypted) one."""
        room_id, _ = await self._room(PortalKind.DM)
        if not await self.enforce_encryption():
            await self.end(room_id)
            room_id, _ = await self._room(PortalKind.DM)
        return room_id

    async def open_dm(self) -> bool:
        """Make sure a working DM room exists (`pm`); True if this call created it.

        A room the puppet or the user is no longer in (an event the bridge missed) is ended
        first, so `pm` never points at a dead room; so is a room in clear under
        ``bridge.encryption.require`` where the puppet may not turn encryption on.
        """
        await self.end_if_abandoned()
        room_id, created = await self._room(PortalKind.DM)
        if not await self.enforce_encryption():
            await self.end(room_id)
            _, created = await self._room(PortalKind.DM)
        return created

    async def end_if_abandoned(self) -> None:
        """End the portal if its room no longer holds the puppet (joined) and the user
        (joined or invited): a leave or kick the bridge missed. One request to the homeserver."""
        room_id = self.room_id
        if room_id is not None and not await self._both_in(room_id):
            log.info("Portal %s lost its user or puppet; ending it", room_id)
            await self.end(room_id)

    async def open_request_room(self) -> RoomID:
        """An invite from the puppet into a new room for a friend request (unless one exists)."""
        room_id, _ = await self._room(PortalKind.REQUEST)
        return room_id

    async def adopt_room(self, room_id: RoomID) -> bool:
        """The user made a DM with the puppet themselves (or invited it back into its old
        room): it becomes the portal, unless the portal has another room."""
        async with self._room_lock:
            if self.room_id == room_id:
                return True  # invited back into its own room (the bridge missed a kick)
            if self.room_id:
                return False
            await self._save(room_id, PortalKind.DM)
            return True

    async def _room(self, kind: PortalKind) -> tuple[RoomID, bool]:
        """(the room, whether this call created it)."""
        async with self._room_lock:
            if self.room_id:
                return self.room_id, False
            await self.puppet.sync_to_matrix()
            extra = {}
            if kind is PortalKind.REQUEST:
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
                if kind is PortalKind.DM:  # the bot is a member too (portal_names.py)
                    extra = {"name": self.puppet.displayname}
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
        await name_portal(self.bridge, self.puppet, self.room_id)

    async def became_friend(self) -> None:
        """A request room turns into the ordinary DM once the request is accepted: the
        database first, then the room loses the request's topic, and its name becomes a DM's
        (portal_names.py)."""
        async with self._room_lock:
            room_id = self.room_id
            if not (self.is_request and room_id):
                return
            await self._save(room_id, PortalKind.DM)
        await name_portal(self.bridge, self.puppet, room_id)
        await self.puppet.intent.set_room_topic(room_id, "")

    async def end(self, room_id: RoomID, leave: bool = True) -> bool:
        """The room stops being the portal (the user left, the puppet was kicked, a stranger
        came in): its row goes, then memory, then (``leave``) the room is left.
        The next message or `pm` makes a new room. False if the portal is no longer
        ``room_id`` (a late event about an older room changes nothing)."""
        async with self._room_lock:
            if self.room_id != room_id:
                return False
            await self.bridge.db.delete_portal(self.user.mxid, self.uin)
            # The same object stays the portal of this pair: whoever holds it sees the change.
            self.row = PortalRow(owner=self.row.owner, uin=self.uin)
        log.info("Portal %s of %s, QQ %d ended", room_id, self.user.mxid, self.uin)
        if leave:
            await self.leave(room_id)
        return True

    async def leave(self, room_id: RoomID) -> None:
        """The puppet leaves ``room_id``, and so does the bot where it joined for its device
        (an encrypted portal; never the user's management room)."""
        with contextlib.suppress(*GONE):
            await self.puppet.intent.leave_room(room_id)
        bot = UserID(self.bridge.config.bot_mxid)
        if self.user.management_room == room_id:
            return
        if await self.bridge.db.state_store.is_joined(room_id, bot):
            with contextlib.suppress(*GONE):
                await self.bridge.bot.leave_room(room_id)

    async def strangers(self, room_id: RoomID) -> list[UserID]:
        """Members (joined or invited) of ``room_id`` other than the user, this puppet and, in
        an encrypted room, the bot, as the homeserver tells the (joined) puppet."""
        allowed = {self.user.mxid, self.puppet.mxid}
        if self.bridge.encryption is not None and await room_is_encrypted(
            self.bridge, self.puppet.intent, room_id
        ):
            allowed.add(UserID(self.bridge.config.bot_mxid))
        return [
            UserID(member.state_key)
            for member in await self.puppet.intent.get_members(room_id)
            if isinstance(member.content, MemberStateEventContent)
            and member.content.membership in (Membership.JOIN, Membership.INVITE)
            and member.state_key not in allowed
        ]

    async def mark_bridged(self, room_id: RoomID) -> None:
        """``m.bridge`` state in a room the user made (the bridge's own rooms have it from
        their creation); without the power to set state, logged and left as it is."""
        for state in self._bridge_state():
            try:
                event_type = EventType.find(state["type"], EventType.Class.STATE)
                await self.puppet.intent.send_state_event(
                    room_id, event_type, state["content"], state_key=state["state_key"]
                )
            except (IntentError, MatrixRequestError) as error:
                log.warning("Could not set %s in %s: %s", state["type"], room_id, error)

    async def _both_in(self, room_id: RoomID) -> bool:
        """Whether the puppet is joined to ``room_id`` and the user joined or invited."""
        try:
            members = await self.puppet.intent.get_members(room_id)
        except GONE:
            return False
        memberships = {
            member.state_key: member.content.membership
            for member in members
            if isinstance(member.content, MemberStateEventContent)
        }
        return memberships.get(self.puppet.mxid) == Membership.JOIN and memberships.get(
            UserID(self.user.mxid)
        ) in (Membership.JOIN, Membership.INVITE)

    async def _save(self, room_id: RoomID, kind: PortalKind) -> None:
        row = dataclasses.replace(self.row, room_id=room_id, kind=kind)
        await self.bridge.db.save_portal(row)
        self.row = row  # the database first: memory follows only a write that succeeded

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
            for kind in BRIDGE_STATE_TYPES
        ]

    # --- sending into Matrix --------------------------------------------------------------

    async def send(self, text: str, txn_id: str) -> EventID:
        """The contact's words, as the puppet; ``txn_id`` makes a replay after a crash a
        no-op on Synapse."""
        content = TextMessageEventContent(msgtype=MessageType.TEXT, body=text)
        return await self._send(content, txn_id)

    async def announce(self, text: str, txn_id: str) -> EventID:
        """The bridge's notice (Markdown) in this portal, making the room if there is none."""
        return await self._send(bridge_notice_content(text), txn_id)

    async def _send(self, content: TextMessageEventContent, txn_id: str) -> EventID:
        room_id = await self.ensure_room()
        try:
            return await send_message(self.bridge, self.puppet.intent, room_id, content, txn_id)
        except GONE:
            # The room is gone for us (the user left or kicked the puppet while the bridge was
            # away): end it and start a new one.
            log.warning("Portal %s refused a message; making a new room", room_id)
            await self.end(room_id)
            room_id = await self.ensure_room()
            return await send_message(
                self.bridge, self.puppet.intent, room_id, content, f"{txn_id}-new"
            )

    async def notice(self, text: str, txn_id: str | None = None) -> EventID | None:
        """The bridge's notice (Markdown) in this room, only if the room exists."""
        if not self.room_id:
            return None
        return await send_message(
            self.bridge, self.puppet.intent, self.room_id, bridge_notice_content(text), txn_id
        )
