"""Matrix HTML (``org.matrix.custom.html``) → readable plain text for QQ.

Built on mautrix's MatrixParser, which already decodes entities, drops ``<mx-reply>`` (the reply
fallback), keeps ``<br>`` as line breaks and preserves whitespace in ``<pre>``. What this
subclass changes, on top of the markers chosen in :mod:`bridge.formatter.plain`:
- lists use ``- `` at every depth and ``1. `` when ordered (nested items indented);
- mentions (matrix.to links to users, rooms) become their display text, never the link;
- ``mailto:`` links read ``text (address)``;
- a blockquote is followed by a blank line, like a paragraph, as Element's own body has it;
- tables become one line per row with cells joined by `` | ``;
- ``<script>``/``<style>`` content is dropped;
- only ASCII whitespace is collapsed (HTML's rule), so ``&nbsp;`` and the ideographic space
  U+3000 common in Chinese text survive.

HTML nested past :data:`~bridge.formatter.htmltree.DEPTH_LIMIT` elements is flattened
before rendering (see :mod:`bridge.formatter.htmltree`), since the parser renders by recursion.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mautrix.types import EventID, RoomAlias, RoomID, UserID
from mautrix.util.formatter import HTMLNode, MatrixParser, RecursionContext

from .htmltree import DEPTH_LIMIT, DROPPED_TAGS, TABLE_SECTIONS, limit_depth, read_html
from .plain import HTML_WHITESPACE, PlainString
from .text import strip_outer_blank_lines

_HTML_SPACES = re.compile(f"[{HTML_WHITESPACE}]+")
# Elements inside a line: their outer spaces separate words, so they are not trimmed.
_INLINE_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "cite",
        "code",
        "del",
        "em",
        "font",
        "i",
        "ins",
        "q",
        "s",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "u",
    ]
)


def _table_rows(table: HTMLNode) -> Iterator[HTMLNode]:
    for child in table:
        if child.tag == "tr":
            yield child
        elif child.tag in TABLE_SECTIONS:
            yield from (row for row in child if row.tag == "tr")


class QQParser(MatrixParser[PlainString]):
    fs = PlainString
    read_html = staticmethod(read_html)

    def list_bullet(self, depth: int) -> str:
        return "- "

    async def custom_node_to_fstring(
        self, node: HTMLNode, ctx: RecursionContext
    ) -> PlainString | None:
        if node.tag in DROPPED_TAGS:
            return PlainString()
        if node.tag == "table":
            return await self._table_to_fstring(node, ctx)
        if node.tag == "a" and node.attrib.get("href", "").startswith("mailto:"):
            return await self._mailto_to_fstring(node, ctx)
        return None

    async def _table_to_fstring(self, node: HTMLNode, ctx: RecursionContext) -> PlainString:
        rows = []
        for row in _table_rows(node):
            cells = [
                await self.tag_aware_parse_node(cell, ctx)
                for cell in row
                if cell.tag in ("td", "th")
            ]
            rows.append(PlainString.join(cells, " | "))
        return PlainString.join(rows, "\n")

    async def _mailto_to_fstring(self, node: HTMLNode, ctx: RecursionContext) -> PlainString:
        text = await self.tag_aware_parse_node(node, ctx)
        address = node.attrib["href"].removeprefix("mailto:")
        return text.format(self.e.URL, url=address)

    async def blockquote_to_fstring(self, node: HTMLNode, ctx: RecursionContext) -> PlainString:
        quoted = await super().blockquote_to_fstring(node, ctx)
        return quoted.append("\n")

    async def text_to_fstring(
        self, text: str, ctx: RecursionContext, strip_leading_whitespace: bool = False
    ) -> PlainString:
        if not ctx.preserve_whitespace:
            if strip_leading_whitespace:
                text = text.lstrip(HTML_WHITESPACE)
            text = _HTML_SPACES.sub(" ", text)
        return PlainString(text)

    async def tag_aware_parse_node(self, node: HTMLNode, ctx: RecursionContext) -> PlainString:
        # As MatrixParser's, except for whitespace. MatrixParser trims every element, so
        # "<b>bold </b>text" would read "*bold*text"; here inline elements keep their outer
        # spaces and, as HTML does, a space meeting a space collapses into one. The space before
        # the line break that a block starts is dropped ("hello <pre>" must not leave "hello ").
        output = PlainString()
        prev_was_block = False
        for msg, tag in await self.node_to_tagged_fstrings(node, ctx):
            if tag in self.block_tags:
                msg = msg.append("\n")
                if not prev_was_block:
                    output.text = output.text.rstrip(" ")
                    msg = msg.prepend("\n")
                prev_was_block = True
            elif output.text.endswith((" ", "\n")) and msg.text.startswith(" "):
                msg.text = msg.text[1:]
            output = output.append(msg)
        return output if node.tag in _INLINE_TAGS else output.trim()

    async def user_pill_to_fstring(self, msg: PlainString, user_id: UserID) -> PlainString:
        return msg if msg.text.strip() else PlainString(user_id)

    async def room_pill_to_fstring(self, msg: PlainString, room_alias: RoomAlias) -> PlainString:
        return msg if msg.text.strip() else PlainString(room_alias)

    async def room_id_link_to_fstring(self, msg: PlainString, room_id: RoomID) -> PlainString:
        return msg if msg.text.strip() else PlainString(room_id)

    async def event_link_to_fstring(
        self, msg: PlainString, room: RoomID | RoomAlias, event_id: EventID
    ) -> PlainString | None:
        # A permalink to a message is a real link: fall through to "text (url)".
        return None


async def html_to_text(html: str) -> str:
    """Render Matrix HTML as QQ plain text, without blank lines at either end."""
    rendered = await QQParser().parse(html)
    return strip_outer_blank_lines(rendered.text)


__all__ = ["DEPTH_LIMIT", "QQParser", "html_to_text", "limit_depth", "read_html"]
