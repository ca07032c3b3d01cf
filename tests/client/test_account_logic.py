"""QQClient's own logic on a FakeClock: login states, re-login on RES=20, reconnecting,
splitting, polling, keep-alive. The network is the scripted stand-in; the same behaviour
against the real simulator is in test_client_io.py."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest

from bridge.qq.client import (
    ClientSettings,
    ConnectionState,
    QQClient,
    SendFailed,
    SessionDropped,
    TransportError,
)
from bridge.qq.clock import FakeClock, settle
from bridge.qq.codes import AckCode, MessageType, Status
from bridge.qq.wire import (
    InvalidUin,
    LoginRefused,
    MalformedReply,
    NotLoggedIn,
    Penalty,
    requests,
)
from bridge.qq.wire.replies import (
    BatchUnreadable,
    Event,
    EventsDropped,
    StatusChange,
    TextMessage,
)

from .scripted import PASSWORD_MD5, ScriptedServer
from .timing import run_on


class Recorded:
    def __init__(self) -> None:
        self.states: list[tuple[ConnectionState, str]] = []
        self.batches: list[list[Event]] = []

    async def on_state(self, state: ConnectionState, detail: str) -> None:
        self.states.append((state, detail))

    async def on_events(self, events: list[Event]) -> None:
        self.batches.append(events)

    def state_names(self) -> list[ConnectionState]:
        return [state for state, _ in self.states]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1000.0)


@pytest.fixture
async def server(clock: FakeClock) -> AsyncIterator[ScriptedServer]:
    server = ScriptedServer(clock)
    yield server
    await server.close()


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


def client_for(
    server: ScriptedServer,
    clock: FakeClock,
    recorded: Recorded,
    md5: str = PASSWORD_MD5,
    uin: int = 10001,
    **settings: float,
) -> QQClient:
    return QQClient(
        server,
        uin,
        md5,
        settings=ClientSettings(**settings),  # type: ignore[arg-type]
        clock=clock,
        on_events=recorded.on_events,
        on_state=recorded.on_state,
    )


async def test_login_goes_online_and_keeps_the_session_timings(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    server.heartbeat, server.lapse = 40, 90
    client = client_for(server, clock, recorded)
    session = await client.login()
    assert (session.heartbeat, session.lapse) == (40, 90)
    assert client.state is ConnectionState.ONLINE
    assert recorded.state_names() == [ConnectionState.LOGGING_IN, ConnectionState.ONLINE]
    assert client.max_silence() == pytest.approx(27.0)  # 0.9 × min(40, 90/3)
    login = server.seen[0].fields
    assert (login["PS"], login["M5"], login["UIN"]) == (PASSWORD_MD5, "1", "10001")


async def test_a_wrong_password_means_bad_credentials_with_the_servers_reason(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, md5=requests.password_md5("wrong"))
    with pytest.raises(LoginRefused) as refusal:
        await client.login()
    assert refusal.value.reason == "密码错误"
    assert client.state is ConnectionState.BAD_CREDENTIALS
    assert "密码错误" in recorded.states[-1][1]


async def test_an_impossible_uin_means_bad_credentials(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, uin=100)
    with pytest.raises(InvalidUin):
        await client.start()
    assert client.state is ConnectionState.BAD_CREDENTIALS


def test_the_client_refuses_a_password_that_is_not_an_md5(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    with pytest.raises(ValueError) as error:
        client_for(server, clock, recorded, md5="password1")
    assert "password1" not in str(error.value)


async def test_a_lapsed_session_is_logged_in_again_and_the_command_retried_once(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded)
    await client.login()
    server.logged_in = False  # the server forgot us
    friends = await client.friends()
    assert friends.uins == [10002, 10003]
    assert server.commands() == ["Login", "List", "Login", "List"]
    assert client.state is ConnectionState.ONLINE


def _forget_every_session(server: ScriptedServer) -> None:
    """The server forgets us before every request: a fresh login never holds."""
    server.logged_in = False
    server.on_request = lambda seen: setattr(server, "logged_in", False)


async def test_a_second_res_20_right_after_a_fresh_login_is_raised_not_looped(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded)
    await client.login()
    _forget_every_session(server)
    with pytest.raises(SessionDropped) as dropped:
        await client.friends()
    assert isinstance(dropped.value, TransportError)  # so callers back off
    assert server.commands() == ["Login", "List", "Login", "List"]
    assert client.state is ConnectionState.RECONNECTING
    assert recorded.states[-1] == (
        ConnectionState.RECONNECTING,
        "the QQ server drops our session right after login",
    )


async def test_a_server_that_keeps_dropping_the_session_gets_logins_spaced_by_back_off(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, backoff_jitter=0.0, backoff_max=8.0)
    await client.start()
    _forget_every_session(server)  # before the poll loop's first GetMsgEx
    await run_on(clock, clock.sleep(60.0), step=0.5)
    relogins = [seen.at - 1000.0 for seen in server.seen if seen.command == "Login"][1:]
    # One login per back-off, not one per poll: 0, then 1, 2, 4, 8, 8, ... seconds apart.
    assert relogins == [0.0, 1.0, 3.0, 7.0, 15.0, 23.0, 31.0, 39.0, 47.0, 55.0]
    # The user is told once, and not told "online" at each login the server forgets.
    assert recorded.state_names() == [
        ConnectionState.LOGGING_IN,
        ConnectionState.ONLINE,
        ConnectionState.LOGGING_IN,
        ConnectionState.ONLINE,
        ConnectionState.RECONNECTING,
    ]

    server.on_request = None  # the next login holds
    await run_on(clock, _until(lambda: _is_online(client)), step=0.5)
    assert recorded.states[-1] == (ConnectionState.ONLINE, "the QQ server answers again")
    logins = server.commands().count("Login")
    await run_on(clock, clock.sleep(60.0), step=0.5)
    assert server.commands().count("Login") == logins
    await client.stop()


async def test_concurrent_commands_that_find_the_session_gone_log_in_only_once(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded)
    await client.login()
    server.logged_in = False
    results = await asyncio.gather(client.friends(), client.friends(), client.friends())
    assert all(result.count == 2 for result in results)
    assert server.commands().count("Login") == 2  # the first login and one re-login


async def test_commands_before_any_login_do_not_log_in_by_themselves(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded)
    with pytest.raises(NotLoggedIn):
        await client.friends()
    assert server.commands() == ["List"]


async def test_network_trouble_means_reconnecting_until_a_request_succeeds(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded)
    await client.login()
    server.down = True
    with pytest.raises(TransportError):
        await client.friends()
    assert client.state is ConnectionState.RECONNECTING
    server.down = False
    await client.friends()
    assert recorded.state_names() == [
        ConnectionState.LOGGING_IN,
        ConnectionState.ONLINE,
        ConnectionState.RECONNECTING,
        ConnectionState.ONLINE,
    ]


async def test_start_while_the_server_is_down_keeps_trying_with_back_off(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, backoff_jitter=0.0, backoff_max=8.0)
    server.down = True
    await client.start()
    assert client.state is ConnectionState.RECONNECTING
    await settle()  # the poll loop's first GetMsgEx fails too, at t=0
    attempts: list[float] = []
    server.on_request = lambda seen: attempts.append(seen.at)
    server.down = False
    # The loop waits 1 s, then finds the server back: RES=20, so it logs in, then polls.
    await run_on(clock, _until(lambda: _is_online(client)), step=0.5)
    assert server.commands()[:3] == ["GetMsgEx", "Login", "GetMsgEx"]
    assert attempts[0] - 1000.0 == pytest.approx(1.0)
    await client.stop()


async def test_back_off_doubles_between_failed_polls_never_a_tight_loop(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, backoff_jitter=0.0, backoff_max=8.0)
    await client.start()
    server.down = True
    polls: list[float] = []
    real_post = server.post

    async def counting_post(body: bytes, *, slow: bool = False) -> bytes:
        polls.append(clock.now())
        return await real_post(body, slow=slow)

    server.post = counting_post  # type: ignore[method-assign]
    await run_on(clock, clock.sleep(60.0), step=0.5)
    gaps = [later - earlier for earlier, later in itertools.pairwise(polls)]
    assert gaps[:5] == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert len(polls) < 12
    await client.stop()


async def test_long_text_is_split_and_the_pieces_sent_in_order(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, send_interval=1.0)
    await client.login()
    text = "".join(f"第{i}行 line {i}\n" for i in range(200))  # ~3.4 KB of UTF-8
    await run_on(clock, client.send_text(10002, text))
    pieces = [seen.fields["MG"] for seen in server.seen if seen.command == "CLTMSG"]
    assert len(pieces) == len(requests.split_text(text)) > 1
    assert "".join(pieces) == text
    assert all(len(piece.encode()) <= requests.MESSAGE_LIMIT for piece in pieces)
    times = [seen.at for seen in server.seen if seen.command == "CLTMSG"]
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(times))


async def test_a_penalised_message_is_retried_after_the_penalty(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, penalty_wait=20.0)
    await client.login()
    server.penalties["CLTMSG"] = 2
    await run_on(clock, client.send_text(10002, "hi"))
    times = [seen.at - 1000.0 for seen in server.seen if seen.command == "CLTMSG"]
    assert times == [0.0, 20.0, 40.0]


async def test_status_changes_are_queued_and_paced(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, status_interval=3.0)
    await client.login()
    changes = [client.set_status(status) for status in (Status.BUSY, Status.ONLINE, Status.BUSY)]
    await run_on(clock, asyncio.gather(*changes))
    stats = [
        (seen.at - 1000.0, seen.fields["ST"])
        for seen in server.seen
        if seen.command == "Change_Stat"
    ]
    assert stats == [(0.0, "30"), (3.0, "10"), (6.0, "30")]


async def test_a_re_login_sets_the_remembered_status_again(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded)
    await client.login()
    # Compared as tuples: an `is` here would narrow the property's type for mypy.
    assert (client.status, client.state) == (Status.ONLINE, ConnectionState.ONLINE)
    await run_on(clock, client.set_status(Status.INVISIBLE))
    assert client.status is Status.INVISIBLE
    server.logged_in = False  # the new session will start ONLINE
    await client.friends()
    assert server.commands()[-3:] == ["Login", "Change_Stat", "List"]
    assert server.seen[-2].fields["ST"] == str(int(Status.INVISIBLE))
    assert client.status is Status.INVISIBLE


async def test_a_status_that_cannot_be_set_again_is_logged_not_raised(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded)
    await client.login()
    await run_on(clock, client.set_status(Status.BUSY))
    server.logged_in = False
    server.penalties["Change_Stat"] = 1
    assert (await client.friends()).uins == [10002, 10003]
    assert server.commands()[-3:] == ["Login", "Change_Stat", "List"]
    assert client.state is ConnectionState.ONLINE
    assert client.status is Status.BUSY  # still what the user wants


async def test_a_failed_status_change_is_not_remembered_and_a_login_means_online(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, max_penalties=0)
    await client.login()
    await run_on(clock, client.set_status(Status.BUSY))
    server.penalties["Change_Stat"] = 1
    with pytest.raises(SendFailed):
        await run_on(clock, client.set_status(Status.INVISIBLE))
    assert client.status is Status.BUSY
    await client.login()  # a new session, ONLINE on the server: nothing to restore
    assert (client.status, client.state) == (Status.ONLINE, ConnectionState.ONLINE)
    server.logged_in = False
    await client.friends()
    assert "Change_Stat" not in server.commands()[-3:]


async def test_polls_hand_each_batch_over_and_speed_up_while_active(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(
        server,
        clock,
        recorded,
        poll_interval=1.0,
        active_poll_interval=0.5,
        idle_poll_interval=8.0,
        idle_growth=2.0,
        active_window=5.0,
    )
    await client.start()
    await run_on(clock, clock.sleep(20.0), step=0.25)
    idle_polls = [seen.at for seen in server.seen if seen.command == "GetMsgEx"]
    gaps = [b - a for a, b in itertools.pairwise(idle_polls)]
    assert gaps[:4] == [1.0, 2.0, 4.0, 8.0]

    server.inbox += [(MessageType.USER, 10002, "你好, a&b"), (MessageType.SYSTEM, 10003, "30")]
    await run_on(clock, _until(lambda: bool(recorded.batches)), step=0.25)
    assert recorded.batches == [[TextMessage(10002, "你好, a&b"), StatusChange(10003, Status.BUSY)]]
    start = clock.now()
    await run_on(clock, clock.sleep(4.0), step=0.25)
    active = [seen.at for seen in server.seen if seen.command == "GetMsgEx" and seen.at >= start]
    assert [b - a for a, b in itertools.pairwise(active)] == [0.5] * (len(active) - 1)
    assert len(active) >= 7
    await client.stop()


async def test_a_slow_event_handler_does_not_let_the_session_lapse(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    release = asyncio.Event()

    async def slow_journal(events: list[Event]) -> None:
        await release.wait()
        recorded.batches.append(events)

    client = QQClient(server, 10001, PASSWORD_MD5, clock=clock, on_events=slow_journal)
    await client.start()
    server.inbox.append((MessageType.USER, 10002, "hello"))
    await run_on(clock, clock.sleep(200.0), step=0.5)
    keep_alives = [seen for seen in server.seen if seen.command == "List"]
    assert [seen.fields["TN"] for seen in keep_alives] == ["0"] * len(keep_alives)
    silences = _longest_silence(server, since=keep_alives[0].at - 60.0)
    assert len(keep_alives) >= 3 and silences <= client.max_silence()
    assert server.commands().count("GetMsgEx") == 1  # no new poll until the batch is taken
    release.set()
    await settle()
    assert recorded.batches == [[TextMessage(10002, "hello")]]
    await client.stop()


async def test_stop_lets_a_fetched_batch_reach_the_handler(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    gate = asyncio.Event()
    real_post = server.post

    async def slow_post(body: bytes, *, slow: bool = False) -> bytes:
        reply = await real_post(body, slow=slow)
        await gate.wait()
        return reply

    client = client_for(server, clock, recorded)
    await client.login()
    server.post = slow_post  # type: ignore[method-assign]
    server.inbox.append((MessageType.USER, 10002, "in flight"))
    await client.start()
    await settle()
    stopping = asyncio.ensure_future(client.stop())
    await settle()
    gate.set()
    await stopping
    assert recorded.batches == [[TextMessage(10002, "in flight")]]


async def test_logout_stops_everything_and_says_logged_out(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded)
    await client.start()
    await client.logout()
    assert client.state is ConnectionState.LOGGED_OUT
    assert server.commands()[-1] == "Logout"
    assert clock.sleepers == 0
    count = len(server.seen)
    await clock.advance(100.0)
    assert len(server.seen) == count


async def test_a_direct_command_retries_unreadable_replies_with_back_off(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, backoff_jitter=0.0, max_garbled_retries=3)
    await client.login()
    server.garbles["List"] = 3
    friends = await run_on(clock, client.friends())
    assert friends.uins == [10002, 10003]
    lists = [seen.at - 1000.0 for seen in server.seen if seen.command == "List"]
    assert lists == [0.0, 1.0, 3.0, 7.0]


async def test_a_direct_command_gives_up_after_max_garbled_retries(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, backoff_jitter=0.0, max_garbled_retries=2)
    await client.login()
    server.garbles["DelFromList"] = 10
    with pytest.raises(MalformedReply) as error:
        await run_on(clock, client.remove(10002))
    assert "RES" in str(error.value)  # the bot shows it: the reply had no RES
    assert server.commands().count("DelFromList") == 3


async def test_a_refusal_to_a_direct_command_is_not_retried(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded)
    await client.login()
    server.penalties["Ack_AddToList"] = 5
    with pytest.raises(Penalty):
        await client.ack(10002, AckCode.ACCEPT)
    assert server.commands().count("Ack_AddToList") == 1


async def test_an_unreadable_login_reply_is_retried(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, backoff_jitter=0.0)
    server.garbles["Login"] = 2
    await run_on(clock, client.login())
    assert client.state is ConnectionState.ONLINE
    assert server.commands() == ["Login"] * 3


async def test_a_queued_message_retries_an_unreadable_reply_and_may_arrive_twice(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, backoff_jitter=0.0)
    await client.login()
    server.garbles["CLTMSG"] = 1  # the server took the message, the reply was lost
    await run_on(clock, client.send_text(10002, "hi"))
    sent = [seen.fields["MG"] for seen in server.seen if seen.command == "CLTMSG"]
    assert sent == ["hi", "hi"]  # at least once (docs/protocol.md)


async def test_an_unreadable_get_msg_ex_is_reported_and_not_asked_again(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_for(server, clock, recorded, poll_interval=1.0, idle_poll_interval=1.0)
    await client.start()
    await settle()
    server.inbox.append((MessageType.USER, 10002, "lost with its reply"))
    server.garbles["GetMsgEx"] = 1
    await run_on(clock, clock.sleep(1.0))
    assert "unreadable GetMsgEx reply" in caplog.text
    polls = [seen.at - 1000.0 for seen in server.seen if seen.command == "GetMsgEx"]
    assert polls == [0.0, 1.0]  # no retry of the garbled poll: the next is on schedule
    assert recorded.batches == [[BatchUnreadable()]]  # the user hears that it was lost
    server.inbox.append((MessageType.USER, 10002, "next"))
    await run_on(clock, _until(lambda: len(recorded.batches) == 2), step=0.25)
    assert recorded.batches[1] == [TextMessage(10002, "next")]
    await client.stop()


async def test_polling_resumes_within_a_second_of_the_servers_return_after_a_long_outage(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    # The back-off alone would be at its 60 s maximum by now; the shared probe (one per
    # second) cuts the wait short.
    client = client_for(server, clock, recorded, backoff_jitter=0.0, backoff_max=60.0)
    await client.start()
    server.down = True
    await run_on(clock, clock.sleep(200.0), step=0.25)
    refused = [at - clock.now() + 200.0 for at in server.refused]
    probes = len(server.probes)
    assert client.state is ConnectionState.RECONNECTING
    back = clock.now()
    server.down = False
    server.inbox.append((MessageType.USER, 10002, "after the outage"))
    await run_on(clock, _until(lambda: bool(recorded.batches)), step=0.25)
    assert clock.now() - back <= 1.0
    assert recorded.batches == [[TextMessage(10002, "after the outage")]]
    assert _is_online(client)
    # During the outage the client itself tried only at its back-off (1, 2, 4, ... 60 s);
    # the probe asked once a second.
    assert refused == [0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 63.0, 123.0, 183.0]
    assert probes == 200
    await client.stop()


async def test_a_message_queued_during_an_outage_goes_within_a_second_of_the_return(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, backoff_jitter=0.0, send_give_up_after=300.0)
    await client.login()
    server.down = True
    sending = asyncio.ensure_future(client.send_text(10002, "queued"))
    await run_on(clock, clock.sleep(150.0), step=0.25)
    assert not sending.done()
    back = clock.now()
    server.down = False
    await run_on(clock, sending, step=0.25)
    sent = [seen.at for seen in server.seen if seen.command == "CLTMSG"]
    assert len(sent) == 1 and sent[0] - back <= 1.0


async def test_penalisable_commands_ask_for_the_long_time_out_and_the_rest_the_short(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded)
    await client.login()
    await client.friends()
    await client.online()
    await client.info(10002)
    await client.add(10002)
    await client.ack(10002, AckCode.ACCEPT)
    await client.remove(10002)
    await run_on(clock, client.send_text(10002, "hi"))
    await run_on(clock, client.set_status(Status.BUSY))
    await client.fetch_events()
    await client.logout()
    slow = {seen.command for seen in server.seen if seen.slow}
    quick = {seen.command for seen in server.seen if not seen.slow}
    assert slow == {"CLTMSG", "Change_Stat", "Ack_AddToList", "DelFromList"}
    assert quick == {"Login", "List", "Query_Stat", "GetInfo", "AddToList", "GetMsgEx", "Logout"}


async def test_a_poll_hands_over_a_bounded_batch_and_reports_the_rest(
    server: ScriptedServer, clock: FakeClock, recorded: Recorded
) -> None:
    client = client_for(server, clock, recorded, max_batch_events=500, max_batch_senders=50)
    await client.start()
    server.inbox += [(MessageType.USER, 20000 + n % 80, f"m{n}") for n in range(800)]
    await run_on(clock, _until(lambda: bool(recorded.batches)), step=0.25)
    (batch,) = recorded.batches
    delivered, report = batch[:-1], batch[-1]
    assert len(delivered) == 500
    assert {event.sender for event in delivered if isinstance(event, TextMessage)} == set(
        range(20000, 20050)
    )
    # In order: the first 500 events from the first 50 senders.
    expected = [f"m{n}" for n in range(800) if n % 80 < 50][:500]
    assert [event.text for event in delivered if isinstance(event, TextMessage)] == expected
    assert report == EventsDropped(count=300, senders=30)  # senders 20050 to 20079
    await client.stop()


def _is_online(client: QQClient) -> bool:
    return client.state is ConnectionState.ONLINE


def _longest_silence(server: ScriptedServer, since: float) -> float:
    times = [since] + [seen.at for seen in server.seen if seen.at >= since]
    return max(b - a for a, b in itertools.pairwise(times))


async def _until(condition: object) -> None:
    assert callable(condition)
    while not condition():
        await asyncio.sleep(0)
