"""Raw HTTP for the tests and benchmarks that talk to the simulator over a bare socket.

The bridge itself never needs this: its transport reads one response per request (see
bridge/qq/client/transport.py), which is how it avoids the double response below.
"""

from __future__ import annotations

from bridge.qq.wire.fields import MalformedReply


def split_responses(raw: bytes) -> list[bytes]:
    """The bodies of every HTTP response in ``raw``, in order.

    Query_Stat with TN=0 (or none) gets two responses on one connection (seed 000); a
    generic client reads only the first. Each response is a status line, headers, a blank
    line and ``Content-Length`` bytes of body; line ends between responses are skipped, and a
    body shorter than its Content-Length (the connection closed early) is a MalformedReply.
    """
    bodies: list[bytes] = []
    rest = raw
    while rest.strip():
        # The seeds print each response on its own line: tolerate CR/LF after a body.
        rest = rest.lstrip(b"\r\n")
        head, sep, after = rest.partition(b"\r\n\r\n")
        if not sep:
            raise MalformedReply("HTTP response without a blank line after its headers")
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/"):
            raise MalformedReply(f"not an HTTP status line: {lines[0]!r}")
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                digits = value.strip()
                if not (digits.isascii() and digits.isdigit() and len(digits) <= 18):
                    raise MalformedReply(f"bad Content-Length: {value[:40]!r}")
                length = int(digits)
        if length is None:
            bodies.append(after)
            break
        if len(after) < length:
            raise MalformedReply(f"HTTP body cut short: {len(after)} of {length} bytes")
        bodies.append(after[:length])
        rest = after[length:]
    return bodies
