"""Acting as customers and companions do (HTTP, sockets), and reading the money back."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from market.bookings.keys import BOOKING_SCHEDULER
from metering import accounts
from metering.check import check_ledger
from metering.ledger import balances
from store.models.bookings import Booking
from tests.harness import bearer
from tests.harness.rig import Person, Rig

#: the rig's companions: text 100, voice 300, video 600 fen/min, newcomers (30 % commission)
VOICE_FEN = 300
HOLD_FEN = VOICE_FEN * 10  # a 60-minute voice booking holds 10 minutes


def whole_week() -> list[dict[str, Any]]:
    return [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]


async def open_calendar(rig: Rig, comp: Person, ranges: list[dict[str, Any]] | None = None) -> None:
    resp = await rig.http.put(
        "/api/me/availability",
        json={"ranges": whole_week() if ranges is None else ranges},
        headers=bearer(comp.token),
    )
    assert resp.status == 200, await resp.text()


def slot(rig: Rig, hours: float) -> datetime:
    """The half-hour slot start ``hours`` from now (the fake clock starts on the hour)."""
    at = rig.clock.now() + timedelta(hours=hours)
    return at.replace(minute=(at.minute // 30) * 30, second=0, microsecond=0)


async def book(
    rig: Rig,
    cust: Person,
    comp: Person,
    starts_at: datetime,
    *,
    duration_min: int = 60,
    mode: str = "voice",
    request_id: str | None = None,
) -> Any:
    return await rig.http.post(
        "/api/bookings",
        json={
            "companion_id": comp.user_id,
            "mode": mode,
            "starts_at": starts_at.isoformat(),
            "duration_min": duration_min,
            "request_id": request_id or "bk-" + secrets.token_hex(8),
        },
        headers=bearer(cust.token),
    )


async def booked(rig: Rig, cust: Person, comp: Person, starts_at: datetime, **kw: Any) -> Any:
    resp = await book(rig, cust, comp, starts_at, **kw)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def act(rig: Rig, who: Person, booking_id: str, verb: str, **body: Any) -> Any:
    return await rig.http.post(
        f"/api/bookings/{booking_id}/{verb}",
        json=body if verb != "confirm" else None,
        headers=bearer(who.token),
    )


async def confirmed(rig: Rig, cust: Person, comp: Person, starts_at: datetime, **kw: Any) -> Any:
    b = await booked(rig, cust, comp, starts_at, **kw)
    resp = await act(rig, comp, b["id"], "confirm")
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def get(rig: Rig, who: Person, booking_id: str) -> Any:
    resp = await rig.http.get(f"/api/bookings/{booking_id}", headers=bearer(who.token))
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def money(rig: Rig, *ids: str) -> list[int]:
    async with rig.db.reading() as s:
        found = await balances(s, ids)
    return [found[a] for a in ids]


async def wallet(rig: Rig, who: Person) -> int:
    return (await money(rig, accounts.wallet(who.user_id)))[0]


async def earned(rig: Rig, comp: Person) -> tuple[int, int]:
    """The companion's (pending, available) earnings."""
    pending, available = await money(
        rig, accounts.earn_pending(comp.user_id), accounts.earn_available(comp.user_id)
    )
    return pending, available


async def ledger_ok(rig: Rig) -> None:
    """``peiliao ledger check`` passes, and no booking hold is left over once it ended."""
    report = await check_ledger(rig.db)
    assert report.ok, report.to_json()
    async with rig.db.reading() as s:
        rows = (await s.execute(select(Booking.id, Booking.status, Booking.hold_fen))).all()
        held = await balances(s, [accounts.booking_hold(r[0]) for r in rows])
    for booking_id, status, hold_fen in rows:
        expected = hold_fen if status in ("requested", "confirmed") else 0
        assert held[accounts.booking_hold(booking_id)] == expected, (booking_id, status)


async def sweep(rig: Rig) -> dict[str, int]:
    counts: dict[str, int] = await rig.app[BOOKING_SCHEDULER].run_once()
    return counts


def advance_to(rig: Rig, at: datetime, plus_s: float = 0) -> None:
    rig.clock.advance((at - rig.clock.now()).total_seconds() + plus_s)
