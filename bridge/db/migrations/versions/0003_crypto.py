"""The bridge bot's end-to-end encryption state: its Olm account, sessions and known devices,
and the encrypted events that wait for their keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the model type: a migration must not change when the models do.
JSON = sa.JSON(none_as_null=True)


def upgrade() -> None:
    op.create_table(
        "crypto_account",
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("account", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_crypto_account"),
    )
    op.create_table(
        "crypto_olm_sessions",
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("sender_key", sa.String(), nullable=False),
        sa.Column("session", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_encrypted", sa.DateTime(), nullable=False),
        sa.Column("last_decrypted", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_crypto_olm_sessions"),
    )
    op.create_index("ix_crypto_olm_sessions_sender_key", "crypto_olm_sessions", ["sender_key"])
    op.create_table(
        "crypto_megolm_inbound",
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("sender_key", sa.String(), nullable=False),
        sa.Column("signing_key", sa.String(), nullable=True),
        sa.Column("room_id", sa.String(), nullable=False),
        sa.Column("session", sa.LargeBinary(), nullable=True),
        sa.Column("forwarding_chains", sa.Text(), nullable=True),
        sa.Column("withheld_code", sa.String(), nullable=True),
        sa.Column("withheld_reason", sa.Text(), nullable=True),
        sa.Column("ratchet_safety", JSON, nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.Column("max_age_ms", sa.BigInteger(), nullable=True),
        sa.Column("max_messages", sa.Integer(), nullable=True),
        sa.Column("is_scheduled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_crypto_megolm_inbound"),
    )
    op.create_table(
        "crypto_megolm_outbound",
        sa.Column("room_id", sa.String(), nullable=False),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("session", sa.LargeBinary(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("max_messages", sa.Integer(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("max_age_ms", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("room_id", name="pk_crypto_megolm_outbound"),
        sa.UniqueConstraint("session_id", name="uq_crypto_megolm_outbound_session_id"),
    )
    op.create_table(
        "crypto_message_index",
        sa.Column("sender_key", sa.String(), nullable=False),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "sender_key", "session_id", "index", name="pk_crypto_message_index"
        ),
    )
    op.create_table(
        "crypto_tracked_users",
        sa.Column("user_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_crypto_tracked_users"),
    )
    op.create_table(
        "crypto_devices",
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("identity_key", sa.String(), nullable=False),
        sa.Column("signing_key", sa.String(), nullable=False),
        sa.Column("trust", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "device_id", name="pk_crypto_devices"),
    )
    op.create_table(
        "crypto_cross_signing_keys",
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("usage", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("first_seen_key", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "usage", name="pk_crypto_cross_signing_keys"),
    )
    op.create_table(
        "crypto_cross_signing_signatures",
        sa.Column("signed_user_id", sa.String(), nullable=False),
        sa.Column("signed_key", sa.String(), nullable=False),
        sa.Column("signer_user_id", sa.String(), nullable=False),
        sa.Column("signer_key", sa.String(), nullable=False),
        sa.Column("signature", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint(
            "signed_user_id",
            "signed_key",
            "signer_user_id",
            "signer_key",
            name="pk_crypto_cross_signing_signatures",
        ),
    )

    op.create_table(
        "crypto_waiting_events",
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.Column("told", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_crypto_waiting_events"),
    )


def downgrade() -> None:
    for table in (
        "crypto_waiting_events",
        "crypto_cross_signing_signatures",
        "crypto_cross_signing_keys",
        "crypto_devices",
        "crypto_tracked_users",
        "crypto_message_index",
        "crypto_megolm_outbound",
        "crypto_megolm_inbound",
    ):
        op.drop_table(table)
    op.drop_index("ix_crypto_olm_sessions_sender_key", table_name="crypto_olm_sessions")
    op.drop_table("crypto_olm_sessions")
    op.drop_table("crypto_account")
