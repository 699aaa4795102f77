"""Record admin actions and read them back.

``record`` takes the caller's open transaction when it has one, so the action and its log line
commit together (an approval is never without its audit line); the key makes a retried action
log once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.clock import Clock
from store import Database
from store.models.audit import AdminAction

MAX_PAGE = 200


@dataclass(frozen=True)
class Entry:
    id: int
    admin_id: str
    action: str
    subject_type: str
    subject_id: str
    detail: dict[str, Any]
    at: datetime


def _entry(row: AdminAction) -> Entry:
    return Entry(
        row.id, row.admin_id, row.action, row.subject_type, row.subject_id, row.detail, row.at
    )


class AuditLog:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def record(
        self,
        *,
        key: str,
        admin_id: str,
        action: str,
        subject_type: str,
        subject_id: str,
        detail: dict[str, Any] | None = None,
        s: AsyncSession | None = None,
    ) -> None:
        """Log one admin action (once per ``key``), inside ``s`` if given."""
        if s is None:
            async with self._db.writing() as own:
                await self._add(own, key, admin_id, action, subject_type, subject_id, detail)
            return
        await self._add(s, key, admin_id, action, subject_type, subject_id, detail)

    async def _add(
        self,
        s: AsyncSession,
        key: str,
        admin_id: str,
        action: str,
        subject_type: str,
        subject_id: str,
        detail: dict[str, Any] | None,
    ) -> None:
        key = key[:160]
        exists = await s.execute(select(AdminAction.id).where(AdminAction.key == key))
        if exists.first() is not None:
            return
        s.add(
            AdminAction(
                key=key,
                admin_id=admin_id,
                action=action,
                subject_type=subject_type,
                subject_id=subject_id[:64],
                detail=detail or {},
                at=self._clock.now(),
            )
        )
        await s.flush()

    async def page(
        self,
        *,
        subject_type: str | None = None,
        subject_id: str | None = None,
        admin_id: str | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[Entry]:
        """Newest first; ``before_id`` continues from the last entry of the previous page."""
        stmt = select(AdminAction).order_by(AdminAction.id.desc()).limit(min(limit, MAX_PAGE))
        if subject_type:
            stmt = stmt.where(AdminAction.subject_type == subject_type)
        if subject_id:
            stmt = stmt.where(AdminAction.subject_id == subject_id)
        if admin_id:
            stmt = stmt.where(AdminAction.admin_id == admin_id)
        if before_id is not None:
            stmt = stmt.where(AdminAction.id < before_id)
        async with self._db.reading() as s:
            return [_entry(r) for r in (await s.execute(stmt)).scalars()]
