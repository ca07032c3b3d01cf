"""Replies: removing the reply fallback a client put in the body, and the quote QQ gets instead.

Element-style fallbacks look like this (the HTML one, ``<mx-reply>…</mx-reply>``, is dropped by
the HTML parser)::

    > <@alice:example.org> the message replied to
    > its second line

    the reply itself
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import one_line

# "> <@alice:hs> text", or "> * <@alice:hs> waves" when the replied-to message was an emote.
_FALLBACK_HEAD = re.compile(r"> (?P<emote>\* )?<(?P<sender>[^<>\n]+)> ?")


@dataclass(frozen=True)
class SplitBody:
    text: str  # the body without its fallback
    quoted: str | None  # the replied-to text the fallback carried, sender removed


def split_reply_fallback(body: str) -> SplitBody:
    """Separate a reply fallback from the body.

    A fallback is recognised only in its exact shape: ``> <sender>`` opening the first line,
    then ``>`` lines, then a blank line (or the end). Anything else is the user's own text, e.g.
    an IRC-style quote they typed, and is left alone.
    """
    head = _FALLBACK_HEAD.match(body)
    if head is None:
        return SplitBody(body, None)
    lines = body.split("\n")
    count = 0
    while count < len(lines) and lines[count].startswith(">"):
        count += 1
    if count < len(lines) and lines[count].strip():
        return SplitBody(body, None)
    quoted_lines = [line[1:].removeprefix(" ") for line in lines[:count]]
    first = quoted_lines[0][head.end() - 2 :]  # "> " is already gone from the quoted line
    if head["emote"]:
        first = f"* {head['sender']} {first}"
    quoted = "\n".join([first, *quoted_lines[1:]])
    return SplitBody("\n".join(lines[count + 1 :]), quoted if quoted.strip() else None)


def quote_line(text: str) -> str | None:
    """The quote put above a reply on QQ: one line, 60 characters at most (… when cut)."""
    line = one_line(text)
    return f"> {line}" if line else None


def with_quote(quote: str | None, text: str) -> str:
    return f"{quote}\n{text}" if quote else text
