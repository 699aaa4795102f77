"""My sessions: every metered session I took part in (1:1 calls and group voice-room seats),
newest first, with the other side, the money and what can still be done about it (review,
appeal) — the history a customer or companion browses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select

from accounts.views import UserOut, user_out
from kernel.cursor import MAX_CURSOR_CHARS, BadCursor
from kernel.http.access import USERS, access
from kernel.http.api import CURSORS, Api, Call
from kernel.http.models import Strict
from store.keys import DB
from store.models import MeteredSession, User

api = Api()

#: sessions whose id starts with this were a seat in a group voice room (voicerooms/ids.py)
VOICE_ROOM_PREFIX = "vrs_"


class HistoryQuery(Strict):
    #: ``customer``: sessions I paid for; ``companion``: sessions I served; default: both
    role: Literal["customer", "companion"] | None = None
    cursor: Annotated[str, Field(max_length=MAX_CURSOR_CHARS)] | None = None
    limit: Annotated[int, Field(ge=1, le=50)] = 20


class SessionLine(BaseModel):
    id: str
    #: ``call`` (1:1) or ``voice_room`` (a seat in a group room)
    kind: str
    role: str
    peer: UserOut
    mode: str
    status: str
    rate_fen_per_min: int
    billed_minutes: int
    charged_fen: int
    refunded_fen: int
    created_at: datetime
    ended_at: datetime | None
    end_reason: str | None


class HistoryOut(BaseModel):
    sessions: list[SessionLine]
    next_cursor: str | None


#: the listing a cursor belongs to (with the role filter: a page of one is not a page of another)
def _kind(role: str | None) -> str:
    return f"sessions.mine.{role or 'all'}"


@api.route(
    "GET",
    "/api/me/sessions",
    access=access(USERS),
    summary="My sessions (as customer and/or companion), newest first, keyset-paged",
    tags=["sessions"],
    query=HistoryQuery,
    response=HistoryOut,
    errors=[BadCursor],
)
async def my_sessions(call: Call) -> BaseModel:
    q: HistoryQuery = call.query
    me = call.user.user_id
    mine = {
        "customer": MeteredSession.customer_id == me,
        "companion": MeteredSession.companion_id == me,
    }
    stmt = (
        select(MeteredSession)
        .where(mine[q.role] if q.role else or_(*mine.values()))
        .order_by(MeteredSession.created_at.desc(), MeteredSession.id.desc())
        .limit(q.limit + 1)
    )
    cursors = call.request.app[CURSORS]
    if q.cursor:
        at, sid = cursors.decode_keyset(_kind(q.role), q.cursor)
        stmt = stmt.where(
            or_(
                MeteredSession.created_at < at,
                and_(MeteredSession.created_at == at, MeteredSession.id < sid),
            )
        )
    async with call.request.app[DB].reading() as s:
        rows = list((await s.scalars(stmt)).all())
        more = len(rows) > q.limit
        rows = rows[: q.limit]
        peer_ids = {r.companion_id if r.customer_id == me else r.customer_id for r in rows}
        peers = {
            u.id: u for u in (await s.scalars(select(User).where(User.id.in_(peer_ids)))).all()
        }
    lines = [
        SessionLine(
            id=r.id,
            kind="voice_room" if r.id.startswith(VOICE_ROOM_PREFIX) else "call",
            role="customer" if r.customer_id == me else "companion",
            peer=user_out(peers[r.companion_id if r.customer_id == me else r.customer_id]),
            mode=r.mode,
            status=r.status,
            rate_fen_per_min=r.rate_fen_per_min,
            billed_minutes=r.billed_minutes,
            charged_fen=r.charged_fen,
            refunded_fen=r.refunded_fen,
            created_at=r.created_at,
            ended_at=r.ended_at,
            end_reason=r.end_reason,
        )
        for r in rows
    ]
    last = rows[-1] if rows and more else None
    next_cursor = cursors.encode_keyset(_kind(q.role), last.created_at, last.id) if last else None
    return HistoryOut(sessions=lines, next_cursor=next_cursor)
