"""moderation cases: reports and automatic flags grouped per (conversation or user, target,
category), decided once (with undo)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 10:00:00.000000

Existing open reports are grouped into cases here with the rules of ``moderation.case_rules``
as they stood when this was written (copied, not imported: a migration must not change when
the code does).  Decided reports stay without a case.
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models.base

revision: str = '0022'
# NOTE: another branch adds 0020 in parallel; chain this after it when merging.
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SYNONYMS = {
    "phone": "contact_request",
    "messenger_id": "contact_request",
    "email_url": "contact_request",
    "bank_card": "off_platform_payment",
    "upselling": "upsell",
}
_RANK = ("minor", "sexual")
_PRIORITY_SEVERITY = {"high": 1, "normal": 2, "low": 3}


def _category(reason: str, details: str) -> str:
    if reason != "auto":
        return _SYNONYMS.get(reason, reason)
    found = [_SYNONYMS.get(c.strip(), c.strip()) for c in details.split(",") if c.strip()]
    for urgent in _RANK:
        if urgent in found:
            return urgent
    return found[0] if found else "other"


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('open_key', sa.String(length=160), nullable=True),
    sa.Column('call_key', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('opened_at', store.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('decided_by', sa.String(length=32), nullable=True),
    sa.Column('decided_at', store.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=False),
    sa.Column('sanction_id', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['target_id'], ['users.id'], name=op.f('fk_cases_target_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('open_key', name=op.f('uq_cases_open_key'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_status_severity_opened', ['status', 'severity', 'opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_target_id'), ['target_id'], unique=False)

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_reports_case_id'), ['case_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_reports_case_id_cases'), 'cases', ['case_id'], ['id'])

    # The open reports, grouped.
    conn = op.get_bind()
    reports = sa.table(
        'reports',
        sa.column('id'), sa.column('target_id'), sa.column('call_key'), sa.column('reason'),
        sa.column('details'), sa.column('priority'), sa.column('status'),
        sa.column('created_at', store.models.base.UtcDateTime(timezone=True)),
        sa.column('case_id'),
    )
    cases = sa.table(
        'cases',
        sa.column('id'), sa.column('open_key'), sa.column('call_key'), sa.column('target_id'),
        sa.column('category'), sa.column('severity'), sa.column('status'),
        sa.column('opened_at', store.models.base.UtcDateTime(timezone=True)),
        sa.column('items'), sa.column('version'), sa.column('decision_note'),
    )
    rows = conn.execute(
        sa.select(reports.c.id, reports.c.target_id, reports.c.call_key, reports.c.reason,
                  reports.c.details, reports.c.priority, reports.c.created_at)
        .where(reports.c.status == 'open').order_by(reports.c.created_at)
    ).all()
    grouped: dict[str, dict[str, object]] = {}
    for rid, target, call_key, reason, details, priority, created_at in rows:
        category = _category(reason, details or "")
        severity = 0 if category in _RANK else _PRIORITY_SEVERITY.get(priority or "normal", 2)
        key = f"{call_key or '-'}|{target}|{category}"
        case = grouped.setdefault(key, {
            "id": "case_" + secrets.token_hex(12), "open_key": key, "call_key": call_key or "",
            "target_id": target, "category": category, "severity": severity, "status": "open",
            "opened_at": created_at, "items": 0, "version": 0, "decision_note": "",
            "reports": [],
        })
        case["severity"] = min(int(case["severity"]), severity)  # type: ignore[call-overload]
        case["items"] = int(case["items"]) + 1  # type: ignore[call-overload]
        case["reports"].append(rid)  # type: ignore[attr-defined]
    for case in grouped.values():
        ids = case.pop("reports")
        conn.execute(cases.insert().values(**case))
        conn.execute(reports.update().where(reports.c.id.in_(ids)).values(case_id=case["id"]))


def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reports_case_id_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_reports_case_id'))
        batch_op.drop_column('case_id')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_target_id'))
        batch_op.drop_index('ix_cases_status_severity_opened')

    op.drop_table('cases')
