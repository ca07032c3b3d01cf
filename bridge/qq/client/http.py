"""One HTTP/1.1 exchange with QQ's server, without I/O: a request's bytes, and its reply read
from whatever bytes the connection brings. The transport (transport.py) does the I/O.

The reply is parsed by httptools (llhttp, the C parser of Node.js): a connection per request is
the whole cost of QQ's HTTP, and a parser in Python was a third of it (docs/performance.md).
What httptools leaves to its caller is the end of the connection, which is how a reply without
a Content-Length ends, and how a cut-short one shows.
"""

from __future__ import annotations

import httptools

from .errors import ReplyTooLarge

# The body is a form: every name and value percent-encoded as UTF-8 (requests.py), which is what
# this type means and what the seeds' percent-encoding clients (003's PHP class, 001/003's Indy)
# send. The server reads text/plain just as well (docs/protocol.md). ``Connection: close``: the
# old server closes every connection after its reply anyway (transport.py).
_REQUEST = (
    b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s"
)


def request(target: str, host: str, body: bytes) -> bytes:
    """A POST of ``body`` to ``target`` (a path) on ``host`` (``name:port``), ready to send."""
    return _REQUEST % (target.encode("ascii"), host.encode("idna"), len(body), body)


class BrokenReply(Exception):
    """Not an HTTP reply we can read: bad syntax, a status other than 200, or cut short."""


class NothingHeard(Exception):
    """The connection ended before a single byte of reply: the old server's NULL."""


# The longest head (status line and headers) read before the reply counts as broken: a server
# sending one endless header must not cost memory and time (aiohttp refused lines over 8 KiB).
MAX_HEAD = 16 * 1024


class ReplyReader:
    """Feed it a connection's bytes, and ``b""`` when it ends, until it returns the body.

    Reads the first response only: the old server answers Query_Stat with TN=0 with two on one
    connection (seed 000), and the second is no one's reply, whatever it holds. Raises
    ReplyTooLarge as soon as the body passes ``limit`` bytes (one announced larger is refused
    from its headers), NothingHeard, or BrokenReply (a head longer than MAX_HEAD among others).
    Parses as leniently as aiohttp's client did (bare LF line ends, a space before a colon,
    odd bytes in a header value): a server of 2008 is no browser of today.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._parser = httptools.HttpResponseParser(self)
        # "Dangerous" for a server, where they open the way to request smuggling; a client
        # reading the one reply on a connection of its own has nothing to smuggle into.
        self._parser.set_dangerous_leniencies(
            lenient_headers=True,
            lenient_optional_cr_before_lf=True,
            lenient_keep_alive=True,
            lenient_data_after_close=True,
        )
        self._fed = 0
        self._chunks: list[bytes] = []
        self.size = 0  # bytes of body so far
        self._heard = False
        self._head_done = False
        self._status = 0
        self._complete = False
        self._length: int | None = None  # the Content-Length, if any
        self._chunked = False

    def feed(self, data: bytes) -> bytes | None:
        """The body once the reply is complete, else None (feed more)."""
        if not data:
            return self._ended()
        self._heard = True
        self._fed += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            if not self._complete:  # else only what came after the reply was bad
                raise BrokenReply(f"bad HTTP: {error}") from None
        if self._head_done:
            self._check_head()
        elif self._fed > MAX_HEAD:
            raise BrokenReply(f"no end of the reply's headers in {MAX_HEAD} bytes")
        if self.size > self.limit:
            raise ReplyTooLarge(self.limit)
        return b"".join(self._chunks) if self._complete else None

    def _ended(self) -> bytes:
        if not self._heard:
            raise NothingHeard()
        if not self._head_done:
            raise BrokenReply("the connection ended inside the reply's headers")
        if not self._complete and (self._length is not None or self._chunked):
            raise BrokenReply(f"the connection ended after {self.size} bytes of the body")
        # No length given: the body is whatever came until the server closed.
        return b"".join(self._chunks)

    def _check_head(self) -> None:
        if self._status != 200:
            raise BrokenReply(f"HTTP {self._status}")
        if self._length is not None and self._length > self.limit:
            raise ReplyTooLarge(self.limit)  # said so up front: read none of it

    # httptools' callbacks. They only take note: an exception raised in one would reach the
    # caller as httptools' own error, without its message.

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._head_done and name.lower() == b"content-length" and value.strip().isdigit():
            self._length = int(value)

    def on_headers_complete(self) -> None:
        if not self._head_done:
            self._status = self._parser.get_status_code()
            self._head_done = True

    def on_chunk_header(self) -> None:
        if not self._complete:
            self._chunked = True

    def on_body(self, body: bytes) -> None:
        if not self._complete:
            self.size += len(body)
            if self.size <= self.limit:
                self._chunks.append(body)

    def on_message_complete(self) -> None:
        self._complete = True
