"""HTTP for QQ: one POST per request, one connection per POST. The only network code.

The old server closes every connection after its reply, and answers Query_Stat with TN=0
with *two* HTTP responses on one connection (seed 000). Reusing a connection could hand
that stray second response to the next request as its reply, so a connection is never
reused: each request opens its own, says ``Connection: close``, reads one response and
closes it.

That makes a connection per request the whole cost of QQ's HTTP, so it is done on asyncio's
streams, the bytes of the exchange made and read without I/O in http.py: a quarter of the CPU
of aiohttp's client for the same exchange, which sets each connection up through its pool and
happy-eyeballs machinery (docs/performance.md).

It also guards the bridge against a server that misbehaves: a reply is read only up to a
size cap, the server's silence is timed apart for connecting, for quick commands and for
those that may be penalised, and an outage is watched by one shared probe
(``reachability``) instead of by every account (docs/protocol.md, *Client behaviour*).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import socket
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from ..clock import Clock, RealClock
from ..wire import NoReply, WireError, requests
from . import http
from .errors import ServerUnreachable, TransportError
from .http import BrokenReply, NothingHeard
from .reachability import Reachability

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
        self._target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        if not (url.netloc + self._target).isascii():
            raise ValueError(f"the QQ server's URL must be ASCII (percent-encoded): {server_url!r}")
        self._host, self._tls = url.hostname, url.scheme == "https"
        self._port = url.port or (443 if self._tls else 80)
        self._netloc = url.netloc
        self._address = Address(self._host)
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
        except NothingHeard:
            raise NoReply() from None  # the old server's NULL: it closes without a response
        except BrokenReply as error:  # bad HTTP, a status other than 200, a body cut short
            raise TransportError(f"cannot read the reply from {url}: {error}") from None

    async def _on_new_connection(self, body: bytes, limits: Limits) -> bytes:
        """Connect, send, read one response, close. The connect and read time-outs become
        ServerUnreachable here, so the only TimeoutError out of this is the total's."""
        try:
            async with asyncio.timeout(limits.connect):
                reader, writer = await asyncio.open_connection(
                    await self._address.resolve(self._port),
                    self._port,
                    ssl=self._tls,
                    server_hostname=self._host if self._tls else None,
                    limit=_CHUNK,
                )
        except TimeoutError as error:
            self._address.forget()
            raise ServerUnreachable(
                f"could not connect to {self.server_url} within {limits.connect:g} s"
            ) from error
        except OSError:
            self._address.forget()  # the server may have moved: look it up again next time
            raise
        try:
            writer.write(http.request(self._target, self._netloc, body))
            reply = http.ReplyReader(self.max_reply_bytes)
            while True:
                # At most a byte past the cap is ever read: a server sending without end
                # costs no more memory than that.
                wanted = min(_CHUNK, self.max_reply_bytes + 1 - reply.size)
                try:
                    async with asyncio.timeout(limits.read):
                        data = await reader.read(wanted)
                except TimeoutError as error:
                    raise ServerUnreachable(
                        f"no answer from {self.server_url} within {limits.read:g} s"
                    ) from error
                if (body_read := reply.feed(data)) is not None:
                    return body_read
        finally:
            writer.close()

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


class Address:
    """The server's IP address, looked up at most once per ``ttl`` seconds.

    A lookup per request (what ``open_connection`` does with a name) would be a trip to a
    resolver thread for every poll; aiohttp's client kept its answers 10 s, and so do we. A
    URL that names an IP address is never looked up.
    """

    def __init__(self, host: str, ttl: float = 10.0) -> None:
        self.host, self.ttl = host, ttl
        try:
            self._known: str | None = str(ipaddress.ip_address(host))
            self._fixed = True
        except ValueError:
            self._known, self._fixed = None, False
        self._looked_up_at = 0.0

    async def resolve(self, port: int) -> str:
        """An IP address of the host (socket.gaierror, an OSError, if it has none)."""
        loop = asyncio.get_running_loop()
        if self._known is not None and (self._fixed or loop.time() - self._looked_up_at < self.ttl):
            return self._known
        found = await loop.getaddrinfo(self.host, port, type=socket.SOCK_STREAM)
        self._known, self._looked_up_at = str(found[0][4][0]), loop.time()
        return self._known

    def forget(self) -> None:
        if not self._fixed:
            self._known = None


def _name(error: OSError) -> str:
    return f"{error.__class__.__name__}: {error}"
