"""QQ friend requests as Matrix invites: join to accept, reject the invite to refuse."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bridge.qq.codes import AckCode, AddResult
from bridge.qq.wire.replies import RequestAccepted, RequestRejected

from .harness import LoggedIn, QQPeerFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_joining_the_request_room_accepts(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("accepts", 30008)
    asker = await qq_peer(30030)
    added = await asker.client.add(30008)
    assert added.result is AddResult.NEEDS_VERIFICATION
    await asker.client.ack(30008, AckCode.REQUEST, "我是 30030, let's chat")
    room = await session.user.wait_for_invite(puppet(30030))
    await session.user.join(room)
    notice = await session.user.wait_for_text(room, "asks to be your QQ friend")
    assert "我是 30030, let's chat" in notice.body
    accepted = await asker.wait_for(lambda e: isinstance(e, RequestAccepted))
    assert isinstance(accepted, RequestAccepted) and accepted.sender == 30008
    # The request room is now the DM: a message from the new friend lands there.
    await asker.client.send_text(30008, "thanks!")
    await session.user.wait_for_text(room, "thanks!", sender=puppet(30030))
    await session.command("friends", "30030")


async def test_rejecting_the_invite_refuses(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("rejects", 30009)
    asker = await qq_peer(30031)
    await asker.client.add(30009)
    await asker.client.ack(30009, AckCode.REQUEST, "please")
    room = await session.user.wait_for_invite(puppet(30031))
    await session.user.client.leave_room(room)
    rejected = await asker.wait_for(lambda e: isinstance(e, RequestRejected))
    assert isinstance(rejected, RequestRejected) and rejected.sender == 30009


async def test_accept_and_reject_commands_and_answers(
    logged_in: LoggedIn, qq_peer: QQPeerFactory, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("answers", 30010)
    first, second = await qq_peer(30032), await qq_peer(30033)
    for asker in (first, second):
        await asker.client.add(30010)
        await asker.client.ack(30010, AckCode.REQUEST, "hi")
    await session.user.wait_for_invite(puppet(30032))
    await session.user.wait_for_invite(puppet(30033))
    await session.command("accept 30032", "now QQ friends")
    await first.wait_for(lambda e: isinstance(e, RequestAccepted))
    await session.command("reject 30033 not now, sorry", "refused the friend request")
    refused = await second.wait_for(lambda e: isinstance(e, RequestRejected))
    assert refused.reason == "not now, sorry"  # type: ignore[union-attr]
    # Our own request answered by QQ: a refusal shows up as a notice with the reason.
    await session.command("add 30034 hello", "friend request was sent")
    target = await qq_peer(30034)
    await target.client.ack(30010, AckCode.REJECT, "who are you?")
    notice = await session.user.wait_for_text(session.room, "refused your friend request")
    assert "who are you?" in notice.body
