"""Prometheus metrics: scraped before and after traffic both ways, the counts checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .harness import LoggedIn, QQPeerFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(config: Any) -> Samples:
    host, port = config.metrics_listen
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{host}:{port}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_the_traffic(
    logged_in: LoggedIn,
    qq_peer: QQPeerFactory,
    puppet: Callable[[int], str],
    bridge_config: Any,
) -> None:
    session = await logged_in("metrics", 30080)
    peer = await qq_peer(30081)
    room = await session.open_portal(30081)
    before = await scrape(bridge_config)

    await session.user.send(room, "one to QQ")
    await session.user.send(room, "two to QQ")
    assert await peer.texts_from(30080, 2) == ["one to QQ", "two to QQ"]
    await peer.client.send_text(30080, "one to Matrix")
    await peer.client.send_text(30080, "two to Matrix")
    await session.user.wait_for_text(room, "two to Matrix", sender=puppet(30081))
    after = await scrape(bridge_config)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    messages = "qq_bridge_messages_total"
    assert delta(messages, direction="to_qq", outcome="bridged") >= 2
    assert delta(messages, direction="to_matrix", outcome="bridged") >= 2
    assert delta(messages, direction="to_qq", outcome="failed") == 0
    assert delta(messages, direction="to_matrix", outcome="failed") == 0
    # The bridge's own client sent the two messages (the peer's client counts in this
    # process too, so its two sends are in the same series).
    assert delta("qq_bridge_qq_requests_total", command="CLTMSG", outcome="res_0") >= 4
    assert delta("qq_bridge_qq_requests_total", command="GetMsgEx", outcome="res_0") >= 1
    assert delta("qq_bridge_appservice_transaction_seconds_count") >= 2
    assert value(after, "qq_bridge_users", state="online") >= 1
    for direction in ("to_matrix", "to_qq"):
        assert ("qq_bridge_queue_depth", (("direction", direction),)) in after
        assert value(after, "qq_bridge_journal_oldest_pending_seconds", direction=direction) >= 0
    assert ("qq_bridge_qq_penalties_total", ()) in after
    assert ("qq_bridge_qq_relogins_total", ()) in after
