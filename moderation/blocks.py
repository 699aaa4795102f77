"""Blocks: a user blocks another; from then on neither can call the other (``between``, which
signaling asks before anything rings).  Blocking twice or unblocking someone not blocked is a
no-op: both are idempotent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.exc import IntegrityError

from kernel.clock import Clock
from kernel.events import EventBus
from moderation.errors import CannotBlockSelf, UserNotFound
from moderation.events import UserBlocked
from store import Database
from store.models import Block, User

MAX_BLOCKS_LISTED = 500


class BlockService:
    def __init__(self, db: Database, clock: Clock, events: EventBus) -> None:
        self._db = db
        self._clock = clock
        #: ``UserBlocked`` is published after a block: what is open between them ends
        self._events = events

    async def block(self, blocker_id: str, blocked_id: str) -> None:
        if blocker_id == blocked_id:
            raise CannotBlockSelf()
        try:
            async with self._db.writing() as s:
                if await s.get(User, blocked_id) is None:
                    raise UserNotFound()
                if await s.get(Block, (blocker_id, blocked_id)) is None:
                    s.add(
                        Block(
                            blocker_id=blocker_id,
                            blocked_id=blocked_id,
                            created_at=self._clock.now(),
                        )
                    )
        except IntegrityError:
            pass  # the same block, sent twice at once: blocked either way
        await self._events.publish(UserBlocked(blocker_id, blocked_id))

    async def unblock(self, blocker_id: str, blocked_id: str) -> None:
        async with self._db.writing() as s:
            await s.execute(
                delete(Block).where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id)
            )

    async def blocked_by(self, blocker_id: str) -> list[tuple[str, str, datetime]]:
        """(user id, nickname, since) of everyone ``blocker_id`` blocked, newest first."""
        async with self._db.reading() as s:
            rows = (
                await s.execute(
                    select(Block.blocked_id, User.nickname, Block.created_at)
                    .join(User, User.id == Block.blocked_id)
                    .where(Block.blocker_id == blocker_id)
                    .order_by(Block.created_at.desc())
                    .limit(MAX_BLOCKS_LISTED)
                )
            ).all()
        return [(r[0], r[1], r[2]) for r in rows]

    async def hidden_among(self, user_id: str, others: Sequence[str]) -> set[str]:
        """Those of ``others`` blocked either way with ``user_id`` (one query: a room's chat
        is not delivered between them)."""
        rest = [o for o in others if o != user_id]
        if not rest:
            return set()
        async with self._db.reading() as s:
            rows = (
                await s.execute(
                    select(Block.blocker_id, Block.blocked_id).where(
                        or_(
                            and_(Block.blocker_id == user_id, Block.blocked_id.in_(rest)),
                            and_(Block.blocked_id == user_id, Block.blocker_id.in_(rest)),
                        )
                    )
                )
            ).all()
        return {b if a == user_id else a for a, b in rows}

    async def between(self, a: str, b: str) -> bool:
        """Whether either of ``a`` and ``b`` blocked the other (``signaling.calls.Blocks``)."""
        async with self._db.reading() as s:
            return bool(await s.scalar(select(blocked_between(a, b))))


def blocked_between(a: Any, b: Any) -> Any:
    """SQL: a block either way between ``a`` and ``b`` (user ids, or columns such as
    ``User.id`` in a listing), for ``BlockService.between`` and for queries that must hide
    blocked pairs."""
    return exists().where(
        or_(
            and_(Block.blocker_id == a, Block.blocked_id == b),
            and_(Block.blocker_id == b, Block.blocked_id == a),
        )
    )
