"""The send queue on a FakeClock: pacing, penalties, order, giving up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bridge.qq.client import ClientSettings, SendFailed, TransportError
from bridge.qq.client.sender import SendQueue, Step
from bridge.qq.clock import FakeClock, settle
from bridge.qq.wire import MalformedReply, NoReply, Penalty, ServerRefused

from .timing import run_on

SETTINGS = ClientSettings(
    send_interval=1.0, status_interval=5.0, penalty_wait=20.0, max_penalties=5
)


class Recorder:
    """Steps that note when they ran and fail as scripted (an exception per attempt)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[tuple[float, str]] = []

    def step(self, name: str, failures: list[Exception] | None = None) -> Step:
        script = list(failures or [])

        async def run() -> None:
            self.calls.append((self.clock.now(), name))
            if script:
                raise script.pop(0)

        return run

    def times(self, name: str | None = None) -> list[float]:
        return [at - 1000.0 for at, step in self.calls if name is None or step == name]

    def names(self) -> list[str]:
        return [name for _, name in self.calls]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1000.0)


def queue_on(
    clock: FakeClock,
    settings: ClientSettings = SETTINGS,
    on_sent: Callable[[], None] = lambda: None,
) -> SendQueue:
    return SendQueue(clock, settings, on_sent=on_sent)


async def test_messages_are_paced_by_the_send_interval(clock: FakeClock) -> None:
    queue, recorder = queue_on(clock), Recorder(clock)
    sends = [queue.submit(f"m{i}", [recorder.step(f"m{i}")], queue.messages) for i in range(4)]
    await run_on(clock, asyncio.gather(*sends))
    assert recorder.names() == ["m0", "m1", "m2", "m3"]
    assert recorder.times() == [0.0, 1.0, 2.0, 3.0]


async def test_status_changes_keep_their_own_slower_pace(clock: FakeClock) -> None:
    queue, recorder = queue_on(clock), Recorder(clock)
    sends = [queue.submit(f"s{i}", [recorder.step(f"s{i}")], queue.statuses) for i in range(3)]
    await run_on(clock, asyncio.gather(*sends))
    assert recorder.times() == [0.0, 5.0, 10.0]


async def test_a_penalty_is_waited_out_then_the_same_piece_is_sent_again(clock: FakeClock) -> None:
    queue, recorder = queue_on(clock), Recorder(clock)
    first = queue.submit("a", [recorder.step("a", [Penalty(), Penalty()])], queue.messages)
    second = queue.submit("b", [recorder.step("b")], queue.messages)
    await run_on(clock, asyncio.gather(first, second))
    assert recorder.names() == ["a", "a", "a", "b"]
    # Each penalty holds everything back 20 s; the next message still keeps its 1 s pace.
    assert recorder.times() == [0.0, 20.0, 40.0, 41.0]


async def test_after_max_penalties_the_send_fails_and_the_queue_moves_on(clock: FakeClock) -> None:
    settings = ClientSettings(send_interval=1.0, penalty_wait=20.0, max_penalties=3)
    queue, recorder = queue_on(clock, settings), Recorder(clock)
    doomed = asyncio.ensure_future(
        queue.submit("a", [recorder.step("a", [Penalty()] * 10)], queue.messages)
    )
    after = asyncio.ensure_future(queue.submit("b", [recorder.step("b")], queue.messages))
    await run_on(clock, asyncio.wait([doomed, after]))
    with pytest.raises(SendFailed) as failure:
        doomed.result()
    assert "4 penalties" in failure.value.reason
    assert recorder.names() == ["a"] * 4 + ["b"]  # tried, then 3 retries after penalties
    assert after.result() is None


async def test_pieces_of_one_message_go_in_order_and_a_failure_says_how_far_it_got(
    clock: FakeClock,
) -> None:
    settings = ClientSettings(send_interval=1.0, max_penalties=0)
    queue, recorder = queue_on(clock, settings), Recorder(clock)
    steps = [recorder.step("p1"), recorder.step("p2"), recorder.step("p3", [Penalty()])]
    with pytest.raises(SendFailed) as failure:
        await run_on(clock, queue.submit("long", steps, queue.messages))
    assert recorder.names() == ["p1", "p2", "p3"]
    assert "sent 2 of 3 pieces" in failure.value.reason


async def test_network_errors_back_off_then_succeed(clock: FakeClock) -> None:
    settings = ClientSettings(send_interval=1.0, backoff_initial=1.0, backoff_jitter=0.0)
    queue, recorder = queue_on(clock, settings), Recorder(clock)
    trouble: list[Exception] = [TransportError("down")] * 3
    await run_on(clock, queue.submit("a", [recorder.step("a", trouble)], queue.messages))
    # Back-off 1, 2, 4 s between attempts (the 1 s pace is inside the first wait).
    assert recorder.times() == [0.0, 1.0, 3.0, 7.0]


async def test_network_errors_for_too_long_fail_the_send(clock: FakeClock) -> None:
    settings = ClientSettings(send_give_up_after=100.0, backoff_jitter=0.0, backoff_max=10.0)
    queue, recorder = queue_on(clock, settings), Recorder(clock)
    trouble: list[Exception] = [TransportError("down")] * 1000
    with pytest.raises(SendFailed) as failure:
        await run_on(clock, queue.submit("a", [recorder.step("a", trouble)], queue.messages))
    assert "network" in failure.value.reason
    assert 100.0 <= recorder.times()[-1] < 115.0


async def test_no_reply_is_retried_a_little_then_fails(clock: FakeClock) -> None:
    settings = ClientSettings(max_no_reply_retries=2)
    queue, recorder = queue_on(clock, settings), Recorder(clock)
    with pytest.raises(SendFailed):
        await run_on(
            clock, queue.submit("a", [recorder.step("a", [NoReply()] * 5)], queue.messages)
        )
    assert recorder.names() == ["a", "a", "a"]


async def test_success_is_reported_for_poll_adaptation(clock: FakeClock) -> None:
    sent: list[float] = []
    queue, recorder = queue_on(clock, on_sent=lambda: sent.append(clock.now())), Recorder(clock)
    await run_on(clock, queue.submit("a", [recorder.step("a")], queue.messages))
    assert sent == [1000.0]


async def test_close_fails_what_is_queued_and_leaves_no_task(clock: FakeClock) -> None:
    queue, recorder = queue_on(clock), Recorder(clock)
    sends = [
        asyncio.ensure_future(queue.submit(f"m{i}", [recorder.step(f"m{i}")], queue.messages))
        for i in range(3)
    ]
    await settle()
    assert recorder.names() == ["m0"] and len(queue) == 2  # m1 is waiting for its pace
    await queue.close("stopped")
    results = await asyncio.gather(*sends, return_exceptions=True)
    assert results[0] is None
    assert [str(result) for result in results[1:]] == ["stopped", "stopped"]
    assert len(queue) == 0
    assert clock.sleepers == 0


async def test_an_unreadable_reply_is_retried_with_back_off_then_the_send_succeeds(
    clock: FakeClock,
) -> None:
    settings = ClientSettings(backoff_initial=1.0, backoff_jitter=0.0, max_garbled_retries=3)
    queue, recorder = queue_on(clock, settings), Recorder(clock)
    garbled: list[Exception] = [MalformedReply("no RES", "VER=1.1&CMD=CLTMSG&RE")] * 3
    await run_on(clock, queue.submit("a", [recorder.step("a", garbled)], queue.messages))
    assert recorder.times() == [0.0, 1.0, 3.0, 7.0]  # the same back-off as network errors


async def test_unreadable_replies_past_the_bound_fail_the_send_with_a_reason(
    clock: FakeClock,
) -> None:
    settings = ClientSettings(backoff_jitter=0.0, max_garbled_retries=3)
    queue, recorder = queue_on(clock, settings), Recorder(clock)
    garbled: list[Exception] = [MalformedReply("no RES")] * 10
    doomed = asyncio.ensure_future(
        queue.submit("message to 10002", [recorder.step("a", garbled)], queue.messages)
    )
    after = asyncio.ensure_future(queue.submit("b", [recorder.step("b")], queue.messages))
    await run_on(clock, asyncio.wait([doomed, after]))
    with pytest.raises(SendFailed) as failure:
        doomed.result()
    assert "replies to message to 10002 could not be read (4 times" in failure.value.reason
    assert recorder.names() == ["a"] * 4 + ["b"]  # the first try and 3 retries; then the next
    assert after.result() is None


async def test_a_res_the_protocol_does_not_know_is_a_refusal_not_retried(
    clock: FakeClock,
) -> None:
    queue, recorder = queue_on(clock), Recorder(clock)
    refused: list[Exception] = [ServerRefused(7, "RES=7")] * 10
    with pytest.raises(SendFailed) as failure:
        await run_on(clock, queue.submit("a", [recorder.step("a", refused)], queue.messages))
    assert "refused" in failure.value.reason
    assert recorder.names() == ["a"]
