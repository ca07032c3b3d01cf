"""Matrix → QQ: what a Matrix event becomes on QQ, which carries plain text only.

The bridge core calls :func:`matrix_to_qq` for m.room.message events, :func:`sticker_to_qq` for
m.sticker, :func:`reaction_to_qq` for m.reaction and :func:`redaction_to_qq` for redactions of
messages already sent; each returns an :class:`Outgoing`. No network I/O happens here: quoting a
replied-to message goes through the :data:`FetchEvent` function the caller passes.
"""

from .fallbacks import reaction_to_qq, redaction_to_qq
from .html import html_to_text
from .message import EDIT_MARKER, matrix_to_qq, sticker_to_qq
from .outgoing import FetchEvent, Outgoing

__all__ = [
    "EDIT_MARKER",
    "FetchEvent",
    "Outgoing",
    "html_to_text",
    "matrix_to_qq",
    "reaction_to_qq",
    "redaction_to_qq",
    "sticker_to_qq",
]
