"""A whole bridge core without Synapse: the real Bridge, users, portals, puppets and journals
on a SQLite file, Matrix faked (tests/core/fakes.py), QQ a real QQClient on the scripted
server (tests/client/scripted.py), everything on one FakeClock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest_asyncio
from mautrix.types import RoomID

from bridge.config import Config
from bridge.core import Bridge
from bridge.db import Database
from bridge.qq.clock import FakeClock, settle
from bridge.user import User
from bridge.worker import Worker
from tests.client.scripted import PASSWORD_MD5, ScriptedServer

from .fakes import FakeAppService, Homeserver

ALICE = "@alice:example.com"
MANAGEMENT_ROOM = RoomID("!management:example.com")
UIN = 10001  # the scripted server's account; its friends are 10002 and 10003
REAL_DEADLINE = 30.0  # seconds a wait may take on a loaded machine before it fails


@dataclass
class Core:
    bridge: Bridge
    clock: FakeClock
    qq: ScriptedServer
    az: FakeAppService

    @property
    def homeserver(self) -> Homeserver:
        return self.az.homeserver

    async def alice(self, logged_in: bool = True) -> User:
        """ALICE with her management room, logged in to QQ 10001 unless told otherwise."""
        user = await self.bridge.user(ALICE)
        if user.management_room is None:
            await user.set_management_room(MANAGEMENT_ROOM)
        if logged_in and user.client is None:
            await user.login(UIN, PASSWORD_MD5)
            # The login woke both workers: let them find nothing, so a test starts from rest.
            await self.until_idle(user.inbound.worker)
            await self.until_idle(user.outbound.worker)
        return user

    async def run_for(self, seconds: float, step: float = 0.25) -> None:
        """Move the clock ``seconds`` forward, ``step`` at a time, with a real pause between
        steps for what runs on threads (the database)."""
        for _ in range(round(seconds / step)):
            await self._pause()
            await self.clock.advance(step)
        await self._pause()

    async def until(
        self, condition: Callable[[], bool], what: str, step: float = 0.25, limit: float = 3600.0
    ) -> None:
        """Move the clock until ``condition`` holds; fails after ``limit`` fake seconds or
        REAL_DEADLINE real ones. Time moves on between the database's real I/O, so use this
        for what must happen, never to show that something did not."""
        loop = asyncio.get_running_loop()
        deadline, moved = loop.time() + REAL_DEADLINE, 0.0
        while not condition():
            if moved >= limit or loop.time() > deadline:
                raise AssertionError(f"{what}: not after {moved} fake seconds")
            await self._pause()
            await self.clock.advance(step)
            moved += step

    async def until_idle(self, worker: Worker, step: float = 0.25) -> None:
        """Let ``worker`` drain, moving the clock through its back-offs and the QQ client's
        pacing until the worker says it found nothing more to do."""
        await self._pause()
        await self.until(worker.idle.is_set, f"{worker.name} idle", step)

    @staticmethod
    async def _pause() -> None:
        await settle()
        await asyncio.sleep(0.001)  # real time: the database runs on a thread


@pytest_asyncio.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    config = Config.from_example()
    config["bridge.encryption.allow"] = False  # the device is the e2ee tests' business
    clock = FakeClock()
    database = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}")
    az = FakeAppService(config.bot_mxid, database.state_store)
    qq = ScriptedServer(clock)
    bridge = Bridge(config, database, cast(Any, az), cast(Any, qq), clock)
    try:
        yield Core(bridge, clock, qq, az)
    finally:
        for user in bridge.loaded_users():
            await user.stop()
        await bridge.homeserver.stop()
        await qq.close()
        await database.close()
        await asyncio.sleep(0)
