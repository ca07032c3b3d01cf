from dataclasses import replace

import pytest

from bridge.qq.client import ClientSettings, PollBudget
from bridge.qq.client.schedule import PollSchedule

SETTINGS = ClientSettings(
    poll_interval=1.0,
    active_poll_interval=0.5,
    idle_poll_interval=10.0,
    idle_growth=2.0,
    active_window=30.0,
)


def test_idle_polling_slows_down_from_the_base_interval_to_the_idle_maximum() -> None:
    schedule = PollSchedule(SETTINGS)
    intervals = [schedule.next_interval(now=1000.0 + i) for i in range(7)]
    assert intervals == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_activity_makes_polling_fast_for_the_active_window_then_it_slows_again() -> None:
    schedule = PollSchedule(SETTINGS)
    for i in range(5):
        schedule.next_interval(now=1000.0 + i)  # idle for a while: at the maximum
    schedule.note_activity(now=1010.0)
    assert schedule.next_interval(now=1010.0) == 0.5
    assert schedule.next_interval(now=1039.9) == 0.5
    # The window is over: back to the base interval, growing again.
    assert schedule.next_interval(now=1040.0) == 1.0
    assert schedule.next_interval(now=1041.0) == 2.0


def test_no_interval_exceeds_the_session_limit() -> None:
    schedule = PollSchedule(SETTINGS, limit=3.0)
    intervals = [schedule.next_interval(now=1000.0 + i) for i in range(10)]
    assert max(intervals) == 3.0
    assert intervals[:2] == [1.0, 2.0]


def test_max_silence_is_the_heartbeat_or_a_third_of_the_lapse() -> None:
    settings = ClientSettings()
    assert settings.max_silence(heartbeat=60, lapse=300) == pytest.approx(54.0)  # HI, less 10 %
    assert settings.max_silence(heartbeat=60, lapse=90) == pytest.approx(27.0)  # LI/3 is tighter


@pytest.mark.parametrize(
    "bad",
    [
        {"poll_interval": 0},
        {"idle_growth": 0.5},
        {"backoff_jitter": 1.0},
        {"max_penalties": -1},
    ],
)
def test_settings_refuse_values_that_would_break_the_loops(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ClientSettings(**bad)  # type: ignore[arg-type]


def test_a_poll_budget_spreads_idle_polls_over_the_accounts_sharing_it() -> None:
    budget = PollBudget(per_second=100.0)
    settings = replace(SETTINGS, poll_budget=budget)
    schedule = PollSchedule(settings, limit=30.0)
    for _ in range(2000):
        budget.join()
    # 2,000 idle accounts at 100 polls a second: each waits 20 s, not the idle maximum of 10 s.
    assert [schedule.next_interval(now=1000.0 + i) for i in range(3)] == [20.0, 20.0, 20.0]
    for _ in range(1000):
        budget.leave()
    assert schedule.next_interval(now=1010.0) == 10.0  # 1,000 left: the idle maximum again
    # Active chats keep their fast polling, whatever the budget.
    schedule.note_activity(now=1011.0)
    assert schedule.next_interval(now=1011.0) == 0.5


def test_the_session_limit_beats_the_poll_budget() -> None:
    budget = PollBudget(per_second=10.0)
    schedule = PollSchedule(replace(SETTINGS, poll_budget=budget), limit=30.0)
    for _ in range(1000):  # the budget would allow a poll every 100 s: the session would lapse
        budget.join()
    assert schedule.next_interval(now=1000.0) == 30.0


def test_no_budget_leaves_the_schedule_alone() -> None:
    budget = PollBudget(per_second=0.0)
    budget.join()
    schedule = PollSchedule(replace(SETTINGS, poll_budget=budget))
    assert schedule.next_interval(now=1000.0) == 1.0
    with pytest.raises(ValueError):
        PollBudget(per_second=-1.0)


def test_settings_from_the_bridge_config_poll_twice_as_often_while_active() -> None:
    qq = {
        "poll_interval": 2,
        "max_poll_interval": 30,
        "send_interval": 1.5,
        "penalty_wait": 25,
        "max_penalties": 4,
        "max_reply_bytes": 1024,  # the transport's, not the client's
    }
    settings = ClientSettings.from_config(qq)
    assert (settings.poll_interval, settings.active_poll_interval) == (2.0, 1.0)
    assert settings.idle_poll_interval == 30.0 and settings.send_interval == 1.5
    assert (settings.penalty_wait, settings.max_penalties) == (25.0, 4)
    assert settings.poll_budget is not None and settings.poll_budget.per_second == 0.0
    shared = ClientSettings.from_config({**qq, "idle_poll_budget": 50}).poll_budget
    assert shared is not None and shared.per_second == 50.0
