"""An encrypted message in flight across a restart of the bridge, and a room key that comes late
(issue 9): nothing lost, nothing twice, in either direction.

The user's device holds back its room key (as a slow device would) while the bridge is stopped
and started again, and sends it once the bridge is back; QQ messages come while the bridge is
down. (A key sent while the bridge is down, or while Synapse still counts it down, is another
matter: Synapse drops to-device events for an appservice it counts down
(synapse/appservice/scheduler.py) and does not let the bot read its device's inbox with /sync;
a message whose key was lost so ends in the "never received its encryption key" notice, see
docs/running.md.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from mautrix.client import Client

from bridge.e2ee.events import KEY_MISSING_NOTICE

from .crypto_user import EncryptedMatrixUser, open_encrypted_portal
from .harness import BridgeRunner, QQPeerFactory

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.usefixtures("encrypting_bridge"),
]


class HeldKeys:
    """The device's to-device messages (its room keys), kept back until ``release()``."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._send = client.send_to_device
        self.held: list[tuple[Any, Any]] = []

    @contextmanager
    def holding(self) -> Iterator[HeldKeys]:
        async def hold(event_type: Any, messages: Any) -> None:
            self.held.append((event_type, messages))

        self._client.send_to_device = hold  # type: ignore[method-assign]
        try:
            yield self
        finally:
            self._client.send_to_device = self._send  # type: ignore[method-assign]

    async def release(self) -> None:
        for event_type, messages in self.held:
            await self._send(event_type, messages)
        self.held.clear()


async def test_encrypted_messages_in_flight_across_a_restart_arrive_once(
    crypto_user: Callable[[str], EncryptedMatrixUser],
    bot: str,
    puppet: Callable[[int], str],
    qq_peer: QQPeerFactory,
    encrypting_bridge: BridgeRunner,
) -> None:
    user = await crypto_user("e2eeinflight").start()
    peer = await qq_peer(30091)
    portal = await open_encrypted_portal(user, bot, puppet, 30090, 30091)

    # A message whose key does not come: the bridge waits for it, and says so once.
    keys = HeldKeys(user.crypto_client)
    mark = user.mark()
    with keys.holding():
        await user.send(portal, "sent before the key")
        assert keys.held, "the new room key was held back"
        await user.wait_for_text(portal, KEY_MISSING_NOTICE, sender=puppet(30091), after=mark)

        # The bridge goes down with that message waiting, QQ messages come meanwhile, and
        # the key comes once the bridge is back.
        await encrypting_bridge.stop()
        await peer.client.send_text(30090, "QQ while the bridge was down: 你好 & 🙂")
    await encrypting_bridge.start()
    db = encrypting_bridge.bridge.db
    assert len(await db.waiting_events()) == 1
    await user.send(portal, "sent after the restart")
    await keys.release()

    await peer.client.send_text(30090, "QQ after the restart")
    expected = ["sent before the key", "sent after the restart"]
    received = await peer.texts_from(30090, 2)
    assert Counter(received) == Counter(expected)
    await user.wait_for_text(portal, "QQ after the restart", sender=puppet(30091))
    from_qq = [e.body for e in user.events if e.room_id == portal and e.sender == puppet(30091)]
    assert from_qq.count("QQ while the bridge was down: 你好 & 🙂") == 1
    assert from_qq.count("QQ after the restart") == 1

    # Nothing twice: a last message each way, and every earlier one still once.
    await user.send(portal, "last")
    assert (await peer.texts_from(30090, 3))[2] == "last"
    assert Counter(peer._texts(30090)) == Counter([*expected, "last"])
    assert await encrypting_bridge.bridge.db.waiting_events() == []
