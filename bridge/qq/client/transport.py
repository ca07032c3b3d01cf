"""HTTP for QQ: one POST per request, one connection per POST. The only network code.

The old server closes every connection after its reply, and answers Query_Stat with TN=0
with *two* HTTP responses on one connection (seed 000). Reusing a connection could hand
that stray second response to the next request as its reply, so a connection is never
reused: each request opens its own, says ``Connection: close``, reads one response and
closes it.

That makes a connection per request the whole cost of QQ's HTTP, so it is done on asyncio's
streams with h11 (a sans-I/O HTTP/1.1 library) writing the request and parsing the reply:
about half the CPU of aiohttp's client for the same exchange, which sets up a connection
through its pool and happy-eyeballs machinery each time (docs/performance.md).

It also guards the bridge against a server that misbehaves: a reply is read only up to a
size cap, the server's silence is timed apart for connecting, for quick commands and for
those that may be penalised, and an outage is watched by one shared probe
(``reachability``) instead of by every account (docs/protocol.md, *Client behaviour*).
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import h11

from ..clock import Clock, RealClock
from ..wire import NoReply, WireError, requests
from .errors import ReplyTooLarge, ServerUnreachable, TransportError
from .reachability import Reachability

# The body is a form: every name and value percent-encoded as UTF-8 (requests.py), which is
# what this type means and what the seeds' percent-encoding clients (003's PHP class,
# 001/003's Indy) send. The server reads text/plain just as well (docs/protocol.md).
HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Connection": "close"}

MiB = 1024 * 1024
log = logging.getLogger(__name__)

# A reply is read this many bytes at a time, and never more than one byte past the cap.
_CHUNK = 64 * 1024

# The probe asks for a friend count (List TN=0: changes nothing, consumes no events) for a
# number that has no session. The server answers RES=20 (000/004); any answer will do.
_PROBE_UIN = 0


class _TookTooLong(TransportError):
    """The whole request ran past its ``total`` time-out (a free connection included)."""


@dataclass(frozen=True)
class Limits:
    """Seconds: to connect, of the server's silence once connected, for the whole request."""

    connect: float
    read: float
    total: float


class Transport(Protocol):
    """What the client needs from a transport; QQTransport is the real one."""

    async def post(self, body: bytes, *, slow: bool = False) -> bytes:
        """The reply body. ``slow``: the command may be penalised, and a penalised reply
        may take 20 s (seed 004), so it gets the long time-out."""
        ...

    async def wait_reachable(self) -> None:
        """Return once the server answers again (at once if nothing says it does not)."""
        ...


class QQTransport:
    def __init__(
        self,
        server_url: str,
        timeout: float = 35.0,
        max_connections: int = 100,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_reply_bytes: int = MiB,
        probe_interval: float = 1.0,
        probe_timeout: float = 2.0,
        recovery_spread: float = 1.0,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Every time is in seconds, and every default our choice (docs/protocol.md):

        - ``connect_timeout``: to open the TCP connection, for every request (5 s).
        - ``read_timeout``: the longest silence of the server once the request is sent, for
          commands the seeds never penalise (``slow=False``: GetMsgEx, List, Query_Stat,
          GetInfo, Login, Logout, AddToList), so a server that accepts and never answers is
          noticed within seconds (10 s).
        - ``timeout``: the same for ``slow=True`` (CLTMSG, Change_Stat, Ack_AddToList,
          DelFromList): seed 004's penalised reply may itself take 20 s (35 s).
        - Past either, or the connect time-out, the server counts as unreachable. A request
          also never takes longer than ``connect_timeout + timeout`` in all, waiting for a
          free connection included; past that it fails with a plain TransportError, which
          says nothing about the server (the wait may have been ours).
        - ``max_reply_bytes``: the longest reply body read; past it ``ReplyTooLarge`` (1 MiB;
          the largest real reply is a few KB).
        - ``probe_interval``, ``probe_timeout``, ``recovery_spread``: while the server is
          unreachable, one probe per interval, each given ``probe_timeout``; clients wake a
          random 0 to ``recovery_spread`` s after it answers (``reachability``).
        """
        self.server_url = server_url
        url = urlsplit(server_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(
                f"the QQ server must be an http:// or https:// URL, not {server_url!r}"
            )
        self._host, self._tls = url.hostname, url.scheme == "https"
        self._port = url.port or (443 if self._tls else 80)
        self._head = [
            ("Host", url.netloc),
            *HEADERS.items(),
        ]
        self._target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        # connect and read time the server; total also counts the wait for one of our
        # max_connections, which under load is our doing, not the server's.
        whole = connect_timeout + timeout
        self._slow = Limits(connect_timeout, timeout, whole)
        self._fast = Limits(connect_timeout, read_timeout, whole)
        self._probe_limits = Limits(
            min(connect_timeout, probe_timeout), probe_timeout, probe_timeout
        )
        self.max_reply_bytes = max_reply_bytes
        self._connections = asyncio.Semaphore(max_connections)
        # Requests under way, and those of them given up when an outage ended (_probe).
        self._in_flight: set[asyncio.Future[bytes]] = set()
        self._abandoned: set[asyncio.Future[bytes]] = set()
        self.reachability = Reachability(
            self._probe, clock or RealClock(), probe_interval, recovery_spread, rng
        )

    async def post(self, body: bytes, *, slow: bool = False) -> bytes:
        """The reply body (at most ``max_reply_bytes``). Raises NoReply when the server
        closes without answering, ReplyTooLarge past the cap, ServerUnreachable when it
        cannot be reached or does not answer in time (and at once, without sending, while
        the probe has not seen it back), TransportError for other HTTP failures."""
        if not self.reachability.reachable:
            raise ServerUnreachable(f"{self.server_url} is unreachable; waiting for it to answer")
        exchange = asyncio.ensure_future(self._exchange(body, self._slow if slow else self._fast))
        self._in_flight.add(exchange)
        try:
            reply = await exchange
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if exchange in self._abandoned and not (current and current.cancelling()):
                raise ServerUnreachable(
                    f"no answer from {self.server_url} to a request sent before an outage"
                ) from None
            raise
        except ServerUnreachable:
            self.reachability.lost()
            raise
        finally:
            self._in_flight.discard(exchange)
            self._abandoned.discard(exchange)
        self.reachability.found()
        if not reply.strip():
            raise NoReply()
        return reply

    async def wait_reachable(self) -> None:
        await self.reachability.wait()

    async def close(self) -> None:
        await self.reachability.close()

    async def _exchange(self, body: bytes, limits: Limits) -> bytes:
        url = self.server_url
        try:
            async with asyncio.timeout(limits.total), self._connections:
                return await self._on_new_connection(body, limits)
        except TimeoutError as error:  # the whole request, a free connection included
            raise _TookTooLong(
                f"no complete answer from {url} within {limits.total:g} s"
            ) from error
        except OSError as error:
            # No connection (refused, reset, no route): the server or the path is down.
            raise ServerUnreachable(f"cannot reach {url}: {_name(error)}") from error
        except h11.RemoteProtocolError as error:  # a broken reply: bad HTTP, a body cut short
            raise TransportError(f"cannot read the reply from {url}: {error}") from error

    async def _on_new_connection(self, body: bytes, limits: Limits) -> bytes:
        """Connect, send, read one response, close. The connect and read time-outs become
        ServerUnreachable here, so the only TimeoutError out of this is the total's."""
        try:
            async with asyncio.timeout(limits.connect):
                reader, writer = await asyncio.open_connection(
                    self._host, self._port, ssl=self._tls, limit=_CHUNK
                )
        except TimeoutError as error:
            raise ServerUnreachable(
                f"could not connect to {self.server_url} within {limits.connect:g} s"
            ) from error
        try:
            http = h11.Connection(h11.CLIENT)
            head = h11.Request(
                method="POST",
                target=self._target,
                headers=[*self._head, ("Content-Length", str(len(body)))],
            )
            writer.write(http.send(head) + http.send(h11.Data(data=body)))
            http.send(h11.EndOfMessage())
            return await self._read_reply(http, reader, limits.read)
        finally:
            writer.close()

    async def _read_reply(
        self, http: h11.Connection, reader: asyncio.StreamReader, read: float
    ) -> bytes:
        """The body of the one response, read piece by piece and given up as soon as it
        passes the cap, so a server that sends without end costs at most
        ``max_reply_bytes`` of memory."""
        limit, chunks, size, heard = self.max_reply_bytes, list[bytes](), 0, False
        while True:
            event = http.next_event()
            if event is h11.NEED_DATA:
                try:
                    async with asyncio.timeout(read):
                        data = await reader.read(min(_CHUNK, limit + 1 - size))
                except TimeoutError as error:
                    raise ServerUnreachable(
                        f"no answer from {self.server_url} within {read:g} s"
                    ) from error
                if not data and not heard:
                    raise NoReply()  # the old server's NULL: it closes without a response
                heard = True
                http.receive_data(data)  # b"": the server closed the connection
            elif isinstance(event, h11.Response):
                if event.status_code != 200:
                    raise TransportError(f"HTTP {event.status_code} from {self.server_url}")
                length = dict(event.headers).get(b"content-length")
                if length is not None and int(length) > limit:
                    raise ReplyTooLarge(limit)  # said so up front: read none of it
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > limit:
                    raise ReplyTooLarge(limit)
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(chunks)
            # An informational (1xx) response comes before the real one: read on.

    async def _probe(self) -> bool:
        """True when the server answers an HTTP request at all (any status, any body, or a
        deliberate close): it is reading requests again."""
        body = requests.list_friends(_PROBE_UIN, 0, tn=0)
        try:
            await self._exchange(body, self._probe_limits)
        except (ServerUnreachable, _TookTooLong):
            return False
        except (TransportError, WireError):  # it answered, if not well: it is there
            pass
        if not self.reachability.reachable:  # else a request got through meanwhile, and
            self._abandon_in_flight()  # those under way may have been sent after it
        return True

    def _abandon_in_flight(self) -> None:
        """Give up the requests still under way when an outage ends. Nothing is sent during
        one, so each was sent before it was noticed, into a server or route that has since
        answered nothing: a CLTMSG there would otherwise wait out its 35 s after the server
        is back. Its sender retries it at once, so it may arrive twice (at-least-once, as
        after an unreadable reply; docs/protocol.md)."""
        if self._in_flight:
            log.info("giving up %d requests sent before the outage", len(self._in_flight))
        for exchange in self._in_flight:
            self._abandoned.add(exchange)
            exchange.cancel()


def _name(error: OSError) -> str:
    return f"{error.__class__.__name__}: {error}"
