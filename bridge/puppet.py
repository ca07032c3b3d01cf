"""A QQ contact as a Matrix user: ``@qq_<uin>:domain``, with the QQ nickname and face."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from mautrix.appservice import IntentAPI
from mautrix.types import ContentURI, PresenceState, UserID

from .avatar import face_png
from .db import PuppetRow
from .qq.codes import Status

if TYPE_CHECKING:
    from .core import Bridge

log = logging.getLogger("bridge.puppet")

PRESENCE_OF_STATUS = {
    Status.ONLINE: PresenceState.ONLINE,
    Status.BUSY: PresenceState.UNAVAILABLE,
    Status.OFFLINE: PresenceState.OFFLINE,
    Status.INVISIBLE: PresenceState.OFFLINE,
}


class Puppet:
    def __init__(self, bridge: Bridge, row: PuppetRow) -> None:
        self.bridge = bridge
        self.row = row
        self._save_lock = asyncio.Lock()  # one change at a time: none lost to another

    @property
    def uin(self) -> int:
        return self.row.uin

    @property
    def mxid(self) -> UserID:
        return UserID(self.bridge.config.puppet_mxid(self.uin))

    @property
    def intent(self) -> IntentAPI:
        return self.bridge.puppet_intent(self.uin)

    @property
    def displayname(self) -> str:
        return self.bridge.config.displayname(self.row.nick, self.uin)

    @property
    def knows_profile(self) -> bool:
        return bool(self.row.nick) and self.row.face is not None

    async def update_profile(self, nick: str | None, face: int | None) -> None:
        """Take the nickname and face QQ reported; push them to Matrix only when they changed."""
        changes: dict[str, Any] = {}
        if nick is not None and nick != self.row.nick:
            changes.update(nick=nick, name_set=False)
        if face is not None and face != self.row.face:
            changes.update(face=face, avatar_set=False)
        if changes:
            await self._save(**changes)
        await self.sync_to_matrix()

    async def sync_to_matrix(self) -> None:
        intent = self.intent
        await intent.ensure_registered()
        if not self.row.name_set:
            await intent.set_displayname(self.displayname)
            await self._save(name_set=True)
        if not self.row.avatar_set and self.row.face is not None:
            mxc = await self._face_mxc(self.row.face)
            await intent.set_avatar_url(mxc)
            await self._save(avatar_mxc=mxc, avatar_set=True)

    async def _save(self, **changes: Any) -> None:
        """The database first: memory follows only a write that succeeded."""
        async with self._save_lock:
            row = dataclasses.replace(self.row, **changes)
            await self.bridge.db.save_puppet(row)
            self.row = row

    async def _face_mxc(self, face: int) -> ContentURI:
        known = await self.bridge.db.get_face_mxc(face)
        if known:
            return ContentURI(known)
        mxc = await self.bridge.bot.upload_media(
            face_png(face), mime_type="image/png", filename=f"qq-face-{face}.png"
        )
        await self.bridge.db.save_face_mxc(face, mxc)
        return mxc

    async def set_status(self, status: Status) -> None:
        await self.intent.set_presence(PRESENCE_OF_STATUS[status], ignore_cache=True)
