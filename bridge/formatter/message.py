"""The decision for one Matrix message: what text goes to QQ, and what the Matrix user is told."""

from __future__ import annotations

import copy
import logging

from mautrix.types import (
    BaseMessageEventContentFuncs,
    EventID,
    Format,
    LocationMessageEventContent,
    MediaMessageEventContent,
    MessageEvent,
    MessageEventContent,
    Obj,
    SerializableAttrs,
    TextMessageEventContent,
)

from .fallbacks import MEDIA_KINDS, location_text, media_to_qq, sticker_text, unknown_to_qq
from .html import html_to_text
from .outgoing import FetchEvent, Outgoing
from .reply import quote_line, split_reply_fallback, with_quote
from .text import nonblank

log = logging.getLogger(__name__)

# Put before an edit's new text: QQ cannot edit a sent message, so the correction is a new one.
EDIT_MARKER = "[edit] "
TEXT_MSGTYPES = frozenset({"m.text", "m.notice", "m.emote"})


async def matrix_to_qq(
    content: MessageEventContent, *, sender_name: str, fetch_event: FetchEvent | None = None
) -> Outgoing:
    """Turn the content of an m.room.message (or m.sticker) event into what QQ gets.

    ``sender_name`` is the Matrix user's display name, used by emotes (``* Alice waves``).
    ``fetch_event`` looks up a replied-to event for the quote; without it, or when it cannot find
    the event, the quote comes from the reply fallback in the body, if there is one.
    """
    name = sender_name.strip()
    emote_prefix = f"* {name} " if name else "* "
    if _is_edit(content):
        edited = await render(_new_content(content), emote_prefix=emote_prefix)
        marked = EDIT_MARKER + edited.text if edited.text is not None else None
        return Outgoing(marked, edited.notice)
    rendered = await render(content, emote_prefix=emote_prefix)
    reply_to = _reply_target(content)
    if rendered.text is None or reply_to is None:
        return rendered
    quote = await _fetched_quote(reply_to, fetch_event) or _fallback_quote(content)
    return Outgoing(with_quote(quote, rendered.text), rendered.notice)


def sticker_to_qq(content: MessageEventContent) -> Outgoing:
    """An m.sticker event's content (mautrix gives it msgtype m.sticker; either way works)."""
    return sticker_text(_body(content))


async def render(content: MessageEventContent, *, emote_prefix: str) -> Outgoing:
    """One message's own text, without reply quote or edit marker."""
    msgtype = _msgtype(content)
    if msgtype in TEXT_MSGTYPES and isinstance(content, TextMessageEventContent):
        text = await _text_of(content)
        if text is not None and msgtype == "m.emote":
            text = emote_prefix + text
        return Outgoing(text)
    if msgtype in MEDIA_KINDS and isinstance(content, MediaMessageEventContent):
        return await _media_to_qq(msgtype, content)
    if msgtype == "m.sticker":
        return sticker_to_qq(content)
    if msgtype == "m.location" and isinstance(content, LocationMessageEventContent):
        return location_text(content.body or "", content.geo_uri or "")
    return unknown_to_qq(msgtype)


async def _text_of(content: TextMessageEventContent) -> str | None:
    body = _own_body(content)
    if content.format == Format.HTML and content.formatted_body:
        html = nonblank(await html_to_text(content.formatted_body))
        # HTML that shows nothing in plain text (an inline image without alt text, say) still
        # came with a body that says something: send that rather than nothing.
        if html is not None:
            return html
    return nonblank(body)


async def _media_to_qq(msgtype: str, content: MediaMessageEventContent) -> Outgoing:
    body = _own_body(content)
    filename = (content.filename or "").strip()
    # Since MSC2530 a body that differs from the filename is a caption.
    caption = None
    if filename and body.strip() and body != content.filename:
        caption = await _text_of(content)
    return media_to_qq(msgtype, filename or body.strip(), caption)


def _own_body(content: TextMessageEventContent) -> str:
    """The body without a reply fallback."""
    body = content.body or ""
    if not content.get_reply_to():
        return body
    html = content.formatted_body if content.format == Format.HTML else None
    # Clients write both fallbacks or neither: HTML without <mx-reply> means the body's
    # "> <…>" lines are the user's own.
    if html and "<mx-reply>" not in html:
        return body
    return split_reply_fallback(body).text


def _fallback_quote(content: MessageEventContent) -> str | None:
    if not isinstance(content, TextMessageEventContent) or _own_body(content) == content.body:
        return None
    quoted = split_reply_fallback(content.body).quoted
    return quote_line(quoted) if quoted else None


async def _fetched_quote(event_id: EventID, fetch_event: FetchEvent | None) -> str | None:
    if fetch_event is None:
        return None
    try:
        replied = await fetch_event(event_id)
    except Exception:
        # The reply itself must still reach QQ; losing only the quote is the lesser harm.
        log.warning("Could not fetch replied-to event %s", event_id, exc_info=True)
        return None
    if replied is None:
        return None
    # The sender of the replied-to message is unknown here, so an emote quotes as "* waves".
    rendered = await render(_new_content(replied), emote_prefix="* ")
    return quote_line(rendered.text) if rendered.text else None


def _reply_target(content: MessageEventContent) -> EventID | None:
    if not isinstance(content, BaseMessageEventContentFuncs):
        return None
    event_id = content.get_reply_to()
    # In a thread, clients set m.in_reply_to to the thread's latest event "falling back" for
    # clients without threads; it is not something the user chose to quote.
    if event_id and content.relates_to.is_falling_back:
        return None
    return event_id


def _is_edit(content: MessageEventContent) -> bool:
    return isinstance(content, BaseMessageEventContentFuncs) and content.get_edit() is not None


def _new_content(content: MessageEventContent) -> MessageEventContent:
    """An edit's replacement content.

    Deserialized as a whole event, mautrix has already swapped ``m.new_content`` in (keeping the
    m.replace relation); deserialized as bare content, it sits among the unrecognised fields. An
    edit without ``m.new_content`` is invalid, and its own body is the best there is.
    """
    new = content.get("m.new_content") if isinstance(content, SerializableAttrs) else None
    if not isinstance(new, dict):
        return content
    # deserialize_content mutates what it is given.
    replacement: MessageEventContent = MessageEvent.deserialize_content(copy.deepcopy(new))
    return replacement


def _msgtype(content: MessageEventContent) -> str | None:
    raw = content["msgtype"] if isinstance(content, Obj) else getattr(content, "msgtype", None)
    value = getattr(raw, "value", raw)
    return value if isinstance(value, str) and value else None


def _body(content: MessageEventContent) -> str:
    raw = content["body"] if isinstance(content, Obj) else getattr(content, "body", None)
    return raw if isinstance(raw, str) else ""
