"""QQTransport against the simulator: one connection per request, the TN=0 double reply."""

from __future__ import annotations

import asyncio

import pytest

from bridge.qq.client import QQTransport, TransportError
from bridge.qq.codes import Command
from bridge.qq.simulator import Simulator
from bridge.qq.wire import NoReply, requests
from bridge.qq.wire.replies import (
    decode_get_msg_ex,
    decode_list,
    decode_query_stat,
    parse_envelope,
)
from tests.raw_http import split_responses

from .io_helpers import eventually

PS = requests.password_md5("password1")


async def raw_exchange(url: str, body: bytes) -> bytes:
    """Everything the server sends for one request, read to the end of the connection."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST / HTTP/1.1\r\nHost: qq\r\nContent-Type: text/plain; charset=UTF-8\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
    )
    await writer.drain()
    raw = await reader.read()
    writer.close()
    return raw


async def test_the_server_really_answers_query_stat_tn_0_twice(simulator: Simulator) -> None:
    raw = await raw_exchange(simulator.url, requests.login(10001, 1, PS))
    assert len(split_responses(raw)) == 1
    raw = await raw_exchange(simulator.url, requests.query_stat(10001, 2, tn=0))
    assert len(split_responses(raw)) == 2  # the trap the transport must not fall into


async def test_the_second_query_stat_reply_never_answers_a_later_request(
    simulator: Simulator, transport: QQTransport
) -> None:
    await transport.post(requests.login(10001, 1, PS))
    for seq in range(2, 40, 2):
        first = await transport.post(requests.query_stat(10001, seq, tn=0))
        assert decode_query_stat(parse_envelope(Command.QUERY_STAT, first)).friends == []
        # Were the stray second response read as this reply, it would be a QUERY_STAT.
        after = await transport.post(requests.get_msg_ex(10001, seq + 1))
        assert decode_get_msg_ex(parse_envelope(Command.GET_MSG_EX, after)) == []


async def test_concurrent_requests_on_one_transport_each_get_their_own_reply(
    simulator: Simulator,
) -> None:
    transport = QQTransport(simulator.url, max_connections=10)
    try:
        await transport.post(requests.login(10001, 1, PS))
        bodies = [
            requests.query_stat(10001, seq, tn=0) if seq % 2 else requests.list_friends(10001, seq)
            for seq in range(100, 160)
        ]
        replies = await asyncio.gather(*(transport.post(body) for body in bodies))
        for body, reply in zip(bodies, replies, strict=True):
            if b"Query_Stat" in body:
                parse_envelope(Command.QUERY_STAT, reply)
            else:
                assert decode_list(parse_envelope(Command.LIST, reply)).uins == [10002, 10003]
    finally:
        await transport.close()


async def test_each_request_says_it_is_form_encoded_and_closes_its_connection(
    simulator: Simulator, transport: QQTransport
) -> None:
    heads: list[bytes] = []

    async def recording_proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Passes the request to the simulator unchanged, keeping its head for the test.
        request = await reader.readuntil(b"\r\n\r\n")
        heads.append(request)
        length = int(request.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        reply = await raw_exchange(simulator.url, await reader.readexactly(length))
        writer.write(reply)
        await writer.drain()
        writer.close()

    proxy = await asyncio.start_server(recording_proxy, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    proxied = QQTransport(f"http://127.0.0.1:{port}")
    try:
        for seq in (1, 2):
            reply = await proxied.post(requests.login(10001, seq, PS))
            assert parse_envelope(Command.LOGIN, reply).fields["RS"] == "0"
    finally:
        await proxied.close()
        proxy.close()
        await proxy.wait_closed()
    assert len(heads) == 2
    for head in heads:
        lines = head.decode().lower().split("\r\n")
        assert lines[0].startswith("post ")
        assert "content-type: application/x-www-form-urlencoded" in lines
        assert "connection: close" in lines
    await eventually(lambda: simulator.http.open_connections == 0, "connections closed")


async def test_an_unanswered_request_is_no_reply(
    simulator: Simulator, transport: QQTransport
) -> None:
    with pytest.raises(NoReply):
        await transport.post(b"VER=1.1&CMD=Login&SEQ=1&UIN=abc&PS=&M5=1&LC=0")


async def test_a_stopped_server_is_a_transport_error(simulator: Simulator) -> None:
    url = simulator.url
    await simulator.stop()
    transport = QQTransport(url, timeout=5.0)
    try:
        with pytest.raises(TransportError) as error:
            await transport.post(requests.login(10001, 1, PS))
        assert url in str(error.value)
    finally:
        await transport.close()


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://127.0.0.1:8000", "http://"])
def test_a_server_that_is_no_http_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        QQTransport(url)


async def test_the_probe_counts_the_simulators_answer_and_not_a_stopped_server(
    simulator: Simulator, transport: QQTransport
) -> None:
    raw = await raw_exchange(simulator.url, requests.list_friends(0, 0, tn=0))
    assert b"RES=20" in split_responses(raw)[0]  # what the probe gets: not logged in
    assert await transport._probe()
    await simulator.stop()
    assert not await transport._probe()


async def test_a_server_named_by_host_is_looked_up_once_per_ttl_not_per_request(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()
    lookups: list[str] = []
    real = loop.getaddrinfo

    async def counted(host: str, *args: object, **kwargs: object) -> object:
        lookups.append(host)
        return await real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "getaddrinfo", counted)
    named = QQTransport(simulator.url.replace("127.0.0.1", "localhost"))
    try:
        for seq in range(1, 6):
            reply = await named.post(requests.login(10001, seq, PS))
            assert parse_envelope(Command.LOGIN, reply).fields["RS"] == "0"
        assert lookups == ["localhost"]
        named._address.ttl = 0.0  # the answer has expired: the next request looks up again
        await named.post(requests.get_msg_ex(10001, 9))
        assert lookups == ["localhost", "localhost"]
    finally:
        await named.close()


def test_a_server_url_that_is_not_ascii_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="ASCII"):
        QQTransport("http://127.0.0.1:8000/qq/服务")
