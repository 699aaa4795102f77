"""At and around the slot, over real sockets: the reminder (once), the call placed on the
customer's behalf at the booked rate (``call:incoming``, ``booking:due``), completion when the
call ends, and the no-shows both ways with their money."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import update

from market.bookings.keys import BOOKING_SCHEDULER
from market.bookings.scheduler import LATE_START_S, STALE_CLAIM_S
from metering import accounts
from metering.keys import METERING
from metering.tariff import Rates
from store.models.bookings import Booking
from tests.harness.rig import Rig
from tests.market.bookings.helpers import (
    HOLD_FEN,
    VOICE_FEN,
    advance_to,
    confirmed,
    earned,
    get,
    ledger_ok,
    money,
    open_calendar,
    slot,
    sweep,
    wallet,
)

pytestmark = pytest.mark.both_databases  # the database's behaviour matters here


async def test_reminder_goes_to_both_once(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)
    comp = await rig.person("companion")
    await open_calendar(rig, comp)
    cust_sock = await rig.connect(cust, "customer")
    comp_sock = await rig.connect(comp, "companion")
    at = slot(rig, 3)
    b = await confirmed(rig, cust, comp, at)

    advance_to(rig, at - timedelta(minutes=15), -1)
    assert (await sweep(rig))["reminded"] == 0
    rig.clock.advance(1)
    # Two passes at once (two processes): one reminder.
    results = await asyncio.gather(sweep(rig), sweep(rig))
    assert sum(r["reminded"] for r in results) == 1
    assert (await sweep(rig))["reminded"] == 0
    for sock in (cust_sock, comp_sock):
        told = await sock.wait("booking:reminder")
        assert told["id"] == b["id"] and told["starts_at"] == b["starts_at"]
    await asyncio.sleep(0.1)
    assert len(cust_sock.seen("booking:reminder")) == len(comp_sock.seen("booking:reminder")) == 1


async def test_at_the_slot_the_call_rings_at_the_booked_rate_and_completes(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)
    comp, comp_sock = await rig.online_companion()
    await open_calendar(rig, comp)
    cust_sock = await rig.connect(cust, "customer")
    at = slot(rig, 3)
    b = await confirmed(rig, cust, comp, at)
    await rig.app[METERING].set_rates(comp.user_id, Rates(100, 450, 600))  # raised since

    advance_to(rig, at - timedelta(seconds=1))
    assert (await sweep(rig))["started"] == 0
    rig.clock.advance(1)
    results = await asyncio.gather(sweep(rig), sweep(rig))  # two processes: one call
    assert sum(r["started"] for r in results) == 1

    due = await cust_sock.wait("booking:due")
    call_id = due["call_id"]
    assert due["booking_id"] == b["id"]
    ringing = await comp_sock.wait("call:incoming")
    assert ringing["call_id"] == call_id and ringing["customer"]["id"] == cust.user_id
    assert ringing["rate_fen_per_min"] == VOICE_FEN and ringing["mode"] == "voice"
    assert len(comp_sock.seen("call:incoming")) == 1
    now = await get(rig, cust, b["id"])
    assert (now["status"], now["call_id"], now["released_fen"]) == ("in_call", call_id, HOLD_FEN)
    # The hold went back to the wallet; minute 1 of the call is reserved from it.
    assert await wallet(rig, cust) == 10_000 - VOICE_FEN
    assert await money(rig, accounts.booking_hold(b["id"])) == [0]

    await comp_sock.ok("call:accept", {"call_id": call_id})
    await cust_sock.ok("call:hangup", {"call_id": call_id})
    done = await cust_sock.wait("booking:updated", lambda d: d["status"] == "completed")
    assert done["call_id"] == call_id
    assert (await get(rig, comp, b["id"]))["status"] == "completed"
    assert (await sweep(rig))["ended"] == 0
    await ledger_ok(rig)


async def test_a_step_that_fails_at_the_slot_is_retried_on_the_next_pass(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A transient failure after the claim (here: placing the call raises once, as a deadlock
    # or a dropped connection would) hands the claim back instead of parking the booking in
    # ``starting`` for STALE_CLAIM_S; the next pass places the call, once.
    cust = await rig.person(fund_fen=10_000)
    comp, comp_sock = await rig.online_companion()
    await open_calendar(rig, comp)
    cust_sock = await rig.connect(cust, "customer")
    at = slot(rig, 3)
    b = await confirmed(rig, cust, comp, at)
    calls = rig.app[BOOKING_SCHEDULER]._calls
    real_request = calls.request
    failures: list[int] = []

    async def fails_once(*args: object, **kwargs: object) -> object:
        if not failures:
            failures.append(1)
            raise ConnectionResetError("transient")
        return await real_request(*args, **kwargs)

    monkeypatch.setattr(calls, "request", fails_once)
    advance_to(rig, at)
    assert (await sweep(rig))["started"] == 0  # the step failed (logged), the claim handed back
    assert (await get(rig, cust, b["id"]))["status"] == "starting"
    assert (await sweep(rig))["started"] == 1  # no clock advance: retried at once
    due = await cust_sock.wait("booking:due")
    ringing = await comp_sock.wait("call:incoming")
    assert ringing["call_id"] == due["call_id"]
    assert len(comp_sock.seen("call:incoming")) == 1
    assert (await get(rig, cust, b["id"]))["status"] == "in_call"
    assert await wallet(rig, cust) == 10_000 - VOICE_FEN  # hold released once, minute 1 held
    await ledger_ok(rig)


async def test_companion_offline_at_the_slot_is_their_no_show(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)
    comp = await rig.person("companion")  # never comes online
    await open_calendar(rig, comp)
    cust_sock = await rig.connect(cust, "customer")
    at = slot(rig, 3)
    b = await confirmed(rig, cust, comp, at)
    advance_to(rig, at)
    await sweep(rig)
    body = await get(rig, cust, b["id"])
    assert (body["status"], body["outcome"], body["fee_fen"], body["released_fen"]) == (
        "no_show_companion",
        "offline",
        0,
        HOLD_FEN,
    )
    assert await wallet(rig, cust) == 10_000
    assert await earned(rig, comp) == (0, 0)
    assert not cust_sock.seen("booking:due")
    await cust_sock.wait("booking:updated", lambda d: d["status"] == "no_show_companion")

    # Every process down at the slot and long after: no call so late, the hold back in full.
    later = await confirmed(rig, cust, comp, at + timedelta(hours=2))
    advance_to(rig, at + timedelta(hours=2), LATE_START_S + 1)
    await sweep(rig)
    body = await get(rig, cust, later["id"])
    assert (body["status"], body["outcome"], body["released_fen"]) == (
        "failed",
        "late_start",
        HOLD_FEN,
    )
    assert await wallet(rig, cust) == 10_000
    await ledger_ok(rig)


async def test_companion_letting_it_ring_out_is_their_no_show(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)
    comp, comp_sock = await rig.online_companion()
    await open_calendar(rig, comp)
    cust_sock = await rig.connect(cust, "customer")
    at = slot(rig, 3)
    b = await confirmed(rig, cust, comp, at)
    advance_to(rig, at)
    await sweep(rig)
    await comp_sock.wait("call:incoming")
    rig.clock.advance(31)  # past the ring time-out: the signaling sweep ends the call
    body = await cust_sock.wait("booking:updated", lambda d: d["status"] == "no_show_companion")
    assert body["id"] == b["id"]
    assert (body["status"], body["outcome"]) == ("no_show_companion", "timed_out")
    assert await wallet(rig, cust) == 10_000  # nothing charged, the hold back
    await ledger_ok(rig)


async def test_customer_with_no_device_pays_the_no_show_fee(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)  # never connects
    comp, comp_sock = await rig.online_companion()
    await open_calendar(rig, comp)
    at = slot(rig, 3)
    b = await confirmed(rig, cust, comp, at)
    advance_to(rig, at)
    # A process claimed the slot and died: the claim is taken over once it is stale.
    async with rig.db.writing() as s:
        await s.execute(
            update(Booking)
            .where(Booking.id == b["id"])
            .values(status="starting", claimed_at=rig.clock.now())
        )
    assert (await sweep(rig))["started"] == 0
    rig.clock.advance(STALE_CLAIM_S)
    assert (await sweep(rig))["started"] == 1
    body = await get(rig, cust, b["id"])
    assert (body["status"], body["outcome"], body["fee_fen"], body["released_fen"]) == (
        "no_show_customer",
        "offline",
        HOLD_FEN,
        0,
    )
    assert await wallet(rig, cust) == 10_000 - HOLD_FEN
    assert await earned(rig, comp) == (2100, 0)  # 3,000 less 30 % commission
    assert not comp_sock.seen("call:incoming")
    await comp_sock.wait("booking:updated", lambda d: d["status"] == "no_show_customer")
    await ledger_ok(rig)


async def test_customer_cancelling_the_ring_at_the_slot_pays_the_late_fee(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)
    comp, _ = await rig.online_companion()
    await open_calendar(rig, comp)
    cust_sock = await rig.connect(cust, "customer")
    at = slot(rig, 3)
    await confirmed(rig, cust, comp, at)
    advance_to(rig, at)
    await sweep(rig)
    call_id = (await cust_sock.wait("booking:due"))["call_id"]
    await cust_sock.ok("call:cancel", {"call_id": call_id})
    body = await cust_sock.wait("booking:updated", lambda d: d["status"] == "cancelled")
    assert (body["cancelled_by"], body["outcome"], body["fee_fen"]) == ("customer", "at_slot", 1500)
    assert await wallet(rig, cust) == 10_000 - 1500
    assert await earned(rig, comp) == (1050, 0)

    # In a call with someone else at the slot: the customer did not show up.
    at2 = at + timedelta(hours=2)
    b2 = await confirmed(rig, cust, comp, at2)
    other, other_sock = await rig.online_companion()
    ack = await cust_sock.ok(
        "call:request", {"companion_id": other.user_id, "mode": "text", "request_id": "rq-other1"}
    )
    await other_sock.ok("call:accept", {"call_id": ack["call"]["call_id"]})
    advance_to(rig, at2)
    await sweep(rig)
    body = await get(rig, cust, b2["id"])
    assert (body["status"], body["outcome"], body["fee_fen"]) == (
        "no_show_customer",
        "in_another_call",
        HOLD_FEN,
    )
    assert await earned(rig, comp) == (1050 + 2100, 0)
    await ledger_ok(rig)
