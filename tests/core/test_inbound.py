"""QQ → Matrix (bridge/inbound.py): every event type delivered, transient failures retried
for as long as it takes, anything else given up after MAX_ATTEMPTS and handed over."""

from __future__ import annotations

import aiohttp
import pytest
from mautrix.errors import MatrixConnectionError, MatrixRequestError, MatrixUnknownRequestError
from mautrix.types import PresenceState
from sqlalchemy import update

from bridge.db.models import InboundModel
from bridge.inbound import MAX_ATTEMPTS, is_transient
from bridge.qq.client import (
    BatchUnreadable,
    Event,
    EventsDropped,
    RequestRejected,
    Status,
    StatusChange,
    TextMessage,
    UnknownEvent,
)

from .conftest import MANAGEMENT_ROOM, Core


def _matrix_error(status: int) -> MatrixRequestError:
    return MatrixUnknownRequestError(status, text="scripted")


async def _record(core: Core, *events: Event) -> None:
    user = await core.alice()
    await user.inbound.record(list(events))
    await core.until_idle(user.inbound.worker)


async def test_a_message_opens_the_portal_and_is_sent_as_the_puppet(core: Core) -> None:
    await _record(core, TextMessage(10002, "hi & more"))
    (room_id,) = core.homeserver.rooms
    assert core.homeserver.rooms[room_id]["creator"] == "@qq_10002:example.com"
    assert core.homeserver.rooms[room_id]["invitees"] == ["@alice:example.com"]
    (sent,) = [s for s in core.homeserver.sent if s.room_id == room_id]
    assert (sent.sender, sent.body, sent.msgtype) == (
        "@qq_10002:example.com",
        "hi & more",
        "m.text",
    )
    (row_id,) = [int(sent.txn_id.removeprefix("qq-in-"))] if sent.txn_id else []
    assert await core.bridge.db.pending_inbound() == []
    assert row_id > 0


async def test_a_status_sets_presence_and_marks_a_friend(core: Core) -> None:
    user = await core.alice()
    user.friends.discard(10003)
    await _record(core, StatusChange(10003, Status.BUSY))
    assert core.homeserver.presence["@qq_10003:example.com"] is PresenceState.UNAVAILABLE
    assert 10003 in user.friends
    assert core.homeserver.rooms == {}  # a status opens no room


@pytest.mark.parametrize(
    ("event", "notice"),
    [
        (RequestRejected(10002, "no, thanks"), "refused your friend request: no, thanks"),
        (RequestRejected(10002, ""), "refused your friend request."),
        (UnknownEvent(7, 10002, "x:y"), "QQ sent an event of unknown type 7 from "),
        (EventsDropped(600, 51), "600 events from 51 senders were not bridged"),
        (BatchUnreadable(), "could not be read, so the QQ messages in it, if any, are lost"),
    ],
)
async def test_what_is_no_message_is_told_in_the_management_room(
    core: Core, event: Event, notice: str
) -> None:
    await _record(core, event)
    (text,) = core.homeserver.texts(MANAGEMENT_ROOM)
    assert notice in text


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_matrix_error(500), True),
        (_matrix_error(502), True),
        (_matrix_error(429), True),
        (_matrix_error(0), True),
        (MatrixConnectionError("gone"), True),
        (aiohttp.ClientConnectionError(), True),
        (TimeoutError(), True),
        (ConnectionResetError(), True),
        (_matrix_error(400), False),
        (_matrix_error(403), False),
        (ValueError("a bug"), False),
    ],
)
def test_is_transient(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


async def test_a_transient_failure_is_retried_past_max_attempts(core: Core) -> None:
    user = await core.alice()
    core.homeserver.fail("send_message_event", *[_matrix_error(500)] * (MAX_ATTEMPTS * 2))
    await user.inbound.record([TextMessage(10002, "patience")])
    await core.until_idle(user.inbound.worker)
    assert core.homeserver.texts() == ["patience"]  # delivered, never handed over
    assert core.homeserver.failures["send_message_event"] == []


async def test_a_poison_event_is_handed_over_after_max_attempts_and_the_rest_flows(
    core: Core,
) -> None:
    user = await core.alice()
    # The first send of each attempt fails for a reason that will not go away by itself.
    core.homeserver.fail("send_message_event", *[_matrix_error(400)] * MAX_ATTEMPTS)
    await user.inbound.record([TextMessage(10002, "poison"), TextMessage(10002, "after")])
    await core.until_idle(user.inbound.worker)
    (notice,) = core.homeserver.texts(MANAGEMENT_ROOM)
    assert notice == "A QQ event from 10002 could not be bridged: poison"
    handed = [s for s in core.homeserver.sent if s.room_id == MANAGEMENT_ROOM]
    assert handed[0].txn_id is not None and handed[0].txn_id.endswith("-notice")
    assert [s.body for s in core.homeserver.sent if s.room_id != MANAGEMENT_ROOM] == ["after"]
    assert await core.bridge.db.pending_inbound() == []


async def test_one_failure_less_than_max_attempts_is_still_delivered(core: Core) -> None:
    user = await core.alice()
    core.homeserver.fail("send_message_event", *[_matrix_error(400)] * (MAX_ATTEMPTS - 1))
    await user.inbound.record([TextMessage(10002, "late but there")])
    await core.until_idle(user.inbound.worker)
    assert core.homeserver.texts() == ["late but there"]


async def test_a_row_that_holds_no_event_is_handed_over_with_its_text(core: Core) -> None:
    user = await core.alice()
    (row,) = await core.bridge.db.add_inbound(user.mxid, [TextMessage(10002, "old")])
    async with core.bridge.db.engine.begin() as connection:  # as a newer bridge might leave it
        await connection.execute(
            update(InboundModel).where(InboundModel.id == row.id).values(type="Photo")
        )
    user.inbound.worker.wake()
    await core.until_idle(user.inbound.worker)
    assert core.homeserver.texts(MANAGEMENT_ROOM) == [
        "A QQ event from 10002 could not be bridged: old"
    ]
    assert await core.bridge.db.pending_inbound() == []


async def test_a_replay_after_a_crash_sends_nothing_twice(core: Core) -> None:
    """The transaction id comes from the row: Synapse answers a resend with the same event."""
    user = await core.alice()
    (row,) = await core.bridge.db.add_inbound(user.mxid, [TextMessage(10002, "once")])
    user.inbound.worker.wake()
    await core.until_idle(user.inbound.worker)
    # As if the bridge died after sending, before marking the row done: a restart replays it.
    async with core.bridge.db.engine.begin() as connection:
        await connection.execute(
            update(InboundModel).where(InboundModel.id == row.id).values(done=False)
        )
    user.inbound.worker.wake()
    await core.until_idle(user.inbound.worker)
    assert core.homeserver.texts() == ["once"]
