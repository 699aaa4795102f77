"""HTTP adapter for the customer's money: the wallet and its budget cap, top-ups with the payment
provider (its signed notifications, the dev sandbox gateway).  Statements are in
``statement_routes``.  ``funds_arrived`` resumes sessions paused for lack of money once some
arrives."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy import select

from accounts.keys import REAL_NAMES
from kernel.errors import NotFound
from kernel.http.access import ANYONE, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict, Within
from kernel.keys import CLOCK, SETTINGS
from metering import accounts, statement
from metering.errors import (
    InvalidAmount,
    OrderNotFound,
    PaymentRejected,
    SessionEnded,
    SessionNotFound,
)
from metering.keys import METERING, PROVIDER, RUNNER, WALLETS
from metering.ledger import balances
from metering.payments import PaidNotice, Sandbox
from metering.periods import month_label, periods
from metering.wallet import MAX_TOPUP_FEN, MIN_TOPUP_FEN
from store.keys import DB
from store.models import MeteredSession, PaymentOrder
from store.models.bookings import Booking

api = Api()


class WalletOut(BaseModel):
    wallet_fen: int
    promo_fen: int
    held_fen: int
    #: held for bookings not yet started (each booking's own hold account)
    booked_fen: int
    monthly_cap_fen: int | None
    #: what this month (China time) has committed against the cap: cash held or captured,
    #: minutes held ahead included (the cap's own figure; see ``month_spent_fen`` for spending)
    month_committed_fen: int
    #: spent this month (China time): the net of this month's statement lines for sessions,
    #: packages and bookings, refunds included — the same lines ``/api/wallet/statement`` lists
    month_spent_fen: int
    #: ``YYYY-MM`` the month figures are for
    month: str
    #: this deployment asks for a verified adult real name before a top-up
    #: (``PEILIAO_REAL_NAME_BEFORE_PAYMENT``; on in prod, off in dev unless set)
    real_name_required_for_topup: bool


class TopupIn(Strict):
    amount_fen: Annotated[
        int, Within(MIN_TOPUP_FEN, MAX_TOPUP_FEN, InvalidAmount.code, "a top-up in fen")
    ]


class TopupOut(BaseModel):
    order_id: str
    provider: str
    amount_fen: int
    status: str
    pay_url: str | None = None
    qr_code: str | None = None


class BudgetIn(Strict):
    monthly_cap_fen: Annotated[int, Field(ge=0, le=10_000_000)] | None


class OkOut(BaseModel):
    ok: bool = True


def _topup_out(
    order: PaymentOrder, pay_url: str | None = None, qr_code: str | None = None
) -> TopupOut:
    return TopupOut(
        order_id=order.id,
        provider=order.provider,
        amount_fen=order.amount_fen,
        status=order.status,
        pay_url=pay_url,
        qr_code=qr_code,
    )


@api.route(
    "GET",
    "/api/wallet",
    access=access(USERS),
    summary="My balances and budget",
    tags=["wallet"],
    response=WalletOut,
)
async def get_wallet(call: Call) -> BaseModel:
    app = call.request.app
    uid = call.user.user_id
    cap, committed = await app[METERING].budget(uid)
    # One snapshot: the balances, the bookings' holds and the month's spending agree (a charge
    # committing between two reads would show in one figure and not the other).
    async with app[DB].reading(snapshot=True) as s:
        own = await balances(s, [accounts.wallet(uid), accounts.promo(uid), accounts.held(uid)])
        booking_ids = (
            await s.scalars(
                select(Booking.id).where(
                    Booking.customer_id == uid, Booking.status.in_(("requested", "confirmed"))
                )
            )
        ).all()
        booked = await balances(s, [accounts.booking_hold(b) for b in booking_ids])
        now = app[CLOCK].now()
        month = periods(now).month_start
        spent = -await statement.net_between(
            s,
            statement.customer_scope(uid),
            statement.SPENDING_KINDS,
            month,
            (month + timedelta(days=32)).replace(day=1),
        )
    return WalletOut(
        wallet_fen=own[accounts.wallet(uid)],
        promo_fen=own[accounts.promo(uid)],
        held_fen=own[accounts.held(uid)],
        booked_fen=sum(booked.values()),
        monthly_cap_fen=cap,
        month_committed_fen=committed,
        month_spent_fen=spent,
        month=month_label(now),
        real_name_required_for_topup=app[SETTINGS].requires_real_name,
    )


@api.route(
    "POST",
    "/api/wallet/topups",
    access=access(USERS),
    summary="Start a top-up with the payment provider",
    tags=["wallet"],
    body=TopupIn,
    response=TopupOut,
    status=201,
    errors=[InvalidAmount],
)
async def create_topup(call: Call) -> BaseModel:
    app_ = call.request.app
    if app_[SETTINGS].requires_real_name:
        await app_[REAL_NAMES].require_adult(call.user.user_id, "to pay")
    body: TopupIn = call.body
    app = call.request.app
    provider = app[PROVIDER]
    order_id = f"T{secrets.token_hex(10)}"
    order = await app[WALLETS].create_order(
        order_id, call.user.user_id, provider.name, body.amount_fen
    )
    pay = await provider.instruct(
        order_id,
        body.amount_fen,
        "陪聊余额充值",
        f"{app[SETTINGS].base_url}/api/payments/{provider.name}/notify",
    )
    return _topup_out(order, pay.pay_url, pay.qr_code)


@api.route(
    "GET",
    "/api/wallet/topups/{order_id}",
    access=access(USERS, order_id="self"),
    summary="A top-up's status",
    tags=["wallet"],
    response=TopupOut,
    errors=[OrderNotFound],
)
async def get_topup(call: Call) -> BaseModel:
    order = await call.request.app[WALLETS].order(call.request.match_info["order_id"])
    if order.user_id != call.user.user_id:
        raise OrderNotFound()
    return _topup_out(order)


@api.route(
    "POST",
    "/api/wallet/topups/{order_id}/refresh",
    access=access(USERS, order_id="self"),
    summary="Ask the provider whether a top-up was paid (if its notification was lost)",
    tags=["wallet"],
    response=TopupOut,
    errors=[OrderNotFound, PaymentRejected],
)
async def refresh_topup(call: Call) -> BaseModel:
    app = call.request.app
    order = await app[WALLETS].order(call.request.match_info["order_id"])
    if order.user_id != call.user.user_id:
        raise OrderNotFound()
    if order.status != "paid" and order.provider == app[PROVIDER].name:
        await _credit(app, await app[PROVIDER].query(order.id))
        order = await app[WALLETS].order(order.id)
    return _topup_out(order)


async def _handle_notice(app: web.Application, headers: dict[str, str], body: bytes) -> None:
    await _credit(app, app[PROVIDER].verify(headers, body))


async def _credit(app: web.Application, notice: PaidNotice | None) -> None:
    """Credit what the provider says was paid (a verified notice or an order query)."""
    if notice is None:
        return
    order, credited = await app[WALLETS].credit_paid_order(
        notice.order_id,
        provider=app[PROVIDER].name,
        amount_fen=notice.amount_fen,
        trade_no=notice.trade_no,
    )
    if credited:
        await funds_arrived(app, order.user_id)


async def funds_arrived(app: web.Application, user_id: str) -> None:
    """Money (a top-up, a package, a coupon) reached ``user_id``: their sessions paused for
    lack of it try to reserve their next minute again and, if they can, resume.  Both sides are
    told through the runner; the runner that runs each session picks up its new state."""
    async with app[DB].reading() as s:
        sids = (
            await s.scalars(
                select(MeteredSession.id).where(
                    MeteredSession.customer_id == user_id,
                    MeteredSession.status.in_(("running", "paused")),
                )
            )
        ).all()
    for sid in sids:
        try:
            update = await app[METERING].funds_added(sid)
        except (SessionEnded, SessionNotFound):
            continue
        await app[RUNNER].announce(sid, update)


@api.route(
    "POST",
    "/api/payments/{provider}/notify",
    access=access(ANYONE, provider="public"),
    summary="The payment provider's signed asynchronous notification",
    tags=["payments"],
    auth="none",
    raw_body_types=["application/x-www-form-urlencoded", "application/json"],
    errors=[PaymentRejected, OrderNotFound, NotFound],
)
async def payment_notify(call: Call) -> web.StreamResponse:
    app = call.request.app
    if call.request.match_info["provider"] != app[PROVIDER].name:
        raise NotFound()
    await _handle_notice(app, dict(call.request.headers), call.raw_body)
    status, ctype, text = app[PROVIDER].acknowledge()
    return web.Response(status=status, content_type=ctype, text=text)


@api.route(
    "POST",
    "/api/payments/sandbox/pay/{order_id}",
    access=access(USERS, order_id="self"),
    summary="Dev only: the sandbox gateway pays an order and notifies us, signed",
    tags=["payments"],
    response=TopupOut,
    errors=[NotFound, OrderNotFound],
)
async def sandbox_pay(call: Call) -> BaseModel:
    app = call.request.app
    provider = app[PROVIDER]
    if not app[SETTINGS].is_dev or not isinstance(provider, Sandbox):
        raise NotFound()
    order = await app[WALLETS].order(call.request.match_info["order_id"])
    if order.user_id != call.user.user_id:
        raise OrderNotFound()
    # The same path a real gateway's notification takes: signature, amount, idempotency.
    await _handle_notice(app, {}, provider.notification_for(order.id, order.amount_fen))
    order = await app[WALLETS].order(order.id)
    return _topup_out(order)


@api.route(
    "PUT",
    "/api/wallet/budget",
    access=access(USERS),
    summary="Set or clear my monthly budget cap",
    tags=["wallet"],
    body=BudgetIn,
    response=OkOut,
    errors=[InvalidAmount],
)
async def put_budget(call: Call) -> BaseModel:
    body: BudgetIn = call.body
    await call.request.app[METERING].set_monthly_cap(call.user.user_id, body.monthly_cap_fen)
    return OkOut()
