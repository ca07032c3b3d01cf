"""GetMsgEx and CLTMSG (seed 004): delivery, strangers, penalties and the queue bound."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from bridge.qq.clock import FakeClock
from bridge.qq.codes import MessageType
from bridge.qq.simulator import Simulator, SimulatorSettings
from bridge.qq.simulator.mailbox import Item

from .helpers import ask, head, login

GET = head(10001, "GETMSGEX")
SEND = head(10002, "CLTMSG")


def send(uin: int, target: int, text: str) -> str:
    """Percent-encoded, as a form would send it; other tests send raw UTF-8."""
    return head(uin, "CLTMSG") + f"&UN={target}&MG={quote(text, safe='')}"


async def test_empty_queue(sim: Simulator) -> None:
    await login(sim, 10001)
    assert await ask(sim, head(10001, "GetMsgEx")) == f"{GET}&RES=0&MN=0&MT=&UN=&MG="


async def test_messages_come_in_order_and_the_queue_is_emptied(
    sim: Simulator, clock: FakeClock
) -> None:
    await login(sim, 10001)
    await login(sim, 10002)
    assert await ask(sim, send(10002, 10001, "hi")) == f"{SEND}&RES=0&"
    await clock.advance(0.5)
    await ask(sim, send(10002, 10001, "a,b&c%d\r\n第二行"))
    reply = await ask(sim, head(10001, "GetMsgEx"))
    assert reply == (
        f"{GET}&RES=0&MN=3&MT=99,9,9,&UN=10002,10002,10002,&MG=10,hi,a%252cb%26c%2525d%0d%0a第二行,"
    )
    assert await ask(sim, head(10001, "GetMsgEx")) == f"{GET}&RES=0&MN=0&MT=&UN=&MG="


async def test_messages_to_an_offline_friend_wait_for_its_login(sim: Simulator) -> None:
    await login(sim, 10002)
    await ask(sim, send(10002, 10001, "你在吗"))
    await login(sim, 10001)
    reply = await ask(sim, head(10001, "GetMsgEx"))
    assert reply == f"{GET}&RES=0&MN=1&MT=9,&UN=10002,&MG=你在吗,"


async def test_stranger_messages_are_accepted_but_not_shown(
    sim: Simulator, clock: FakeClock
) -> None:
    await login(sim, 10003)
    await login(sim, 10004)
    assert await ask(sim, send(10004, 10003, "hello?")) == f"{head(10004, 'CLTMSG')}&RES=0&"
    assert sim.state.queue(10003) == []
    # 10003 answers the stranger: 10004 did speak to 10003 first, so 10003's reply shows...
    assert await ask(sim, send(10003, 10004, "who?")) == f"{head(10003, 'CLTMSG')}&RES=0&"
    assert sim.state.queue(10004) == [Item(MessageType.USER, 10003, "who?")]
    # ...and from now on 10004's messages show too, since 10003 has spoken to it
    await clock.advance(1)
    await ask(sim, send(10004, 10003, "Carol here"))
    assert sim.state.queue(10003) == [Item(MessageType.USER, 10004, "Carol here")]


async def test_messages_to_unknown_numbers_are_accepted_and_dropped(sim: Simulator) -> None:
    await login(sim, 10002)
    assert await ask(sim, send(10002, 99999, "anyone?")) == f"{SEND}&RES=0&"


async def test_sending_too_fast_earns_a_penalty_that_attempts_do_not_extend(
    sim: Simulator, clock: FakeClock
) -> None:
    await login(sim, 10002)
    assert await ask(sim, send(10002, 10001, "one")) == f"{SEND}&RES=0&"
    await clock.advance(0.3)
    assert await ask(sim, send(10002, 10001, "two")) == f"{SEND}&RES=3"
    for _ in range(3):
        await clock.advance(6)
        assert await ask(sim, send(10002, 10001, "retry")) == f"{SEND}&RES=3"
    await clock.advance(2)  # 20 s after "two": the penalty is over
    assert await ask(sim, send(10002, 10001, "three")) == f"{SEND}&RES=0&"
    texts = [item.text for item in sim.state.queue(10001)]
    assert texts == ["one", "three"]  # refused messages are not delivered


async def test_the_interval_is_per_sender(sim: Simulator) -> None:
    await login(sim, 10001)
    await login(sim, 10002)
    assert await ask(sim, send(10002, 10001, "a")) == f"{SEND}&RES=0&"
    assert await ask(sim, send(10001, 10002, "b")) == f"{head(10001, 'CLTMSG')}&RES=0&"


@pytest.mark.parametrize("settings", [SimulatorSettings(queue_limit=3, message_interval=0)])
async def test_a_full_queue_refuses_more_with_res_3_and_loses_nothing(sim: Simulator) -> None:
    await login(sim, 10002)
    for index in range(3):
        assert await ask(sim, send(10002, 10001, f"m{index}")) == f"{SEND}&RES=0&"
    assert await ask(sim, send(10002, 10001, "m3")) == f"{SEND}&RES=3"
    assert len(sim.state.queue(10001)) == 3
    await login(sim, 10001)  # the login's MT 99 to 10002 is unaffected; 10001's queue is full
    reply = await ask(sim, head(10001, "GetMsgEx"))
    assert reply == f"{GET}&RES=0&MN=3&MT=9,9,9,&UN=10002,10002,10002,&MG=m0,m1,m2,"
    assert await ask(sim, send(10002, 10001, "m3")) == f"{SEND}&RES=0&"  # the retry succeeds
    assert [item.text for item in sim.state.queue(10001)] == ["m3"]


@pytest.mark.parametrize("settings", [SimulatorSettings(queue_limit=2)])
async def test_status_messages_to_a_full_queue_are_dropped(sim: Simulator) -> None:
    await login(sim, 10001)
    await login(sim, 10002)
    await login(sim, 10003)
    await ask(sim, head(10002, "Change_Stat") + "&ST=30")
    assert [item.text for item in sim.state.queue(10001)] == ["10", "10"]
