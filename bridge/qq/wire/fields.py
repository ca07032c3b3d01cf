"""How values are written inside a request or reply body.

A body is ``KEY=value&KEY=value`` (a trailing ``&`` is allowed). Requests carry values
percent-encoded as UTF-8, like any form. Replies carry raw UTF-8 text with two layers of
escaping, which seed 003 shows in ``PR=网络为媒%252c关系为本%252c…%0d%0a``:

* the *item* layer escapes ``%`` and ``,`` so that list items (``UN=1,2,3,``) can be split;
* the *value* layer escapes ``%``, ``&``, CR and LF so that the pairs can be split.

A comma in text therefore travels as ``%252c`` and a newline as ``%0d%0a``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote, unquote_plus


class WireError(Exception):
    """Anything the QQ server sent or failed to send that this codec cannot accept."""


class NoReply(WireError):
    """The server closed the connection without answering ("NULL" in the seeds)."""

    def __init__(self, detail: str = "the QQ server closed the connection without a reply") -> None:
        super().__init__(detail)


class MalformedReply(WireError):
    """A reply that is not the shape the protocol promises; ``body`` keeps it for the log."""

    def __init__(self, detail: str, body: str = "") -> None:
        super().__init__(f"{detail}: {body[:200]!r}" if body else detail)
        self.body = body


# --- requests ---------------------------------------------------------------------------


def encode_pairs(pairs: Mapping[str, str | int]) -> bytes:
    """A request body: every value percent-encoded as UTF-8, so ``& = + % ,`` and CR LF survive."""
    return "&".join(f"{key}={quote(str(value), safe='')}" for key, value in pairs.items()).encode()


def decode_request_pairs(body: bytes) -> dict[str, str]:
    """The server's view of a request body: form-decoded, keys upper-cased, later keys win.

    Old clients send raw UTF-8 or PHP's ``urlencode`` (space as ``+``), so this decodes
    both. Raises UnicodeDecodeError when the text is not UTF-8: the server answers NULL.
    """
    text = body.decode("utf-8")
    pairs: dict[str, str] = {}
    for part in text.split("&"):
        key, sep, value = part.partition("=")
        if not sep:
            continue
        decoded = unquote_plus(value, encoding="utf-8", errors="strict")
        pairs[key.strip().upper()] = decoded
    return pairs


# --- replies ----------------------------------------------------------------------------

_ITEM_ESCAPES = str.maketrans({"%": "%25", ",": "%2c"})
_VALUE_ESCAPES = str.maketrans({"%": "%25", "&": "%26", "\r": "%0d", "\n": "%0a"})


def encode_text(text: str) -> str:
    """One text value as the server writes it (raw UTF-8 but for the escapes above)."""
    return text.translate(_ITEM_ESCAPES).translate(_VALUE_ESCAPES)


def encode_list(items: Iterable[str | int]) -> str:
    """A list value: each item escaped and followed by ``,`` (``UN=1,2,``; empty is ``""``)."""
    return "".join(encode_text(str(item)) + "," for item in items)


def encode_reply(pairs: Iterable[tuple[str, str]], trailing_ampersand: bool = False) -> bytes:
    """A reply body from already-encoded values, in the order given."""
    text = "&".join(f"{key}={value}" for key, value in pairs)
    return (text + "&" if trailing_ampersand else text).encode()


def parse_reply_pairs(body: bytes) -> dict[str, str]:
    """``KEY=value&…`` into a dict of value-layer-decoded strings; keys upper-cased.

    Never raises: bytes that are not UTF-8 become U+FFFD, because dropping a whole
    GetMsgEx batch (the server has already cleared it) would lose every message in it.
    """
    text = body.decode("utf-8", errors="replace").strip("\r\n")
    pairs: dict[str, str] = {}
    for part in text.split("&"):
        key, sep, value = part.partition("=")
        if sep:
            pairs[key.strip().upper()] = unquote(value, errors="replace")
    return pairs


def decode_text(value: str) -> str:
    """Undo the item layer of a scalar text value (``%2c`` → ``,``)."""
    return unquote(value, errors="replace")


def split_list(value: str) -> list[str]:
    """Split a list value on ``,`` (the trailing one is optional) and decode each item."""
    if value == "":
        return []
    items = value.split(",")
    if items[-1] == "":
        items.pop()
    return [decode_text(item) for item in items]


# ASCII digits only: int() alone would also take "1_0", "１２" (full-width) and "١٢".
_NUMBER = re.compile(r"[+-]?[0-9]+")


def parse_int(value: str | None, what: str, body: str = "") -> int:
    """A number field; seeds show stray spaces around numbers (``MG=30 ,``), so strip them."""
    if value is None:
        raise MalformedReply(f"missing {what}", body)
    stripped = value.strip()
    if _NUMBER.fullmatch(stripped) is None:
        raise MalformedReply(f"{what} is not a number ({value!r})", body)
    try:
        return int(stripped)
    except ValueError:  # longer than Python's int-from-string digit limit
        raise MalformedReply(f"{what} is not a usable number ({value[:20]!r}…)", body) from None
