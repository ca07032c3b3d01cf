"""A QQ contact as a Matrix user: ``@qq_<uin>:domain``, with the QQ nickname and face.

Its presence is bridge/presence.py's: it must be set again and again, a profile only once.
"""

from __future__ import annotations

import dataclasses
import logging
from functools import cached_property
from typing import TYPE_CHECKING

from mautrix.appservice import IntentAPI
from mautrix.types import ContentURI, UserID

from .avatar import face_png
from .db import PuppetRow
from .portal_names import puppet_renamed

if TYPE_CHECKING:
    from .core import Bridge

log = logging.getLogger("bridge.puppet")


class Puppet:
    def __init__(self, bridge: Bridge, row: PuppetRow) -> None:
        self.bridge = bridge
        self.row = row

    @property
    def uin(self) -> int:
        return self.row.uin

    @cached_property  # a puppet's number never changes
    def mxid(self) -> UserID:
        return UserID(self.bridge.config.puppet_mxid(self.uin))

    @property
    def intent(self) -> IntentAPI:
        return self.bridge.puppet_intent(self.uin)  # kept there for the puppets used lately

    @property
    def displayname(self) -> str:
        return self.bridge.config.displayname(self.row.nick, self.uin)

    @property
    def knows_profile(self) -> bool:
        return bool(self.row.nick) and self.row.face is not None

    async def update_profile(self, nick: str | None, face: int | None) -> None:
        """Take the nickname and face QQ reported (None: not in that reply) and show them in
        Matrix, calling the homeserver only for what changed or was never set.

        An empty nickname is taken as unknown: GetInfo answers an empty NK for a number it
        does not know (seed 004 shows no other case), and a name should not vanish over it.
        """
        row = self.row
        if nick and nick != row.nick:
            row = dataclasses.replace(row, nick=nick, name_set=False)
        if face is not None and face != row.face:
            row = dataclasses.replace(row, face=face, avatar_set=False)
        if row is not self.row:
            await self.bridge.db.save_puppet(row)
            self.row = row  # the database first: memory follows only a write that succeeded
        await self.sync_to_matrix()

    async def sync_to_matrix(self) -> None:
        """Set in Matrix what the stored row says is not set yet (nothing when all is)."""
        intent = self.intent
        await intent.ensure_registered()  # a Matrix call only the first time (the state store)
        if self.row.name_set and (self.row.avatar_set or self.row.face is None):
            return
        if not self.row.name_set:
            await intent.set_displayname(self.displayname)
            await self._saved(dataclasses.replace(self.row, name_set=True))
            await puppet_renamed(self.bridge, self)
        if not self.row.avatar_set and self.row.face is not None:
            mxc = await self._face_mxc(self.row.face)
            await intent.set_avatar_url(mxc)
            await self._saved(dataclasses.replace(self.row, avatar_mxc=mxc, avatar_set=True))

    async def _saved(self, row: PuppetRow) -> None:
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
