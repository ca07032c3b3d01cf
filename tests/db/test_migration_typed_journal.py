"""Migration 0004: inbound rows written as (uin, kind, text) come back as typed events, on
SQLite and PostgreSQL, and journal ids are never given out twice across it."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bridge.db.engine import create_engine
from bridge.db.migrate import alembic_config
from bridge.qq.client import (
    BatchUnreadable,
    EventsDropped,
    FriendRequest,
    RequestAccepted,
    RequestRejected,
    Status,
    StatusChange,
    TextMessage,
    UnknownEvent,
)

from .conftest import DatabaseLocation
from .people import ALICE

# (uin, kind, text) as bridge/inbound.py wrote them before 0004, and the event each becomes.
OLD_ROWS: list[tuple[int, str, str, object]] = [
    (10002, "message", "hi, 中文 & more", TextMessage(10002, "hi, 中文 & more")),
    (10003, "status", "30", StatusChange(10003, Status.BUSY)),
    (10004, "request", "add me", FriendRequest(10004, "add me")),
    (10005, "accepted", "", RequestAccepted(10005, "")),
    (10006, "rejected", "no", RequestRejected(10006, "no")),
    (10007, "unknown", "7:x:y", UnknownEvent(7, 10007, "x:y")),
    (
        0,
        "dropped",
        "QQ sent more at once than the bridge takes in one batch: 600 events from 51 senders "
        "were not bridged.",
        EventsDropped(600, 51),
    ),
    (
        0,
        "dropped",
        "A reply from the QQ server could not be read, so the QQ messages in it, if any, are "
        "lost: QQ sends each message only once.",
        BatchUnreadable(),
    ),
    (10008, "status", "77", UnknownEvent(0, 10008, "status: 77")),  # no such status
]


def _migrate(connection: Connection, revision: str, down: bool = False) -> None:
    config = alembic_config(connection)
    (command.downgrade if down else command.upgrade)(config, revision)


async def _run(location: DatabaseLocation, revision: str, down: bool = False) -> None:
    engine = create_engine(location.url, location.schema)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, revision, down)
    finally:
        await engine.dispose()


async def _sql(location: DatabaseLocation, statement: str, rows: Any = None) -> list[Any]:
    engine = create_engine(location.url, location.schema)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), rows)
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


async def _journal_at_0003(location: DatabaseLocation) -> None:
    await _run(location, "0003")
    await _sql(
        location,
        "INSERT INTO users (mxid, login_state, status) VALUES (:mxid, 'logged_in', 10)",
        {"mxid": ALICE},
    )
    rows = [
        {"owner": ALICE, "uin": uin, "kind": kind, "text": body, "done": index == 0}
        for index, (uin, kind, body, _) in enumerate(OLD_ROWS)
    ]
    await _sql(
        location,
        "INSERT INTO inbound (owner, uin, kind, text, received_at, done) "
        "VALUES (:owner, :uin, :kind, :text, 1.5, :done)",
        rows,
    )


async def test_old_rows_become_typed_events(location: DatabaseLocation) -> None:
    await _journal_at_0003(location)
    database = await location.open()  # migrates to head
    try:
        pending = await database.pending_inbound(ALICE)
        assert [row.event() for row in pending] == [event for *_, event in OLD_ROWS[1:]]
        assert all(row.received_at == 1.5 for row in pending)
        (message,) = await database.add_inbound(ALICE, [TextMessage(1, "new")])
        assert message.id > pending[-1].id
    finally:
        await database.close()


async def test_a_pruned_last_id_is_not_given_out_again(location: DatabaseLocation) -> None:
    await _journal_at_0003(location)
    (last,) = await _sql(location, "SELECT max(id) FROM inbound")
    await _sql(location, "DELETE FROM inbound WHERE id = :id", {"id": last[0]})
    database = await location.open()
    try:
        (added,) = await database.add_inbound(ALICE, [TextMessage(1, "after the migration")])
        assert added.id > last[0]
    finally:
        await database.close()


async def test_downgrade_gives_back_the_old_rows(location: DatabaseLocation) -> None:
    await _journal_at_0003(location)
    before = await _sql(location, "SELECT id, uin, kind, text FROM inbound ORDER BY id")
    await _run(location, "head")
    await _run(location, "0003", down=True)
    after = await _sql(location, "SELECT id, uin, kind, text FROM inbound ORDER BY id")
    # The one row 0004 could not type (a status of no known value) comes back as unknown.
    *kept, (row_id, uin, _, _) = before
    assert after == [*kept, (row_id, uin, "unknown", "0:status: 77")]
