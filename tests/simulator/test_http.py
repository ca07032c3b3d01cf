"""The HTTP layer: what the old server accepted, how it answered, and its bounds."""

from __future__ import annotations

import asyncio

import pytest

from bridge.qq.clock import FakeClock
from bridge.qq.simulator import Simulator, SimulatorSettings
from tests.raw_http import split_responses

from .helpers import exchange, head, login, php_request

LOGOUT = head(10001, "Logout").encode()
LOGOUT_REPLY = head(10001, "LOGOUT").encode() + b"&RES=0"


def expected_response(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nServer: tencent imserver/1.0.0\r\n"
        b"Content-Type: text/plain; charset=UTF-8\r\nContent-Length: %d\r\n\r\n%s"
        % (len(body), body)
    )


async def test_php_request_without_target_gets_the_seeds_response_byte_for_byte(
    sim: Simulator,
) -> None:
    raw = await exchange(sim.port, php_request(LOGOUT))
    assert raw == expected_response(LOGOUT_REPLY)


async def test_request_line_with_a_target_is_accepted(sim: Simulator) -> None:
    raw = await exchange(sim.port, php_request(LOGOUT, b"POST / HTTP/1.1"))
    assert raw == expected_response(LOGOUT_REPLY)


async def test_form_urlencoded_body_with_standard_headers(sim: Simulator) -> None:
    body = b"VER=1.1&CMD=Logout&SEQ=%2D1&UIN=10001"  # SEQ=-1, percent-encoded (seed 003)
    raw = await exchange(
        sim.port,
        b"POST /qq HTTP/1.0\r\nHost: tqq.tencent.com:8000\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nCONTENT-LENGTH: %d\r\n\r\n%s"
        % (len(body), body),
    )
    assert split_responses(raw) == [b"VER=1.1&CMD=LOGOUT&SEQ=-1&UIN=10001&RES=0"]


async def test_bare_lf_line_endings_are_accepted(sim: Simulator) -> None:
    raw = await exchange(sim.port, b"POST HTTP/1.1\nContent-length: %d\n\n%s" % (13, LOGOUT[:13]))
    assert raw == b""  # "VER=1.1&CMD=L": an unknown command, so no reply; but it was read
    raw = await exchange(
        sim.port, b"POST HTTP/1.1\nContent-length: %d\n\n%s" % (len(LOGOUT), LOGOUT)
    )
    assert split_responses(raw) == [LOGOUT_REPLY]


async def test_request_arriving_in_pieces_is_assembled(sim: Simulator) -> None:
    raw = php_request(LOGOUT)
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    for start in range(0, len(raw), 7):
        writer.write(raw[start : start + 7])
        await writer.drain()
        await asyncio.sleep(0)
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert split_responses(data) == [LOGOUT_REPLY]


async def test_expect_100_continue_is_honoured(sim: Simulator) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    writer.write(
        b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(LOGOUT)
    )
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(LOGOUT)
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert split_responses(data) == [LOGOUT_REPLY]


@pytest.mark.parametrize(
    "raw",
    [
        b"GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        b"PUT HTTP/1.1\r\nContent-length: %d\r\n\r\n%s" % (len(LOGOUT), LOGOUT),
        b"post HTTP/1.1\r\nContent-length: %d\r\n\r\n%s" % (len(LOGOUT), LOGOUT),
        b"POST HTTP/1.1\r\n\r\n" + LOGOUT,  # no Content-Length
        b"POST HTTP/1.1\r\nContent-length: x\r\n\r\n" + LOGOUT,
        b"POST a b HTTP/1.1\r\nContent-length: %d\r\n\r\n%s" % (len(LOGOUT), LOGOUT),
        b"POST\r\nContent-length: %d\r\n\r\n%s" % (len(LOGOUT), LOGOUT),
        b"POST HTTP/1.1\r\nContent-length: %d\r\n\r\n%s" % (len(LOGOUT) + 5, LOGOUT),  # short
    ],
    ids=[
        "get",
        "put",
        "lowercase-method",
        "no-length",
        "bad-length",
        "bad-line",
        "no-version",
        "body-cut-short",
    ],
)
async def test_requests_it_cannot_read_are_closed_without_a_reply(
    sim: Simulator, raw: bytes
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    writer.write(raw)
    writer.write_eof()  # the short body ends here
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert data == b""


async def test_oversized_headers_and_bodies_are_refused() -> None:
    settings = SimulatorSettings(max_header_bytes=256, max_body_bytes=64)
    async with Simulator(settings=settings, clock=FakeClock()) as sim:
        long_header = b"POST HTTP/1.1\r\nX-Filler: " + b"a" * 300  # never ends: cut at 256
        assert await exchange(sim.port, long_header) == b""
        big = b"VER=1.1&CMD=Logout&SEQ=1&UIN=10001&PAD=" + b"a" * 30
        assert await exchange(sim.port, php_request(big)) == b""
        small = b"VER=1.1&CMD=Logout&SEQ=1&UIN=10001"
        assert split_responses(await exchange(sim.port, php_request(small))) != []


async def test_a_stalled_connection_is_dropped_after_the_read_timeout(
    sim: Simulator, clock: FakeClock
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    writer.write(b"POST HTTP/1.1\r\nContent-length: 100\r\n\r\nVER=1.1")
    await writer.drain()
    for _ in range(50):  # let the server see the connection
        if sim.http.open_connections:
            break
        await asyncio.sleep(0.01)
    assert sim.http.open_connections == 1
    await clock.advance(sim.settings.read_timeout - 1)
    assert sim.http.open_connections == 1
    await clock.advance(2)  # the maintenance task reaps it
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert data == b""
    assert sim.http.open_connections == 0


async def test_one_host_keeps_sessions_for_several_numbers(sim: Simulator) -> None:
    assert "RS=0" in await login(sim, 10001)
    assert "RS=0" in await login(sim, 10002)
    assert sim.state.is_online(10001) and sim.state.is_online(10002)
