"""Companions as customers browse them: profile, prices per mode, online state.

A companion is listed once they have prices.  Pages are keyset-paginated by (joined, id), so a
page never repeats or skips a companion while others join.  ``online`` filters and ``sort=online``
orders a page by live presence (the marketplace's discovery builds ranking on top of this).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, func, or_, select

from moderation.blocks import blocked_between
from signaling.presence import Presence
from store import Database
from store.models import CompanionRate, User

Mode = Literal["text", "voice", "video"]
_STATUS_ORDER = {"online": 0, "busy": 1, "offline": 2}
_MAX_CHUNKS = 10


@dataclass(frozen=True)
class Listed:
    user: User
    rates: CompanionRate
    status: str


class BadCursor(ValueError):
    pass


def encode_cursor(created_at: datetime, user_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), user_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, uid = json.loads(raw)
        return datetime.fromisoformat(at), str(uid)
    except (ValueError, TypeError):
        raise BadCursor("the cursor is not one this server gave") from None


class Catalog:
    def __init__(self, db: Database, presence: Presence) -> None:
        self._db = db
        self._presence = presence

    async def page(
        self,
        *,
        q: str = "",
        mode: Mode | None = None,
        max_fen: int | None = None,
        online: bool = False,
        cursor: str | None = None,
        limit: int = 20,
        viewer: str | None = None,
    ) -> tuple[list[Listed], str | None]:
        stmt = (
            select(User, CompanionRate)
            .join(CompanionRate, CompanionRate.user_id == User.id)
            .where(User.role == "companion")
            .order_by(User.created_at.desc(), User.id.desc())
        )
        if q:
            pattern = f"%{_escape(q.lower())}%"
            stmt = stmt.where(func.lower(User.nickname).like(pattern, escape="\\"))
        if viewer is not None:
            stmt = stmt.where(~blocked_between(viewer, User.id))
        if max_fen is not None and mode is not None:
            stmt = stmt.where(_rate_column(mode) <= max_fen)
        after = decode_cursor(cursor) if cursor else None
        listed: list[Listed] = []
        async with self._db.reading() as s:
            # With ``online``, read on (a bounded number of chunks) until the page is full.
            for _ in range(_MAX_CHUNKS):
                page = stmt if after is None else stmt.where(_after(*after))
                rows = (await s.execute(page.limit(limit))).all()
                statuses = await self._presence.statuses([u.id for u, _ in rows])
                for i, (user, rates) in enumerate(rows):
                    after = (user.created_at, user.id)
                    status = statuses.get(user.id, "offline")
                    if online and status != "online":
                        continue
                    listed.append(Listed(user, rates, status))
                    if len(listed) == limit:
                        more = i < len(rows) - 1 or len(rows) == limit
                        return listed, encode_cursor(*after) if more else None
                if len(rows) < limit:
                    return listed, None
        return listed, encode_cursor(*after) if after is not None else None

    async def one(self, user_id: str, viewer: str | None = None) -> Listed | None:
        stmt = (
            select(User, CompanionRate)
            .join(CompanionRate, CompanionRate.user_id == User.id)
            .where(User.id == user_id, User.role == "companion")
        )
        if viewer is not None:
            stmt = stmt.where(~blocked_between(viewer, User.id))
        async with self._db.reading() as s:
            row = (await s.execute(stmt)).first()
        if row is None:
            return None
        status = (await self._presence.statuses([user_id])).get(user_id, "offline")
        return Listed(row[0], row[1], status)


def by_presence(listed: list[Listed]) -> list[Listed]:
    return sorted(listed, key=lambda x: _STATUS_ORDER.get(x.status, 3))


def _after(at: datetime, user_id: str) -> Any:
    return or_(User.created_at < at, and_(User.created_at == at, User.id < user_id))


def _rate_column(mode: Mode) -> Any:
    return {
        "text": CompanionRate.text_fen_per_min,
        "voice": CompanionRate.voice_fen_per_min,
        "video": CompanionRate.video_fen_per_min,
    }[mode]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
