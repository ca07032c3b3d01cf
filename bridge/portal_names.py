"""Encrypted portals carry the contact's name, as mautrix bridges do (private_chat_portal_meta).

A DM has no name of its own: clients name it after its other members. In an encrypted portal
the bot is a member too (its device holds the keys), so Element and Cinny would show
"小红 (QQ) and QQ bridge bot". Such a room is named after the contact instead, when it is made,
when the bot joins it, when a friend request in it is accepted, and again whenever the
contact's QQ nickname changes. Rooms in clear keep no name, as any DM.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mautrix.errors import MatrixRequestError
from mautrix.types import RoomID

from .db import PortalKind
from .e2ee.sending import room_is_encrypted

if TYPE_CHECKING:
    from .core import Bridge
    from .puppet import Puppet

log = logging.getLogger("bridge.portal_names")


async def room_name(bridge: Bridge, puppet: Puppet, room_id: RoomID) -> str:
    """The name the portal should have: the contact's where the bot is a member, else none."""
    if bridge.encryption is not None and await room_is_encrypted(bridge, puppet.intent, room_id):
        return puppet.displayname
    return ""


async def name_portal(bridge: Bridge, puppet: Puppet, room_id: RoomID) -> None:
    await puppet.intent.set_room_name(room_id, await room_name(bridge, puppet, room_id))


async def puppet_renamed(bridge: Bridge, puppet: Puppet) -> None:
    """The contact's name changed: every encrypted DM portal with them follows (request rooms
    keep their "Friend request from" name until accepted)."""
    if bridge.encryption is None:
        return
    for room_id, kind in await bridge.db.portal_rooms_of(puppet.uin):
        if kind is not PortalKind.DM or not await room_is_encrypted(
            bridge, puppet.intent, RoomID(room_id)
        ):
            continue
        try:
            await puppet.intent.set_room_name(RoomID(room_id), puppet.displayname)
        except MatrixRequestError as error:  # a room the puppet was thrown out of meanwhile
            log.info("Could not rename portal %s: %s", room_id, error.errcode)
        except Exception as error:
            # A name is no reason to hold up the message or command that brought the new
            # nickname (the puppet's own name is already set): the next change renames it.
            log.warning("Could not rename portal %s: %s", room_id, type(error).__name__)
