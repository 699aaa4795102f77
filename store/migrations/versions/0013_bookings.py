"""bookings

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models.base

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('booking_calendars',
    sa.Column('companion_id', sa.String(length=32), nullable=False),
    sa.Column('ranges', sa.JSON(), nullable=False),
    sa.Column('updated_at', store.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['companion_id'], ['users.id'], name=op.f('fk_booking_calendars_companion_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('companion_id', name=op.f('pk_booking_calendars'))
    )
    op.create_table('bookings',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.String(length=32), nullable=False),
    sa.Column('companion_id', sa.String(length=32), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('starts_at', store.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', store.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('duration_min', sa.Integer(), nullable=False),
    sa.Column('rate_fen_per_min', sa.Integer(), nullable=False),
    sa.Column('commission_bp', sa.Integer(), nullable=False),
    sa.Column('hold_fen', sa.Integer(), nullable=False),
    sa.Column('budget_month', sa.String(length=7), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('cancelled_by', sa.String(length=12), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('fee_fen', sa.Integer(), nullable=False),
    sa.Column('released_fen', sa.Integer(), nullable=False),
    sa.Column('fee_settled_at', store.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('call_id', sa.String(length=40), nullable=True),
    sa.Column('confirmed_at', store.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', store.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', store.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('released_at', store.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', store.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', store.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', store.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['companion_id'], ['users.id'], name=op.f('fk_bookings_companion_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['users.id'], name=op.f('fk_bookings_customer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('customer_id', 'request_id', name=op.f('uq_bookings_customer_id_request_id'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_call_id'), ['call_id'], unique=False)
        batch_op.create_index('ix_bookings_companion_starts_at', ['companion_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_bookings_customer_starts_at', ['customer_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_bookings_status_starts_at', ['status', 'starts_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_status_starts_at')
        batch_op.drop_index('ix_bookings_customer_starts_at')
        batch_op.drop_index('ix_bookings_companion_starts_at')
        batch_op.drop_index(batch_op.f('ix_bookings_call_id'))

    op.drop_table('bookings')
    op.drop_table('booking_calendars')
