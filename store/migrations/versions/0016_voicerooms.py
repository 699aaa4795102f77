"""voicerooms

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROOM_OPEN = sa.text("status = 'open'")
_MEMBER_JOINED = sa.text("status = 'joined'")


def upgrade() -> None:
    op.create_table(
        "voice_rooms",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("host_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=30), nullable=False),
        sa.Column("rate_fen_per_min", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("joins", sa.Integer(), nullable=False),
        sa.Column("host_away_at", store.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", store.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", store.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", store.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["host_id"], ["users.id"], name=op.f("fk_voice_rooms_host_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_rooms")),
    )
    with op.batch_alter_table("voice_rooms", schema=None) as batch_op:
        batch_op.create_index(
            "ix_voice_rooms_status_created", ["status", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_voice_rooms_open_host",
            ["host_id"],
            unique=True,
            sqlite_where=_ROOM_OPEN,
            postgresql_where=_ROOM_OPEN,
        )

    op.create_table(
        "voice_room_members",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("room_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("away_at", store.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("joined_at", store.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("left_at", store.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("leave_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["room_id"], ["voice_rooms.id"], name=op.f("fk_voice_room_members_room_id_voice_rooms")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_voice_room_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_room_members")),
        sa.UniqueConstraint(
            "user_id", "request_key", name=op.f("uq_voice_room_members_user_id_request_key")
        ),
    )
    with op.batch_alter_table("voice_room_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_voice_room_members_room_status", ["room_id", "status"], unique=False
        )
        batch_op.create_index(
            "uq_voice_room_members_joined_user",
            ["user_id"],
            unique=True,
            sqlite_where=_MEMBER_JOINED,
            postgresql_where=_MEMBER_JOINED,
        )


def downgrade() -> None:
    with op.batch_alter_table("voice_room_members", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_voice_room_members_joined_user",
            sqlite_where=_MEMBER_JOINED,
            postgresql_where=_MEMBER_JOINED,
        )
        batch_op.drop_index("ix_voice_room_members_room_status")
    op.drop_table("voice_room_members")
    with op.batch_alter_table("voice_rooms", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_voice_rooms_open_host", sqlite_where=_ROOM_OPEN, postgresql_where=_ROOM_OPEN
        )
        batch_op.drop_index("ix_voice_rooms_status_created")
    op.drop_table("voice_rooms")
