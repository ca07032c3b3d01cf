"""Prometheus metrics (prometheus-client), served on their own listener when configured.

``metrics.enabled`` (default false) and ``metrics.listen`` (``127.0.0.1:8001``): ``GET /metrics``
there answers in Prometheus' text format. What is counted:

- ``qq_bridge_messages_total{direction="to_matrix"|"to_qq", outcome="bridged"|"failed"}``:
  messages (and QQ events) bridged, and those that failed and were told as failed.
- ``qq_bridge_queue_depth{direction}``: journal rows waiting (bridge/db/queues.py);
  ``qq_bridge_journal_oldest_pending_seconds{direction}``: how long the oldest has waited.
- ``qq_bridge_users{state}``: bridged users by QQ connection state (``User.state``).
- ``qq_bridge_qq_requests_total{command, outcome}``, ``qq_bridge_qq_penalties_total``,
  ``qq_bridge_qq_relogins_total``: the QQ client's (bridge/qq/client/metrics.py).
- ``qq_bridge_appservice_transaction_seconds``: handling time of Synapse's transactions.

The gauges are read from the store at each scrape, so they are as fresh as the scrape.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

if TYPE_CHECKING:
    from .core import Bridge

log = logging.getLogger("bridge.metrics")

TO_MATRIX, TO_QQ = "to_matrix", "to_qq"
# Every value of ``User.state`` (bridge/user.py), each shown even at 0.
STATES = ("online", "logging_in", "reconnecting", "bad_credentials", "logged_out")
DIRECTIONS = (TO_MATRIX, TO_QQ)

MESSAGES = Counter(
    "qq_bridge_messages",
    "Messages and QQ events by direction, bridged or failed (the sender was told)",
    ["direction", "outcome"],
)
QUEUE_DEPTH = Gauge("qq_bridge_queue_depth", "Journal rows waiting to be bridged", ["direction"])
OLDEST_PENDING = Gauge(
    "qq_bridge_journal_oldest_pending_seconds",
    "Seconds the oldest waiting journal row has waited (0: none waits)",
    ["direction"],
)
USERS = Gauge("qq_bridge_users", "Bridged Matrix users by QQ connection state", ["state"])
TRANSACTION_SECONDS = Histogram(
    "qq_bridge_appservice_transaction_seconds",
    "Seconds to handle one appservice transaction from the homeserver (stored, acknowledged)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
# Every label shows from the start, so a rate() has a series to start from.
for _direction in DIRECTIONS:
    for _outcome in ("bridged", "failed"):
        MESSAGES.labels(_direction, _outcome)


def bridged(direction: str) -> None:
    MESSAGES.labels(direction, "bridged").inc()


def failed(direction: str) -> None:
    MESSAGES.labels(direction, "failed").inc()


async def refresh(bridge: Bridge) -> None:
    """Set the gauges from the store and the users' clients."""
    depths = await bridge.db.queue_depths()
    for direction, counts in ((TO_MATRIX, depths.inbound), (TO_QQ, depths.outbound)):
        QUEUE_DEPTH.labels(direction).set(sum(counts.values()))
    OLDEST_PENDING.labels(TO_MATRIX).set(depths.oldest_age("inbound"))
    OLDEST_PENDING.labels(TO_QQ).set(depths.oldest_age("outbound"))
    by_state = dict.fromkeys(STATES, 0)
    for user in await bridge.all_users():
        by_state[user.state] = by_state.get(user.state, 0) + 1
    for state, count in by_state.items():
        USERS.labels(state).set(count)


class MetricsServer:
    """``GET /metrics`` on ``host:port``; ``await start()``, ``await stop()``."""

    def __init__(self, bridge: Bridge, host: str, port: int) -> None:
        self.bridge, self.host, self.port = bridge, host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        log.info("Metrics on http://%s:%d/metrics", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            await refresh(self.bridge)
        except Exception:  # the counters are still worth a scrape when the store is away
            log.warning("Could not read the queues for the metrics", exc_info=True)
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
