"""Presence that holds, from the user's side (issue 10, item 3): a QQ contact online or busy
stays so in Matrix for as long as QQ says, past the time Synapse turns a presence no one
refreshes to offline; offline and invisible contacts show offline; at login and after a
restart, presence comes from Query_Stat.

How "past the time-out" is known without sleeping: a Matrix user of the test's own (the
witness) sets itself online once and never syncs, so Synapse turns it offline after its
``presence.sync_online_timeout`` (3 s in these tests, fixtures.SYNAPSE_PRESENCE). Once the
witness, set online after the puppet was, shows offline, the puppet's own presence would have
decayed as well, unless the bridge set it again.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from mautrix.api import HTTPAPI
from mautrix.client import ClientAPI
from mautrix.types import PresenceState, RoomID, UserID

from bridge.demo.synapse import SynapseServer
from bridge.qq.codes import Status

from .harness import BridgeRunner, LoggedIn, LoggedInSession, QQPeerFactory
from .matrix_user import MatrixUser

pytestmark = pytest.mark.asyncio(loop_scope="session")

# Synapse first looks at presence time-outs 30 s after it started, then every 5 s: a test that
# runs first in a session waits that long for the witness to decay, the others seconds.
PRESENCE_WAIT = 60.0


class Witness:
    """A Matrix user who sets presence and never syncs: Synapse's time-out, made visible."""

    def __init__(self, api: ClientAPI) -> None:
        self.api = api

    @property
    def mxid(self) -> UserID:
        return self.api.mxid

    async def join_room_of(self, observer: MatrixUser) -> None:
        """Presence is shown only to users who share a room."""
        room = await observer.client.create_room(invitees=[self.mxid])
        await self.api.join_room_by_id(RoomID(room))

    async def go_online(self) -> None:
        await self.api.set_presence(PresenceState.ONLINE)


@pytest_asyncio.fixture(loop_scope="session")
async def witness(synapse: SynapseServer) -> AsyncIterator[Witness]:
    localpart = f"witness{secrets.token_hex(4)}"
    user_id, token = await synapse.register_user(localpart, secrets.token_urlsafe(12))
    api = ClientAPI(UserID(user_id), api=HTTPAPI(base_url=synapse.url, token=token))
    yield Witness(api)
    await api.api.session.close()


async def presence_becomes(observer: MatrixUser, mxid: str, state: PresenceState) -> None:
    """Wait (asking Synapse, which pushes presence only to syncing clients) for ``state``."""

    async def asked() -> None:
        while (await observer.client.get_presence(UserID(mxid))).presence != state:
            await observer.wait_briefly()

    try:
        await asyncio.wait_for(asked(), PRESENCE_WAIT)
    except TimeoutError:
        raise AssertionError(f"the presence of {mxid} never became {state.value}") from None


async def outlives_the_time_out(
    session: LoggedInSession, witness: Witness, mxid: str, state: PresenceState
) -> None:
    """``mxid`` shows ``state`` now, and still after Synapse's presence time-out went by."""
    user = session.user
    await presence_becomes(user, mxid, state)
    await witness.go_online()  # after the puppet's presence was set: it decays first
    await presence_becomes(user, witness.mxid, PresenceState.ONLINE)
    await presence_becomes(user, witness.mxid, PresenceState.OFFLINE)
    assert (await user.client.get_presence(UserID(mxid))).presence == state


async def test_presence_holds_for_as_long_as_qq_says(
    logged_in: LoggedIn,
    qq_peer: QQPeerFactory,
    puppet: Callable[[int], str],
    witness: Witness,
) -> None:
    friend = await qq_peer(30157)  # online before the user logs in: Query_Stat tells
    session = await logged_in("presence", 30156)
    await session.open_portal(30157)  # Synapse shows presence only to those sharing a room
    await witness.join_room_of(session.user)
    contact = puppet(30157)

    await outlives_the_time_out(session, witness, contact, PresenceState.ONLINE)
    await friend.client.set_status(Status.BUSY)
    await outlives_the_time_out(session, witness, contact, PresenceState.UNAVAILABLE)
    await friend.client.set_status(Status.INVISIBLE)  # others see OFFLINE (seed 004)
    await presence_becomes(session.user, contact, PresenceState.OFFLINE)
    await friend.client.set_status(Status.ONLINE)
    await outlives_the_time_out(session, witness, contact, PresenceState.ONLINE)

    # Logged out, the bridge can no longer tell: the contact shows offline, not online for ever.
    await session.command("logout", "Logged out of QQ")
    await presence_becomes(session.user, contact, PresenceState.OFFLINE)


async def test_presence_after_a_restart_comes_from_query_stat(
    logged_in: LoggedIn,
    qq_peer: QQPeerFactory,
    puppet: Callable[[int], str],
    witness: Witness,
    bridge_runner: BridgeRunner,
) -> None:
    friend = await qq_peer(30159)
    session = await logged_in("presence-restart", 30158)
    await session.open_portal(30159)
    await witness.join_room_of(session.user)
    contact = puppet(30159)
    await friend.client.set_status(Status.BUSY)
    await presence_becomes(session.user, contact, PresenceState.UNAVAILABLE)

    await bridge_runner.stop()
    await bridge_runner.start()
    # Logins are resumed paced (qq.login_rate): in a full run, dozens of users come first.
    user = await bridge_runner.bridge.user(session.user.mxid)
    assert await asyncio.wait_for(user.wait_for_client(), 60) is not None
    # No status message comes after the restart: only Query_Stat at the resumed login says
    # the friend is busy, and the bridge keeps saying it.
    await session.command("ping", "QQ 30158: online")
    await outlives_the_time_out(session, witness, contact, PresenceState.UNAVAILABLE)
