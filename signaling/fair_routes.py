"""HTTP adapter for the fair service: the judgement of my sessions (both sides see the same
figures, no names) and, for a companion, their averages over recent sessions with the rule."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from kernel.http.access import USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict
from signaling.fair_service import RECENT_SESSIONS, averages
from signaling.keys import FAIR

api = Api()

MAX_IDS = 50


class FairQuery(Strict):
    #: ``customer``: sessions I paid for; ``companion``: sessions I served
    role: Literal["customer", "companion"] = "customer"
    #: comma-separated session ids (at most 50); default: my latest sessions
    session_ids: (
        Annotated[str, Field(min_length=1, max_length=MAX_IDS * 41, pattern=r"^[A-Za-z0-9_,]+$")]
        | None
    ) = None
    limit: Annotated[int, Field(ge=1, le=MAX_IDS)] = RECENT_SESSIONS


class FairSession(BaseModel):
    session_id: str
    mode: str
    decided: bool
    billed_minutes: int
    #: minutes judged silent (voice/video) or unresponsive (text)
    flagged_minutes: int
    #: voice/video: the companion's share of the time either side spoke (None: nobody spoke)
    talk_share_percent: int | None
    companion_voiced_ms: int | None
    customer_voiced_ms: int | None
    #: text: the companion's replies to a waiting customer and how long they took
    reply_count: int
    reply_median_ms: int | None
    reply_p90_ms: int | None
    #: the automatic refund (fen; 0: none)
    refund_fen: int
    decided_at: datetime | None


class FairAverages(BaseModel):
    sessions: int
    talk_share_percent: int | None
    reply_median_ms: int | None
    billed_minutes: int
    flagged_minutes: int
    refunded_sessions: int
    refund_fen: int


class FairRuleOut(BaseModel):
    enabled: bool
    voiced_dbov: int
    silent_voiced_s: float
    listening_voiced_s: float
    text_wait_s: float
    refund_percent: int
    min_minutes: int
    min_share_percent: int
    #: a minute covering less connected time than this (a short last minute) is not judged
    min_judged_s: float = 20.0


class FairOut(BaseModel):
    rule: FairRuleOut
    sessions: list[FairSession]
    averages: FairAverages


@api.route(
    "GET",
    "/api/me/fairness",
    access=access(USERS),
    summary="Talk share, reply times and automatic refunds of my ended sessions, and the rule",
    tags=["sessions"],
    query=FairQuery,
    response=FairOut,
)
async def my_fairness(call: Call) -> BaseModel:
    q: FairQuery = call.query
    fair = call.request.app[FAIR]
    ids = (
        list(dict.fromkeys(i for i in q.session_ids.split(",") if i))[:MAX_IDS]
        if q.session_ids
        else None
    )
    rows = await fair.mine(call.user.user_id, q.role, ids, q.limit)
    return FairOut(
        rule=FairRuleOut.model_validate(fair.rule.to_json()),
        sessions=[FairSession(**r) for r in rows],
        averages=FairAverages(**averages(rows)),
    )
