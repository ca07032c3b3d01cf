"""QQClient against the real simulator on 127.0.0.1, both on one FakeClock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import pytest

from bridge.qq.client import (
    ClientSettings,
    ConnectionState,
    QQClient,
    QQTransport,
    SendFailed,
)
from bridge.qq.clock import FakeClock
from bridge.qq.codes import AckCode, AddResult, InfoLevel, Status
from bridge.qq.simulator import Simulator, SimulatorSettings
from bridge.qq.wire import InvalidUin, LoginRefused, requests
from bridge.qq.wire.replies import (
    Event,
    FriendRequest,
    RequestAccepted,
    RequestRejected,
    StatusChange,
    TextMessage,
)

from .io_helpers import drive, eventually

E = TypeVar("E")

PASSWORDS = {10001: "password1", 10002: "password2", 10003: "password3", 10004: "password4"}


class Account:
    """A client plus everything it reported."""

    def __init__(self, client: QQClient) -> None:
        self.client = client
        self.events: list[Event] = []
        self.states: list[ConnectionState] = []

    def texts(self) -> list[str]:
        return [event.text for event in self.of_type(TextMessage)]

    def of_type(self, kind: type[E]) -> list[E]:
        return [event for event in self.events if isinstance(event, kind)]


AccountFactory = Callable[..., Account]


@pytest.fixture
async def account(transport: QQTransport, fake_clock: FakeClock) -> AsyncIterator[AccountFactory]:
    made: list[Account] = []

    def make(uin: int, password: str | None = None, **settings: float) -> Account:
        holder: list[Account] = []

        async def on_events(events: list[Event]) -> None:
            holder[0].events.extend(events)

        async def on_state(state: ConnectionState, detail: str) -> None:
            holder[0].states.append(state)

        client = QQClient(
            transport,
            uin,
            requests.password_md5(password or PASSWORDS.get(uin, "x")),
            settings=ClientSettings(**settings),  # type: ignore[arg-type]
            clock=fake_clock,
            on_events=on_events,
            on_state=on_state,
        )
        holder.append(Account(client))
        made.append(holder[0])
        return holder[0]

    yield make
    for each in made:
        await each.client.stop()


async def test_login_with_the_right_password_is_online_with_the_servers_timings(
    account: AccountFactory, simulator: Simulator
) -> None:
    alice = account(10001)
    session = await alice.client.login()
    assert (session.heartbeat, session.lapse) == (60, 300)
    assert alice.client.state is ConnectionState.ONLINE
    assert simulator.state.is_online(10001)


async def test_a_wrong_password_is_bad_credentials(account: AccountFactory) -> None:
    alice = account(10001, "not the password")
    with pytest.raises(LoginRefused) as refusal:
        await alice.client.start()
    assert refusal.value.reason
    assert alice.states == [ConnectionState.LOGGING_IN, ConnectionState.BAD_CREDENTIALS]


async def test_an_impossible_number_is_bad_credentials(account: AccountFactory) -> None:
    nobody = account(100)
    with pytest.raises(InvalidUin):
        await nobody.client.login()
    assert nobody.client.state is ConnectionState.BAD_CREDENTIALS


async def test_friends_online_and_info(account: AccountFactory) -> None:
    alice, bob = account(10001), account(10002)
    await alice.client.login()
    assert (await alice.client.friends()).uins == [10002, 10003]
    assert (await alice.client.online()).friends == []
    await bob.client.login()
    online = await alice.client.online()
    assert [(friend.uin, friend.status, friend.nick) for friend in online.friends] == [
        (10002, Status.ONLINE, "小红")
    ]
    profile = await alice.client.info(10001)
    rows = dict(profile.readable())
    assert rows["Nickname"] == "小明"
    assert rows["About"] == "网络为媒,关系为本,信息为财,客户为主.\r\n第二行 & 100%"
    assert rows["Constellation"] == "Cancer"
    brief = await alice.client.info(10004, InfoLevel.BRIEF)
    assert (brief.uin, brief.nick) == (10004, "Carol & co, ltd")


async def test_text_with_every_awkward_character_arrives_exactly(
    account: AccountFactory, fake_clock: FakeClock
) -> None:
    alice, bob = account(10001), account(10002)
    await alice.client.login()
    await bob.client.start()
    text = "a&b,c%d=e+f %25 %2c\r\n第二行:你好,世界!&amp;"
    await alice.client.send_text(10002, text)
    await drive(fake_clock, eventually(lambda: bool(bob.texts()), "message received"))
    assert bob.events == [TextMessage(10001, text)]


async def test_a_long_message_arrives_in_order_in_pieces_that_join_to_the_text(
    account: AccountFactory, fake_clock: FakeClock
) -> None:
    alice, bob = account(10001), account(10002)
    await alice.client.login()
    await bob.client.start()
    text = "".join(f"第{i}句 sentence {i}, & more\n" for i in range(120))
    pieces = requests.split_text(text)
    assert len(pieces) >= 3
    await drive(fake_clock, alice.client.send_text(10002, text))
    await drive(fake_clock, eventually(lambda: len(bob.texts()) == len(pieces), "all pieces"))
    assert bob.texts() == pieces
    assert "".join(bob.texts()) == text


async def test_messages_sent_too_fast_are_penalised_and_still_all_arrive_in_order(
    account: AccountFactory, fake_clock: FakeClock, simulator: Simulator
) -> None:
    # No pacing on our side: the simulator (0.5 s minimum, 20 s penalty) must penalise.
    alice = account(10001, send_interval=0.0, penalty_wait=20.0)
    bob = account(10002)
    await alice.client.login()
    await bob.client.start()
    start = fake_clock.now()
    sends = asyncio.gather(*(alice.client.send_text(10002, f"message {i}") for i in range(4)))
    await drive(fake_clock, sends, step=0.5)
    assert fake_clock.now() - start >= 20.0  # at least one penalty was waited out
    await drive(fake_clock, eventually(lambda: len(bob.texts()) == 4, "four messages"))
    assert bob.texts() == [f"message {i}" for i in range(4)]


@pytest.mark.parametrize("simulator_settings", [SimulatorSettings(penalty=1000.0)])
async def test_a_message_penalised_too_many_times_fails_with_a_reason(
    account: AccountFactory, fake_clock: FakeClock, transport: QQTransport
) -> None:
    alice = account(10001, send_interval=0.0, penalty_wait=5.0, max_penalties=2)
    await alice.client.login()
    await alice.client.send_text(10002, "first")
    # A second message at the same instant earns the 1000 s penalty here, before the clock
    # moves: sent through the queue, it could reach the server only after drive() moved the
    # clock past the 0.5 s minimum, and not be penalised at all.
    too_fast = await transport.post(requests.cltmsg(10001, 99, target=10002, text="too fast"))
    assert b"RES=3" in too_fast
    with pytest.raises(SendFailed) as failure:
        await drive(fake_clock, alice.client.send_text(10002, "second"), step=1.0)
    assert "3 penalties" in failure.value.reason


async def test_status_changes_reach_friends(account: AccountFactory, fake_clock: FakeClock) -> None:
    alice, bob = account(10001, status_interval=1.0), account(10002)
    await bob.client.start()
    await alice.client.login()
    await drive(fake_clock, alice.client.set_status(Status.BUSY))
    await drive(fake_clock, alice.client.set_status(Status.INVISIBLE))
    await drive(
        fake_clock, eventually(lambda: len(bob.of_type(StatusChange)) == 3, "status changes")
    )
    # Alice coming online, then busy, then invisible, which others see as offline.
    statuses = [change.status for change in bob.of_type(StatusChange)]
    assert statuses == [Status.ONLINE, Status.BUSY, Status.OFFLINE]


async def test_adding_friends_with_and_without_verification_and_removing(
    account: AccountFactory, fake_clock: FakeClock
) -> None:
    carol, alice, bob = account(10004), account(10001), account(10002)
    await carol.client.login()
    await alice.client.start()
    await bob.client.login()
    # 10002 lets anyone add: friends at once.
    assert (await carol.client.add(10002)).result is AddResult.ADDED
    assert 10002 in (await carol.client.friends()).uins
    # 10001 needs verification: ask, and 10001 hears the request with its reason.
    assert (await carol.client.add(10001)).result is AddResult.NEEDS_VERIFICATION
    await carol.client.ack(10001, AckCode.REQUEST, "我是 Carol, & friends")
    await drive(fake_clock, eventually(lambda: bool(alice.of_type(FriendRequest)), "request"))
    assert alice.of_type(FriendRequest) == [FriendRequest(10004, "我是 Carol, & friends")]
    await carol.client.start()
    await alice.client.ack(10004, AckCode.ACCEPT)
    await drive(fake_clock, eventually(lambda: bool(carol.events), "acceptance"))
    assert isinstance(carol.events[-1], RequestAccepted) and carol.events[-1].sender == 10001
    assert 10001 in (await carol.client.friends()).uins
    await carol.client.remove(10001)
    assert 10001 not in (await carol.client.friends()).uins


async def test_a_rejected_request_carries_the_reason(
    account: AccountFactory, fake_clock: FakeClock
) -> None:
    carol, bob3 = account(10004), account(10003)
    await carol.client.start()
    await bob3.client.start()
    await carol.client.ack(10003, AckCode.REQUEST, "hi")
    await drive(fake_clock, eventually(lambda: bool(bob3.events), "request"))
    await bob3.client.ack(10004, AckCode.REJECT, "不认识, sorry")
    await drive(fake_clock, eventually(lambda: bool(carol.events), "rejection"))
    assert carol.events == [RequestRejected(10003, "不认识, sorry")]


async def test_a_lapsed_session_is_logged_in_again_by_itself(
    account: AccountFactory, fake_clock: FakeClock, simulator: Simulator
) -> None:
    alice = account(10001)
    await alice.client.login()
    await fake_clock.advance(301.0)  # not polling: the server forgets the session
    simulator.sweep()
    assert not simulator.state.is_online(10001)
    assert (await alice.client.friends()).uins == [10002, 10003]
    assert simulator.state.is_online(10001)
    assert alice.states == [
        ConnectionState.LOGGING_IN,
        ConnectionState.ONLINE,
        ConnectionState.LOGGING_IN,
        ConnectionState.ONLINE,
    ]


async def test_an_invisible_user_stays_invisible_across_a_re_login(
    account: AccountFactory, fake_clock: FakeClock, simulator: Simulator
) -> None:
    alice, bob = account(10001), account(10002)
    await alice.client.login()
    await drive(fake_clock, alice.client.set_status(Status.INVISIBLE))
    await fake_clock.advance(301.0)  # not polling: the server forgets the session
    simulator.sweep()
    assert not simulator.state.is_online(10001)
    await bob.client.login()  # a friend who will hear what alice's re-login shows
    assert (await alice.client.friends()).uins == [10002, 10003]  # logs in again
    assert simulator.state.is_online(10001)
    assert alice.client.status is Status.INVISIBLE
    assert 10001 not in [friend.uin for friend in (await bob.client.online()).friends]
    # The simulator announces the new session ONLINE at its Login, before our Change_Stat
    # can follow; what a friend is left with is the restored status, seen as OFFLINE.
    heard = [event for event in await bob.client.fetch_events() if isinstance(event, StatusChange)]
    assert heard and heard[-1] == StatusChange(10001, Status.OFFLINE)


async def test_a_polling_client_keeps_its_session_for_an_hour(
    account: AccountFactory, fake_clock: FakeClock, simulator: Simulator
) -> None:
    alice = account(10001)
    await alice.client.start()
    await drive(fake_clock, fake_clock.sleep(3600.0), step=5.0, limit=3700.0)
    assert alice.states == [ConnectionState.LOGGING_IN, ConnectionState.ONLINE]  # no re-login
    assert simulator.state.is_online(10001)


async def test_a_stopped_server_means_reconnecting_until_it_is_back(
    account: AccountFactory, fake_clock: FakeClock, simulator: Simulator
) -> None:
    alice = account(10001)
    await alice.client.start()
    port = simulator.port
    await simulator.stop()
    await drive(
        fake_clock,
        eventually(lambda: alice.client.state is ConnectionState.RECONNECTING, "reconnecting"),
    )
    await drive(fake_clock, fake_clock.sleep(60.0), step=0.5)  # back-off up to 32 s by now
    assert alice.client.state is ConnectionState.RECONNECTING
    await simulator.start(host="127.0.0.1", port=port)
    back = fake_clock.now()
    await drive(
        fake_clock,
        eventually(lambda: alice.client.state is ConnectionState.ONLINE, "online again"),
        step=0.5,
    )
    # The shared probe (every 1 s) saw it back; the poll loop woke within its 1 s spread.
    assert fake_clock.now() - back <= 3.0
    assert alice.states[-2:] == [ConnectionState.RECONNECTING, ConnectionState.ONLINE]
    assert (await alice.client.friends()).count == 2


async def test_logout_ends_the_session_on_the_server(
    account: AccountFactory, simulator: Simulator
) -> None:
    alice = account(10001)
    await alice.client.start()
    await alice.client.logout()
    assert alice.client.state is ConnectionState.LOGGED_OUT
    assert not simulator.state.is_online(10001)
