"""The simulator's tunables: protocol timings from the seeds, and the bounds we chose."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SimulatorSettings:
    # Sent in the Login reply as HI and LI (seed 000: HI=60&LI=300). A session with no
    # request for ``lapse`` seconds ends as if the user had logged out.
    heartbeat: int = 60
    lapse: int = 300
    # CLTMSG faster than this (per sender) earns RES=3 and ``penalty`` seconds of RES=3
    # (seed 004: "发送过快 ... RES=3, 响应时间20s").
    message_interval: float = 0.5
    penalty: float = 20.0
    # Change_Stat more often than this earns RES=3 and ``penalty`` (seed 004).
    status_interval: float = 0.5
    # A repeated DelFromList earns RES=3 for 30 s (seed 004).
    delete_penalty: float = 30.0
    # Items waiting in one account's GetMsgEx queue; at the bound CLTMSG to it answers RES=3.
    queue_limit: int = 500
    # Longest MG= accepted, in UTF-8 bytes; the client splits at the same 700 (wire.requests).
    message_limit: int = 700
    # HTTP bounds, so a slow or hostile client cannot hold memory or a connection for long.
    max_header_bytes: int = 8 * 1024
    max_body_bytes: int = 64 * 1024
    read_timeout: float = 10.0
    # How often the server's maintenance task ends lapsed sessions and stalled connections.
    maintenance_interval: float = 1.0

    def __post_init__(self) -> None:
        for name in ("heartbeat", "lapse", "queue_limit", "message_limit"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.maintenance_interval <= 0 or self.read_timeout <= 0:
            raise ValueError("maintenance_interval and read_timeout must be positive")
        for name in ("message_interval", "penalty", "status_interval", "delete_penalty"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
