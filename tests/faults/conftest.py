"""Fixtures of the fault tests: one stack of their own per module (see stack.py), apart from
the session's end-to-end Synapse and bridge, since these tests restart and kill things."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from bridge.demo.stack import INSTALL_HINT
from bridge.demo.synapse import synapse_installed

from ..e2e.fixtures import PEER_SETTINGS
from .stack import FaultStack, start_stack, stop_stack
from .traffic import Chats, open_chats

ChatsFactory = Callable[[str, int], Awaitable[Chats]]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultStack]:
    if not synapse_installed():
        pytest.skip(INSTALL_HINT)
    # FAULTS_DIR keeps the logs and databases where other pytest runs will not prune them.
    kept = os.environ.get("FAULTS_DIR")
    if kept:
        directory = Path(kept) / time.strftime("%Y%m%d-%H%M%S")
        directory.mkdir(parents=True)
    else:
        directory = tmp_path_factory.mktemp("faults")
    fault_stack = await start_stack(directory)
    yield fault_stack
    await stop_stack(fault_stack)


@pytest_asyncio.fixture(loop_scope="module")
async def chats(stack: FaultStack) -> AsyncIterator[ChatsFactory]:
    """``await chats("a", 40001)``: a user logged in to 40001 with portals to its friends.

    Afterwards the proxy is back in ``pass`` and the bridge running, whatever the test did.
    """
    opened: list[Chats] = []

    async def make(scenario: str, uin: int) -> Chats:
        made = await open_chats(stack, scenario, uin, PEER_SETTINGS)
        opened.append(made)
        return made

    yield make
    await stack.proxy.set_mode("pass")
    if not stack.synapse.running:
        await stack.synapse.start()
    if not stack.bridge.running:
        await stack.bridge.start()
    for made in opened:
        await made.close()
