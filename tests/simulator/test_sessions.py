"""Login, Logout, RES=20 and the session lapse (seed 000/004)."""

from __future__ import annotations

import pytest

from bridge.qq.clock import FakeClock
from bridge.qq.codes import LOGIN_CONSTANT, MessageType
from bridge.qq.simulator import Simulator
from bridge.qq.simulator.mailbox import Item
from bridge.qq.wire.requests import password_md5

from .helpers import OTHER_HOST, ask, head, login

MD5 = password_md5("password1")


async def test_login_ok_matches_the_seed(sim: Simulator) -> None:
    body = f"{head(10001, 'Login')}&PS={MD5}&M5=1&LC={LOGIN_CONSTANT}"
    assert await ask(sim, body) == f"{head(10001, 'LOGIN')}&RES=0&RS=0&HI=60&LI=300"


async def test_login_accepts_an_upper_case_md5_and_any_m5(sim: Simulator) -> None:
    body = f"{head(10001, 'Login')}&PS={MD5.upper()}&M5=0&LC={LOGIN_CONSTANT}"
    assert await ask(sim, body) == f"{head(10001, 'LOGIN')}&RES=0&RS=0&HI=60&LI=300"


async def test_wrong_password_matches_the_seed(sim: Simulator) -> None:
    body = f"{head(10001, 'Login')}&PS={password_md5('nope')}&M5=1&LC={LOGIN_CONSTANT}"
    assert await ask(sim, body) == f"{head(10001, 'LOGIN')}&RES=0&RS=1&RA=密码错误"
    assert not sim.state.is_online(10001)


async def test_unknown_account_is_refused_with_our_reason(sim: Simulator) -> None:
    body = f"{head(55555, 'Login')}&PS={MD5}&M5=1&LC={LOGIN_CONSTANT}"
    assert await ask(sim, body) == f"{head(55555, 'LOGIN')}&RES=0&RS=1&RA=帐号不存在"


@pytest.mark.parametrize("uin", [100, 9999, 0, 4294967296])
async def test_impossible_number_gets_res_5(sim: Simulator, uin: int) -> None:
    body = f"{head(uin, 'Login')}&PS={MD5}&M5=1&LC={LOGIN_CONSTANT}"
    assert await ask(sim, body) == f"{head(uin, 'LOGIN')}&RES=5"


@pytest.mark.parametrize(
    "body",
    [
        "VER=1.1&CMD=List&SEQ=1&UIN=10001&TN=160",
        "VER=1.1&CMD=Query_Stat&SEQ=1&UIN=10001&TN=50",
        "VER=1.1&CMD=GetInfo&SEQ=1&UIN=10001&LV=2&UN=10002",
        "VER=1.1&CMD=AddToList&SEQ=1&UIN=10001&UN=10004",
        "VER=1.1&CMD=Ack_AddToList&SEQ=1&UIN=10001&UN=10003&CD=2&RS=hi",
        "VER=1.1&CMD=DelFromList&SEQ=1&UIN=10001&UN=10002",
        "VER=1.1&CMD=Change_Stat&SEQ=1&UIN=10001&ST=30",
        "VER=1.1&CMD=GetMsgEx&SEQ=1&UIN=10001",
        "VER=1.1&CMD=CLTMSG&SEQ=1&UIN=10001&UN=10002&MG=hi",
    ],
)
async def test_every_command_but_login_and_logout_needs_a_session(
    sim: Simulator, body: str
) -> None:
    reply = await ask(sim, body)
    assert reply.endswith("&RES=20")
    assert reply.startswith("VER=1.1&CMD=") and "&SEQ=1&UIN=10001&" in reply
    await login(sim, 10001)
    assert not (await ask(sim, body, OTHER_HOST)).endswith("RES=0")  # from another address
    assert (await ask(sim, body, OTHER_HOST)).endswith("&RES=20")


async def test_logout_always_answers_res_0(sim: Simulator) -> None:
    assert await ask(sim, head(10001, "Logout")) == f"{head(10001, 'LOGOUT')}&RES=0"
    assert await ask(sim, head(99, "Logout")) == f"{head(99, 'LOGOUT')}&RES=0"


async def test_login_and_logout_notify_logged_in_friends(sim: Simulator) -> None:
    await login(sim, 10002)
    await login(sim, 10004)  # not a friend of 10001: hears nothing
    await login(sim, 10001)
    assert sim.state.queue(10002) == [Item(MessageType.SYSTEM, 10001, "10")]
    await ask(sim, head(10001, "Logout"))
    assert not sim.state.is_online(10001)
    assert sim.state.queue(10002)[-1] == Item(MessageType.SYSTEM, 10001, "20")
    assert sim.state.queue(10004) == []
    assert sim.state.queue(10003) == []  # a friend, but not logged in: no status messages


async def test_logout_from_another_address_does_not_end_the_session(sim: Simulator) -> None:
    await login(sim, 10001)
    assert await ask(sim, head(10001, "Logout"), OTHER_HOST) == f"{head(10001, 'LOGOUT')}&RES=0"
    assert sim.state.is_online(10001)


async def test_a_login_from_another_address_takes_the_session_over(sim: Simulator) -> None:
    await login(sim, 10001)
    await login(sim, 10001, OTHER_HOST)
    assert (await ask(sim, head(10001, "GetMsgEx"))).endswith("&RES=20")
    assert (await ask(sim, head(10001, "GetMsgEx"), OTHER_HOST)).endswith("&MG=")


async def test_session_lapses_after_li_seconds_of_silence(sim: Simulator, clock: FakeClock) -> None:
    await login(sim, 10001)
    await login(sim, 10002)
    await ask(sim, head(10002, "GetMsgEx"))  # empty 10002's queue
    await clock.advance(299)
    assert "&RES=0&MN=1&" in await ask(sim, head(10001, "GetMsgEx"))  # 10002 came online
    await ask(sim, head(10002, "GetMsgEx"))
    await clock.advance(299)
    await ask(sim, head(10002, "GetMsgEx"))
    assert sim.state.is_online(10001)
    await clock.advance(1)  # 300 s since 10001's last request: the maintenance task ends it
    assert not sim.state.is_online(10001)
    assert sim.state.queue(10002) == [Item(MessageType.SYSTEM, 10001, "20")]
    assert (await ask(sim, head(10001, "GetMsgEx"))).endswith("&RES=20")


async def test_sweep_ends_lapsed_sessions_without_waiting_for_the_task(clock: FakeClock) -> None:
    simulator = Simulator(clock=clock)  # not started: no maintenance task
    simulator.state.log_in(10001, "127.0.0.1", clock.now())
    await clock.advance(301)  # no maintenance task is running to notice
    assert simulator.state.is_online(10001)
    simulator.sweep()
    assert not simulator.state.is_online(10001)


async def test_refused_requests_do_not_keep_a_session_alive(
    sim: Simulator, clock: FakeClock
) -> None:
    await login(sim, 10001)
    await clock.advance(200)
    await ask(sim, head(10001, "GetMsgEx"), OTHER_HOST)  # RES=20: not a sign of life
    await clock.advance(100)
    assert not sim.state.is_online(10001)
