"""QQTransport against misbehaving servers on real loopback sockets: replies without end,
servers that accept and never answer, dropped connection attempts, and the shared probe
that sees such a server come back."""

from __future__ import annotations

import asyncio
import socket
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bridge.qq.client import QQTransport, ReplyTooLarge, ServerUnreachable, TransportError
from bridge.qq.clock import FakeClock, settle
from bridge.qq.wire import requests

from .io_helpers import eventually

MiB = 1024 * 1024
LOGIN = requests.login(10001, 1, requests.password_md5("password1"))
REPLY = b"VER=1.1&CMD=LOGIN&SEQ=1&UIN=10001&RES=0&RS=0&HI=60&LI=300"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class LoopbackServer:
    """A TCP server on 127.0.0.1 whose every connection runs ``handler``; it counts
    connections and the bytes its handlers wrote, and cancels them all on ``stop``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.written = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await reader.readuntil(b"\r\n\r\n")
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up on us: what these tests expect
        except asyncio.CancelledError:
            pass  # stop(): ending quietly keeps asyncio from logging the cancelled handler
        finally:
            self._tasks.discard(task)
            writer.close()

    async def send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        await writer.drain()
        self.written += len(data)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[LoopbackServer]]]:
    servers: list[LoopbackServer] = []

    async def make(handler: Handler) -> LoopbackServer:
        server = LoopbackServer(handler)
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.stop()


# --- the reply size cap ---------------------------------------------------------------------


def lazy_body(server_ref: list[LoopbackServer], head: bytes, total: int) -> Handler:
    """Sends ``head`` then ``total`` bytes of body, 64 KiB at a time, as fast as the client
    reads them (drain): a 100 MiB reply costs the server nothing up front."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server = server_ref[0]
        await server.send(writer, head)
        chunk = b"A" * (64 * 1024)
        while server.written < total:
            await server.send(writer, chunk)

    return handler


async def test_a_reply_announced_larger_than_the_cap_is_refused_before_reading_it(
    serve: Callable[[Handler], Awaitable[LoopbackServer]],
) -> None:
    ref: list[LoopbackServer] = []
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (100 * MiB)
    server = await serve(lazy_body(ref, head, 100 * MiB))
    ref.append(server)
    transport = QQTransport(server.url, max_reply_bytes=MiB)
    try:
        with pytest.raises(ReplyTooLarge) as error:
            await transport.post(LOGIN)
        assert "longer than 1048576 bytes" in str(error.value)
    finally:
        await transport.close()
    await eventually(lambda: not server._tasks, "the server saw the connection closed")
    assert server.written < 10 * MiB  # it stopped long before 100 MiB: the client hung up


async def test_an_endless_reply_without_a_length_stops_at_the_cap_in_bounded_memory(
    serve: Callable[[Handler], Awaitable[LoopbackServer]],
) -> None:
    ref: list[LoopbackServer] = []
    head = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"  # body until the connection ends
    server = await serve(lazy_body(ref, head, 100 * MiB))
    ref.append(server)
    transport = QQTransport(server.url, max_reply_bytes=MiB)
    tracemalloc.start()
    try:
        with pytest.raises(ReplyTooLarge):
            await transport.post(LOGIN)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await transport.close()
    # The cap's worth of body, its join, and aiohttp's buffers: nowhere near 100 MiB.
    assert peak < 4 * MiB
    await eventually(lambda: not server._tasks, "the server saw the connection closed")
    assert server.written < 10 * MiB


async def test_a_reply_of_exactly_the_cap_is_read_and_one_byte_more_is_not(
    serve: Callable[[Handler], Awaitable[LoopbackServer]],
) -> None:
    async def exact(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        body = REPLY + b"&" * (100 - len(REPLY))
        await server.send(writer, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)

    server = await serve(exact)
    fits, too_small = (
        QQTransport(server.url, max_reply_bytes=100),
        QQTransport(server.url, max_reply_bytes=99),
    )
    try:
        assert len(await fits.post(LOGIN)) == 100
        with pytest.raises(ReplyTooLarge):
            await too_small.post(LOGIN)
    finally:
        await fits.close()
        await too_small.close()


# --- connect and read time-outs -------------------------------------------------------------


def answering_after(delay: float) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(delay)  # the server's own slowness, not a test waiting
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(REPLY)
        writer.write(head + REPLY)
        await writer.drain()

    return handler


async def test_a_slow_reply_times_out_a_quick_command_but_not_a_penalisable_one(
    serve: Callable[[Handler], Awaitable[LoopbackServer]],
) -> None:
    server = await serve(answering_after(0.5))
    transport = QQTransport(server.url, timeout=5.0, read_timeout=0.2, connect_timeout=1.0)
    try:
        with pytest.raises(ServerUnreachable) as error:
            await transport.post(LOGIN)
        assert "no answer" in str(error.value) and "within 0.2 s" in str(error.value)
        transport.reachability.found()  # as the probe would, once it got an answer
        assert await transport.post(LOGIN, slow=True) == REPLY  # 0.5 s is fine for CLTMSG
    finally:
        await transport.close()


async def test_a_connection_attempt_that_is_never_answered_fails_after_the_connect_timeout() -> (
    None
):
    # A listening socket whose accept queue is full: Linux drops further SYNs, as a
    # black-holed route does, so the connection attempt hangs.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port))
    transport = QQTransport(
        f"http://127.0.0.1:{port}", timeout=30.0, read_timeout=30.0, connect_timeout=0.3
    )
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        with pytest.raises(ServerUnreachable) as error:
            await transport.post(LOGIN, slow=True)
        assert "could not connect" in str(error.value) and "within 0.3 s" in str(error.value)
        assert loop.time() - started < 5.0  # not the 30 s read time-out
    finally:
        await transport.close()
        filler.close()
        listener.close()


async def test_a_dripping_reply_or_a_wait_for_a_free_connection_ends_but_is_not_an_outage(
    serve: Callable[[Handler], Awaitable[LoopbackServer]],
) -> None:
    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.send(writer, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nVER=1.1")
        while True:  # never silent for a read time-out, never done
            await asyncio.sleep(0.02)
            await server.send(writer, b"&")

    server = await serve(drip)
    # One connection: the second request waits for the first one's, all in its total time.
    transport = QQTransport(
        server.url, timeout=1.0, read_timeout=1.0, connect_timeout=0.1, max_connections=1
    )
    try:
        results = await asyncio.gather(
            transport.post(LOGIN), transport.post(LOGIN), return_exceptions=True
        )
        for result in results:
            assert isinstance(result, TransportError), result
            assert not isinstance(result, ServerUnreachable)
            assert "no complete answer" in str(result) and "within 1.1 s" in str(result)
        assert transport.reachability.reachable  # it answers, slowly: not an outage
    finally:
        await transport.close()


# --- the shared probe -----------------------------------------------------------------------


def connections(server: LoopbackServer, count: int) -> Callable[[], bool]:
    return lambda: server.connections == count


async def test_while_unreachable_nothing_is_sent_but_one_probe_and_its_answer_wakes_all(
    serve: Callable[[Handler], Awaitable[LoopbackServer]],
) -> None:
    answering = asyncio.Event()

    async def black_hole_until_answering(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await answering.wait()  # accepts, then says nothing until the test says so
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(REPLY)
        writer.write(head + REPLY)
        await writer.drain()

    server = await serve(black_hole_until_answering)
    clock = FakeClock()
    transport = QQTransport(
        server.url, read_timeout=0.2, probe_interval=1.0, probe_timeout=0.2, clock=clock
    )
    try:
        with pytest.raises(ServerUnreachable):
            await transport.post(LOGIN)  # times out: the server is now known unreachable
        await settle()  # the probe task starts its first wait
        assert server.connections == 1
        # A thousand clients asking now fail at once, without a connection each.
        for _ in range(1000):
            with pytest.raises(ServerUnreachable):
                await transport.post(LOGIN)
        assert server.connections == 1
        waiters = [asyncio.ensure_future(transport.wait_reachable()) for _ in range(100)]
        for probe in (1, 2):  # one probe per interval, each a single connection
            await clock.advance(1.0)
            await eventually(connections(server, 1 + probe), f"probe {probe}")
            await eventually(lambda: clock.sleepers == 1, "the probe timed out and sleeps")
        assert not any(waiter.done() for waiter in waiters)
        answering.set()  # the server is back
        await clock.advance(1.0)
        await eventually(lambda: transport.reachability.reachable, "the probe saw it back")
        await clock.advance(1.0)  # the wake-up spread
        await eventually(lambda: all(waiter.done() for waiter in waiters), "all woken")
        assert server.connections == 4
        assert await transport.post(LOGIN) == REPLY
    finally:
        await transport.close()


async def test_a_request_sent_into_the_outage_is_given_up_when_the_probe_sees_the_server_back(
    serve: Callable[[Handler], Awaitable[LoopbackServer]],
) -> None:
    back = asyncio.Event()

    async def dead_until_back(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not back.is_set():  # a connection made during the outage is never answered
            await asyncio.Event().wait()
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(REPLY)
        writer.write(head + REPLY)
        await writer.drain()

    server = await serve(dead_until_back)
    clock = FakeClock()
    transport = QQTransport(
        server.url, timeout=60.0, read_timeout=0.2, probe_timeout=0.2, clock=clock
    )
    try:
        message = asyncio.ensure_future(transport.post(LOGIN, slow=True))  # a CLTMSG, say
        await eventually(connections(server, 1), "the message was sent")
        with pytest.raises(ServerUnreachable):
            await transport.post(LOGIN)  # a poll notices the outage
        await settle()
        back.set()
        await clock.advance(1.0)  # the probe answers
        await eventually(lambda: message.done(), "the message was given up")
        with pytest.raises(ServerUnreachable) as error:
            message.result()
        assert "sent before an outage" in str(error.value)
        assert await transport.post(LOGIN) == REPLY  # its retry goes through
    finally:
        await transport.close()
