"""Before the slot: the companion confirms or declines (nobody else may), an unconfirmed booking
expires, either party cancels (free, late with the fee split as a session's, by the companion),
a block cancels; both parties' lists and single views."""

from __future__ import annotations

from datetime import timedelta

import pytest

from metering import accounts
from tests.harness import bearer
from tests.harness.rig import Rig
from tests.market.bookings.helpers import (
    HOLD_FEN,
    act,
    advance_to,
    booked,
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


async def test_only_the_companion_confirms_or_declines_others_get_404(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)
    comp = await rig.person("companion")
    other_comp = await rig.person("companion")
    stranger = await rig.person()
    await open_calendar(rig, comp)
    b = await booked(rig, cust, comp, slot(rig, 3))

    for who in (cust, other_comp, stranger):
        for verb in ("confirm", "decline"):
            resp = await act(rig, who, b["id"], verb)
            assert (resp.status, (await resp.json())["error"]["code"]) == (
                404,
                "booking_not_found",
            ), (verb, who)
    for who in (other_comp, stranger):
        resp = await act(rig, who, b["id"], "cancel")
        assert resp.status == 404
        resp = await rig.http.get(f"/api/bookings/{b['id']}", headers=bearer(who.token))
        assert resp.status == 404
    resp = await rig.http.get("/api/bookings/bkg_nonsense", headers=bearer(cust.token))
    assert resp.status == 404
    assert (await get(rig, cust, b["id"]))["status"] == "requested"

    resp = await act(rig, comp, b["id"], "confirm")
    assert resp.status == 200 and (await resp.json())["status"] == "confirmed"
    again = await act(rig, comp, b["id"], "confirm")  # idempotent
    assert again.status == 200
    resp = await act(rig, comp, b["id"], "decline", reason="busy")
    assert (resp.status, (await resp.json())["error"]["code"]) == (409, "booking_confirmed")
    assert await wallet(rig, cust) == 10_000 - HOLD_FEN
    await ledger_ok(rig)


@pytest.mark.both_databases
async def test_decline_and_expiry_give_the_hold_back(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)
    comp = await rig.person("companion")
    await open_calendar(rig, comp)
    cust_sock = await rig.connect(cust, "customer")
    b = await booked(rig, cust, comp, slot(rig, 3))
    resp = await act(rig, comp, b["id"], "decline", reason="不方便")
    body = await resp.json()
    assert (body["status"], body["reason"], body["released_fen"], body["fee_fen"]) == (
        "declined",
        "不方便",
        HOLD_FEN,
        0,
    )
    assert await wallet(rig, cust) == 10_000
    told = await cust_sock.wait("booking:updated", lambda d: d["status"] == "declined")
    assert told["id"] == b["id"]
    resp = await act(rig, comp, b["id"], "confirm")
    assert (resp.status, (await resp.json())["error"]["code"]) == (409, "booking_closed")

    # Unconfirmed 15 minutes before the slot: expired by the sweep, everything back.
    at = slot(rig, 3)
    late = await booked(rig, cust, comp, at)
    early = await booked(rig, cust, comp, at + timedelta(hours=2))
    advance_to(rig, at - timedelta(minutes=15), -1)
    assert (await sweep(rig))["expired"] == 0
    rig.clock.advance(1)
    assert (await sweep(rig))["expired"] == 1
    assert (await sweep(rig))["expired"] == 0
    expired = await get(rig, cust, late["id"])
    assert (expired["status"], expired["outcome"], expired["released_fen"]) == (
        "expired",
        "unconfirmed",
        HOLD_FEN,
    )
    assert await wallet(rig, cust) == 10_000 - HOLD_FEN  # the other one is still held
    # Confirming after the deadline, before a sweep, expires it too.
    advance_to(rig, at + timedelta(hours=2) - timedelta(minutes=15))
    resp = await act(rig, comp, early["id"], "confirm")
    assert (resp.status, (await resp.json())["error"]["code"]) == (409, "booking_expired")
    assert (await get(rig, cust, early["id"]))["status"] == "expired"
    assert await wallet(rig, cust) == 10_000
    await ledger_ok(rig)


@pytest.mark.both_databases
async def test_free_cancel_late_cancel_and_companion_cancel_amounts(rig: Rig) -> None:
    cust = await rig.person(fund_fen=20_000)
    comp = await rig.person("companion")
    await open_calendar(rig, comp)
    at = slot(rig, 4)
    free = await confirmed(rig, cust, comp, at)
    late = await confirmed(rig, cust, comp, at + timedelta(hours=1))
    by_comp = await confirmed(rig, cust, comp, at + timedelta(hours=2))
    unconfirmed = await booked(rig, cust, comp, at + timedelta(hours=3))
    assert await wallet(rig, cust) == 20_000 - 4 * HOLD_FEN

    # More than 2 h before the slot: free.
    advance_to(rig, at - timedelta(hours=2), -1)
    resp = await act(rig, cust, free["id"], "cancel", reason="plans changed")
    body = await resp.json()
    assert (body["status"], body["cancelled_by"], body["outcome"]) == (
        "cancelled",
        "customer",
        "free",
    )
    assert (body["fee_fen"], body["released_fen"]) == (0, HOLD_FEN)
    assert await wallet(rig, cust) == 20_000 - 3 * HOLD_FEN
    again = await act(rig, cust, free["id"], "cancel")
    assert again.status == 200  # idempotent

    # Less than 2 h before: half the hold (1,500 fen) to the companion, 30 % of it commission.
    advance_to(rig, at + timedelta(hours=1) - timedelta(hours=2))
    platform_before = (await money(rig, accounts.PLATFORM_REVENUE))[0]
    body = await (await act(rig, cust, late["id"], "cancel")).json()
    assert (body["outcome"], body["fee_fen"], body["released_fen"]) == ("late", 1500, 1500)
    assert await wallet(rig, cust) == 20_000 - 3 * HOLD_FEN + 1500
    assert await earned(rig, comp) == (1050, 0)
    assert (await money(rig, accounts.PLATFORM_REVENUE))[0] - platform_before == 450

    # Unconfirmed: free even late.
    body = await (await act(rig, cust, unconfirmed["id"], "cancel")).json()
    assert (body["outcome"], body["fee_fen"]) == ("unconfirmed", 0)
    # The companion cancels: everything back, shown as theirs, whenever before the slot.
    advance_to(rig, at + timedelta(hours=2), -60)
    body = await (await act(rig, comp, by_comp["id"], "cancel", reason="sick")).json()
    assert (body["cancelled_by"], body["outcome"], body["fee_fen"], body["reason"]) == (
        "companion",
        "companion",
        0,
        "sick",
    )
    assert await wallet(rig, cust) == 20_000 - 1500
    assert await earned(rig, comp) == (1050, 0)

    # After the fee's earnings hold (72 h) the companion's part becomes available, once.
    rig.clock.advance(72 * 3600 + 1)
    assert (await sweep(rig))["fees_settled"] == 1
    assert (await sweep(rig))["fees_settled"] == 0
    assert await earned(rig, comp) == (0, 1050)
    await ledger_ok(rig)


async def test_no_cancel_once_the_slot_began_and_a_block_cancels_before(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)
    comp = await rig.person("companion")
    await open_calendar(rig, comp)
    at = slot(rig, 3)
    begun = await confirmed(rig, cust, comp, at)
    b = await confirmed(rig, cust, comp, at + timedelta(hours=2))
    advance_to(rig, at)
    for who in (cust, comp):
        resp = await act(rig, who, begun["id"], "cancel")
        assert (resp.status, (await resp.json())["error"]["code"]) == (409, "too_late_to_cancel")

    # A block cancels what has not started (its call could not ring), free, whoever blocks.
    await rig.http.post("/api/blocks", json={"user_id": comp.user_id}, headers=bearer(cust.token))
    body = await get(rig, cust, b["id"])
    assert (body["status"], body["cancelled_by"], body["outcome"]) == (
        "cancelled",
        "system",
        "unavailable",  # not "blocked": the blocked side is not told
    )
    assert (await get(rig, cust, begun["id"]))["status"] == "cancelled"
    assert await wallet(rig, cust) == 10_000
    await ledger_ok(rig)


async def test_lists_serve_the_studio_and_the_customer(rig: Rig) -> None:
    cust = await rig.person(fund_fen=20_000)
    comp = await rig.person("companion")
    await open_calendar(rig, comp)
    at = slot(rig, 3)
    first = await booked(rig, cust, comp, at)
    second = await confirmed(rig, cust, comp, at + timedelta(hours=2))
    third = await booked(rig, cust, comp, at + timedelta(hours=4))
    await act(rig, comp, third["id"], "decline")

    async def ids(who: object, query: str) -> list[str]:
        resp = await rig.http.get(f"/api/bookings{query}", headers=bearer(who.token))  # type: ignore[attr-defined]
        assert resp.status == 200, await resp.text()
        return [b["id"] for b in (await resp.json())["bookings"]]

    assert await ids(comp, "?status=incoming") == [first["id"]]
    assert await ids(comp, "?status=upcoming") == [second["id"]]
    assert await ids(comp, "?status=history") == [third["id"]]
    assert await ids(comp, "") == [third["id"], second["id"], first["id"]]  # latest slot first
    assert await ids(comp, "?role=customer") == []
    assert await ids(cust, "?status=open") == [first["id"], second["id"]]  # soonest first
    assert await ids(cust, "?status=declined") == [third["id"]]
    stranger = await rig.person()
    assert await ids(stranger, "") == []

    # Keyset pages.
    resp = await rig.http.get("/api/bookings?limit=2", headers=bearer(cust.token))
    page = await resp.json()
    assert [b["id"] for b in page["bookings"]] == [third["id"], second["id"]]
    resp = await rig.http.get(
        f"/api/bookings?limit=2&cursor={page['next_cursor']}", headers=bearer(cust.token)
    )
    page = await resp.json()
    assert [b["id"] for b in page["bookings"]] == [first["id"]] and page["next_cursor"] is None
    resp = await rig.http.get("/api/bookings?cursor=garbage", headers=bearer(cust.token))
    assert (resp.status, (await resp.json())["error"]["code"]) == (400, "bad_cursor")
    resp = await rig.http.get("/api/bookings?status=nonsense", headers=bearer(cust.token))
    assert resp.status == 400
