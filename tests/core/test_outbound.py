"""Matrix → QQ (bridge/outbound.py): the queue is sent in order; every row ends sent, or
failed with its sender told in the portal (rule 1), even when the notice itself must wait."""

from __future__ import annotations

import asyncio

import pytest
from mautrix.errors import MatrixUnknownRequestError
from sqlalchemy import select

from bridge.db import NewOutbound, OutboundState
from bridge.db.models import OutboundModel
from bridge.formatter.fallbacks import REDACTION_NOTICE
from bridge.outbound import REDACTED
from bridge.portal import Portal
from bridge.user import User

from .conftest import Core


async def _portal(core: Core, user: User, uin: int) -> Portal:
    portal = await core.bridge.portal(user, uin)
    await portal.open_dm()
    return portal


async def _queue(core: Core, user: User, portal: Portal, *texts: str) -> None:
    assert portal.room_id is not None
    await core.bridge.db.add_outbound(
        [
            NewOutbound(user.mxid, portal.uin, portal.room_id, f"$m{index}", text)
            for index, text in enumerate(texts)
        ]
    )
    user.outbound.worker.wake()
    await core.until_idle(user.outbound.worker)


async def _outcomes(core: Core) -> list[tuple[str, str, str | None]]:
    query = select(OutboundModel.event_id, OutboundModel.state, OutboundModel.error)
    async with core.bridge.db.engine.connect() as connection:
        rows = await connection.execute(query.order_by(OutboundModel.id))
        return [(event_id, state, error) for event_id, state, error in rows]


def _cltmsg_texts(core: Core) -> list[str]:
    return [seen.fields["MG"] for seen in core.qq.seen if seen.command == "CLTMSG"]


async def test_messages_go_to_qq_in_order_and_are_marked_sent(core: Core) -> None:
    user = await core.alice()
    portal = await _portal(core, user, 10002)
    await _queue(core, user, portal, "one", "two", "three")
    assert _cltmsg_texts(core) == ["one", "two", "three"]
    assert await _outcomes(core) == [(f"$m{n}", OutboundState.SENT, None) for n in range(3)]
    assert core.homeserver.texts(portal.room_id) == []  # no notice for what went well


async def test_a_contact_who_is_not_a_friend_is_warned_about_once(core: Core) -> None:
    user = await core.alice()
    portal = await _portal(core, user, 10009)  # the scripted account's friends: 10002, 10003
    await _queue(core, user, portal, "hello?", "anyone?")
    (warning,) = core.homeserver.texts(portal.room_id)
    assert warning.startswith("QQ bridge: QQ 10009 is not your friend: QQ may not show them")
    assert _cltmsg_texts(core) == ["hello?", "anyone?"]  # sent all the same


async def test_without_a_login_the_sender_is_told_and_the_row_fails(core: Core) -> None:
    user = await core.alice(logged_in=False)
    portal = await _portal(core, user, 10002)
    await _queue(core, user, portal, "lost?")
    assert core.homeserver.texts(portal.room_id) == [
        "QQ bridge: Not sent to QQ: you are not logged in. Send `login` to the bot."
    ]
    assert await _outcomes(core) == [("$m0", OutboundState.FAILED, "not logged in")]


async def test_a_message_qq_keeps_refusing_fails_with_the_reason(core: Core) -> None:
    user = await core.alice()
    portal = await _portal(core, user, 10002)
    core.qq.penalties["CLTMSG"] = 100
    await _queue(core, user, portal, "too fast")
    (notice,) = core.homeserver.texts(portal.room_id)
    assert notice.startswith("QQ bridge: Not sent to QQ: the QQ server kept refusing")
    ((_, state, error),) = await _outcomes(core)
    assert state == OutboundState.FAILED and error is not None and "penalties" in error


async def test_the_row_fails_only_once_its_notice_got_through(core: Core) -> None:
    """Rule 1: a row failed before its notice is sent would leave its sender untold if the
    homeserver were away just then; the row stays pending until the notice is in."""
    user = await core.alice(logged_in=False)
    portal = await _portal(core, user, 10002)
    core.homeserver.fail("send_message_event", MatrixUnknownRequestError(500, text="away"))
    await _queue(core, user, portal, "tell me")
    assert core.homeserver.texts(portal.room_id) == [
        "QQ bridge: Not sent to QQ: you are not logged in. Send `login` to the bot."
    ]
    assert await _outcomes(core) == [("$m0", OutboundState.FAILED, "not logged in")]


async def test_a_redacted_message_still_queued_is_not_sent(core: Core) -> None:
    user = await core.alice()
    portal = await _portal(core, user, 10002)
    assert portal.room_id is not None
    await core.bridge.db.add_outbound(
        [NewOutbound(user.mxid, 10002, portal.room_id, "$gone", "never mind")]
    )
    assert await user.outbound.cancel("$gone")
    user.outbound.worker.wake()
    await core.until_idle(user.outbound.worker)
    assert _cltmsg_texts(core) == []
    assert await _outcomes(core) == [("$gone", OutboundState.FAILED, "redacted before sending")]


async def test_a_message_redacted_while_being_sent_is_answered_once_it_is_sent(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The note is in the database, not in memory: the answer comes once the row is sent."""
    user = await core.alice()
    portal = await _portal(core, user, 10002)
    assert portal.room_id is not None and user.client is not None
    in_hand, go = asyncio.Event(), asyncio.Event()
    send = user.client.send_text

    async def slow_send(uin: int, text: str) -> None:
        in_hand.set()
        await go.wait()
        await send(uin, text)

    monkeypatch.setattr(user.client, "send_text", slow_send)
    await core.bridge.db.add_outbound(
        [NewOutbound(user.mxid, 10002, portal.room_id, "$late", "oops")]
    )
    user.outbound.worker.wake()
    await in_hand.wait()
    assert not await user.outbound.redacted("$late")  # in QQ's hands: told once it is sent
    go.set()
    await core.until_idle(user.outbound.worker)
    assert _cltmsg_texts(core) == ["oops"]
    assert core.homeserver.texts(portal.room_id) == [f"QQ bridge: {REDACTION_NOTICE}"]
    assert await _outcomes(core) == [("$late", OutboundState.SENT, REDACTED)]
    assert not await user.outbound.redacted("$late")  # redacted again: nothing more to say


async def test_a_row_redacted_while_being_sent_before_a_restart_is_not_sent_again(
    core: Core,
) -> None:
    user = await core.alice()
    portal = await _portal(core, user, 10002)
    assert portal.room_id is not None
    await core.bridge.db.add_outbound(
        [NewOutbound(user.mxid, 10002, portal.room_id, "$deleted", "take it back")]
    )
    # What a redaction left on the row in a client's hands when the bridge stopped.
    assert await core.bridge.db.note_redacted(user.mxid, "$deleted", REDACTED) is not None
    user.outbound.worker.wake()
    await core.until_idle(user.outbound.worker)
    assert _cltmsg_texts(core) == []
    assert await _outcomes(core) == [("$deleted", OutboundState.FAILED, REDACTED)]
