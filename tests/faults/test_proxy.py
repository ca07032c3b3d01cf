"""The fault proxy itself, against a tiny upstream, through the bridge's own QQ transport."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bridge.qq.client import QQTransport, TransportError
from bridge.qq.simulator.httpserver import http_response

from .proxy import (
    BOGUS,
    CLIENT_GONE,
    DELIVERED,
    GARBAGE,
    GARBLED,
    TRUNCATED,
    FaultProxy,
    tcp_port_open,
)

pytestmark = pytest.mark.faults


class Upstream:
    """Answers each POST with ``RES=0&GOT=<body>`` and closes, as the QQ server does."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.seen = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        body = await reader.readexactly(length)
        self.requests.append(body)
        self.seen.set()
        writer.write(http_response(b"RES=0&GOT=" + body))
        await writer.drain()
        writer.write_eof()
        await reader.read()
        writer.close()


@pytest_asyncio.fixture
async def rig() -> AsyncIterator[tuple[Upstream, FaultProxy, QQTransport]]:
    upstream = Upstream()
    await upstream.start()
    proxy = FaultProxy(upstream.port)
    await proxy.start()
    transport = QQTransport(proxy.url, timeout=5.0)
    yield upstream, proxy, transport
    await transport.close()
    await proxy.stop()
    await upstream.stop()


async def test_pass_forwards_and_records(rig: tuple[Upstream, FaultProxy, QQTransport]) -> None:
    _, proxy, transport = rig
    assert await transport.post(b"CMD=CLTMSG&UIN=10001&MG=f-x-m2q-1") == (
        b"RES=0&GOT=CMD=CLTMSG&UIN=10001&MG=f-x-m2q-1"
    )
    await proxy.wait_settled()
    [exchange] = proxy.exchanges
    assert (exchange.command, exchange.uin, exchange.fields["MG"]) == ("CLTMSG", 10001, "f-x-m2q-1")
    assert exchange.outcome == DELIVERED and exchange.intact
    assert exchange.reply_body() == b"RES=0&GOT=CMD=CLTMSG&UIN=10001&MG=f-x-m2q-1"
    assert proxy.counts == {"pass": 1}


async def test_refuse_closes_the_port_and_pass_reopens_it(
    rig: tuple[Upstream, FaultProxy, QQTransport],
) -> None:
    upstream, proxy, transport = rig
    port = proxy.port
    await proxy.set_mode("refuse")
    assert not tcp_port_open(port)
    with pytest.raises(TransportError, match="cannot reach"):
        await transport.post(b"CMD=GETMSGEX")
    await proxy.set_mode("pass")
    assert proxy.port == port
    # The transport noticed the outage; its probe finds the server back within a second.
    await asyncio.wait_for(transport.wait_reachable(), 5)
    assert await transport.post(b"CMD=GETMSGEX") == b"RES=0&GOT=CMD=GETMSGEX"
    assert upstream.requests[-1] == b"CMD=GETMSGEX"  # after the transport's probe


async def test_blackhole_holds_then_delivers_after_the_outage(
    rig: tuple[Upstream, FaultProxy, QQTransport],
) -> None:
    upstream, proxy, transport = rig
    await proxy.set_mode("blackhole")
    pending = asyncio.create_task(transport.post(b"CMD=CLTMSG&MG=held"))
    await proxy.wait_for(lambda: bool(proxy.exchanges and proxy.exchanges[0].fields))
    assert not pending.done() and upstream.requests == []  # read, and held
    released = time.time()
    await proxy.set_mode("pass")
    assert await pending == b"RES=0&GOT=CMD=CLTMSG&MG=held"
    await proxy.wait_settled()
    [exchange] = proxy.exchanges
    assert exchange.held and exchange.intact
    assert exchange.forwarded is not None and exchange.forwarded >= released
    assert proxy.counts == {"blackhole": 1}


async def test_blackhole_still_delivers_a_request_whose_client_gave_up(
    rig: tuple[Upstream, FaultProxy, QQTransport],
) -> None:
    upstream, proxy, _ = rig
    impatient = QQTransport(proxy.url, timeout=0.3)
    try:
        await proxy.set_mode("blackhole")
        with pytest.raises(TransportError, match="no complete answer"):
            await impatient.post(b"CMD=CLTMSG&MG=late")
    finally:
        await impatient.close()
    await proxy.set_mode("pass")
    await asyncio.wait_for(upstream.seen.wait(), 5)
    await proxy.wait_settled()
    assert upstream.requests == [b"CMD=CLTMSG&MG=late"]  # the server acted on it
    assert proxy.exchanges[0].outcome == CLIENT_GONE


async def test_garble_keeps_the_framing_and_replaces_the_body(
    rig: tuple[Upstream, FaultProxy, QQTransport],
) -> None:
    upstream, proxy, transport = rig
    await proxy.set_mode("garble")
    assert await transport.post(b"CMD=CLTMSG&MG=a") == GARBAGE[0]
    assert await transport.post(b"CMD=CLTMSG&MG=b") == GARBAGE[1]
    await proxy.wait_settled()
    assert [e.outcome for e in proxy.exchanges] == [GARBLED, GARBLED]
    assert proxy.exchanges[0].reply_body() == b"RES=0&GOT=CMD=CLTMSG&MG=a"  # what was lost
    assert len(upstream.requests) == 2


async def test_bogus_answers_without_the_server(
    rig: tuple[Upstream, FaultProxy, QQTransport],
) -> None:
    upstream, proxy, transport = rig
    await proxy.set_mode("bogus")
    assert await transport.post(b"CMD=CLTMSG&MG=never") == GARBAGE[0]
    await proxy.wait_settled()
    assert proxy.exchanges[0].outcome == BOGUS and proxy.exchanges[0].forwarded is None
    assert upstream.requests == []


async def test_truncate_cuts_the_body(rig: tuple[Upstream, FaultProxy, QQTransport]) -> None:
    upstream, proxy, transport = rig
    await proxy.set_mode("truncate")
    with pytest.raises(TransportError):
        await transport.post(b"CMD=CLTMSG&MG=cut")
    await proxy.wait_settled()
    assert proxy.exchanges[0].outcome == TRUNCATED
    assert upstream.requests == [b"CMD=CLTMSG&MG=cut"]


async def test_delay_answers_late(rig: tuple[Upstream, FaultProxy, QQTransport]) -> None:
    _, proxy, transport = rig
    await proxy.set_mode("delay", seconds=0.3)
    began = time.monotonic()
    assert await transport.post(b"CMD=LIST") == b"RES=0&GOT=CMD=LIST"
    assert time.monotonic() - began >= 0.3
    with pytest.raises(ValueError):
        await proxy.set_mode("delay")
    with pytest.raises(ValueError):
        await proxy.set_mode("sideways")
    assert proxy.counts == {"delay": 1}
