"""Change_Stat (seed 004): MT 99 to friends, invisible sent as offline, RES=3 when too often."""

from __future__ import annotations

from bridge.qq.clock import FakeClock
from bridge.qq.codes import MessageType
from bridge.qq.simulator import Simulator
from bridge.qq.simulator.mailbox import Item

from .helpers import ask, head, login

STAT = head(10002, "Change_Stat")


async def test_each_status_reaches_logged_in_friends(sim: Simulator, clock: FakeClock) -> None:
    await login(sim, 10001)
    await login(sim, 10002)
    await ask(sim, head(10001, "GetMsgEx"))
    for status, seen in ((30, "30"), (40, "20"), (20, "20"), (10, "10")):
        assert await ask(sim, f"{STAT}&ST={status}") == f"{STAT}&RES=0&"
        await clock.advance(0.5)
        reply = await ask(sim, head(10001, "GetMsgEx"))
        assert reply == f"{head(10001, 'GETMSGEX')}&RES=0&MN=1&MT=99,&UN=10002,&MG={seen},"
    assert sim.state.queue(10004) == []


async def test_too_frequent_changes_earn_a_penalty(sim: Simulator, clock: FakeClock) -> None:
    await login(sim, 10002)
    assert await ask(sim, f"{STAT}&ST=30") == f"{STAT}&RES=0&"
    await clock.advance(0.4)
    assert await ask(sim, f"{STAT}&ST=10") == f"{STAT}&RES=3"
    await clock.advance(19)
    assert await ask(sim, f"{STAT}&ST=10") == f"{STAT}&RES=3"
    assert sim.state.sessions.get(10002).status == 30  # type: ignore[union-attr]
    await clock.advance(1)
    assert await ask(sim, f"{STAT}&ST=10") == f"{STAT}&RES=0&"


async def test_invisible_account_still_receives_and_logs_out_silently(sim: Simulator) -> None:
    await login(sim, 10001)
    await login(sim, 10002)
    await ask(sim, f"{STAT}&ST=40")
    await ask(sim, head(10001, "GetMsgEx"))
    await ask(sim, head(10001, "CLTMSG") + "&UN=10002&MG=hello")
    assert sim.state.queue(10002)[-1] == Item(MessageType.USER, 10001, "hello")
    await ask(sim, head(10002, "Logout"))
    assert sim.state.queue(10001) == []  # friends already saw it offline
