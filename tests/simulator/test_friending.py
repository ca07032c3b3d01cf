"""AddToList, Ack_AddToList and DelFromList (seed 004), penalties on a FakeClock."""

from __future__ import annotations

from bridge.qq.clock import FakeClock
from bridge.qq.codes import MessageType
from bridge.qq.simulator import Simulator
from bridge.qq.simulator.mailbox import Item

from .helpers import ask, head, login


def add(uin: int, target: int | str) -> str:
    return head(uin, "AddToList") + f"&UN={target}"


def ack(uin: int, target: int, code: int, reason: str = "TEST") -> str:
    return head(uin, "Ack_AddToList") + f"&UN={target}&CD={code}&RS={reason}"


async def test_add_anyone_may_add_makes_both_friends(sim: Simulator) -> None:
    await login(sim, 10003)
    assert await ask(sim, add(10003, 10004)) == f"{head(10003, 'AddToList')}&RES=0&CD=0&UN=10004"
    assert sim.state.are_friends(10003, 10004) and sim.state.are_friends(10004, 10003)


async def test_add_needs_verification(sim: Simulator) -> None:
    await login(sim, 10004)
    assert await ask(sim, add(10004, 10003)) == f"{head(10004, 'AddToList')}&RES=0&CD=1&UN=10003"
    assert not sim.state.are_friends(10004, 10003)


async def test_add_refused_everyone_is_cd_2(sim: Simulator) -> None:
    await login(sim, 10004)
    assert await ask(sim, add(10004, 10005)) == f"{head(10004, 'AddToList')}&RES=0&CD=2&UN=10005"
    assert await ask(sim, add(10004, 88888)) == f"{head(10004, 'AddToList')}&RES=0&CD=2&UN=88888"
    assert not sim.state.are_friends(10004, 10005)


async def test_add_an_existing_friend_is_cd_0(sim: Simulator) -> None:
    await login(sim, 10001)
    assert await ask(sim, add(10001, 10003)) == f"{head(10001, 'AddToList')}&RES=0&CD=0&UN=10003"


async def test_request_then_accept(sim: Simulator) -> None:
    await login(sim, 10004)
    assert (
        await ask(sim, ack(10004, 10003, 2, "我是Carol")) == f"{head(10004, 'Ack_AddToList')}&RES=0"
    )
    # 10003 is not logged in: the request waits in its queue
    assert sim.state.queue(10003) == [Item(MessageType.FRIEND_REQUEST, 10004, "我是Carol")]
    await login(sim, 10003)
    reply = await ask(sim, head(10003, "GetMsgEx"))
    assert reply == f"{head(10003, 'GETMSGEX')}&RES=0&MN=1&MT=2,&UN=10004,&MG=我是Carol,"
    assert await ask(sim, ack(10003, 10004, 0, "ok")) == f"{head(10003, 'Ack_AddToList')}&RES=0"
    assert sim.state.are_friends(10003, 10004)
    assert Item(MessageType.REQUEST_ACCEPTED, 10003, "ok") in sim.state.queue(10004)


async def test_request_then_reject_with_a_reason(sim: Simulator) -> None:
    await login(sim, 10004)
    await login(sim, 10003)
    await ask(sim, ack(10004, 10003, 2))
    assert await ask(sim, ack(10003, 10004, 1, "不认识")) == f"{head(10003, 'Ack_AddToList')}&RES=0"
    assert not sim.state.are_friends(10003, 10004)
    assert sim.state.queue(10004)[-1] == Item(MessageType.REQUEST_REJECTED, 10003, "不认识")
    # the request is answered: accepting it now does nothing
    await ask(sim, ack(10003, 10004, 0))
    assert not sim.state.are_friends(10003, 10004)


async def test_accept_without_a_request_does_nothing(sim: Simulator) -> None:
    await login(sim, 10003)
    assert await ask(sim, ack(10003, 10004, 0)) == f"{head(10003, 'Ack_AddToList')}&RES=0"
    assert not sim.state.are_friends(10003, 10004)
    assert sim.state.queue(10004) == []


async def test_request_to_someone_who_refuses_everyone_is_dropped(sim: Simulator) -> None:
    await login(sim, 10004)
    assert await ask(sim, ack(10004, 10005, 2)) == f"{head(10004, 'Ack_AddToList')}&RES=0"
    assert sim.state.queue(10005) == []


async def test_cd_3_or_more_earns_a_penalty(sim: Simulator, clock: FakeClock) -> None:
    await login(sim, 10004)
    penalty = f"{head(10004, 'Ack_AddToList')}&RES=3"
    for code in (3, 4, 5):
        assert await ask(sim, ack(10004, 10003, code)) == penalty
    assert await ask(sim, ack(10004, 10003, 2)) == penalty  # a good CD during the penalty
    assert sim.state.queue(10003) == []
    await clock.advance(19.5)
    assert await ask(sim, ack(10004, 10003, 2)) == penalty
    await clock.advance(0.5)  # 20 s after the first CD=3; the later attempts did not extend it
    assert await ask(sim, ack(10004, 10003, 2)) == f"{head(10004, 'Ack_AddToList')}&RES=0"


async def test_delete_ends_the_friendship_both_ways(sim: Simulator) -> None:
    await login(sim, 10001)
    reply = await ask(sim, head(10001, "DelFromList") + "&UN=10002")
    assert reply == f"{head(10001, 'DelFromList')}&RES=0&"
    assert not sim.state.are_friends(10001, 10002) and not sim.state.are_friends(10002, 10001)
    assert (await ask(sim, head(10001, "List") + "&TN=160")).endswith("&SN=1&UN=10003,")


async def test_repeated_delete_earns_30_seconds_of_res_3(sim: Simulator, clock: FakeClock) -> None:
    await login(sim, 10001)
    delete = head(10001, "DelFromList")
    await ask(sim, delete + "&UN=10002")
    assert await ask(sim, delete + "&UN=10002") == f"{delete}&RES=3"
    await clock.advance(29)
    assert await ask(sim, delete + "&UN=10003") == f"{delete}&RES=3"  # even a real friend
    assert sim.state.are_friends(10001, 10003)
    await clock.advance(1)
    assert await ask(sim, delete + "&UN=10003") == f"{delete}&RES=0&"
