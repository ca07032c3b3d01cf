"""HTTP/1.x as the old QQ server spoke it, on a bare asyncio Protocol.

Why not aiohttp: the seeds' PHP sends ``POST HTTP/1.1`` (no target), which aiohttp's
parser rejects. This reader takes one POST per connection, answers it, and closes:

* request line ``POST HTTP/1.x`` or ``POST <target> HTTP/1.x``; any other method, or a
  request it cannot read, is closed without a reply;
* header names in any case (``Content-length``), lines ending in CRLF or bare LF; a
  Content-Length is required;
* bytes after Content-Length are ignored (the seed's PHP sends an extra CRLFCRLF);
* headers at most ``max_header_bytes``, a body at most ``max_body_bytes``, and a whole
  exchange at most ``read_timeout`` seconds (swept by ``reap``), so slow or hostile clients
  cannot hold memory or connections.

After answering, the server half-closes and waits for the client's FIN (a "lingering
close"): closing a socket with unread bytes makes the kernel send RST, which can destroy
the reply before the client reads it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable

from ..clock import Clock
from .settings import SimulatorSettings

log = logging.getLogger(__name__)

RequestHandler = Callable[[str, bytes], "list[bytes] | None"]

_STATUS_AND_HEADERS = (
    b"HTTP/1.1 200 OK\r\n"
    b"Server: tencent imserver/1.0.0\r\n"
    b"Content-Type: text/plain; charset=UTF-8\r\n"
    b"Content-Length: "
)
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def http_response(body: bytes) -> bytes:
    """One reply as the seed shows it: no Connection header, the body right after."""
    return b"%s%d\r\n\r\n%s" % (_STATUS_AND_HEADERS, len(body), body)


class _BadRequest(Exception):
    pass


class HttpServer:
    def __init__(self, handle: RequestHandler, settings: SimulatorSettings, clock: Clock) -> None:
        self.handle = handle
        self.settings = settings
        self.clock = clock
        self._server: asyncio.Server | None = None
        # Open connections in the order they opened; the clock only moves forward, so the
        # oldest (the first to time out) is always at the front.
        self._connections: OrderedDict[_Connection, float] = OrderedDict()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), host, port, backlog=1024, reuse_address=True
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.abort()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def reap(self) -> int:
        """Abort every connection older than ``read_timeout``; how many were aborted."""
        deadline = self.clock.now() - self.settings.read_timeout
        reaped = 0
        while self._connections:
            connection, opened = next(iter(self._connections.items()))
            if opened > deadline:
                break
            connection.abort()  # removes itself via connection_lost; make sure anyway
            self._connections.pop(connection, None)
            reaped += 1
        return reaped

    def _opened(self, connection: _Connection) -> None:
        self._connections[connection] = self.clock.now()

    def _closed(self, connection: _Connection) -> None:
        self._connections.pop(connection, None)


class _Connection(asyncio.Protocol):
    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.buffer = bytearray()
        self.body_start = -1  # set once the headers are read
        self.content_length = 0
        self.answered = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peername = transport.get_extra_info("peername")
        self.peer = str(peername[0]) if peername else ""
        self.server._opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._closed(self)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self.answered:
            return  # lingering: the client's leftovers are read and dropped
        self.buffer += data
        try:
            if self.body_start < 0 and not self._read_head():
                return
        except _BadRequest as error:
            log.debug("closing a connection from %s: %s", self.peer, error)
            self._finish(None)
            return
        end = self.body_start + self.content_length
        if len(self.buffer) >= end:
            body = bytes(self.buffer[self.body_start : end])
            self.buffer = bytearray()
            try:
                replies = self.server.handle(self.peer, body)
            except Exception:
                log.exception("the simulator failed on a request from %s", self.peer)
                replies = None
            self._finish(replies)

    def eof_received(self) -> bool | None:
        if not self.answered:
            self._finish(None)  # the client stopped sending before a whole request
        return False  # close the transport

    def _read_head(self) -> bool:
        """Parse the request line and headers once they are all here; False to wait."""
        buffer = self.buffer
        crlf, lf = buffer.find(b"\r\n\r\n"), buffer.find(b"\n\n")
        ends = [(index, size) for index, size in ((crlf, 4), (lf, 2)) if index >= 0]
        if not ends:
            if len(buffer) > self.server.settings.max_header_bytes:
                raise _BadRequest("headers too long")
            return False
        head_end, separator = min(ends)
        if head_end > self.server.settings.max_header_bytes:
            raise _BadRequest("headers too long")
        lines = bytes(buffer[:head_end]).decode("latin-1").split("\n")
        self._check_request_line(lines[0].strip())
        length: int | None = None
        expects_continue = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                if not value.isdigit() or (length is not None and int(value) != length):
                    raise _BadRequest(f"bad Content-Length {value!r}")
                length = int(value)
            elif name == "expect" and value.lower() == "100-continue":
                expects_continue = True
        if length is None:
            raise _BadRequest("no Content-Length")
        if length > self.server.settings.max_body_bytes:
            raise _BadRequest(f"body of {length} bytes is too long")
        self.body_start = head_end + separator
        self.content_length = length
        if expects_continue and len(buffer) < self.body_start + length and self.transport:
            self.transport.write(_CONTINUE)  # .NET's WebClient waits for this
        return True

    @staticmethod
    def _check_request_line(line: str) -> None:
        parts = line.split()
        if not parts or parts[0] != "POST":
            raise _BadRequest(f"not a POST: {line[:40]!r}")
        if len(parts) not in (2, 3) or not parts[-1].startswith("HTTP/1."):
            raise _BadRequest(f"bad request line {line[:40]!r}")

    def _finish(self, replies: list[bytes] | None) -> None:
        """Send the replies (none: "NULL"), then half-close and wait for the client's FIN."""
        self.answered = True
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if replies:
            transport.write(b"".join(http_response(body) for body in replies))
        if transport.can_write_eof():
            transport.write_eof()
        else:
            transport.close()
