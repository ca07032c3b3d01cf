"""An encrypted portal ends as a plain one does, and the bot, in it for its device, leaves too.

Encryption is on by default in the example config, so most portals hold the bot as well: a
portal that ends must not leave the bot behind in a room it no longer bridges.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from mautrix.types import RoomID

from .crypto_user import EncryptedMatrixUser, login
from .harness import QQPeerFactory, UserFactory
from .matrix_user import MatrixUser

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.usefixtures("encrypting_bridge"),
]


async def membership_is(user: MatrixUser, room: RoomID, who: str, membership: str) -> None:
    await user.wait_for(
        lambda e: (
            e.room_id == room
            and e.type == "m.room.member"
            and e.raw.get("state_key") == who
            and e.content.get("membership") == membership
        )
    )


async def test_a_stranger_in_an_encrypted_portal_ends_it_and_the_bot_leaves_too(
    crypto_user: Callable[[str], EncryptedMatrixUser],
    new_user: UserFactory,
    bot: str,
    puppet: Callable[[int], str],
    qq_peer: QQPeerFactory,
) -> None:
    user = await crypto_user("e2eecrowd").start()
    management = await login(user, bot, 30118)
    peer = await qq_peer(30119)
    stranger = await new_user("e2eestranger")
    await user.send(management, "pm 30119")
    portal = await user.wait_for_invite(puppet(30119))
    await user.join(portal)
    await membership_is(user, portal, bot, "join")

    await user.client.invite_user(portal, stranger.mxid)
    notice = await user.wait_for_text(portal, "is in this room too", sender=puppet(30119))
    assert notice.msgtype == "m.notice" and notice.body.startswith("QQ bridge:")
    await membership_is(user, portal, puppet(30119), "leave")
    await membership_is(user, portal, bot, "leave")

    await peer.client.send_text(30118, "for you alone")
    new = await user.wait_for_invite(puppet(30119))
    assert new != portal
    await user.join(new)
    await user.wait_for_text(new, "for you alone", sender=puppet(30119))
    # The management room, where the bot also is, stays as it was.
    mark = user.mark()
    await user.send(management, "ping")
    await user.wait_for_text(management, "QQ 30118", sender=bot, after=mark)
