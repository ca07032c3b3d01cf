"""The bridge's own messages in Matrix: written in Markdown, sent as notices with their HTML.

Every answer, warning and notice of the bot (and of a puppet speaking for the bridge in a
portal) is written in Markdown (CommonMark, rendered by markdown-it-py). The event carries the
Markdown as ``body``, which every client shows as it is, and the HTML as ``formatted_body``.
Raw HTML in a text is shown as text, never passed on, and a single line break stays one.

Who speaks: the bot in its management room (and wherever it is the only one of ours); in a
portal the puppet, the one member of ours every portal has. A puppet's notice starts with
``BRIDGE_MARKER`` and is an ``m.notice``, so it is never read as the contact's words, which are
always ``m.text`` without it (docs/architecture.md, "Who speaks").
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from mautrix.types import (
    EventID,
    Format,
    Membership,
    MessageType,
    RoomID,
    TextMessageEventContent,
    UserID,
)

if TYPE_CHECKING:
    from .core import Bridge

log = logging.getLogger("bridge.notices")

# html=False: a nickname like "<b>x</b>" is text. breaks=True: the bot's lines are lines.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True})
# What formats inside a line; a nickname is in the middle of one, so block syntax (#, -) is not.
_SPECIAL = re.compile(r"([\\`*_\[\]])")


def render(text: str) -> str:
    """The HTML of a Markdown text, without the trailing new line."""
    return str(_MARKDOWN.render(text)).strip()


def notice_content(text: str) -> TextMessageEventContent:
    """An ``m.notice`` of Markdown ``text``, with its HTML as ``formatted_body``."""
    return TextMessageEventContent(
        msgtype=MessageType.NOTICE, body=text, format=Format.HTML, formatted_body=render(text)
    )


# The first words of every notice a puppet sends for the bridge.
BRIDGE_MARKER = "QQ bridge:"


def marked(text: str) -> str:
    """``text`` as a puppet says it for the bridge: after the marker."""
    return f"{BRIDGE_MARKER} {text}"


def bridge_notice_content(text: str) -> TextMessageEventContent:
    """A notice that a puppet sends for the bridge: ``text`` (Markdown) after the marker."""
    return notice_content(marked(text))


def escape(text: str) -> str:
    """``text`` (a nickname, a profile field) as Markdown that shows it exactly."""
    return _SPECIAL.sub(r"\\\1", text)


async def say(bridge: Bridge, room_id: RoomID, text: str) -> EventID | None:
    """A notice in any room: from the portal's puppet, else the bot or a puppet there.

    The bot is not a member of portals, so in one the puppet speaks for the bridge; None when
    no one of the bridge's is in the room to say it (logged).
    """
    from .web import hide_login_links  # here: bridge.web imports the users, which import us

    portal = await bridge.portal_by_room(room_id)
    if portal is not None:
        # A command's answer may hold a login link: the puppet's request log must not.
        hide_login_links(portal.puppet.intent.api.log)
        return await portal.notice(text)
    members = await bridge.az.state_store.get_member_profiles(
        room_id, memberships=(Membership.JOIN,)
    )
    bot = UserID(bridge.config.bot_mxid)
    ghosts = [member for member in members if bridge.is_bridge_ghost(member)]
    if not ghosts:
        log.info("No one of ours in %s to say: %s", room_id, text)
        return None
    if bot in ghosts:
        # The bot's own intent (not a child for its ID), whose request log hides login links.
        hide_login_links(bridge.bot.api.log)
        return await bridge.send_notice(bridge.bot, room_id, text)
    intent = bridge.az.intent.user(ghosts[0])
    hide_login_links(intent.api.log)
    return await bridge.send_notice(intent, room_id, marked(text))
