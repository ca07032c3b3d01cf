"""The inbound journal keeps each QQ event as its type and a JSON payload.

Before: ``uin``, ``kind`` (a word: "message", "status", ...) and ``text`` (a status as
``"10"``, an unknown event as ``"<MT>:<text>"``, a dropped batch as its notice). After:
``type`` (the event's dataclass name) and ``payload`` (its fields as JSON text), as
bridge/db/events.py writes them. Existing rows are converted, finished ones included, a page at
a time; a row that fits no known kind becomes an ``UnknownEvent`` of type 0, so that its text is
still shown to its user. Columns are renamed and dropped in place (SQLite 3.35 or later), which
keeps the table, its ids and its AUTOINCREMENT high-water mark: journal row ids are Matrix
transaction ids and must never be given out twice.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE = 1000

# Frozen copies of what this revision knows: a migration must not change when the code does.
_AFTER = sa.table(
    "inbound",
    sa.column("id", sa.BigInteger()),
    sa.column("uin", sa.BigInteger()),
    sa.column("type", sa.String()),
    sa.column("payload", sa.Text()),
)
_SIMPLE = {  # kind: (type, the field the text goes to)
    "message": ("TextMessage", "text"),
    "request": ("FriendRequest", "text"),
    "accepted": ("RequestAccepted", "text"),
    "rejected": ("RequestRejected", "reason"),
}
_DROPPED = re.compile(r"(\d+) events from (\d+) senders")
_STATUSES = {10, 20, 30, 40}  # codes.Status in 0003's time


def typed(uin: int, kind: str, text: str) -> tuple[str, dict[str, Any]]:
    """(type, payload) of a row written before this revision."""
    if kind in _SIMPLE:
        type_name, field = _SIMPLE[kind]
        return type_name, {"sender": uin, field: text}
    if kind == "status" and text.isdigit() and int(text) in _STATUSES:
        return "StatusChange", {"sender": uin, "status": int(text)}
    if kind == "unknown":
        code, _, rest = text.partition(":")
        if code.lstrip("-").isdigit():
            return "UnknownEvent", {"type": int(code), "sender": uin, "text": rest}
    if kind == "dropped":
        counts = _DROPPED.search(text)
        if counts:
            count, senders = map(int, counts.groups())
            return "EventsDropped", {"count": count, "senders": senders}
        return "BatchUnreadable", {}
    return "UnknownEvent", {"type": 0, "sender": uin, "text": f"{kind}: {text}"}


def untyped(type_name: str, payload: dict[str, Any]) -> tuple[int, str, str]:
    """(uin, kind, text) of a row for 0003: the inverse of ``typed`` for what it wrote."""
    sender = int(payload.get("sender", 0))
    kinds = {type_name: (kind, field) for kind, (type_name, field) in _SIMPLE.items()}
    if type_name in kinds:
        kind, field = kinds[type_name]
        return sender, kind, str(payload.get(field, ""))
    if type_name == "StatusChange":
        return sender, "status", str(payload["status"])
    if type_name == "EventsDropped":
        text = (
            f"QQ sent more at once than the bridge takes in one batch: {payload['count']} events "
            f"from {payload['senders']} senders were not bridged."
        )
        return 0, "dropped", text
    if type_name == "BatchUnreadable":
        text = (
            "A reply from the QQ server could not be read, so the QQ messages in it, if "
            "any, are lost: QQ sends each message only once."
        )
        return 0, "dropped", text
    return sender, "unknown", f"{payload.get('type', 0)}:{payload.get('text', '')}"


def upgrade() -> None:
    op.alter_column("inbound", "kind", new_column_name="type", existing_type=sa.String())
    op.alter_column("inbound", "text", new_column_name="payload", existing_type=sa.Text())
    connection, after = op.get_bind(), 0
    change = (
        sa.update(_AFTER)
        .where(_AFTER.c.id == sa.bindparam("row"))
        .values(type=sa.bindparam("new_type"), payload=sa.bindparam("new_payload"))
    )
    while rows := _page(connection, _AFTER, after):
        updates = []
        for row_id, uin, kind, text in rows:
            type_name, payload = typed(uin, kind, text)
            new_payload = json.dumps(payload, ensure_ascii=False)
            updates.append({"row": row_id, "new_type": type_name, "new_payload": new_payload})
        connection.execute(change, updates)
        after = rows[-1][0]
    op.drop_column("inbound", "uin")


def downgrade() -> None:
    op.add_column("inbound", sa.Column("uin", sa.BigInteger(), nullable=False, server_default="0"))
    connection, after = op.get_bind(), 0
    change = (
        sa.update(_AFTER)
        .where(_AFTER.c.id == sa.bindparam("row"))
        .values(
            uin=sa.bindparam("new_uin"),
            type=sa.bindparam("new_type"),
            payload=sa.bindparam("new_payload"),
        )
    )
    while rows := _page(connection, _AFTER, after):
        updates = []
        for row_id, _, type_name, payload in rows:
            uin, kind, text = untyped(type_name, json.loads(payload))
            updates.append({"row": row_id, "new_uin": uin, "new_type": kind, "new_payload": text})
        connection.execute(change, updates)
        after = rows[-1][0]
    if connection.dialect.name == "postgresql":  # SQLite cannot drop it; it is never used
        op.alter_column("inbound", "uin", server_default=None, existing_type=sa.BigInteger())
    op.alter_column("inbound", "type", new_column_name="kind", existing_type=sa.String())
    op.alter_column("inbound", "payload", new_column_name="text", existing_type=sa.Text())


def _page(connection: sa.Connection, table: sa.TableClause, after: int) -> list[Any]:
    columns = list(table.c)
    query = sa.select(*columns).where(table.c.id > after).order_by(table.c.id).limit(PAGE)
    return list(connection.execute(query).all())
