"""vetting applications

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models.base

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('companion_applications',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('open_for', sa.String(length=32), nullable=True),
    sa.Column('reapplication', sa.Boolean(), nullable=False),
    sa.Column('specialties', sa.JSON(), nullable=False),
    sa.Column('gender', sa.String(length=8), nullable=False),
    sa.Column('intro', sa.String(length=500), nullable=False),
    sa.Column('text_fen_per_min', sa.Integer(), nullable=False),
    sa.Column('voice_fen_per_min', sa.Integer(), nullable=False),
    sa.Column('video_fen_per_min', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('decided_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', store.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', store.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', store.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', store.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_companion_applications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_companion_applications')),
    sa.UniqueConstraint('open_for', name=op.f('uq_companion_applications_open_for'))
    )
    with op.batch_alter_table('companion_applications', schema=None) as batch_op:
        batch_op.create_index('ix_companion_applications_status', ['status', 'submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_companion_applications_user_id'), ['user_id'], unique=False)

    op.create_table('application_files',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('application_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', store.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['companion_applications.id'], name=op.f('fk_application_files_application_id_companion_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_files'))
    )
    with op.batch_alter_table('application_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_files_application_id'), ['application_id'], unique=False)

    op.create_table('companion_voice_samples',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', store.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_companion_voice_samples_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_companion_voice_samples'))
    )


def downgrade() -> None:
    op.drop_table('companion_voice_samples')
    with op.batch_alter_table('application_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_files_application_id'))

    op.drop_table('application_files')
    with op.batch_alter_table('companion_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_companion_applications_user_id'))
        batch_op.drop_index('ix_companion_applications_status')

    op.drop_table('companion_applications')
