"""HTTP adapter for the companion's side of payouts: the bound payout account, withdrawal
requests and the list of my withdrawals.  Admin review is in ``admin_routes``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from accounts.standing import EarningsFrozen
from kernel.errors import Forbidden
from kernel.http.access import COMPANIONS, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict, Within
from metering.errors import InvalidAmount, WithdrawalRefused
from metering.keys import PAYOUTS
from metering.payouts import MIN_WITHDRAWAL_FEN, PAYOUT_METHODS, WithdrawalView
from metering.service import MAX_AMOUNT_FEN

api = Api()


class PayoutAccountIn(Strict):
    method: Literal["alipay", "wechat", "bank"]
    account: Annotated[str, Field(min_length=4, max_length=64)]


class PayoutAccountOut(BaseModel):
    method: str
    account_masked: str


class WithdrawIn(Strict):
    amount_fen: Annotated[
        int,
        Within(MIN_WITHDRAWAL_FEN, MAX_AMOUNT_FEN, InvalidAmount.code, "a withdrawal in fen"),
    ]


class WithdrawalOut(BaseModel):
    id: str
    amount_fen: int
    status: str
    reason: str | None


class WithdrawalsOut(BaseModel):
    withdrawals: list[WithdrawalOut]


def withdrawal_out(w: WithdrawalView) -> WithdrawalOut:
    return WithdrawalOut(id=w.id, amount_fen=w.amount_fen, status=w.status, reason=w.reason)


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
    "/api/me/withdrawals",
    access=access(USERS),
    summary="My withdrawals",
    tags=["earnings"],
    response=WithdrawalsOut,
)
async def my_withdrawals(call: Call) -> BaseModel:
    rows = await call.request.app[PAYOUTS].list(user_id=call.user.user_id)
    return WithdrawalsOut(withdrawals=[withdrawal_out(w) for w in rows])
