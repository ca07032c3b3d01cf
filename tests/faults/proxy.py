"""A TCP fault proxy for QQ's HTTP v1.1: one POST per connection, faults switched at run time.

The bridge's ``qq.server`` points at the proxy, the proxy at the QQ simulator. Each accepted
connection carries one exchange (one request, the server's reply, then close, as the protocol
has it), handled in the mode the proxy was in when the connection was accepted:

``pass``
    forwarded both ways.
``refuse``
    the listening socket is closed, so connects fail with ECONNREFUSED (nothing is accepted,
    so nothing is counted); leaving ``refuse`` listens again on the same port.
``blackhole``
    accepted and read, never answered while the mode lasts. When the proxy leaves
    ``blackhole`` what was held is forwarded, as TCP retransmission would deliver it: the
    server sees the request after the outage, and the reply goes back if the client is still
    there (if it gave up, the server still acted on the request, as it would have).
``garble``
    forwarded; the server's reply body is replaced by bytes that are no valid reply, with a
    correct Content-Length, so the HTTP framing stays valid.
``truncate``
    forwarded; the reply is cut in the middle of its body and the connection closed.
``delay``
    forwarded after ``seconds``.
``bogus``
    answered by the proxy itself with a body that is no valid reply (valid framing); the
    server never sees the request, so the client cannot know whether it acted (it did not).

Every exchange is recorded (:class:`Exchange`): the request, the server's reply as it was,
what the client got (``outcome``) and when, so a test can tell a message lost or sent twice
by the bridge from one the fault itself made ambiguous (a CLTMSG the server accepted whose
reply never reached the bridge; a GetMsgEx batch the server cleared whose reply never did).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from bridge.qq.simulator.httpserver import http_response

__all__ = ["MODES", "Exchange", "FaultProxy"]

MODES = ("pass", "refuse", "blackhole", "garble", "truncate", "delay", "bogus")

# Bodies that are no valid reply: an unreadable RES, and bytes that are no form at all.
GARBAGE = (b"RES=xx", b"\x00\xff\xfegarbage\x01 not a reply")

# How long the proxy waits for the client to close after its reply (then: the client read
# it), and for the server's whole reply.
_CLIENT_CLOSE_TIMEOUT = 10.0
_UPSTREAM_TIMEOUT = 60.0
_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(
    rb"^content-length:[ \t]*(\d+)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE
)

# Outcomes, as the client saw the exchange.
DELIVERED = "delivered"  # the reply as the server sent it, and the client read it
GARBLED = "garbled"
BOGUS = "bogus"  # answered by the proxy, the server never saw the request
TRUNCATED = "truncated"
UNREAD = "unread"  # written, but the client reset the connection without reading it
CLIENT_GONE = "client-gone"  # the client had left before the reply could be written
UPSTREAM_FAILED = "upstream-failed"  # the server could not be reached or did not answer
NO_REQUEST = "no-request"  # the client closed before sending a whole request


@dataclass
class Exchange:
    """One connection through the proxy."""

    number: int
    mode: str
    accepted: float  # time.time()
    request: bytes = b""  # as the client sent it (head and body)
    reply: bytes = b""  # as the server sent it (all of it, possibly two HTTP responses)
    outcome: str = ""
    held: bool = False  # held by a blackhole, then forwarded
    forwarded: float | None = None  # when the request went to the server
    replied: float | None = None  # when the reply (whatever was sent) was written
    fields: dict[str, str] = field(default_factory=dict)  # the request's form fields

    @property
    def command(self) -> str:
        return self.fields.get("CMD", "").upper()

    @property
    def uin(self) -> int | None:
        value = self.fields.get("UIN", "")
        return int(value) if value.isdigit() else None

    @property
    def intact(self) -> bool:
        """Whether the client got the server's reply exactly as it was sent."""
        return self.outcome == DELIVERED

    def reply_body(self) -> bytes:
        return _split_response(self.reply)[1]


class FaultProxy:
    """``proxy = FaultProxy(upstream_port); await proxy.start(); proxy.url; await
    proxy.set_mode("blackhole") ... await proxy.set_mode("pass"); await proxy.stop()``."""

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = "127.0.0.1"
        self.port = 0
        self.mode = "pass"
        self.delay = 0.0
        self.counts: Counter[str] = Counter()  # connections accepted, per mode
        self.exchanges: list[Exchange] = []
        self.mode_changes: list[tuple[float, str]] = []  # (time.time(), mode)
        self._server: asyncio.Server | None = None
        self._released = asyncio.Event()
        self._released.set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._numbers = itertools.count(1)
        self._garbage = itertools.cycle(GARBAGE)
        self._changed = asyncio.Condition()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self, port: int = 0) -> None:
        await self._listen(port)
        self.mode_changes.append((time.time(), self.mode))

    async def stop(self) -> None:
        self._close_listener()
        self._released.set()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def set_mode(self, mode: str, seconds: float = 0.0) -> None:
        """Switch; only connections accepted from now on see the new mode (held ones are let go
        when the mode leaves ``blackhole``)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        if mode == "delay" and seconds <= 0:
            raise ValueError("delay needs seconds > 0")
        previous, self.mode, self.delay = self.mode, mode, seconds
        self.mode_changes.append((time.time(), mode))
        if mode == "blackhole":
            self._released.clear()
        else:
            self._released.set()
        if mode == "refuse" and previous != "refuse":
            self._close_listener()
        elif mode != "refuse" and previous == "refuse":
            await self._listen(self.port)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Until ``predicate()`` holds; checked whenever an exchange reads its request or ends."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def wait_settled(self, timeout: float = 10.0) -> None:
        """Until every exchange so far has its outcome (known once the client has closed)."""
        await self.wait_for(lambda: all(e.outcome for e in self.exchanges), timeout)

    def since(self, moment: float) -> list[Exchange]:
        """The exchanges accepted at or after ``moment`` (a time.time())."""
        return [e for e in self.exchanges if e.accepted >= moment]

    # --- internals ----------------------------------------------------------------------

    async def _listen(self, port: int) -> None:
        self._server = await asyncio.start_server(
            self._on_connection, self.host, port, reuse_address=True, backlog=256
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def _close_listener(self) -> None:
        # Only the listening socket: exchanges in progress go on. No wait_closed(), which
        # (from Python 3.12) would wait for those too.
        server, self._server = self._server, None
        if server is not None:
            server.close()

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        mode, delay = self.mode, self.delay
        self.counts[mode] += 1
        exchange = Exchange(next(self._numbers), mode, time.time())
        self.exchanges.append(exchange)
        try:
            await self._exchange(exchange, delay, reader, writer)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            exchange.outcome = exchange.outcome or CLIENT_GONE
        finally:
            self._handlers.discard(task)
            writer.close()
            await self._notify()

    async def _exchange(
        self,
        exchange: Exchange,
        delay: float,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        request = await _read_request(reader)
        if request is None:
            exchange.outcome = NO_REQUEST
            return
        exchange.request = request
        exchange.fields = _form_fields(_split_response(request)[1])
        await self._notify()
        if exchange.mode == "blackhole":
            exchange.held = True
            await self._released.wait()
        elif exchange.mode == "delay":
            await asyncio.sleep(delay)
        if exchange.mode == "bogus":
            writer.write(http_response(next(self._garbage)))
            exchange.outcome = BOGUS
            reply: bytes | None = b""
        else:
            exchange.forwarded = time.time()
            reply = await self._forward(request)
        if reply is None:
            exchange.outcome = UPSTREAM_FAILED
            return
        exchange.reply = reply
        if exchange.mode == "bogus":
            pass
        elif _client_gone(reader):
            exchange.outcome = CLIENT_GONE
            return
        elif exchange.mode == "garble":
            writer.write(_garbled(reply, next(self._garbage)))
            exchange.outcome = GARBLED
        elif exchange.mode == "truncate":
            writer.write(_truncated(reply))
            exchange.outcome = TRUNCATED
        else:
            writer.write(reply)
        await writer.drain()
        exchange.replied = time.time()
        # A client that read the whole reply closes with a FIN; one that had not read it (it
        # gave up, or was killed) makes its kernel answer with a reset. (Our side half-closes
        # rather than aborts: a reset from us could destroy the reply before it is read.)
        writer.write_eof()
        try:
            await asyncio.wait_for(reader.read(), _CLIENT_CLOSE_TIMEOUT)
        except (ConnectionError, OSError):
            exchange.outcome = exchange.outcome or UNREAD
            return
        except TimeoutError:
            pass  # still open: it has the reply, whatever it does next
        exchange.outcome = exchange.outcome or DELIVERED

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _forward(self, request: bytes) -> bytes | None:
        try:
            reader, writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            return None
        try:
            writer.write(request)
            await writer.drain()
            return await asyncio.wait_for(reader.read(), _UPSTREAM_TIMEOUT)
        except (OSError, TimeoutError):
            return None
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(_HEAD_END)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    match = _CONTENT_LENGTH.search(head)
    length = int(match.group(1)) if match else 0
    try:
        body = await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        return None
    return head + body


def _client_gone(reader: asyncio.StreamReader) -> bool:
    """Whether the client closed (FIN) or reset its side; a live client sends nothing more."""
    return reader.at_eof() or reader.exception() is not None


def _split_response(data: bytes) -> tuple[bytes, bytes]:
    """(head with its blank line, the body its Content-Length names) of the first message."""
    end = data.find(_HEAD_END)
    if end < 0:
        return data, b""
    head, rest = data[: end + len(_HEAD_END)], data[end + len(_HEAD_END) :]
    match = _CONTENT_LENGTH.search(head)
    length = int(match.group(1)) if match else len(rest)
    return head, rest[:length]


def _garbled(reply: bytes, garbage: bytes) -> bytes:
    head, _ = _split_response(reply)
    if not head.endswith(_HEAD_END):
        return reply  # the server sent no reply ("NULL"): nothing to garble
    head = _CONTENT_LENGTH.sub(b"Content-Length: %d\r" % len(garbage), head, count=1)
    return head + garbage


def _truncated(reply: bytes) -> bytes:
    head, body = _split_response(reply)
    if len(body) >= 2:
        return head + body[: len(body) // 2]
    return head[: len(head) // 2]


def _form_fields(body: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return {}


def tcp_port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on ``port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0
