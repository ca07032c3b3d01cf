"""Matrix events acted on, by event id: idempotency that survives transaction id reuse.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "matrix_events",
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("room_id", sa.String(), nullable=False),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("outcome IN ('handled', 'failed')", name="ck_matrix_events_outcome"),
        sa.PrimaryKeyConstraint("event_id", name="pk_matrix_events"),
    )
    op.create_index("ix_matrix_events_received_at", "matrix_events", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_matrix_events_received_at", table_name="matrix_events")
    op.drop_table("matrix_events")
