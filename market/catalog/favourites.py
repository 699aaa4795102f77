"""Favourites: a customer keeps companions they come back to; they are listed first for them and
the customer is told when one comes online.  Idempotent both ways; blocked pairs cannot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from kernel.clock import Clock
from market.catalog.errors import Blocked, CompanionNotFound, TooManyFavourites
from moderation.blocks import blocked_between
from store import Database
from store.models import Favourite, User

MAX_FAVOURITES = 200
#: customers told at once when a companion comes online
MAX_NOTIFIED = 5_000


class FavouriteService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def add(self, customer_id: str, companion_id: str) -> None:
        try:
            await self._add(customer_id, companion_id)
        except IntegrityError:
            return  # the same favourite sent twice at once: kept either way

    async def _add(self, customer_id: str, companion_id: str) -> None:
        async with self._db.writing() as s:
            companion = await s.get(User, companion_id)
            if companion is None or companion.role != "companion":
                raise CompanionNotFound()
            if await s.scalar(select(blocked_between(customer_id, companion_id))):
                raise Blocked()
            if await s.get(Favourite, (customer_id, companion_id)) is not None:
                return
            count = await s.scalar(
                select(func.count())
                .select_from(Favourite)
                .where(Favourite.customer_id == customer_id)
            )
            if (count or 0) >= MAX_FAVOURITES:
                raise TooManyFavourites(f"at most {MAX_FAVOURITES} favourites")
            s.add(
                Favourite(
                    customer_id=customer_id,
                    companion_id=companion_id,
                    created_at=self._clock.now(),
                )
            )

    async def remove(self, customer_id: str, companion_id: str) -> None:
        async with self._db.writing() as s:
            await s.execute(
                delete(Favourite).where(
                    Favourite.customer_id == customer_id, Favourite.companion_id == companion_id
                )
            )

    async def of(self, customer_id: str) -> list[tuple[str, datetime]]:
        """(companion id, since) of ``customer_id``'s favourites, newest first."""
        async with self._db.reading() as s:
            rows = (
                await s.execute(
                    select(Favourite.companion_id, Favourite.created_at)
                    .where(Favourite.customer_id == customer_id)
                    .order_by(Favourite.created_at.desc())
                    .limit(MAX_FAVOURITES)
                )
            ).all()
        return [(str(c), t) for c, t in rows]

    async def fans_of(self, companion_id: str) -> list[str]:
        async with self._db.reading() as s:
            rows = await s.scalars(
                select(Favourite.customer_id)
                .where(Favourite.companion_id == companion_id)
                .limit(MAX_NOTIFIED)
            )
            return [str(c) for c in rows]
