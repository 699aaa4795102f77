"""HTTP adapter for the companion's side of payouts: the bound payout account, withdrawal
requests and the list of my withdrawals.  Admin review is in ``admin_routes``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from accounts.standing import EarningsFrozen
from kernel.errors import Forbidden
from kernel.http.access import COMPANIONS, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict, Within
from kernel.keys import CLOCK, SETTINGS
from metering import earnings
from metering.errors import InvalidAmount, WithdrawalRefused
from metering.keys import PAYOUTS
from metering.payouts import MIN_WITHDRAWAL_FEN, PAYOUT_METHODS, WithdrawalView
from metering.periods import TIMEZONE
from metering.service import MAX_AMOUNT_FEN
from store.keys import DB

api = Api()


class PayoutAccountIn(Strict):
    method: Literal["alipay", "wechat", "bank"]
    account: Annotated[str, Field(min_length=4, max_length=64)]


class PayoutAccountOut(BaseModel):
    method: str
    account_masked: str


class PayoutAccountMaybe(BaseModel):
    account: PayoutAccountOut | None


class WithdrawIn(Strict):
    amount_fen: Annotated[
        int,
        Within(MIN_WITHDRAWAL_FEN, MAX_AMOUNT_FEN, InvalidAmount.code, "a withdrawal in fen"),
    ]


class WithdrawalOut(BaseModel):
    id: str
    amount_fen: int
    #: ``pending_review``, ``approved`` (being paid), ``paid``, ``rejected``, ``failed``
    status: str
    #: a rejecting admin's note (for ``failed`` the client has its own words)
    reason: str | None
    created_at: datetime | None


class WithdrawalsOut(BaseModel):
    withdrawals: list[WithdrawalOut]


def withdrawal_out(w: WithdrawalView) -> WithdrawalOut:
    return WithdrawalOut(
        id=w.id, amount_fen=w.amount_fen, status=w.status, reason=w.reason, created_at=w.created_at
    )


class ReleaseOut(BaseModel):
    #: when it becomes withdrawable; ``null``: the session is still running
    at: datetime | None
    amount_fen: int


class EarningsSummaryOut(BaseModel):
    """A companion's money at a glance (China time for the periods)."""

    #: earned today / this week (from Monday) / this month: the net of the earnings lines that
    #: began in the period, refunds included
    today_fen: int
    week_fen: int
    month_fen: int
    #: withdrawable now
    available_fen: int
    #: inside the refund hold; ``releases`` says when each part becomes withdrawable
    pending_fen: int
    #: withdrawals requested and not paid yet
    paying_fen: int
    hold_hours: int
    releases: list[ReleaseOut]
    payout_account: PayoutAccountOut | None
    timezone: str = TIMEZONE


def require_companion(call: Call) -> str:
    """The caller's id, if the caller is a companion (``Forbidden`` otherwise)."""
    if call.user.role != "companion":
        raise Forbidden("companions only")
    return call.user.user_id


@api.route(
    "PUT",
    "/api/me/payout-account",
    access=access(COMPANIONS),
    summary="Bind where my withdrawals go (companions)",
    tags=["earnings"],
    body=PayoutAccountIn,
    response=PayoutAccountOut,
    errors=[Forbidden, WithdrawalRefused],
)
async def put_payout_account(call: Call) -> BaseModel:
    body: PayoutAccountIn = call.body
    assert body.method in PAYOUT_METHODS
    row = await call.request.app[PAYOUTS].bind_account(
        require_companion(call), body.method, body.account
    )
    return PayoutAccountOut(method=row.provider, account_masked=row.account_masked)


@api.route(
    "POST",
    "/api/me/withdrawals",
    access=access(COMPANIONS),
    summary="Withdraw available earnings (companions)",
    tags=["earnings"],
    body=WithdrawIn,
    response=WithdrawalOut,
    status=201,
    errors=[Forbidden, WithdrawalRefused, InvalidAmount, EarningsFrozen],
)
async def request_withdrawal(call: Call) -> BaseModel:
    body: WithdrawIn = call.body
    return withdrawal_out(
        await call.request.app[PAYOUTS].request(require_companion(call), body.amount_fen)
    )


@api.route(
    "GET",
    "/api/me/earnings/summary",
    access=access(USERS),
    summary="My earnings at a glance: today / week / month, withdrawable, pending and when it "
    "becomes withdrawable, withdrawals on their way, the bound payout account (masked)",
    tags=["earnings"],
    response=EarningsSummaryOut,
)
async def earnings_summary(call: Call) -> BaseModel:
    app = call.request.app
    uid = call.user.user_id
    hold_s = app[SETTINGS].earnings_hold_s
    async with app[DB].reading(snapshot=True) as s:  # the figures must agree with each other
        figures = await earnings.balances_of(s, uid)
        upcoming = await earnings.releases(s, uid, hold_s)
        made = await earnings.earned(s, uid, app[CLOCK].now())
    bound = await app[PAYOUTS].account(uid)
    return EarningsSummaryOut(
        today_fen=made.today_fen,
        week_fen=made.week_fen,
        month_fen=made.month_fen,
        available_fen=figures.available_fen,
        pending_fen=figures.pending_fen,
        paying_fen=figures.paying_fen,
        hold_hours=hold_s // 3600,
        releases=[ReleaseOut(at=r.at, amount_fen=r.amount_fen) for r in upcoming],
        payout_account=(
            PayoutAccountOut(method=bound.provider, account_masked=bound.account_masked)
            if bound
            else None
        ),
    )


@api.route(
    "GET",
    "/api/me/payout-account",
    access=access(COMPANIONS),
    summary="Where my withdrawals go, masked (companions); null when none is bound",
    tags=["earnings"],
    response=PayoutAccountMaybe,
    errors=[Forbidden],
)
async def get_payout_account(call: Call) -> BaseModel:
    bound = await call.request.app[PAYOUTS].account(require_companion(call))
    return PayoutAccountMaybe(
        account=PayoutAccountOut(method=bound.provider, account_masked=bound.account_masked)
        if bound
        else None
    )


@api.route(
    "GET",
    "/api/me/withdrawals",
    access=access(USERS),
    summary="My withdrawals",
    tags=["earnings"],
    response=WithdrawalsOut,
)
async def my_withdrawals(call: Call) -> BaseModel:
    rows = await call.request.app[PAYOUTS].list(user_id=call.user.user_id)
    return WithdrawalsOut(withdrawals=[withdrawal_out(w) for w in rows])
