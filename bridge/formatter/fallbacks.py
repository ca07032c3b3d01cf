"""Texts and notices for what QQ cannot carry: media, stickers, locations, reactions, deletions.

QQ v1.1 carries plain text only, so anything else is described in brackets, and when the
description is all that reached QQ the Matrix user is told so with a notice.
"""

from __future__ import annotations

from .outgoing import Outgoing

# msgtype → (word in the bracket, plural for the notice)
MEDIA_KINDS: dict[str, tuple[str, str]] = {
    "m.image": ("image", "images"),
    "m.file": ("file", "files"),
    "m.audio": ("audio", "audio"),
    "m.video": ("video", "videos"),
}

REACTION_NOTICE = "Reactions are not sent to QQ."
REDACTION_NOTICE = "QQ cannot delete messages; it was already delivered."
# msgtypes whose body must not go to QQ, though it is a string, and why. A verification request
# is addressed to a Matrix device, and its body only says the client cannot verify.
NOT_SENT_MSGTYPES: dict[str, str] = {
    "m.key.verification.request": "Not sent to QQ: QQ users cannot verify Matrix devices.",
}


def media_to_qq(msgtype: str, name: str, caption: str | None) -> Outgoing:
    """``[image: cat.jpg]`` plus the caption on the next line, and a notice of what was lost."""
    word, plural = MEDIA_KINDS[msgtype]
    label = f"[{word}: {name}]" if name else f"[{word}]"
    if caption:
        sent = "only its name and caption were sent" if name else "only its caption was sent"
        return Outgoing(f"{label}\n{caption}", f"QQ cannot carry {plural}: {sent}.")
    sent = "only its name was sent" if name else "only a placeholder was sent"
    return Outgoing(label, f"QQ cannot carry {plural}: {sent}.")


def sticker_text(body: str) -> Outgoing:
    """``[sticker: <description>]``. No notice: the description is what a sticker says, and
    people send stickers often enough that a notice for each would be noise."""
    body = " ".join(body.split())
    return Outgoing(f"[sticker: {body}]" if body else "[sticker]")


def location_text(body: str, geo_uri: str) -> Outgoing:
    """``[location: <body> <geo_uri>]``; the URI is not repeated when the body already holds it
    (Element writes "Location geo:… at <time>")."""
    body = " ".join(body.split())
    geo_uri = geo_uri.strip()
    parts = [body] if geo_uri and geo_uri in body else [body, geo_uri]
    described = " ".join(part for part in parts if part)
    return Outgoing(f"[location: {described}]" if described else "[location]")


def unknown_to_qq(msgtype: str | None) -> Outgoing:
    """Nothing QQ can show: send nothing and say what was dropped. (An unknown msgtype with a
    usable body sends that body instead; see :mod:`bridge.formatter.message`.)"""
    if msgtype in NOT_SENT_MSGTYPES:
        return Outgoing(None, NOT_SENT_MSGTYPES[msgtype])
    kind = f"messages of type {msgtype}" if msgtype else "messages without a msgtype"
    return Outgoing(None, f"Not sent to QQ: the bridge cannot carry {kind}.")


def reaction_to_qq(key: str) -> Outgoing:
    """An m.reaction: QQ has no reactions, and sending "👍" as a message of its own would read as
    a reply to whatever came last, so nothing goes out."""
    return Outgoing(None, REACTION_NOTICE)


def redaction_to_qq() -> Outgoing:
    """An m.room.redaction of a message that already reached QQ, which cannot unsend."""
    return Outgoing(None, REDACTION_NOTICE)
