"""How long the poll loop waits before the next GetMsgEx. Pure: times in, seconds out."""

from __future__ import annotations

from .settings import ClientSettings


class PollSchedule:
    """Fast while a conversation is active, slower and slower when idle, never too slow.

    Activity is an event received or a message sent; ``active_window`` seconds after the
    last one the conversation counts as over. Idle intervals grow by ``idle_growth`` per
    poll from ``poll_interval`` up to ``idle_poll_interval``, and every interval is capped
    by ``limit`` (set from the Login reply) so the poll loop alone keeps the session alive.
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
        return interval if self.limit is None else min(interval, self.limit)
