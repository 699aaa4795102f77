"""HTTP adapter for minutes bought ahead: the platform's minute packages, the new-user trial
coupon, and the weekly or monthly packages companions offer."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from kernel.errors import Forbidden
from kernel.http.access import ANYONE, COMPANIONS, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict, Within
from metering.errors import (
    BudgetExceeded,
    CouponUsed,
    InsufficientFunds,
    InvalidAmount,
    OfferRefused,
    PackageNotFound,
    RatesNotSet,
)
from metering.keys import WALLETS
from metering.payout_routes import require_companion
from metering.tariff import Mode
from metering.wallet import PACKAGE_MAX_MINUTES, PACKAGE_MIN_MINUTES, PLATFORM_PACKAGES
from metering.wallet_routes import OkOut, funds_arrived

api = Api()
Fen = Annotated[int, Field(ge=1, le=10_000_000)]


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
        require_companion(call),
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
