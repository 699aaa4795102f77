"""Reading a call's row: which statuses are open, which side a user is on, who may read the call,
and the view both participants see of it (no phone numbers, no balances)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from accounts.roles import Role
from accounts.service import Principal
from signaling import lifecycle
from signaling.errors import CallNotFound, NotParticipant
from signaling.lifecycle import Side, Status
from store.models import Call as CallRow
from store.models import User

#: the statuses of a call that holds its two sides (ringing or active)
OPEN = (Status.RINGING.value, Status.ACTIVE.value)


def side_of(row: CallRow, user_id: str) -> Side | None:
    if user_id == row.customer_id:
        return Side.CUSTOMER
    if user_id == row.companion_id:
        return Side.COMPANION
    return None


async def readable_call(s: Any, who: Principal, call_id: str) -> CallRow:
    """The call, for a participant or an admin (read-only); else a refusal."""
    row: CallRow | None = await s.get(CallRow, call_id)
    if row is None:
        raise CallNotFound()
    if side_of(row, who.user_id) is None and who.role is not Role.ADMIN:
        raise NotParticipant()
    return row


async def load_view(s: Any, row: CallRow) -> dict[str, Any]:
    """``call_view`` of ``row``, with both sides' nicknames read in session ``s``."""
    names = dict(
        (
            await s.execute(
                select(User.id, User.nickname).where(
                    User.id.in_([row.customer_id, row.companion_id])
                )
            )
        ).all()
    )
    return call_view(row, names)


def call_view(row: CallRow, names: dict[str, str]) -> dict[str, Any]:
    """What both participants see of a call (no phone numbers, no balances)."""
    c = lifecycle.Call.from_json(row.state)
    return {
        "call_id": row.id,
        "status": c.status.value,
        "mode": row.mode,
        "rate_fen_per_min": row.rate_fen_per_min,
        "customer": {"id": row.customer_id, "nickname": names.get(row.customer_id, "")},
        "companion": {"id": row.companion_id, "nickname": names.get(row.companion_id, "")},
        "created_ms": c.created_ms,
        "ring_deadline_ms": c.ring_deadline_ms,
        "accepted_ms": c.accepted_ms,
        "accepted_device": c.accepted_device,
        "ended_ms": c.ended_ms,
        "end_reason": c.end_reason.value if c.end_reason else None,
        "ended_by": c.ended_by,
        "away": {
            "customer": c.customer_away_ms is not None,
            "companion": c.companion_away_ms is not None,
        },
        "last_seq": row.last_seq,
    }
