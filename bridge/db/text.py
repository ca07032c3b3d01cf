"""Text as both databases can keep it."""

from __future__ import annotations

_UNSTORABLE = {0x00: "\ufffd", **{code: "\ufffd" for code in range(0xD800, 0xE000)}}


def storable(text: str) -> str:
    """NUL (PostgreSQL's text cannot hold it) and lone UTF-16 surrogates (JSON can carry them,
    UTF-8 cannot) become U+FFFD, so one odd character cannot jam a queue."""
    return text.translate(_UNSTORABLE)
