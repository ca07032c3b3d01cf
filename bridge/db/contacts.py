"""Users, puppets, portals and face avatars: the bridge's long-lived records."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import delete, select

from .models import FaceAvatarModel, PortalModel, PuppetModel, UserModel
from .rows import PORTAL_KINDS, PortalRow, PuppetRow, UserRow
from .store_base import StoreBase


class ContactQueries(StoreBase):
    # users

    async def get_user(self, mxid: str) -> UserRow | None:
        async with self._sessions() as session:
            user = await session.get(UserModel, mxid)
            return user.to_row() if user else None

    async def get_user_by_uin(self, uin: int) -> UserRow | None:
        async with self._sessions() as session:
            user = await session.scalar(select(UserModel).where(UserModel.uin == uin))
            return user.to_row() if user else None

    async def all_users(self) -> list[UserRow]:
        async with self._sessions() as session:
            users = await session.scalars(select(UserModel).order_by(UserModel.mxid))
            return [user.to_row() for user in users]

    async def save_user(self, row: UserRow) -> None:
        """Insert or update; raises `sqlalchemy.exc.IntegrityError` if another user has the uin."""
        async with self._sessions.begin() as session:
            await session.execute(self._upsert(UserModel, asdict(row), ["mxid"]))

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

    async def portals_of(self, owner: str) -> list[PortalRow]:
        async with self._sessions() as session:
            portals = await session.scalars(
                select(PortalModel).where(PortalModel.owner == owner).order_by(PortalModel.uin)
            )
            return [portal.to_row() for portal in portals]

    async def save_portal(self, row: PortalRow) -> None:
        """Insert or update; the owner must be a saved user and the room id unused elsewhere."""
        if row.kind not in PORTAL_KINDS:
            raise ValueError(f"portal kind must be one of {PORTAL_KINDS}, not {row.kind!r}")
        async with self._sessions.begin() as session:
            await session.execute(self._upsert(PortalModel, asdict(row), ["owner", "uin"]))

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
