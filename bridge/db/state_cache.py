"""The in-memory copy of what the state store has read: the copy, not the truth.

SQLStateStore (state_store.py) fills it on a read, forgets what a write is about to change
before it writes (so a write that fails or is cancelled leaves nothing stale) and sets the new
value once the write committed; this module only holds it. Rooms and their members are
bounded (ROOMS): past the bound the room read longest ago is dropped, and read again from the
database when next needed, so 10,000 portals cost at most a few MiB here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from mautrix.types import (
    JSON,
    Member,
    PowerLevelStateEventContent,
    RoomEncryptionStateEventContent,
    RoomID,
    StateEvent,
    UserID,
)

if TYPE_CHECKING:
    from .models import MxRoomStateModel

# Rooms whose state and members are kept; each costs a few KiB at most (its power levels).
ROOMS = 4096


@dataclass(frozen=True)
class RoomState:
    """One ``mx_room_state`` row, deserialized; None: not known (no row, or a NULL column)."""

    power_levels: PowerLevelStateEventContent | None = None
    create_event: StateEvent | None = None
    is_encrypted: bool | None = None
    encryption: RoomEncryptionStateEventContent | None = None
    has_full_member_list: bool = False

    @classmethod
    def of(cls, row: MxRoomStateModel | None) -> RoomState:
        if row is None:
            return cls()
        return cls(
            power_levels=(
                PowerLevelStateEventContent.deserialize(cast(JSON, row.power_levels))
                if row.power_levels is not None
                else None
            ),
            create_event=(
                StateEvent.deserialize(cast(JSON, row.create_event))
                if row.create_event is not None
                else None
            ),
            is_encrypted=bool(row.is_encrypted) if row.is_encrypted is not None else None,
            encryption=(
                RoomEncryptionStateEventContent.deserialize(cast(JSON, row.encryption))
                if row.encryption is not None
                else None
            ),
            has_full_member_list=bool(row.has_full_member_list),
        )


class StateCache:
    def __init__(self, rooms: int = ROOMS) -> None:
        self._limit = rooms
        # Registrations are never undone, and a user id is small: kept without bound.
        self.registered: set[UserID] = set()
        self.rooms: dict[RoomID, RoomState] = {}
        # Per room: user -> their member row, or None for "no row" (left, never seen).
        self._members: dict[RoomID, dict[UserID, Member | None]] = {}
        # Bumped by every write. A read that a write overlapped (the read awaited the
        # database, the write committed meanwhile) may hold the old value: it is not kept.
        self.writes = 0

    def fill_room(self, seen: int, room_id: RoomID, state: RoomState) -> None:
        """Keep what a read found, if no write happened since ``seen`` (``writes`` then)."""
        if seen == self.writes:
            self.set_room(room_id, state)

    def fill_member(
        self, seen: int, room_id: RoomID, user_id: UserID, member: Member | None
    ) -> None:
        if seen == self.writes:
            self.set_member(room_id, user_id, member)

    def wrote(self) -> None:
        """A write committed: reads under way must not fill the copy with what they found."""
        self.writes += 1

    def set_room(self, room_id: RoomID, state: RoomState) -> None:
        self.rooms[room_id] = state
        self._bound(self.rooms)

    def forget_room(self, room_id: RoomID) -> None:
        self.wrote()
        self.rooms.pop(room_id, None)

    def member(self, room_id: RoomID, user_id: UserID) -> tuple[bool, Member | None]:
        """(known, the member row or None)."""
        members = self._members.get(room_id)
        if members is None or user_id not in members:
            return False, None
        return True, members[user_id]

    def set_member(self, room_id: RoomID, user_id: UserID, member: Member | None) -> None:
        members = self._members.get(room_id)
        if members is None:
            members = self._members[room_id] = {}
            self._bound(self._members)
        members[user_id] = member

    def forget_members(self, room_id: RoomID) -> None:
        self.wrote()
        self._members.pop(room_id, None)

    def forget_member(self, room_id: RoomID, user_id: UserID) -> None:
        self.wrote()
        self._members.get(room_id, {}).pop(user_id, None)

    def _bound(self, rooms: dict[RoomID, Any]) -> None:
        while len(rooms) > self._limit:
            del rooms[next(iter(rooms))]  # the oldest entry (dicts keep insertion order)
