"""A Matrix user driven as Element would drive it: the client-server API and /sync, nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mautrix.api import HTTPAPI
from mautrix.client import ClientAPI
from mautrix.types import (
    EventID,
    EventType,
    Obj,
    PaginationDirection,
    RoomCreatePreset,
    RoomID,
    UserID,
)

from bridge.demo.synapse import SynapseServer

TIMEOUT = 30.0


@dataclass
class SeenEvent:
    room_id: str
    raw: dict[str, Any]

    @property
    def sender(self) -> str:
        return str(self.raw.get("sender", ""))

    @property
    def type(self) -> str:
        return str(self.raw.get("type", ""))

    @property
    def content(self) -> dict[str, Any]:
        content = self.raw.get("content") or {}
        return content if isinstance(content, dict) else {}

    @property
    def body(self) -> str:
        return str(self.content.get("body", ""))

    @property
    def msgtype(self) -> str:
        return str(self.content.get("msgtype", ""))


class MatrixUser:
    """Registers itself on the test Synapse, keeps a /sync loop, and waits for what it expects."""

    def __init__(self, synapse: SynapseServer, localpart: str) -> None:
        self.synapse = synapse
        self.localpart = localpart
        self.password = secrets.token_urlsafe(12)
        self.api: ClientAPI | None = None
        self.events: list[SeenEvent] = []
        self.invites: dict[str, list[dict[str, Any]]] = {}
        self._changed = asyncio.Condition()
        self._sync_task: asyncio.Task[None] | None = None

    @property
    def client(self) -> ClientAPI:
        assert self.api is not None, "start() first"
        return self.api

    @property
    def mxid(self) -> UserID:
        return self.client.mxid

    async def start(self) -> MatrixUser:
        user_id, token = await self.synapse.register_user(self.localpart, self.password)
        self.api = ClientAPI(UserID(user_id), api=HTTPAPI(base_url=self.synapse.url, token=token))
        first = await self.client.sync(timeout=0)
        self._since = first["next_batch"]
        self._sync_task = asyncio.create_task(self._sync_forever())
        return self

    async def stop(self) -> None:
        if self._sync_task:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
        if self.api is not None:
            await self.api.api.session.close()

    async def _sync_forever(self) -> None:
        while True:
            try:
                data = await self.client.sync(since=self._since, timeout=500)
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(0.2)
                continue
            self._since = data["next_batch"]
            rooms = data.get("rooms", {})
            async with self._changed:
                for room_id, room in rooms.get("join", {}).items():
                    for raw in room.get("timeline", {}).get("events", []):
                        self.events.append(SeenEvent(room_id, raw))
                for room_id, room in rooms.get("invite", {}).items():
                    self.invites[room_id] = room.get("invite_state", {}).get("events", [])
                for room_id in rooms.get("leave", {}):
                    self.invites.pop(room_id, None)
                self._changed.notify_all()

    # --- waiting ------------------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[SeenEvent], bool], timeout: float = TIMEOUT, after: int = 0
    ) -> SeenEvent:
        """The first event seen (from index ``after`` on) that matches."""

        def find() -> SeenEvent | None:
            return next((e for e in self.events[after:] if predicate(e)), None)

        async with self._changed:
            found = await asyncio.wait_for(self._changed.wait_for(find), timeout)
        assert found is not None
        return found

    async def wait_for_text(
        self,
        room_id: str,
        contains: str,
        sender: str | None = None,
        timeout: float = TIMEOUT,
        after: int = 0,
    ) -> SeenEvent:
        return await self.wait_for(
            lambda e: (
                e.room_id == room_id
                and e.type == "m.room.message"
                and contains in e.body
                and (sender is None or e.sender == sender)
            ),
            timeout,
            after,
        )

    async def wait_for_invite(self, inviter: str, timeout: float = TIMEOUT) -> RoomID:
        def invited_by() -> str | None:
            for room_id, state in self.invites.items():
                if any(
                    ev.get("type") == "m.room.member"
                    and ev.get("state_key") == self.mxid
                    and ev.get("sender") == inviter
                    for ev in state
                ):
                    return room_id
            return None

        async with self._changed:
            room_id = await asyncio.wait_for(self._changed.wait_for(invited_by), timeout)
        assert room_id is not None
        return RoomID(room_id)

    async def wait_for_join(self, room_id: str, who: str) -> SeenEvent:
        """``who`` joined ``room_id`` (the bot coming into an encrypted DM, say)."""
        return await self.wait_for(
            lambda e: (
                e.room_id == room_id
                and e.type == "m.room.member"
                and e.raw.get("state_key") == who
                and e.content.get("membership") == "join"
            )
        )

    async def wait_briefly(self) -> None:
        """Let the servers move on (for state that /sync does not push, such as presence)."""
        await asyncio.sleep(0.1)

    def mark(self) -> int:
        """An index into the events seen so far, for ``after=``: only what comes next."""
        return len(self.events)

    # --- acting -------------------------------------------------------------------------

    async def join(self, room_id: RoomID) -> None:
        await self.client.join_room_by_id(room_id)
        self.invites.pop(room_id, None)

    async def dm(self, other: str) -> RoomID:
        """Start a DM as Element does: trusted_private_chat, is_direct, one invitee."""
        return await self.client.create_room(
            preset=RoomCreatePreset.TRUSTED_PRIVATE, is_direct=True, invitees=[UserID(other)]
        )

    async def send(self, room_id: RoomID, text: str) -> EventID:
        return await self.client.send_text(room_id, text)

    async def send_content(self, room_id: RoomID, content: dict[str, Any]) -> EventID:
        # Obj carries the raw content as given and serializes back to the same JSON.
        return await self.client.send_message_event(
            room_id, EventType.ROOM_MESSAGE, Obj.deserialize(content)
        )

    async def texts(self, room_id: RoomID, sender: str | None = None) -> list[str]:
        """Every m.room.message body in the room, oldest first (from history, not sync)."""
        page = await self.client.get_messages(room_id, PaginationDirection.BACKWARD, limit=500)
        bodies = [
            str(getattr(event.content, "body", ""))
            # PaginatedMessages is a keyword-form functional NamedTuple; mypy sees no fields on it.
            for event in reversed(page.events)  # type: ignore[attr-defined]
            if event.type == EventType.ROOM_MESSAGE and (sender is None or event.sender == sender)
        ]
        return bodies
