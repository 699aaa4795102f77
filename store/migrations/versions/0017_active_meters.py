"""active_meters: one open metered session per customer

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Sessions open when this runs get their row, so that the rule holds for them too: per customer
# the earliest open one (if the old race left a customer two, the other stays without a row and
# ``peiliao ledger check`` names it until it ends).  The kind is told from the session's id
# (``vrs_`` is a voice-room seat) and from the booking that links a call.
_BACKFILL = sa.text(
    """
    INSERT INTO active_meters (customer_id, session_id, kind, opened_at)
    SELECT m.customer_id, m.id,
           CASE
               WHEN m.id LIKE 'vrs!_%' ESCAPE '!' THEN 'room_seat'
               WHEN EXISTS (SELECT 1 FROM bookings b WHERE b.call_id = m.id) THEN 'booking'
               ELSE 'call'
           END,
           m.created_at
    FROM metered_sessions m
    WHERE m.status IN ('running', 'paused')
      AND m.id = (
          SELECT m2.id FROM metered_sessions m2
          WHERE m2.customer_id = m.customer_id AND m2.status IN ('running', 'paused')
          ORDER BY m2.created_at, m2.id
          LIMIT 1
      )
    """
)


def upgrade() -> None:
    op.create_table(
        "active_meters",
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("opened_at", store.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["users.id"], name=op.f("fk_active_meters_customer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["metered_sessions.id"],
            name=op.f("fk_active_meters_session_id_metered_sessions"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_active_meters")),
        sa.UniqueConstraint("session_id", name=op.f("uq_active_meters_session_id")),
    )
    op.execute(_BACKFILL)


def downgrade() -> None:
    op.drop_table("active_meters")
