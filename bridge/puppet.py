"""A QQ contact as a Matrix user: ``@qq_<uin>:domain``, with the QQ nickname and face."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mautrix.appservice import IntentAPI
from mautrix.types import ContentURI, PresenceState, UserID

from .avatar import face_png
from .db import PuppetRow
from .qq.client import Status

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
        changed = False
        if nick is not None and nick != self.row.nick:
            self.row.nick, self.row.name_set, changed = nick, False, True
        if face is not None and face != self.row.face:
            self.row.face, self.row.avatar_set, changed = face, False, True
        if changed:
            await self.bridge.db.save_puppet(self.row)
        await self.sync_to_matrix()

    async def sync_to_matrix(self) -> None:
        intent = self.intent
        await intent.ensure_registered()
        if not self.row.name_set:
            await intent.set_displayname(self.displayname)
            self.row.name_set = True
            await self.bridge.db.save_puppet(self.row)
        if not self.row.avatar_set and self.row.face is not None:
            mxc = await self._face_mxc(self.row.face)
            await intent.set_avatar_url(mxc)
            self.row.avatar_mxc, self.row.avatar_set = mxc, True
            await self.bridge.db.save_puppet(self.row)

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
