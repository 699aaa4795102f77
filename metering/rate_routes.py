"""HTTP adapter for prices and the live meter: a companion's rates (read by anyone, set by the
companion) and a session's live spend as its participants (and admins) may see it."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from pydantic import BaseModel

from kernel.errors import Forbidden
from kernel.http.access import ANYONE, COMPANIONS, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict
from metering.errors import InvalidRates, RatesNotSet, SessionNotFound
from metering.keys import METERING
from metering.rate_fields import rate_field
from metering.service import SessionView
from metering.tariff import Level, Mode, Rates
from store.keys import DB
from store.models import CompanionRate, MeteredSession

api = Api()


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


def meter_out(v: SessionView) -> MeterOut:
    return MeterOut(**{f: getattr(v, f) for f in MeterOut.model_fields})


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


async def session_for(call: Call) -> MeteredSession:
    """The session the URL names, if the caller took part in it or is an admin."""
    sid = call.request.match_info["session_id"]
    async with call.request.app[DB].reading() as s:
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
    row = await session_for(call)
    view = await call.request.app[METERING].view(row.id)
    if call.user.user_id == row.companion_id:
        # The companion sees the session, not the customer's money.
        view = dataclasses.replace(
            view, balance_fen=0, package_minutes=0, minutes_left=0, low_balance=False
        )
    elif call.user.role != "admin":
        view = dataclasses.replace(view, earned_fen=0)
    return meter_out(view)
