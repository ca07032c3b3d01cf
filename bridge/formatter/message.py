"""The decision for one Matrix message: what text goes to QQ, and what the Matrix user is told.

Every message either reaches QQ or its sender is told why not: :func:`matrix_to_qq` never returns
an :class:`Outgoing` with neither text nor notice.
- A text message (m.text, m.notice, m.emote) with nothing visible in it is not sent, with
  :data:`EMPTY_NOTICE`. mautrix reads a missing or null ``body`` as "", so those are empty too.
- A ``body`` that is not a string (a number, a list: mautrix passes it through as it came) is no
  text at all: :data:`NO_TEXT_NOTICE`.
- A msgtype the bridge does not know (a poll, a future type) sends its ``body``, or its HTML
  when it has some, without a notice: the spec makes ``body`` the fallback that clients show for
  msgtypes they do not understand, and QQ is such a client. Without a usable body, a notice says
  that the type cannot be carried.
- If rendering the HTML fails for any reason, the plain ``body`` goes instead (logged as a
  warning), or, when the body is blank, :data:`FAILED_NOTICE`. If anything else fails, the body
  is still sent as it stands if it is a string, and otherwise the user is told (logged as an
  error: that is a bug).
"""

from __future__ import annotations

import copy
import logging

from mautrix.types import (
    BaseMessageEventContentFuncs,
    EventID,
    LocationMessageEventContent,
    MediaMessageEventContent,
    MessageEvent,
    MessageEventContent,
    Obj,
    SerializableAttrs,
    TextMessageEventContent,
)

from .fallbacks import (
    MEDIA_KINDS,
    NOT_SENT_MSGTYPES,
    location_text,
    media_to_qq,
    sticker_text,
    unknown_to_qq,
)
from .html import html_to_text
from .outgoing import FetchEvent, Outgoing
from .reply import quote_line, split_reply_fallback, with_quote
from .text import nonblank

log = logging.getLogger(__name__)

# Put before an edit's new text: QQ cannot edit a sent message, so the correction is a new one.
EDIT_MARKER = "[edit] "
TEXT_MSGTYPES = frozenset({"m.text", "m.notice", "m.emote"})
HTML_FORMAT = "org.matrix.custom.html"
EMPTY_NOTICE = "Not sent to QQ: the message is empty."
NO_TEXT_NOTICE = "Not sent to QQ: the message has no text."
FAILED_NOTICE = "Not sent to QQ: the bridge could not read this message."


async def matrix_to_qq(
    content: MessageEventContent, *, sender_name: str, fetch_event: FetchEvent | None = None
) -> Outgoing:
    """Turn the content of an m.room.message (or m.sticker) event into what QQ gets.

    ``sender_name`` is the Matrix user's display name, used by emotes (``* Alice waves``).
    ``fetch_event`` looks up a replied-to event for the quote; without it, or when it cannot find
    the event, the quote comes from the reply fallback in the body, if there is one.
    The result always has a text to send or a notice for the sender, often both.
    """
    try:
        return await _matrix_to_qq(content, sender_name=sender_name, fetch_event=fetch_event)
    except Exception:
        # A bug, but about this one message: it still goes out as its plain body if it has one.
        log.error("Could not format a Matrix message for QQ", exc_info=True)
        body = _body(content)
        text = nonblank(body) if body is not None else None
        return Outgoing(text) if text is not None else Outgoing(None, FAILED_NOTICE)


async def _matrix_to_qq(
    content: MessageEventContent, *, sender_name: str, fetch_event: FetchEvent | None
) -> Outgoing:
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
    return sticker_text(_body(content) or "")


async def render(content: MessageEventContent, *, emote_prefix: str) -> Outgoing:
    """One message's own text, without reply quote or edit marker; a text or a notice, always."""
    msgtype = _msgtype(content)
    if msgtype in TEXT_MSGTYPES:
        text = await _text_of(content)
        if text.text is not None and msgtype == "m.emote":
            return Outgoing(emote_prefix + text.text)
        return text
    if msgtype in MEDIA_KINDS and isinstance(content, MediaMessageEventContent):
        return await _media_to_qq(msgtype, content)
    if msgtype == "m.sticker":
        return sticker_to_qq(content)
    if msgtype == "m.location" and isinstance(content, LocationMessageEventContent):
        return location_text(_body(content) or "", _field(content, "geo_uri") or "")
    if msgtype is None or msgtype in NOT_SENT_MSGTYPES:
        return unknown_to_qq(msgtype)
    # A msgtype the bridge does not know: its body is the fallback meant for such readers.
    text = await _text_of(content)
    return text if text.text is not None else unknown_to_qq(msgtype)


async def _text_of(content: MessageEventContent) -> Outgoing:
    """The message's text (its HTML rendered, else its body), or why there is none."""
    html = _field(content, "formatted_body") if _field(content, "format") == HTML_FORMAT else None
    html_failed = False
    if html is not None:
        try:
            rendered = nonblank(await html_to_text(html))
        except Exception:
            log.warning("Could not render a message's HTML; sending its plain body", exc_info=True)
            html_failed = True
        else:
            # HTML that shows nothing in plain text (an inline image without alt text, say)
            # still came with a body that says something: send that rather than nothing.
            if rendered is not None:
                return Outgoing(rendered)
    body = _own_body(content)
    text = nonblank(body) if body is not None else None
    if text is not None:
        return Outgoing(text)
    if html_failed:
        # The HTML may well have said something: "empty" would be untrue.
        return Outgoing(None, FAILED_NOTICE)
    return Outgoing(None, NO_TEXT_NOTICE if body is None else EMPTY_NOTICE)


async def _media_to_qq(msgtype: str, content: MediaMessageEventContent) -> Outgoing:
    body = _own_body(content) or ""
    raw_filename = _field(content, "filename") or ""
    filename = raw_filename.strip()
    # Since MSC2530 a body that differs from the filename is a caption.
    caption = None
    if filename and body.strip() and body != raw_filename:
        caption = (await _text_of(content)).text
    return media_to_qq(msgtype, filename or body.strip(), caption)


def _own_body(content: MessageEventContent) -> str | None:
    """The body without a reply fallback; None when the body is not a string."""
    body = _body(content)
    if body is None or not isinstance(content, BaseMessageEventContentFuncs):
        return body
    if not content.get_reply_to():
        return body
    html = _field(content, "formatted_body") if _field(content, "format") == HTML_FORMAT else None
    # Clients write both fallbacks or neither: HTML without <mx-reply> means the body's
    # "> <…>" lines are the user's own.
    if html and "<mx-reply>" not in html:
        return body
    return split_reply_fallback(body).text


def _fallback_quote(content: MessageEventContent) -> str | None:
    body = _body(content)
    if not isinstance(content, TextMessageEventContent) or body is None:
        return None
    if _own_body(content) == body:
        return None
    quoted = split_reply_fallback(body).quoted
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
    edit without ``m.new_content``, or with one mautrix cannot read, is invalid, and its own body
    is the best there is.
    """
    new = content.get("m.new_content") if isinstance(content, SerializableAttrs) else None
    if not isinstance(new, dict):
        return content
    try:
        # deserialize_content mutates what it is given.
        replacement: MessageEventContent = MessageEvent.deserialize_content(copy.deepcopy(new))
    except Exception:
        log.warning("Could not read an edit's m.new_content; using the edit's body", exc_info=True)
        return content
    return replacement


def _field(content: MessageEventContent, name: str) -> str | None:
    """A field of the content if it is a string (an enum's value counts), else None.

    mautrix passes through fields of the wrong type as they came, and an unknown msgtype's
    content is a bare Obj, which makes up an empty Obj for any attribute it lacks.
    """
    raw = content[name] if isinstance(content, Obj) else getattr(content, name, None)
    # (An Obj would make a "value" up; mautrix's enums are not Python's.)
    value = raw if isinstance(raw, str | Obj) else getattr(raw, "value", raw)
    return value if isinstance(value, str) else None


def _msgtype(content: MessageEventContent) -> str | None:
    return _field(content, "msgtype") or None


def _body(content: MessageEventContent) -> str | None:
    return _field(content, "body")
