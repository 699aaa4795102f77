"""One customer, one meter: the ``active_meters`` row that a metered session holds while open.

Every path that bills a customer — a 1:1 call (text, voice, video), a booking's call at its
slot, a voice-room seat — opens its session through ``MeteringService.open_session``, which
takes the customer's row in the same transaction, before minute 1 is held; every way a session
ends goes through the billing clock's ``CloseSession`` in ``MeteringService._run``, which gives
the row back in the transaction that settles it (hang-up, refusals, no money, away, media lost,
moderation, an admin, drain, another process settling a dead one's sessions).  The row's primary
key is the customer, so two opens racing — in one process or several, on any path — cannot both
commit: the database refuses the second, whatever the in-code checks before it saw.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from metering.errors import MeterBusy
from store.models import ActiveMeter


class MeterKind(StrEnum):
    """What a customer's open meter bills."""

    CALL = "call"
    BOOKING = "booking"  # a booking's call at its slot
    ROOM_SEAT = "room_seat"


async def take(
    s: AsyncSession, customer_id: str, session_id: str, kind: MeterKind, now: datetime
) -> None:
    """Make ``session_id`` the customer's one open meter, or raise :class:`MeterBusy` (the
    caller's transaction must then roll back).  On PostgreSQL a racing open of the same customer
    waits here for the other transaction and is refused if it commits."""
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    taken = await s.scalar(
        insert(ActiveMeter)
        .values(customer_id=customer_id, session_id=session_id, kind=kind.value, opened_at=now)
        .on_conflict_do_nothing()
        .returning(ActiveMeter.customer_id)
    )
    if taken is None:
        holder = await s.scalar(
            select(ActiveMeter.kind).where(ActiveMeter.customer_id == customer_id)
        )
        raise MeterBusy(kind=holder) if holder else MeterBusy()


async def free(s: AsyncSession, session_id: str) -> None:
    """The session has ended: its customer may open another (a no-op if it held no row)."""
    await s.execute(delete(ActiveMeter).where(ActiveMeter.session_id == session_id))
