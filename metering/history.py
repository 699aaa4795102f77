"""My sessions: every metered session I took part in (1:1 calls and group voice-room seats),
newest first, with the other side, the money and what can still be done about it (review,
appeal) — the history a customer or companion browses."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select

from accounts.routes import UserOut, user_out
from metering.routes import METERING_DB
from peiliao.errors import CodedError
from peiliao.http.access import USERS, access
from peiliao.http.api import Api, Call, Strict
from store.models import MeteredSession, User

api = Api()

#: sessions whose id starts with this were a seat in a group voice room (voicerooms/ids.py)
VOICE_ROOM_PREFIX = "vrs_"


class HistoryQuery(Strict):
    #: ``customer``: sessions I paid for; ``companion``: sessions I served; default: both
    role: Literal["customer", "companion"] | None = None
    cursor: Annotated[str, Field(max_length=200)] | None = None
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


def _cursor(at: datetime, sid: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), sid]).encode()).decode()


def _uncursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, sid = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), str(sid)
    except (ValueError, TypeError):
        raise CodedError("bad_cursor", "the cursor is not one this server gave") from None


@api.route(
    "GET",
    "/api/me/sessions",
    access=access(USERS),
    summary="My sessions (as customer and/or companion), newest first, keyset-paged",
    tags=["sessions"],
    query=HistoryQuery,
    response=HistoryOut,
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
    if q.cursor:
        at, sid = _uncursor(q.cursor)
        stmt = stmt.where(
            or_(
                MeteredSession.created_at < at,
                and_(MeteredSession.created_at == at, MeteredSession.id < sid),
            )
        )
    async with call.request.app[METERING_DB].reading() as s:
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
    return HistoryOut(
        sessions=lines, next_cursor=_cursor(last.created_at, last.id) if last else None
    )
