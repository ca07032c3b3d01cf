"""HTTP for QQ: one POST per request, one connection per POST. The only aiohttp code.

The old server closes every connection after its reply, and answers Query_Stat with TN=0
with *two* HTTP responses on one connection (seed 000). Reusing a connection could hand
that stray second response to the next request as its reply, so the connector never
reuses one (``force_close=True``) and every request says ``Connection: close``.
"""

from __future__ import annotations

from typing import Protocol

import aiohttp

from ..wire import NoReply
from .errors import TransportError

# The body is a form: every name and value percent-encoded as UTF-8 (requests.py), which is
# what this type means and what the seeds' percent-encoding clients (003's PHP class,
# 001/003's Indy) send. The server reads text/plain just as well (docs/protocol.md).
HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Connection": "close"}


class Transport(Protocol):
    """What the client needs from a transport; QQTransport is the real one."""

    async def post(self, body: bytes) -> bytes: ...


class QQTransport:
    def __init__(
        self,
        server_url: str,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
        max_connections: int = 100,
    ) -> None:
        self.server_url = server_url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_connections = max_connections
        if session is not None and not _never_reuses_connections(session):
            raise ValueError("the session must not reuse connections: make it with new_session()")
        self._session = session
        self._owns_session = session is None

    @property
    def session(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop, as aiohttp requires.
        if self._session is None:
            self._session = new_session(self._max_connections)
        return self._session

    async def post(self, body: bytes) -> bytes:
        """The reply body; NoReply when the server answers nothing, TransportError when the
        network fails."""
        try:
            async with self.session.post(
                self.server_url, data=body, headers=HEADERS, timeout=self._timeout
            ) as response:
                if response.status != 200:
                    raise TransportError(f"HTTP {response.status} from {self.server_url}")
                reply = await response.read()
        except aiohttp.ServerDisconnectedError:
            # The old server's NULL: it closes the connection without a response.
            raise NoReply() from None
        except (aiohttp.ClientError, OSError) as error:
            raise TransportError(describe(error, self.server_url)) from error
        if not reply.strip():
            raise NoReply()
        return reply

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None


def new_session(max_connections: int = 100) -> aiohttp.ClientSession:
    """A session fit for the QQ server: never reuses a connection (see the module doc)."""
    connector = aiohttp.TCPConnector(force_close=True, limit=max_connections)
    return aiohttp.ClientSession(connector=connector)


def _never_reuses_connections(session: aiohttp.ClientSession) -> bool:
    connector = session.connector
    return connector is not None and connector.force_close


def describe(error: BaseException, url: str) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer from {url} in time"
    return f"cannot reach {url}: {error.__class__.__name__}: {error}"
