"""Booking a slot: the rate fixed and the hold taken in one ledger transfer, idempotent resends,
and every refusal (money, budget, who may book whom, slot rules, the open-booking limit)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from metering import accounts
from metering.keys import METERING
from metering.tariff import Rates
from store.models import CompanionRate, Transfer
from store.models.bookings import Booking
from tests.harness import bearer
from tests.harness.rig import Rig
from tests.market.bookings.helpers import (
    HOLD_FEN,
    VOICE_FEN,
    book,
    booked,
    ledger_ok,
    money,
    open_calendar,
    slot,
    wallet,
)


@pytest.mark.both_databases
async def test_booking_fixes_the_rate_and_moves_the_hold_out_of_the_wallet(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)
    comp = await rig.person("companion")
    await open_calendar(rig, comp)
    comp_sock = await rig.connect(comp, "companion")
    starts_at = slot(rig, 3)

    b = await booked(rig, cust, comp, starts_at, duration_min=60, request_id="bk-first-one")
    assert (b["status"], b["mode"], b["duration_min"]) == ("requested", "voice", 60)
    assert (b["rate_fen_per_min"], b["hold_fen"]) == (VOICE_FEN, HOLD_FEN)
    assert b["customer"]["id"] == cust.user_id and b["companion"]["id"] == comp.user_id
    assert "phone" not in str(b)
    assert await money(rig, accounts.wallet(cust.user_id), accounts.booking_hold(b["id"])) == [
        10_000 - HOLD_FEN,
        HOLD_FEN,
    ]
    shown = await (await rig.http.get("/api/wallet", headers=bearer(cust.token))).json()
    assert (shown["wallet_fen"], shown["booked_fen"]) == (10_000 - HOLD_FEN, HOLD_FEN)
    # The companion's studio hears of the new order.
    told = await comp_sock.wait("booking:updated", lambda d: d["id"] == b["id"])
    assert told["status"] == "requested"

    # A resend is the same booking, held once.
    again = await book(rig, cust, comp, starts_at, request_id="bk-first-one")
    assert again.status == 201 and (await again.json())["id"] == b["id"]
    assert await wallet(rig, cust) == 10_000 - HOLD_FEN
    async with rig.db.reading() as s:
        holds = await s.scalar(
            select(func.count()).select_from(Transfer).where(Transfer.kind == "booking_hold")
        )
    assert holds == 1

    # A price change later does not touch the booking; a short booking holds its whole length.
    await rig.app[METERING].set_rates(comp.user_id, Rates(100, 400, 600))
    assert (await booked(rig, cust, comp, slot(rig, 5)))["rate_fen_per_min"] == 400
    short = await booked(rig, cust, comp, slot(rig, 7), duration_min=30, mode="text")
    assert short["hold_fen"] == 100 * 10  # min(30, 10) minutes at 100
    assert b["rate_fen_per_min"] == VOICE_FEN
    await ledger_ok(rig)


async def test_not_enough_money_or_budget_books_nothing(rig: Rig) -> None:
    cust = await rig.person(fund_fen=HOLD_FEN - 1)
    comp = await rig.person("companion")
    await open_calendar(rig, comp)
    resp = await book(rig, cust, comp, slot(rig, 3))
    assert resp.status == 402 and (await resp.json())["error"]["code"] == "insufficient_funds"

    rich = await rig.person(fund_fen=50_000)
    await rig.app[METERING].set_monthly_cap(rich.user_id, HOLD_FEN - 1)
    resp = await book(rig, rich, comp, slot(rig, 3))
    assert resp.status == 402 and (await resp.json())["error"]["code"] == "budget_exceeded"
    await rig.app[METERING].set_monthly_cap(rich.user_id, HOLD_FEN)
    b = await booked(rig, rich, comp, slot(rig, 3))
    assert (await rig.app[METERING].budget(rich.user_id))[1] == HOLD_FEN  # counts on the cap

    async with rig.db.reading() as s:
        rows = (await s.scalars(select(Booking.customer_id))).all()
    assert rows == [rich.user_id] and b["hold_fen"] == HOLD_FEN
    assert await wallet(rig, cust) == HOLD_FEN - 1
    await ledger_ok(rig)


async def test_only_a_customer_may_book_a_companion_not_blocked(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)
    comp = await rig.person("companion")
    other_comp = await rig.person("companion")
    await open_calendar(rig, comp)
    at = slot(rig, 3)

    async def code(resp: object) -> tuple[int, str]:
        return resp.status, (await resp.json())["error"]["code"]  # type: ignore[attr-defined]

    assert await code(await book(rig, other_comp, comp, at)) == (403, "customers_only")
    assert await code(await book(rig, cust, cust, at)) == (400, "cannot_book_self")
    stranger = await rig.person()
    assert await code(await book(rig, cust, stranger, at)) == (404, "companion_not_found")

    await rig.http.post("/api/blocks", json={"user_id": cust.user_id}, headers=bearer(comp.token))
    assert await code(await book(rig, cust, comp, at)) == (403, "blocked")
    await rig.http.delete(f"/api/blocks/{cust.user_id}", headers=bearer(comp.token))
    await rig.http.post("/api/blocks", json={"user_id": comp.user_id}, headers=bearer(cust.token))
    assert await code(await book(rig, cust, comp, at)) == (403, "blocked")
    await rig.http.delete(f"/api/blocks/{comp.user_id}", headers=bearer(cust.token))

    async with rig.db.writing() as s:
        await s.execute(delete(CompanionRate).where(CompanionRate.user_id == comp.user_id))
    assert await code(await book(rig, cust, comp, at)) == (409, "rates_not_set")
    assert await wallet(rig, cust) == 10_000
    assert (await rig.http.post("/api/bookings", json={})).status == 401


@pytest.mark.both_databases
async def test_slot_rules_lead_horizon_alignment_availability_and_taken(rig: Rig) -> None:
    cust = await rig.person(fund_fen=100_000)
    rival = await rig.person(fund_fen=100_000)
    comp = await rig.person("companion")
    # Thursday (weekday 3) from 08:00 China time, the fake clock's start: 00:00 UTC.
    await open_calendar(rig, comp, [{"weekday": 3, "start": "09:00", "end": "12:00"}])

    async def why(resp: object) -> str:
        assert resp.status == 409, await resp.text()  # type: ignore[attr-defined]
        body = await resp.json()  # type: ignore[attr-defined]
        assert body["error"]["code"] == "slot_unavailable"
        return str(body["error"]["details"]["reason"])

    assert await why(await book(rig, cust, comp, slot(rig, 3.5))) == "outside_availability"
    await booked(rig, cust, comp, slot(rig, 1.5), duration_min=30)  # 09:30 China time
    await booked(rig, rival, comp, slot(rig, 3.5), duration_min=30)  # 11:30 ends at 12:00
    await open_calendar(rig, comp)  # every day, all day
    assert await why(await book(rig, cust, comp, slot(rig, 0.5))) == "too_soon"
    assert await why(await book(rig, cust, comp, slot(rig, 24 * 14 + 1))) == "too_far"
    assert await why(await book(rig, cust, comp, slot(rig, 3) + timedelta(minutes=10))) == (
        "not_aligned"
    )
    at = slot(rig, 6)
    await booked(rig, cust, comp, at, duration_min=90)
    # Any overlap with an open booking of the companion is taken, not just the same start.
    assert await why(await book(rig, rival, comp, at + timedelta(minutes=60))) == "taken"
    assert await why(await book(rig, rival, comp, at - timedelta(minutes=30))) == "taken"
    await booked(rig, rival, comp, at + timedelta(minutes=90))  # right after: free

    # The customer cannot be in two places at once either.
    other = await rig.person("companion")
    await open_calendar(rig, other)
    resp = await book(rig, cust, other, at + timedelta(minutes=30))
    assert (resp.status, (await resp.json())["error"]["code"]) == (409, "overlaps_your_booking")
    resp = await book(rig, cust, comp, at, duration_min=45)
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_input"
    resp = await rig.http.post(
        "/api/bookings",
        json={
            "companion_id": comp.user_id,
            "mode": "voice",
            "starts_at": "2026-01-01T12:00:00",  # no offset
            "duration_min": 30,
            "request_id": "bk-no-offset",
        },
        headers=bearer(cust.token),
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_input"
    await ledger_ok(rig)


async def test_the_sixth_open_booking_is_refused(rig: Rig) -> None:
    cust = await rig.person(fund_fen=100_000)
    comp = await rig.person("companion")
    await open_calendar(rig, comp)
    firsts = [await booked(rig, cust, comp, slot(rig, 3 + 2 * i)) for i in range(5)]
    resp = await book(rig, cust, comp, slot(rig, 20))
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "too_many_bookings"
    assert await wallet(rig, cust) == 100_000 - 5 * HOLD_FEN
    # One cancelled frees a place.
    resp = await rig.http.post(
        f"/api/bookings/{firsts[0]['id']}/cancel", json={}, headers=bearer(cust.token)
    )
    assert resp.status == 200, await resp.text()
    await booked(rig, cust, comp, slot(rig, 20))
    await ledger_ok(rig)
