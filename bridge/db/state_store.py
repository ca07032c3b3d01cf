"""mautrix's appservice state store, persisted in the bridge database.

IntentAPI asks it whether a puppet is registered, in a room, or allowed to send an event, so that
it can skip requests to the homeserver; keeping it in the database keeps that knowledge across
restarts. Presence and read markers stay in memory, as in every mautrix store.

IntentAPI asks before every message it sends (registered? joined? power levels? create event?),
so what was read is also kept in memory (state_cache.py): a message costs no query here. This
process is the only writer of these tables, so the copy stays true as long as every write goes
through this class; a write changes the copy only after its transaction committed.
"""

from __future__ import annotations

from typing import Any, cast

from mautrix.appservice.state_store import ASStateStore
from mautrix.crypto.store import StateStore as CryptoStateStore
from mautrix.types import (
    JSON,
    Member,
    Membership,
    MemberStateEventContent,
    PowerLevelStateEventContent,
    RoomEncryptionStateEventContent,
    RoomID,
    Serializable,
    StateEvent,
    UserID,
)
from sqlalchemy import delete, exists, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .models import MxMemberModel, MxRegistrationModel, MxRoomStateModel
from .state_cache import RoomState, StateCache
from .store_base import DialectInsert, StoreBase

DEFAULT_MEMBERSHIPS = (Membership.JOIN, Membership.INVITE)


class SQLStateStore(StoreBase, ASStateStore, CryptoStateStore):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str) -> None:
        StoreBase.__init__(self, sessions, dialect)
        ASStateStore.__init__(self)
        self._cache = StateCache()

    # The database belongs to `Database`, which closes it; AppService.stop() calls this.
    async def close(self) -> None:
        return None

    # registration

    async def is_registered(self, user_id: UserID) -> bool:
        if not user_id:
            raise ValueError("user_id is empty")
        if user_id in self._cache.registered:
            return True
        query = select(exists().where(MxRegistrationModel.user_id == user_id))
        async with self._sessions() as session:
            registered = bool(await session.scalar(query))
        if registered:
            self._cache.registered.add(user_id)
        return registered

    async def registered(self, user_id: UserID) -> None:
        if not user_id:
            raise ValueError("user_id is empty")
        statement = self._insert(MxRegistrationModel).values(user_id=user_id)
        async with self._sessions.begin() as session:
            await session.execute(statement.on_conflict_do_nothing(index_elements=["user_id"]))
        self._cache.registered.add(user_id)

    # members

    async def get_member(self, room_id: RoomID, user_id: UserID) -> Member | None:
        known, member = self._cache.member(room_id, user_id)
        if known:
            return member
        seen = self._cache.writes
        async with self._sessions() as session:
            row = await session.get(MxMemberModel, (room_id, user_id))
            member = _member(row) if row else None
        self._cache.fill_member(seen, room_id, user_id, member)
        return member

    async def set_member(
        self, room_id: RoomID, user_id: UserID, member: Member | MemberStateEventContent
    ) -> None:
        values = _member_values(room_id, user_id, member)
        self._cache.forget_member(room_id, user_id)
        async with self._sessions.begin() as session:
            await session.execute(self._upsert(MxMemberModel, values, ["room_id", "user_id"]))
        self._cache.wrote()
        self._cache.set_member(room_id, user_id, _member_of(values))

    async def set_membership(
        self, room_id: RoomID, user_id: UserID, membership: Membership
    ) -> None:
        # Only the membership changes: a known display name or avatar stays.
        values = _member_values(room_id, user_id, Member(membership=membership))
        statement = self._upsert(
            MxMemberModel, values, ["room_id", "user_id"], update=["membership"]
        )
        known, cached = self._cache.member(room_id, user_id)
        self._cache.forget_member(room_id, user_id)
        async with self._sessions.begin() as session:
            await session.execute(statement)
        self._cache.wrote()
        if known:  # else the profile the row may hold is unknown here: read it when asked
            profile: dict[str, Any] = {
                "displayname": cached.displayname if cached else None,
                "avatar_url": cached.avatar_url if cached else None,
            }
            self._cache.set_member(room_id, user_id, Member(membership=membership, **profile))

    async def get_member_profiles(
        self, room_id: RoomID, memberships: tuple[Membership, ...] = DEFAULT_MEMBERSHIPS
    ) -> dict[UserID, Member]:
        query = select(MxMemberModel).where(
            MxMemberModel.room_id == room_id,
            MxMemberModel.membership.in_([membership.value for membership in memberships]),
        )
        async with self._sessions() as session:
            members = await session.scalars(query.order_by(MxMemberModel.user_id))
            return {UserID(member.user_id): _member(member) for member in members}

    async def set_members(
        self,
        room_id: RoomID,
        members: dict[UserID, Member | MemberStateEventContent],
        only_membership: Membership | None = None,
    ) -> None:
        """Replace the room's member list, or only its members in `only_membership`."""
        replaced = delete(MxMemberModel).where(MxMemberModel.room_id == room_id)
        if only_membership is not None:
            replaced = replaced.where(
                or_(
                    MxMemberModel.membership == only_membership.value,
                    MxMemberModel.user_id.in_(list(members)),
                )
            )
        values = [_member_values(room_id, user_id, member) for user_id, member in members.items()]
        # Simpler than working out which members the replacement keeps: read them again.
        self._cache.forget_members(room_id)
        self._cache.forget_room(room_id)
        async with self._sessions.begin() as session:
            await session.execute(replaced)
            if values:
                await session.execute(insert(MxMemberModel), values)
            # A list of only the invited (say) members says nothing of who has joined.
            if only_membership in (None, Membership.JOIN):
                await session.execute(self._set_room_state(room_id, has_full_member_list=True))
        self._cache.wrote()

    async def has_full_member_list(self, room_id: RoomID) -> bool:
        return (await self._room(room_id)).has_full_member_list

    # power levels

    async def has_power_levels_cached(self, room_id: RoomID) -> bool:
        return (await self._room(room_id)).power_levels is not None

    async def get_power_levels(self, room_id: RoomID) -> PowerLevelStateEventContent | None:
        return (await self._room(room_id)).power_levels

    async def set_power_levels(
        self, room_id: RoomID, content: PowerLevelStateEventContent | dict[str, Any]
    ) -> None:
        statement = self._set_room_state(room_id, power_levels=_json(content))
        self._cache.forget_room(room_id)
        async with self._sessions.begin() as session:
            await session.execute(statement)
        self._cache.wrote()

    # create event (room versions 12+ give the creators power without power levels)

    async def has_create_cached(self, room_id: RoomID) -> bool:
        return (await self._room(room_id)).create_event is not None

    async def get_create(self, room_id: RoomID) -> StateEvent | None:
        return (await self._room(room_id)).create_event

    async def set_create(self, event: StateEvent | dict[str, Any]) -> None:
        if not isinstance(event, StateEvent):
            event = StateEvent.deserialize(cast(JSON, event))
        statement = self._set_room_state(event.room_id, create_event=_json(event))
        self._cache.forget_room(event.room_id)
        async with self._sessions.begin() as session:
            await session.execute(statement)
        self._cache.wrote()

    # encryption

    async def has_encryption_info_cached(self, room_id: RoomID) -> bool:
        return (await self._room(room_id)).is_encrypted is not None

    async def is_encrypted(self, room_id: RoomID) -> bool | None:  # type: ignore[override]
        return (await self._room(room_id)).is_encrypted

    async def get_encryption_info(self, room_id: RoomID) -> RoomEncryptionStateEventContent | None:
        return (await self._room(room_id)).encryption

    async def set_encryption_info(
        self, room_id: RoomID, content: RoomEncryptionStateEventContent | dict[str, Any]
    ) -> None:
        statement = self._set_room_state(room_id, is_encrypted=True, encryption=_json(content))
        self._cache.forget_room(room_id)
        async with self._sessions.begin() as session:
            await session.execute(statement)
        self._cache.wrote()

    async def set_unencrypted(self, room_id: RoomID) -> None:
        """The homeserver said the room has no encryption event (so far)."""
        statement = self._set_room_state(room_id, is_encrypted=False)
        self._cache.forget_room(room_id)
        async with self._sessions.begin() as session:
            await session.execute(statement)
        self._cache.wrote()

    async def find_shared_rooms(self, user_id: UserID) -> list[RoomID]:
        """Encrypted rooms that ``user_id`` is in (whose device changes the bot must follow)."""
        query = (
            select(MxMemberModel.room_id)
            .join(MxRoomStateModel, MxRoomStateModel.room_id == MxMemberModel.room_id)
            .where(
                MxMemberModel.user_id == user_id,
                MxMemberModel.membership.in_([m.value for m in DEFAULT_MEMBERSHIPS]),
                MxRoomStateModel.is_encrypted.is_(True),
            )
        )
        async with self._sessions() as session:
            return [RoomID(room_id) for room_id in await session.scalars(query)]

    # room state row

    async def _room(self, room_id: RoomID) -> RoomState:
        """The room's state row, deserialized (from memory once read); empty if it has none."""
        state = self._cache.rooms.get(room_id)
        if state is None:
            seen = self._cache.writes
            async with self._sessions() as session:
                row = await session.get(MxRoomStateModel, room_id)
                state = RoomState.of(row)
            self._cache.fill_room(seen, room_id, state)
        return state

    def _set_room_state(self, room_id: RoomID, **columns: Any) -> DialectInsert:
        """An upsert of some columns of the room's state row, leaving the others as they are."""
        values = {"room_id": room_id, "has_full_member_list": False, **columns}
        return self._upsert(MxRoomStateModel, values, ["room_id"], update=list(columns))


def _member(member: MxMemberModel) -> Member:
    # mautrix annotates these as non-optional, yet defaults them to None and means "unknown".
    profile: dict[str, Any] = {"displayname": member.displayname, "avatar_url": member.avatar_url}
    return Member(membership=Membership(member.membership), **profile)


def _member_of(values: dict[str, Any]) -> Member:
    profile: dict[str, Any] = {
        "displayname": values["displayname"],
        "avatar_url": values["avatar_url"],
    }
    return Member(membership=Membership(values["membership"]), **profile)


def _member_values(
    room_id: RoomID, user_id: UserID, member: Member | MemberStateEventContent
) -> dict[str, Any]:
    return {
        "room_id": room_id,
        "user_id": user_id,
        "membership": Membership(member.membership).value,
        "displayname": member.displayname,
        "avatar_url": member.avatar_url,
    }


def _json(content: Serializable | dict[str, Any]) -> dict[str, Any]:
    serialized = content.serialize() if isinstance(content, Serializable) else content
    assert isinstance(serialized, dict)
    return serialized
