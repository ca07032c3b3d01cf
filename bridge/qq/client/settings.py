"""The client's tunables, with the seeds' numbers as defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .schedule import PollBudget


# The fraction of HI the poll loop waits at most (max_silence).
HEARTBEAT_MARGIN = 0.9


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
    # Shared by every client of one bridge: idle polls slow down as accounts are added, so
    # that together they keep to a budget of requests per second (schedule.py). None: none.
    poll_budget: PollBudget | None = field(default=None, compare=False)

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
    # A reply we cannot read (no RES, RES not a number, cut short, over the size cap) to any
    # command but GetMsgEx is retried with the back-off below this many times, then given up
    # (SendFailed for queued sends; the error itself for direct commands). Our choice: the
    # seeds never show such a reply, so it is a fault on the way, not an answer.
    max_garbled_retries: int = 3

    # One GetMsgEx reply may name any number of events and senders; every sender becomes a
    # puppet and a room. A batch hands over at most this many events from at most this many
    # distinct senders; the rest is reported as one EventsDropped (our choice: the seeds'
    # batches hold a handful of events).
    max_batch_events: int = 500
    max_batch_senders: int = 50

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
        if not 0 <= self.backoff_jitter < 1:
            raise ValueError("backoff_jitter must be in [0, 1)")
        if min(self.max_penalties, self.max_no_reply_retries, self.max_garbled_retries) < 0:
            raise ValueError("retry counts cannot be negative")
        if self.max_batch_events < 1 or self.max_batch_senders < 1:
            raise ValueError("batch bounds must be at least 1")

    @classmethod
    def from_config(cls, qq: Mapping[str, float | int]) -> ClientSettings:
        from .schedule import PollBudget  # schedule.py imports this module

        """The settings from the bridge config's ``qq`` section (``Config.qq_settings``):
        ``poll_interval``, ``max_poll_interval``, ``send_interval``, ``penalty_wait`` (seconds)
        ``max_penalties`` and ``idle_poll_budget`` (polls per second); other keys are the
        transport's. Our polling policy: while a
        chat is active the client polls twice as often as ``poll_interval``, never slower."""
        return cls(
            poll_interval=float(qq["poll_interval"]),
            active_poll_interval=float(qq["poll_interval"]) / 2,
            idle_poll_interval=float(qq["max_poll_interval"]),
            send_interval=float(qq["send_interval"]),
            penalty_wait=float(qq["penalty_wait"]),
            max_penalties=int(qq["max_penalties"]),
            # One budget for every client made with these settings (schedule.py).
            poll_budget=PollBudget(float(qq.get("idle_poll_budget", 0.0))),
        )

    def max_silence(self, heartbeat: float, lapse: float) -> float:
        """The longest the client goes without a request, in seconds: 0.9 × min(HI, LI/3).

        HI is how often the server asks a client to send something and LI the silence after
        which it drops the session (Login reply; docs/protocol.md, *Choices* 2). A request a
        little before HI is up (0.9: the time a request takes and the loop's own delays stay
        inside HI) is what the server asks; LI/3 leaves two more tries before a session with
        a short LI lapses. With the seeds' HI=60, LI=300: 54 s, under a fifth of the lapse
        time. Any shorter would only cost requests: with 10,000 idle accounts every poll
        interval is 10,000 / interval polls a second (docs/performance.md, *Scale*)."""
        return min(heartbeat, lapse / 3) * HEARTBEAT_MARGIN
