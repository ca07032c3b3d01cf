"""Initial schema: bridge users, puppets, portals, face avatars, the journals, Matrix state.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types: a migration must not change when the models do.
JOURNAL_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON(none_as_null=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("mxid", sa.String(), nullable=False),
        sa.Column("uin", sa.BigInteger(), nullable=True),
        sa.Column("password_md5", sa.String(), nullable=True),
        sa.Column("management_room", sa.String(), nullable=True),
        sa.Column("login_state", sa.String(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("mxid", name="pk_users"),
        sa.UniqueConstraint("uin", name="uq_users_uin"),
    )
    op.create_table(
        "puppets",
        sa.Column("uin", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("nick", sa.String(), nullable=False),
        sa.Column("face", sa.Integer(), nullable=True),
        sa.Column("name_set", sa.Boolean(), nullable=False),
        sa.Column("avatar_set", sa.Boolean(), nullable=False),
        sa.Column("avatar_mxc", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("uin", name="pk_puppets"),
    )
    op.create_table(
        "portals",
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("uin", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("room_id", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.CheckConstraint("kind IN ('dm', 'request')", name="ck_portals_kind"),
        sa.ForeignKeyConstraint(
            ["owner"], ["users.mxid"], name="fk_portals_owner_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("owner", "uin", name="pk_portals"),
        sa.UniqueConstraint("room_id", name="uq_portals_room_id"),
    )
    op.create_table(
        "face_avatars",
        sa.Column("face", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("mxc", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("face", name="pk_face_avatars"),
    )
    op.create_table(
        "inbound",
        sa.Column("id", JOURNAL_ID, nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("uin", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner"], ["users.mxid"], name="fk_inbound_owner_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_inbound"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_inbound_pending", "inbound", ["done", "owner", "id"])
    op.create_table(
        "outbound",
        sa.Column("id", JOURNAL_ID, nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("uin", sa.BigInteger(), nullable=False),
        sa.Column("room_id", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'sent', 'failed')", name="ck_outbound_state"),
        sa.ForeignKeyConstraint(
            ["owner"], ["users.mxid"], name="fk_outbound_owner_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbound"),
        sa.UniqueConstraint("event_id", name="uq_outbound_event_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outbound_pending", "outbound", ["state", "owner", "id"])
    op.create_table(
        "mx_registrations",
        sa.Column("user_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_mx_registrations"),
    )
    op.create_table(
        "mx_room_state",
        sa.Column("room_id", sa.String(), nullable=False),
        sa.Column("power_levels", JSON, nullable=True),
        sa.Column("create_event", JSON, nullable=True),
        sa.Column("is_encrypted", sa.Boolean(), nullable=True),
        sa.Column("encryption", JSON, nullable=True),
        sa.Column("has_full_member_list", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("room_id", name="pk_mx_room_state"),
    )
    op.create_table(
        "mx_members",
        sa.Column("room_id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("membership", sa.String(), nullable=False),
        sa.Column("displayname", sa.String(), nullable=True),
        sa.Column("avatar_url", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("room_id", "user_id", name="pk_mx_members"),
    )


def downgrade() -> None:
    for table in (
        "mx_members",
        "mx_room_state",
        "mx_registrations",
        "outbound",
        "inbound",
        "face_avatars",
        "portals",
        "puppets",
        "users",
    ):
        op.drop_table(table)
