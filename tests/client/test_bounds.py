"""bound_batch: a GetMsgEx batch handed over within its bounds, the rest reported."""

from __future__ import annotations

from bridge.qq.client.bounds import bound_batch
from bridge.qq.codes import Status
from bridge.qq.wire.replies import EventsDropped, ServerEvent, StatusChange, TextMessage


def messages(*senders: int) -> list[ServerEvent]:
    return [TextMessage(sender, f"m{index}") for index, sender in enumerate(senders)]


def test_a_batch_within_the_bounds_is_handed_over_unchanged() -> None:
    batch = messages(1, 2, 1, 3)
    assert bound_batch(batch, max_events=4, max_senders=3) == batch


def test_senders_past_the_bound_are_left_out_and_reported_last() -> None:
    batch = messages(1, 2, 3, 1, 4, 2, 4)
    kept = bound_batch(batch, max_events=100, max_senders=2)
    # 1 and 2 came first; their later events still arrive, in order. 3 and 4 are reported.
    assert kept == [*(batch[i] for i in (0, 1, 3, 5)), EventsDropped(count=3, senders=2)]


def test_events_past_the_bound_are_left_out_and_their_senders_counted() -> None:
    batch: list[ServerEvent] = [*messages(1, 2, 1, 1, 2), StatusChange(5, Status.BUSY)]
    kept = bound_batch(batch, max_events=3, max_senders=10)
    assert kept == [*batch[:3], EventsDropped(count=3, senders=3)]


def test_a_batch_as_large_as_a_hostile_server_likes_stays_within_the_bounds() -> None:
    batch = messages(*range(100_000))
    kept = bound_batch(batch, max_events=500, max_senders=50)
    assert kept[:-1] == batch[:50]
    assert kept[-1] == EventsDropped(count=99_950, senders=99_950)
