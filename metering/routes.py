"""HTTP adapter for metering: wallet and top-ups, payment notifications, the sandbox gateway,
packages, the trial coupon, budget caps, rates, the live meter, refunds and statements."""

from __future__ import annotations

import csv
import dataclasses
import io
import secrets
from datetime import datetime
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy import select

from accounts.routes import REAL_NAMES, SETTINGS
from audit.routes import AUDIT
from kernel.errors import Forbidden, NotFound
from kernel.http.access import ADMINS, ANYONE, COMPANIONS, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict, Within
from metering import accounts
from metering.errors import (
    BudgetExceeded,
    CouponUsed,
    InsufficientFunds,
    InvalidAmount,
    InvalidRates,
    OfferRefused,
    OrderNotFound,
    PackageNotFound,
    PaymentRejected,
    RatesNotSet,
    RefundTooLarge,
    RefundUncovered,
    SessionEnded,
    SessionNotEnded,
    SessionNotFound,
    WithdrawalRefused,
)
from metering.ledger import balances
from metering.payments import PaidNotice, PaymentProvider, Sandbox
from metering.payouts import MIN_WITHDRAWAL_FEN, PAYOUT_METHODS, Payouts, WithdrawalView
from metering.runner import MeteringRunner
from metering.service import MAX_AMOUNT_FEN, MeteringService, SessionView
from metering.tariff import Level, Mode, Rates, envelope
from metering.wallet import (
    MAX_TOPUP_FEN,
    MIN_TOPUP_FEN,
    PACKAGE_MAX_MINUTES,
    PACKAGE_MIN_MINUTES,
    PLATFORM_PACKAGES,
    Wallets,
)
from store import Database
from store.models import (
    CompanionRate,
    Entry,
    MeteredSession,
    PaymentOrder,
    Transfer,
)
from store.models.bookings import Booking

METERING = web.AppKey("metering", MeteringService)
WALLETS = web.AppKey("wallets", Wallets)
PROVIDER = web.AppKey("payment_provider", PaymentProvider)
METERING_DB = web.AppKey("metering_db", Database)
PAYOUTS = web.AppKey("payouts", Payouts)
RUNNER = web.AppKey("metering_runner", MeteringRunner)
PUBLIC_URL = web.AppKey("public_base_url", str)
DEV = web.AppKey("metering_dev", bool)

api = Api()
Fen = Annotated[int, Field(ge=1, le=10_000_000)]


class WalletOut(BaseModel):
    wallet_fen: int
    promo_fen: int
    held_fen: int
    #: held for bookings not yet started (each booking's own hold account)
    booked_fen: int
    monthly_cap_fen: int | None
    month_committed_fen: int


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


class PackageOfferOut(BaseModel):
    code: str
    mode: str
    minutes: int
    price_fen: int
    valid_days: int


class PackageCatalog(BaseModel):
    packages: list[PackageOfferOut]


class BuyPackageIn(Strict):
    code: Annotated[str, Field(max_length=32)]


class GrantOut(BaseModel):
    id: str
    kind: str
    mode: str
    minutes_total: int
    minutes_used: int
    minutes_held: int
    expires_at: datetime


class GrantsOut(BaseModel):
    grants: list[GrantOut]


class TrialIn(Strict):
    kind: Literal["minutes", "amount"]


class OkOut(BaseModel):
    ok: bool = True


def rate_field(mode: Mode) -> Within:
    """A rate of ``mode``: documented at the widest bounds of any level; the service refuses
    a rate outside the companion's own (``rate_out_of_bounds`` with their ``min_fen``/``max_fen``).
    """
    widest = envelope(mode)
    return Within(widest.min_fen, widest.max_fen, enforce=False)


class RatesIn(Strict):
    text_fen_per_min: Annotated[int, rate_field(Mode.TEXT)]
    voice_fen_per_min: Annotated[int, rate_field(Mode.VOICE)]
    video_fen_per_min: Annotated[int, rate_field(Mode.VIDEO)]


class RatesOut(BaseModel):
    companion_id: str
    level: str
    text_fen_per_min: int
    voice_fen_per_min: int
    video_fen_per_min: int


class MeterOut(BaseModel):
    session_id: str
    status: str
    mode: str
    rate_fen_per_min: int
    billed_minutes: int
    charged_fen: int
    refunded_fen: int
    balance_fen: int
    package_minutes: int
    minutes_left: int
    low_balance: bool
    end_reason: str | None
    #: the companion's share so far (companions only; 0 for the customer)
    earned_fen: int = 0


class RefundIn(Strict):
    amount_fen: Fen
    key: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
    reason: Annotated[str, Field(max_length=200)] = ""


class StatementQuery(Strict):
    format: Literal["json", "csv"] = "json"
    limit: Annotated[int, Field(ge=1, le=1000)] = 200


class StatementLine(BaseModel):
    at: datetime
    kind: str
    account: str
    amount_fen: int
    session_id: str | None
    transfer_id: str


class StatementOut(BaseModel):
    lines: list[StatementLine]


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


def meter_out(v: SessionView) -> MeterOut:
    return MeterOut(**{f: getattr(v, f) for f in MeterOut.model_fields})


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
    balance = await app[WALLETS].balance(uid)
    cap, committed = await app[METERING].budget(uid)
    async with app[METERING_DB].reading() as s:
        booking_ids = (
            await s.scalars(
                select(Booking.id).where(
                    Booking.customer_id == uid, Booking.status.in_(("requested", "confirmed"))
                )
            )
        ).all()
        booked = await balances(s, [accounts.booking_hold(b) for b in booking_ids])
    return WalletOut(
        wallet_fen=balance.wallet_fen,
        promo_fen=balance.promo_fen,
        held_fen=balance.held_fen,
        booked_fen=sum(booked.values()),
        monthly_cap_fen=cap,
        month_committed_fen=committed,
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
        f"{app[PUBLIC_URL]}/api/payments/{provider.name}/notify",
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
    async with app[METERING_DB].reading() as s:
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
    if not app[DEV] or not isinstance(provider, Sandbox):
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


@api.route(
    "GET",
    "/api/packages",
    access=access(ANYONE),
    summary="Platform minute packages",
    tags=["packages"],
    auth="none",
    response=PackageCatalog,
)
async def list_packages(call: Call) -> BaseModel:
    return PackageCatalog(
        packages=[
            PackageOfferOut(
                code=p.code,
                mode=p.mode.value,
                minutes=p.minutes,
                price_fen=p.price_fen,
                valid_days=p.valid_days,
            )
            for p in PLATFORM_PACKAGES.values()
        ]
    )


@api.route(
    "POST",
    "/api/packages",
    access=access(USERS),
    summary="Buy a minute package from my wallet",
    tags=["packages"],
    body=BuyPackageIn,
    response=GrantOut,
    status=201,
    errors=[PackageNotFound, InsufficientFunds, BudgetExceeded],
)
async def buy_package(call: Call) -> BaseModel:
    body: BuyPackageIn = call.body
    grant = await call.request.app[WALLETS].buy_package(
        call.user.user_id, body.code, f"g_{secrets.token_hex(10)}"
    )
    await funds_arrived(call.request.app, call.user.user_id)
    return GrantOut.model_validate(grant, from_attributes=True)


@api.route(
    "GET",
    "/api/me/packages",
    access=access(USERS),
    summary="My minute packages and free minutes",
    tags=["packages"],
    response=GrantsOut,
)
async def my_packages(call: Call) -> BaseModel:
    grants = await call.request.app[WALLETS].grants(call.user.user_id)
    return GrantsOut(grants=[GrantOut.model_validate(g, from_attributes=True) for g in grants])


@api.route(
    "POST",
    "/api/coupons/trial",
    access=access(USERS),
    summary="Redeem the one new-user trial coupon",
    tags=["packages"],
    body=TrialIn,
    response=OkOut,
    errors=[CouponUsed],
)
async def redeem_trial(call: Call) -> BaseModel:
    body: TrialIn = call.body
    await call.request.app[WALLETS].redeem_trial(call.user.user_id, body.kind)
    await funds_arrived(call.request.app, call.user.user_id)
    return OkOut()


def _rates_out(row: CompanionRate) -> RatesOut:
    return RatesOut(
        companion_id=row.user_id,
        level=row.level,
        text_fen_per_min=row.text_fen_per_min,
        voice_fen_per_min=row.voice_fen_per_min,
        video_fen_per_min=row.video_fen_per_min,
    )


@api.route(
    "GET",
    "/api/companions/{companion_id}/rates",
    access=access(ANYONE, companion_id="public"),
    summary="A companion's prices",
    tags=["rates"],
    auth="none",
    response=RatesOut,
    errors=[RatesNotSet],
)
async def get_rates(call: Call) -> BaseModel:
    row = await call.request.app[METERING].rates_of(call.request.match_info["companion_id"])
    return _rates_out(row)


class MyRatesOut(BaseModel):
    #: null until the companion sets prices
    rates: RatesOut | None


@api.route(
    "GET",
    "/api/me/rates",
    access=access(USERS),
    summary="My prices (companions), or null before they are set",
    tags=["rates"],
    response=MyRatesOut,
)
async def get_my_rates(call: Call) -> BaseModel:
    try:
        row = await call.request.app[METERING].rates_of(call.user.user_id)
    except RatesNotSet:
        return MyRatesOut(rates=None)
    return MyRatesOut(rates=_rates_out(row))


@api.route(
    "PUT",
    "/api/me/rates",
    access=access(COMPANIONS),
    summary="Set my prices (companions)",
    tags=["rates"],
    body=RatesIn,
    response=RatesOut,
    errors=[InvalidRates, Forbidden],
)
async def put_rates(call: Call) -> BaseModel:
    body: RatesIn = call.body
    if call.user.role != "companion":
        raise Forbidden("only companions set rates")
    service = call.request.app[METERING]
    try:
        current = await service.rates_of(call.user.user_id)
        level, specialist = Level(current.level), current.specialist
    except RatesNotSet:
        level, specialist = Level.NEWCOMER, False
    row = await service.set_rates(
        call.user.user_id,
        Rates(body.text_fen_per_min, body.voice_fen_per_min, body.video_fen_per_min),
        level=level,
        specialist=specialist,
    )
    return _rates_out(row)


async def _session_for(call: Call) -> MeteredSession:
    sid = call.request.match_info["session_id"]
    async with call.request.app[METERING_DB].reading() as s:
        row = await s.get(MeteredSession, sid)
    user = call.user
    if row is None or (
        user.role != "admin" and user.user_id not in (row.customer_id, row.companion_id)
    ):
        raise SessionNotFound()  # never reveal that someone else's session exists
    return row


@api.route(
    "GET",
    "/api/sessions/{session_id}/meter",
    access=access(USERS, session_id=("participant", "admin")),
    summary="Live spend: billed minutes, charge, rate, balance and minutes left",
    tags=["sessions"],
    response=MeterOut,
    errors=[SessionNotFound],
)
async def session_meter(call: Call) -> BaseModel:
    row = await _session_for(call)
    view = await call.request.app[METERING].view(row.id)
    if call.user.user_id == row.companion_id:
        # The companion sees the session, not the customer's money.
        view = dataclasses.replace(
            view, balance_fen=0, package_minutes=0, minutes_left=0, low_balance=False
        )
    elif call.user.role != "admin":
        view = dataclasses.replace(view, earned_fen=0)
    return meter_out(view)


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
    row = await _session_for(call)
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


async def _statement(call: Call, account_ids: list[str]) -> web.StreamResponse:
    q: StatementQuery = call.query
    async with call.request.app[METERING_DB].reading() as s:
        rows = (
            await s.execute(
                select(
                    Transfer.created_at,
                    Transfer.kind,
                    Entry.account_id,
                    Entry.amount_fen,
                    Transfer.session_id,
                    Transfer.id,
                )
                .join(Transfer, Transfer.id == Entry.transfer_id)
                .where(Entry.account_id.in_(account_ids))
                .order_by(Entry.id.desc())
                .limit(q.limit)
            )
        ).all()
    lines = [
        StatementLine(
            at=r[0],
            kind=r[1],
            account=accounts.kind_of(r[2]),
            amount_fen=int(r[3]),
            session_id=r[4],
            transfer_id=r[5],
        )
        for r in rows
    ]
    if q.format == "json":
        return web.json_response(StatementOut(lines=lines).model_dump(mode="json"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "kind", "account", "amount_fen", "session_id", "transfer_id"])
    for line in lines:
        writer.writerow(
            [
                line.at.isoformat(),
                line.kind,
                line.account,
                line.amount_fen,
                line.session_id or "",
                line.transfer_id,
            ]
        )
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="statement.csv"'},
    )


@api.route(
    "GET",
    "/api/wallet/statement",
    access=access(USERS),
    summary="My spending history (JSON or CSV)",
    tags=["wallet"],
    query=StatementQuery,
    response=StatementOut,
    alt_response_types=["text/csv"],
)
async def wallet_statement(call: Call) -> web.StreamResponse:
    uid = call.user.user_id
    return await _statement(call, [accounts.wallet(uid), accounts.promo(uid)])


@api.route(
    "GET",
    "/api/me/earnings",
    access=access(USERS),
    summary="My earnings history (companions; JSON or CSV)",
    tags=["wallet"],
    query=StatementQuery,
    response=StatementOut,
    alt_response_types=["text/csv"],
)
async def earnings_statement(call: Call) -> web.StreamResponse:
    uid = call.user.user_id
    return await _statement(call, [accounts.earn_pending(uid), accounts.earn_available(uid)])


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


class WithdrawalsQuery(Strict):
    status: Literal["pending_review", "approved", "paid", "rejected", "failed"] | None = None


class DecisionIn(Strict):
    approve: bool
    reason: Annotated[str, Field(min_length=1, max_length=200)]


def _withdrawal_out(w: WithdrawalView) -> WithdrawalOut:
    return WithdrawalOut(id=w.id, amount_fen=w.amount_fen, status=w.status, reason=w.reason)


def _companion(call: Call) -> str:
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
    row = await call.request.app[PAYOUTS].bind_account(_companion(call), body.method, body.account)
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
    errors=[Forbidden, WithdrawalRefused, InvalidAmount],
)
async def request_withdrawal(call: Call) -> BaseModel:
    body: WithdrawIn = call.body
    return _withdrawal_out(
        await call.request.app[PAYOUTS].request(_companion(call), body.amount_fen)
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
    return WithdrawalsOut(withdrawals=[_withdrawal_out(w) for w in rows])


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
    return WithdrawalsOut(withdrawals=[_withdrawal_out(w) for w in rows])


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
    return _withdrawal_out(w)


class OfferIn(Strict):
    kind: Literal["weekly", "monthly"]
    mode: Literal["text", "voice", "video"]
    minutes: Annotated[
        int,
        Within(PACKAGE_MIN_MINUTES, PACKAGE_MAX_MINUTES, InvalidAmount.code, "a package's minutes"),
    ]
    price_fen: Fen


class OfferOut(BaseModel):
    id: str
    companion_id: str
    kind: str
    mode: str
    minutes: int
    price_fen: int


class OffersOut(BaseModel):
    offers: list[OfferOut]


@api.route(
    "POST",
    "/api/me/package-offers",
    access=access(COMPANIONS),
    summary="Offer a weekly or monthly package (senior and gold companions)",
    tags=["packages"],
    body=OfferIn,
    response=OfferOut,
    status=201,
    errors=[Forbidden, OfferRefused, RatesNotSet, InvalidAmount],
)
async def create_offer(call: Call) -> BaseModel:
    body: OfferIn = call.body
    offer = await call.request.app[WALLETS].create_offer(
        _companion(call),
        kind=body.kind,
        mode=Mode(body.mode),
        minutes=body.minutes,
        price_fen=body.price_fen,
    )
    return OfferOut.model_validate(offer, from_attributes=True)


@api.route(
    "GET",
    "/api/companions/{companion_id}/package-offers",
    access=access(ANYONE, companion_id="public"),
    summary="A companion's packages for sale",
    tags=["packages"],
    auth="none",
    response=OffersOut,
)
async def list_offers(call: Call) -> BaseModel:
    rows = await call.request.app[WALLETS].offers(call.request.match_info["companion_id"])
    return OffersOut(offers=[OfferOut.model_validate(o, from_attributes=True) for o in rows])


@api.route(
    "POST",
    "/api/package-offers/{offer_id}/buy",
    access=access(USERS, offer_id="public"),
    summary="Buy a companion's package",
    tags=["packages"],
    response=GrantOut,
    status=201,
    errors=[PackageNotFound, OfferRefused, InsufficientFunds, BudgetExceeded],
)
async def buy_offer(call: Call) -> BaseModel:
    grant = await call.request.app[WALLETS].buy_offer(
        call.user.user_id, call.request.match_info["offer_id"], f"g_{secrets.token_hex(10)}"
    )
    await funds_arrived(call.request.app, call.user.user_id)
    return GrantOut.model_validate(grant, from_attributes=True)
