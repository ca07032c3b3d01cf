"""Users, puppets, portals and face avatars: the bridge's long-lived records."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from sqlalchemy import delete, select, update

from ..security import UnreadableCredential
from .models import FaceAvatarModel, PortalModel, PuppetModel, UserModel
from .rows import LoginState, PortalKind, PortalRow, PuppetRow, UserRow
from .store_base import StoreBase

log = logging.getLogger("bridge.db")


class ContactQueries(StoreBase):
    # users: the row's password_md5 is the plain md5; the column holds it sealed (see vault.py)

    async def get_user(self, mxid: str) -> UserRow | None:
        async with self._sessions() as session:
            user = await session.get(UserModel, mxid)
            return self._user_row(user) if user else None

    async def get_user_by_uin(self, uin: int) -> UserRow | None:
        async with self._sessions() as session:
            user = await session.scalar(select(UserModel).where(UserModel.uin == uin))
            return self._user_row(user) if user else None

    async def get_user_by_management_room(self, room_id: str) -> UserRow | None:
        async with self._sessions() as session:
            user = await session.scalar(
                select(UserModel).where(UserModel.management_room == room_id).limit(1)
            )
            return self._user_row(user) if user else None

    async def all_users(self) -> list[UserRow]:
        async with self._sessions() as session:
            users = await session.scalars(select(UserModel).order_by(UserModel.mxid))
            return [self._user_row(user) for user in users]

    async def save_user(self, row: UserRow) -> None:
        """Insert or update; raises `sqlalchemy.exc.IntegrityError` if another user has the uin
        (its message holds no value: the engine hides statements' parameters)."""
        values: dict[str, Any] = asdict(row)
        if self._vault is not None and row.password_md5:
            values["password_md5"] = self._vault.seal(row.password_md5)
        async with self._sessions.begin() as session:
            await session.execute(self._upsert(UserModel, values, ["mxid"]))

    async def set_login_state(self, mxid: str, state: LoginState) -> None:
        """Change only the login state: a stored login this bridge cannot read (another key)
        stays as it is, to be read again once the right key is back."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(UserModel).where(UserModel.mxid == mxid).values(login_state=state)
            )

    async def set_user_status(self, mxid: str, status: int) -> None:
        """Change only the QQ status the user chose (``ST=`` value), restored at every login."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(UserModel).where(UserModel.mxid == mxid).values(status=status)
            )

    async def seal_stored_logins(self) -> int:
        """Encrypt the logins stored before encryption came (plain md5s); returns how many."""
        if self._vault is None:
            return 0
        sealed = 0
        async with self._sessions.begin() as session:
            users = await session.scalars(
                select(UserModel).where(UserModel.password_md5.is_not(None))
            )
            for user in list(users):
                stored = user.password_md5
                if stored is None or self._vault.is_sealed(stored):
                    continue
                try:
                    md5 = self._vault.open(stored)
                except UnreadableCredential:
                    continue  # not a login: _user_row reads it as none
                await session.execute(
                    update(UserModel)
                    .where(UserModel.mxid == user.mxid)
                    .values(password_md5=self._vault.seal(md5))
                )
                sealed += 1
        return sealed

    def _user_row(self, user: UserModel) -> UserRow:
        row = user.to_row()
        if self._vault is not None and row.password_md5:
            try:
                row.password_md5 = self._vault.open(row.password_md5)
            except UnreadableCredential as error:
                # The key file was replaced: the user must log in again, and is told so.
                log.warning("The stored QQ login of %s is unreadable (%s)", row.mxid, error)
                row.password_md5 = None
        return row

    # puppets

    async def get_puppet(self, uin: int) -> PuppetRow | None:
        async with self._sessions() as session:
            puppet = await session.get(PuppetModel, uin)
            return puppet.to_row() if puppet else None

    async def save_puppet(self, row: PuppetRow) -> None:
        async with self._sessions.begin() as session:
            await session.execute(self._upsert(PuppetModel, asdict(row), ["uin"]))

    # portals

    async def get_portal(self, owner: str, uin: int) -> PortalRow | None:
        async with self._sessions() as session:
            portal = await session.get(PortalModel, (owner, uin))
            return portal.to_row() if portal else None

    async def get_portal_by_room(self, room_id: str) -> PortalRow | None:
        async with self._sessions() as session:
            portal = await session.scalar(select(PortalModel).where(PortalModel.room_id == room_id))
            return portal.to_row() if portal else None

    async def save_portal(self, row: PortalRow) -> None:
        """Insert or update; the owner must be a saved user and the room id unused elsewhere."""
        if row.kind not in set(PortalKind):
            raise ValueError(f"portal kind must be a PortalKind, not {row.kind!r}")
        async with self._sessions.begin() as session:
            await session.execute(self._upsert(PortalModel, asdict(row), ["owner", "uin"]))

    async def portal_rooms_of(self, uin: int) -> list[tuple[str, PortalKind]]:
        """(room id, kind) of every portal with QQ contact ``uin``, whoever's it is."""
        query = select(PortalModel.room_id, PortalModel.kind).where(
            PortalModel.uin == uin, PortalModel.room_id.is_not(None)
        )
        async with self._sessions() as session:
            return [(str(room), PortalKind(kind)) for room, kind in await session.execute(query)]

    async def delete_portal(self, owner: str, uin: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(PortalModel).where(PortalModel.owner == owner, PortalModel.uin == uin)
            )

    # face avatars

    async def get_face_mxc(self, face: int) -> str | None:
        async with self._sessions() as session:
            avatar = await session.get(FaceAvatarModel, face)
            return avatar.mxc if avatar else None

    async def save_face_mxc(self, face: int, mxc: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                self._upsert(FaceAvatarModel, {"face": face, "mxc": mxc}, ["face"])
            )
