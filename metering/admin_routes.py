"""HTTP adapter for metering's admin actions: refunding a session (reversing entries) and
reviewing companions' withdrawals; each decision is recorded in the audit log."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from audit.keys import AUDIT
from kernel.http.access import ADMINS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict
from metering.errors import (
    InvalidAmount,
    RefundTooLarge,
    RefundUncovered,
    SessionNotEnded,
    SessionNotFound,
    WithdrawalRefused,
)
from metering.keys import METERING, PAYOUTS
from metering.payout_routes import WithdrawalOut, WithdrawalsOut, withdrawal_out
from metering.rate_routes import MeterOut, meter_out, session_for

api = Api()
Fen = Annotated[int, Field(ge=1, le=10_000_000)]


class RefundIn(Strict):
    amount_fen: Fen
    key: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
    reason: Annotated[str, Field(max_length=200)] = ""


class WithdrawalsQuery(Strict):
    status: Literal["pending_review", "approved", "paid", "rejected", "failed"] | None = None


class DecisionIn(Strict):
    approve: bool
    reason: Annotated[str, Field(min_length=1, max_length=200)]


@api.route(
    "POST",
    "/api/admin/sessions/{session_id}/refunds",
    access=access(ADMINS, session_id="admin"),
    summary="Admin: refund part or all of a session (reversing entries)",
    tags=["admin"],
    body=RefundIn,
    response=MeterOut,
    errors=[SessionNotFound, SessionNotEnded, RefundTooLarge, RefundUncovered, InvalidAmount],
)
async def admin_refund(call: Call) -> BaseModel:
    body: RefundIn = call.body
    row = await session_for(call)
    view = await call.request.app[METERING].refund_session(
        row.id, body.amount_fen, key=f"admin-{body.key}", reason=body.reason
    )
    await call.request.app[AUDIT].record(
        key=f"session.refund:{row.id}:admin-{body.key}",
        admin_id=call.user.user_id,
        action="session.refund",
        subject_type="session",
        subject_id=row.id,
        detail={"amount_fen": body.amount_fen, "reason": body.reason},
    )
    return meter_out(view)


@api.route(
    "GET",
    "/api/admin/withdrawals",
    access=access(ADMINS),
    summary="Admin: withdrawals, by status",
    tags=["admin"],
    query=WithdrawalsQuery,
    response=WithdrawalsOut,
)
async def admin_withdrawals(call: Call) -> BaseModel:
    q: WithdrawalsQuery = call.query
    rows = await call.request.app[PAYOUTS].list(status=q.status)
    return WithdrawalsOut(withdrawals=[withdrawal_out(w) for w in rows])


@api.route(
    "POST",
    "/api/admin/withdrawals/{withdrawal_id}/decision",
    access=access(ADMINS, withdrawal_id="admin"),
    summary="Admin: approve (and pay) or reject a withdrawal under review",
    tags=["admin"],
    body=DecisionIn,
    response=WithdrawalOut,
    errors=[WithdrawalRefused],
)
async def decide_withdrawal(call: Call) -> BaseModel:
    body: DecisionIn = call.body
    w = await call.request.app[PAYOUTS].decide(
        call.request.match_info["withdrawal_id"], call.user.user_id, body.approve, body.reason
    )
    await call.request.app[AUDIT].record(
        key=f"withdrawal.decide:{w.id}",
        admin_id=call.user.user_id,
        action="withdrawal.decide",
        subject_type="withdrawal",
        subject_id=w.id,
        detail={"approve": body.approve, "status": w.status, "reason": body.reason},
    )
    return withdrawal_out(w)
