"""The QQ client's Prometheus counters: requests by command and outcome, penalties, re-logins.

Registered on prometheus-client's default registry, which the bridge's metrics listener
(bridge/metrics.py) serves; in a process that never serves them (the terminal client, tests)
they only count.
"""

from __future__ import annotations

from prometheus_client import Counter

from ..wire import NoReply, WireError
from ..wire.replies import ServerRefused

REQUESTS = Counter(
    "qq_bridge_qq_requests",
    "Requests to the QQ server by command (CMD) and outcome: the reply's RES code "
    "(res_0 is success), network_error, no_reply or unreadable",
    ["command", "outcome"],
)
PENALTIES = Counter(
    "qq_bridge_qq_penalties", "Replies of RES=3 (too fast): the server refuses for a while"
)
RELOGINS = Counter(
    "qq_bridge_qq_relogins", "Logins again after the QQ server forgot a session (RES=20)"
)


def outcome(error: BaseException | None) -> str:
    """The ``outcome`` label of a request that raised ``error`` (None: it succeeded)."""
    if error is None:
        return "res_0"
    if isinstance(error, ServerRefused):
        return f"res_{int(error.res)}"
    if isinstance(error, NoReply):
        return "no_reply"
    if isinstance(error, WireError):
        return "unreadable"
    return "network_error"


def count_request(command: str, error: BaseException | None) -> None:
    label = outcome(error)
    REQUESTS.labels(command, label).inc()
    if label == "res_3":
        PENALTIES.inc()
