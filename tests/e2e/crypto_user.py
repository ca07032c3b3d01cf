"""A Matrix user with an encryption device, as Element with encryption on would be.

mautrix's own client with an OlmMachine and in-memory stores: it uploads its device keys,
encrypts what it sends into encrypted rooms, shares room keys with the members' devices (the
bridge bot's among them) and decrypts what it receives. Events are recorded as MatrixUser's
are, decrypted ones under their decrypted type, so the same ``wait_for_text`` works.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, cast

from mautrix.client import Client, InternalEventType
from mautrix.client.state_store.memory import MemoryStateStore
from mautrix.client.syncer import SyncStream
from mautrix.crypto import OlmMachine
from mautrix.crypto.store import StateStore as CryptoStateStoreBase
from mautrix.crypto.store.memory import MemoryCryptoStore
from mautrix.types import (
    EncryptionAlgorithm,
    Event,
    EventType,
    Membership,
    RoomCreatePreset,
    RoomEncryptionStateEventContent,
    RoomID,
    StateEvent,
    UserID,
)

from .matrix_user import TIMEOUT, MatrixUser, SeenEvent

MEGOLM = "m.megolm.v1.aes-sha2"


# mautrix's memory store answers is_encrypted with None for "unknown"; the crypto base says bool.
class CryptoStateStore(MemoryStateStore, CryptoStateStoreBase):  # type: ignore[misc]
    """mautrix's memory state store, plus the one query its OlmMachine needs beyond it."""

    async def find_shared_rooms(self, user_id: UserID) -> list[RoomID]:
        return [
            room_id
            for room_id, members in self.members.items()
            if self.encryption.get(room_id) is not None
            and user_id in members
            and members[user_id].membership in (Membership.JOIN, Membership.INVITE)
        ]


class EncryptedMatrixUser(MatrixUser):
    """``user = await EncryptedMatrixUser(synapse, "alice").start()``; rooms it makes with
    ``dm`` are encrypted, and so is everything it sends into an encrypted room."""

    machine: OlmMachine

    async def start(self) -> EncryptedMatrixUser:
        user_id, token = await self.synapse.register_user(self.localpart, self.password)
        self.state_store = CryptoStateStore()
        crypto_store = MemoryCryptoStore(user_id, "test pickle key")
        client = Client(
            mxid=UserID(user_id),
            base_url=self.synapse.url,
            token=token,
            state_store=self.state_store,
            sync_store=crypto_store,
        )
        device_id = (await client.whoami()).device_id
        assert device_id is not None
        client.device_id = device_id
        await crypto_store.put_device_id(device_id)
        self.machine = OlmMachine(client, crypto_store, self.state_store)
        await self.machine.load()
        await self.machine.share_keys()
        client.crypto = self.machine
        client.add_event_handler(EventType.ALL, self._record)
        synced = asyncio.Event()

        async def first_sync(_: Any) -> None:
            synced.set()

        client.add_event_handler(InternalEventType.SYNC_SUCCESSFUL, first_sync)
        self.api = client
        self._sync_task = cast_task(client.start(None))
        await asyncio.wait_for(synced.wait(), TIMEOUT)
        return self

    @property
    def crypto_client(self) -> Client:
        assert isinstance(self.api, Client)
        return self.api

    async def stop(self) -> None:
        if self.api is not None:
            self.crypto_client.stop()
        if self._sync_task:
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
        if self.api is not None:
            await self.api.api.session.close()

    async def _record(self, event: Event) -> None:
        room_id = getattr(event, "room_id", None)
        if not room_id:
            return
        raw = event.serialize()
        async with self._changed:
            if (
                isinstance(event, StateEvent)
                and event.type == EventType.ROOM_MEMBER
                and event.state_key == self.mxid
                and event.content.membership == Membership.INVITE
                and SyncStream.INVITED_ROOM in getattr(event, "source", SyncStream(0))
            ):
                self.invites[room_id] = [raw]
            else:
                self.events.append(SeenEvent(room_id, raw))
            self._changed.notify_all()

    async def dm(self, other: str) -> RoomID:
        """An encrypted DM, as Element makes one by default."""
        encryption_event = {
            "type": "m.room.encryption",
            "state_key": "",
            "content": {"algorithm": MEGOLM},
        }
        room_id = await self.client.create_room(
            preset=RoomCreatePreset.TRUSTED_PRIVATE,
            is_direct=True,
            invitees=[UserID(other)],
            initial_state=[cast(Any, encryption_event)],
        )
        await self._know_encrypted(room_id)
        return room_id

    async def join(self, room_id: RoomID) -> None:
        await super().join(room_id)
        await self._know_encrypted(room_id)

    async def _know_encrypted(self, room_id: RoomID) -> None:
        """What /sync will say soon, known now: the first message must already be encrypted."""
        with contextlib.suppress(Exception):
            content = await self.client.get_state_event(room_id, EventType.ROOM_ENCRYPTION)
            assert isinstance(content, RoomEncryptionStateEventContent)
            assert content.algorithm == EncryptionAlgorithm.MEGOLM_V1
            await self.state_store.set_encryption_info(room_id, content)

    def encrypted_events(self, room_id: str) -> list[SeenEvent]:
        return [e for e in self.events if e.room_id == room_id and e.type == "m.room.encrypted"]


async def login(user: MatrixUser, bot: str, uin: int) -> RoomID:
    """A DM with the bot (encrypted, for an EncryptedMatrixUser), logged in to QQ ``uin``."""
    from .harness import E2E_ACCOUNTS

    room = await user.dm(bot)
    await user.wait_for_text(room, "Send `login", sender=bot)
    mark = user.mark()
    await user.send(room, f"login {uin} {E2E_ACCOUNTS[uin].password}")
    await user.wait_for_text(room, "Logged in to QQ", sender=bot, after=mark)
    return room


async def open_encrypted_portal(
    user: EncryptedMatrixUser, bot: str, puppet: Callable[[int], str], uin: int, other: int
) -> RoomID:
    """Logged in to QQ ``uin``, and in the (encrypted) portal with ``other`` that `pm` made."""
    room = await login(user, bot, uin)
    await user.send(room, f"pm {other}")
    portal = await user.wait_for_invite(puppet(other))
    await user.join(portal)
    return portal


def cast_task(future: asyncio.Future[Any]) -> asyncio.Task[None]:
    assert isinstance(future, asyncio.Task)
    return future
