"""How long the poll loop waits before the next GetMsgEx. Pure: times in, seconds out."""

from __future__ import annotations

from .settings import ClientSettings


class PollBudget:
    """Idle GetMsgEx requests per second that all the clients sharing it may make together.

    Each poll loop joins while it runs; an idle client then waits at least
    ``polling / per_second`` seconds between polls, so n idle clients make at most
    ``per_second`` requests a second between them. That wait is also the longest a message to
    an idle account waits on the server. ``per_second`` 0 means no budget. Our choice, not the
    protocol's: the seeds say nothing of how often to poll.
    """

    def __init__(self, per_second: float) -> None:
        if per_second < 0:
            raise ValueError("per_second must be 0 (no budget) or positive")
        self.per_second = per_second
        self.polling = 0

    def join(self) -> None:
        self.polling += 1

    def leave(self) -> None:
        self.polling -= 1

    def idle_interval(self) -> float:
        """The shortest wait between two idle polls of one client, in seconds."""
        return self.polling / self.per_second if self.per_second else 0.0


class PollSchedule:
    """Fast while a conversation is active, slower and slower when idle, never too slow.

    Activity is an event received or a message sent; ``active_window`` seconds after the
    last one the conversation counts as over. Idle intervals grow by ``idle_growth`` per
    poll from ``poll_interval`` up to ``idle_poll_interval``, and every interval is capped
    by ``limit`` (set from the Login reply) so the poll loop alone keeps the session alive.
    Idle intervals are at least what the settings' ``poll_budget`` allows (PollBudget).
    """

    def __init__(self, settings: ClientSettings, limit: float | None = None) -> None:
        self._settings = settings
        self.limit = limit
        self._last_activity: float | None = None
        self._idle_interval = settings.poll_interval

    def note_activity(self, now: float) -> None:
        self._last_activity = now
        self._idle_interval = self._settings.poll_interval

    def is_active(self, now: float) -> bool:
        last = self._last_activity
        return last is not None and now - last < self._settings.active_window

    def next_interval(self, now: float) -> float:
        """The wait before the next poll, called once per poll."""
        settings = self._settings
        if self.is_active(now):
            interval = settings.active_poll_interval
        else:
            interval = self._idle_interval
            self._idle_interval = min(
                self._idle_interval * settings.idle_growth, settings.idle_poll_interval
            )
            if settings.poll_budget is not None:
                interval = max(interval, settings.poll_budget.idle_interval())
        return interval if self.limit is None else min(interval, self.limit)
