"""PresenceKeeper without a homeserver: what it sets, when it sets it again, and when it stops.

A fake clock drives the refresh; a fake intent per puppet records the presences set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
import pytest_asyncio
from mautrix.types import PresenceState

from bridge.presence import PRESENCE_OF_STATUS, PresenceKeeper
from bridge.qq.clock import FakeClock, settle
from bridge.qq.codes import Status

REFRESH = 20.0
ALICE, BOB = "@alice:example.org", "@bob:example.org"


class FakeIntent:
    def __init__(self, log: list[tuple[int, PresenceState]], uin: int) -> None:
        self.log, self.uin = log, uin

    async def set_presence(self, presence: PresenceState, ignore_cache: bool = False) -> None:
        assert ignore_cache  # mautrix's cache would skip the very refresh that matters
        self.log.append((self.uin, presence))


class FakeBridge:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.set: list[tuple[int, PresenceState]] = []

    def puppet_intent(self, uin: int) -> FakeIntent:
        return FakeIntent(self.set, uin)


@pytest_asyncio.fixture
async def keeper() -> AsyncIterator[PresenceKeeper]:
    keeper = PresenceKeeper(cast(Any, FakeBridge()), REFRESH)
    keeper.start()
    yield keeper
    await keeper.stop()


def set_so_far(keeper: PresenceKeeper) -> list[tuple[int, PresenceState]]:
    return cast(FakeBridge, keeper.bridge).set


async def refresh(keeper: PresenceKeeper) -> None:
    await cast(FakeBridge, keeper.bridge).clock.advance(REFRESH)
    await settle()


async def test_online_and_busy_are_set_at_once_and_again_every_refresh(
    keeper: PresenceKeeper,
) -> None:
    await keeper.report(ALICE, 1, Status.ONLINE)
    await keeper.report(ALICE, 2, Status.BUSY)
    assert set_so_far(keeper) == [(1, PresenceState.ONLINE), (2, PresenceState.UNAVAILABLE)]
    await refresh(keeper)
    await refresh(keeper)
    assert set_so_far(keeper)[2:] == [(1, PresenceState.ONLINE), (2, PresenceState.UNAVAILABLE)] * 2


async def test_offline_and_invisible_are_set_once_and_not_kept(keeper: PresenceKeeper) -> None:
    await keeper.report(ALICE, 1, Status.ONLINE)
    await keeper.report(ALICE, 1, Status.INVISIBLE)  # what a client sends; QQ shows OFFLINE
    await keeper.report(ALICE, 2, Status.OFFLINE)
    assert keeper.status(1) is None and keeper.status(2) is None
    await refresh(keeper)
    assert set_so_far(keeper) == [
        (1, PresenceState.ONLINE),
        (1, PresenceState.OFFLINE),
        (2, PresenceState.OFFLINE),
    ]


async def test_the_same_report_again_sets_nothing_more(keeper: PresenceKeeper) -> None:
    await keeper.report(ALICE, 1, Status.ONLINE)
    await keeper.report(BOB, 1, Status.ONLINE)  # another user's list says the same
    assert set_so_far(keeper) == [(1, PresenceState.ONLINE)]


async def test_contacts_no_one_sees_any_more_go_offline(keeper: PresenceKeeper) -> None:
    await keeper.report(ALICE, 1, Status.ONLINE)
    await keeper.report(ALICE, 2, Status.BUSY)
    await keeper.report(BOB, 2, Status.BUSY)
    await keeper.forget_user(ALICE)
    assert set_so_far(keeper)[2:] == [(1, PresenceState.OFFLINE)]  # Bob still sees 2
    assert keeper.status(2) is Status.BUSY
    await keeper.forget_user(BOB)
    assert set_so_far(keeper)[3:] == [(2, PresenceState.OFFLINE)]
    await refresh(keeper)
    assert len(set_so_far(keeper)) == 4  # nothing is kept, nothing refreshed


async def test_a_failed_refresh_is_tried_again_next_round(keeper: PresenceKeeper) -> None:
    await keeper.report(ALICE, 1, Status.ONLINE)
    bridge = cast(FakeBridge, keeper.bridge)
    failing = {"left": 1}

    class Flaky(FakeIntent):
        async def set_presence(self, presence: PresenceState, ignore_cache: bool = False) -> None:
            if failing["left"]:
                failing["left"] -= 1
                raise ConnectionError("homeserver away")
            await super().set_presence(presence, ignore_cache)

    bridge.puppet_intent = lambda uin: Flaky(bridge.set, uin)  # type: ignore[method-assign]
    await refresh(keeper)
    assert set_so_far(keeper) == [(1, PresenceState.ONLINE)]
    await refresh(keeper)
    assert set_so_far(keeper) == [(1, PresenceState.ONLINE)] * 2


@pytest.mark.parametrize("status", list(Status))
def test_every_status_has_a_presence(status: Status) -> None:
    assert status in PRESENCE_OF_STATUS
