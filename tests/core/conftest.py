"""A whole bridge core without Synapse: the real Bridge, users, portals, puppets and journals
on a SQLite file, Matrix faked (tests/core/fakes.py), QQ a real QQClient on the scripted
server (tests/client/scripted.py), everything on one FakeClock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
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
        """Move the clock ``seconds`` forward in steps, letting every task run in between."""
        for _ in range(round(seconds / step)):
            await settle()
            await self.clock.advance(step)
        await settle()

    async def until_idle(self, worker: Worker, step: float = 1.0, limit: float = 3600.0) -> None:
        """Let ``worker`` drain, moving the clock through its back-offs; fails after ``limit``
        fake seconds without it becoming idle."""
        moved = 0.0
        while True:
            await settle()
            if worker.idle.is_set():
                return
            if moved >= limit:
                raise AssertionError(f"{worker.name} still busy after {moved} fake seconds")
            await self.clock.advance(step)
            moved += step


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
