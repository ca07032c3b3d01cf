"""PlainString: the target mautrix's MatrixParser renders HTML into for QQ, which shows text only.

Choices (QQ renders no markup, so formatting becomes light chat conventions or disappears):
- bold → ``*bold*``, italic → ``_italic_``, strikethrough → ``~struck~``, inline code → ``
  `code` ``; underline, colour and headers → the bare text. Markers go inside surrounding
  spaces (``<b> x </b>`` → `` *x* ``) and are not added around blank text.
- links → ``text (url)``; only the text when it already is the url (with or without its
  ``http(s)://`` scheme or a trailing slash); only the url when the text is blank.
- code blocks → their content verbatim, without fences; only the one closing newline that
  Markdown renderers add is removed.
- blockquotes → every line prefixed with ``> `` (an empty line becomes ``>``).
- spoilers → ``||text||`` (with the reason, if any, before it as ``reason: ``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mautrix.util.formatter import EntityType, FormattedString

HTML_WHITESPACE = " \t\n\r\f"
_MARKERS = {
    EntityType.BOLD: "*",
    EntityType.ITALIC: "_",
    EntityType.STRIKETHROUGH: "~",
    EntityType.INLINE_CODE: "`",
}


def _split_outer(text: str) -> tuple[str, str, str]:
    """(leading whitespace, the rest, trailing whitespace)."""
    inner = text.strip()
    if not inner:
        return text, "", ""
    start = text.index(inner)
    return text[:start], inner, text[start + len(inner) :]


def same_link(text: str, url: str) -> bool:
    """Whether a link's text already says its url, so repeating the url would be noise."""
    text = text.strip()
    variants = {url, url.removeprefix("https://"), url.removeprefix("http://")}
    variants |= {variant.removesuffix("/") for variant in variants}
    return text in variants


class PlainString(FormattedString):
    """A plain text under construction.

    MatrixParser calls ``trim()`` on every block it assembles, which would eat the indentation of
    a code block's first line. So each string remembers whether its first visible character comes
    from preformatted text (``verbatim_head``); ``trim`` then removes only the blank lines before
    it. (Trailing whitespace is invisible, so it may always go.)
    """

    def __init__(self, text: str = "", *, verbatim_head: bool = False) -> None:
        self.text = text
        self.verbatim_head = verbatim_head

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"PlainString({self.text!r})"

    @classmethod
    def _concat(cls, parts: Sequence[str | FormattedString], separator: str = "") -> PlainString:
        # The flag follows the first part that has anything visible in it.
        head = next((part for part in parts if str(part).strip()), None)
        return cls(
            separator.join(str(part) for part in parts),
            verbatim_head=isinstance(head, PlainString) and head.verbatim_head,
        )

    def _become(self, other: PlainString) -> PlainString:
        self.text = other.text
        self.verbatim_head = other.verbatim_head
        return self

    def append(self, *args: str | FormattedString) -> PlainString:
        return self._become(self._concat((self, *args)))

    def prepend(self, *args: str | FormattedString) -> PlainString:
        return self._become(self._concat((*args, self)))

    def format(self, entity_type: EntityType, **kwargs: Any) -> PlainString:
        if entity_type in _MARKERS:
            self._wrap(_MARKERS[entity_type])
        elif entity_type == EntityType.URL:
            url = str(kwargs["url"])
            before, inner, after = _split_outer(self.text)
            if not inner:
                self.text = f"{before}{url}{after}"
            elif not same_link(inner, url):
                self.text = f"{before}{inner} ({url}){after}"
        elif entity_type == EntityType.PREFORMATTED:
            self.text = self.text.removesuffix("\n")
            self.verbatim_head = True
        elif entity_type == EntityType.BLOCKQUOTE:
            lines = self.trim().text.split("\n")
            self.text = "\n".join(f"> {line}" if line else ">" for line in lines)
            self.verbatim_head = False
        elif entity_type == EntityType.SPOILER:
            reason = str(kwargs.get("reason") or "")
            self.text = f"{reason}: ||{self.text}||" if reason else f"||{self.text}||"
        # Underline, colour, headers and mentions (already reduced to their display text by the
        # parser) stay bare: QQ has nothing to show them with.
        return self

    def _wrap(self, marker: str) -> None:
        before, inner, after = _split_outer(self.text)
        if not inner:
            return
        self.text = f"{before}{marker}{inner}{marker}{after}"
        self.verbatim_head = False

    def trim(self) -> PlainString:
        # Only HTML's own whitespace: a leading "　　" (U+3000) indents a Chinese paragraph.
        text = self.text
        if self.verbatim_head:
            # Keep the first visible line whole: drop only the blank lines before it.
            lines = text.split("\n")
            while lines and not lines[0].strip():
                lines.pop(0)
            text = "\n".join(lines)
        else:
            text = text.lstrip(HTML_WHITESPACE)
        self.text = text.rstrip(HTML_WHITESPACE)
        return self

    def split(self, separator: str, max_items: int = -1) -> list[FormattedString]:
        return [PlainString(part) for part in self.text.split(separator, max_items)]

    @classmethod
    def join(cls, items: Sequence[str | FormattedString], separator: str = " ") -> PlainString:
        return cls._concat(items, separator)
