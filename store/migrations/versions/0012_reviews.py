"""reviews

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models.base

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reviews',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.String(length=32), nullable=False),
    sa.Column('companion_id', sa.String(length=32), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('moderation', sa.String(length=8), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('created_at', store.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', store.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('reply_text', sa.String(length=300), nullable=False),
    sa.Column('replied_at', store.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('hidden_at', store.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('hidden_by', sa.String(length=32), nullable=True),
    sa.Column('hidden_reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['companion_id'], ['users.id'], name=op.f('fk_reviews_companion_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['users.id'], name=op.f('fk_reviews_customer_id_users')),
    sa.ForeignKeyConstraint(['session_id'], ['metered_sessions.id'], name=op.f('fk_reviews_session_id_metered_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('session_id', name=op.f('uq_reviews_session_id'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index('ix_reviews_companion_created', ['companion_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_reviews_customer_created', ['customer_id', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_reviews_customer_created')
        batch_op.drop_index('ix_reviews_companion_created')

    op.drop_table('reviews')
