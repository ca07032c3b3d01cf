"""The client's tunables, with the seeds' numbers as defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClientSettings:
    # Polling (GetMsgEx). The loop slows from ``poll_interval`` towards ``idle_poll_interval``
    # when nothing happens and speeds up to ``active_poll_interval`` while a conversation is
    # active (an event received or a message sent within ``active_window`` seconds).
    poll_interval: float = 1.0
    active_poll_interval: float = 0.5
    idle_poll_interval: float = 10.0
    idle_growth: float = 1.5
    active_window: float = 30.0

    # The server drops a session after HI/LI seconds without a request (Login reply). We
    # never let silence last longer than this fraction of min(HI, LI/3).
    session_safety: float = 0.5

    # Sending. The seeds give no safe interval; 1 s between messages is our choice. The
    # server's penalty (RES=3) lasts 20 s (seed 004). Status changes are penalised when too
    # frequent, so they get their own pace.
    send_interval: float = 1.0
    status_interval: float = 2.0
    penalty_wait: float = 20.0
    max_penalties: int = 5
    # A send that meets network errors is retried (with back-off) for this long, then failed.
    send_give_up_after: float = 300.0
    # NULL (no reply) to CLTMSG: seed 004 saw it happen for no visible reason; retry a little.
    max_no_reply_retries: int = 2

    # Network errors: exponential back-off with jitter.
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    backoff_jitter: float = 0.2

    def __post_init__(self) -> None:
        for name in ("poll_interval", "active_poll_interval", "idle_poll_interval"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.idle_growth < 1:
            raise ValueError("idle_growth must be at least 1")
        if not 0 < self.session_safety <= 1:
            raise ValueError("session_safety must be in (0, 1]")
        if not 0 <= self.backoff_jitter < 1:
            raise ValueError("backoff_jitter must be in [0, 1)")
        if self.max_penalties < 0 or self.max_no_reply_retries < 0:
            raise ValueError("retry counts cannot be negative")

    def max_silence(self, heartbeat: float, lapse: float) -> float:
        """The longest we may go without a request before the session is at risk."""
        return min(heartbeat, lapse / 3) * self.session_safety
