"""The user's own QQ status from their side (issue 10, items 3 and 4): `ping` reports it, and
it is stored when set, so that a bridge restart or a new login does not make an invisible user
visible again. Their QQ friend (a peer on the simulator) is who would notice."""

from __future__ import annotations

import pytest

from bridge.qq.codes import Status
from bridge.qq.simulator import Simulator
from bridge.qq.wire.replies import Event, StatusChange

from .harness import E2E_ACCOUNTS, BridgeRunner, LoggedIn, QQPeer, QQPeerFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")

USER, FRIEND = 30154, 30155


async def test_own_status_is_reported_stored_and_restored(
    logged_in: LoggedIn,
    qq_peer: QQPeerFactory,
    qq_server: Simulator,
    bridge_runner: BridgeRunner,
) -> None:
    friend = await qq_peer(FRIEND)
    session = await logged_in("status", USER)
    reply = await session.command("ping", f"QQ {USER}")
    assert reply.body == f"QQ {USER}: online. Your QQ status: online."

    mark = len(friend.events)
    await session.command("status invisible", "Your QQ status is now invisible.")
    await statuses_heard(friend, USER, [Status.OFFLINE], after=mark)
    reply = await session.command("ping", f"QQ {USER}")
    assert reply.body == f"QQ {USER}: online. Your QQ status: invisible."

    # A bridge restart: the login resumes, the server starts it ONLINE, the bridge hides it.
    mark = len(friend.events)
    await bridge_runner.stop()
    await bridge_runner.start()
    await statuses_heard(friend, USER, [Status.ONLINE, Status.OFFLINE], after=mark)
    assert qq_server.state.sessions.get(USER) is not None
    assert qq_server.state.visible_status(USER) is Status.OFFLINE
    reply = await session.command("ping", f"QQ {USER}: online")
    assert reply.body.endswith("Your QQ status: invisible.")

    # A new login (the user logs in again): the same.
    mark = len(friend.events)
    password = E2E_ACCOUNTS[USER].password
    await session.command(f"login {USER} {password}", "Logged in to QQ")
    await statuses_heard(friend, USER, [Status.ONLINE, Status.OFFLINE], after=mark)
    assert qq_server.state.visible_status(USER) is Status.OFFLINE

    # Busy is kept the same way, and online again is stored too.
    await session.command("status busy", "Your QQ status is now busy.")
    await session.command("status online", "Your QQ status is now online.")
    mark = len(friend.events)
    await session.command(f"login {USER} {password}", "Logged in to QQ")
    reply = await session.command("ping", f"QQ {USER}: online")
    assert reply.body.endswith("Your QQ status: online.")
    assert qq_server.state.visible_status(USER) is Status.ONLINE


async def statuses_heard(peer: QQPeer, uin: int, statuses: list[Status], after: int) -> None:
    """The peer hears ``uin`` change to each of ``statuses``, in this order, from event
    ``after`` on (MT 99 messages, seed 004)."""

    def heard(_: Event) -> bool:  # a condition on everything heard so far, not on one event
        changes = [
            event.status
            for event in peer.events[after:]
            if isinstance(event, StatusChange) and event.sender == uin
        ]
        return _in_order(statuses, changes)

    await peer.wait_for(heard)


def _in_order(wanted: list[Status], seen: list[Status]) -> bool:
    position = 0
    for status in seen:
        if position < len(wanted) and status is wanted[position]:
            position += 1
    return position == len(wanted)
