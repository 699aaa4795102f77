"""The weekly calendar over HTTP: who may set it, what is refused, and the free slots customers
see (lead time, the horizon, booked slots gone, hidden across a block)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.harness import bearer
from tests.harness.rig import Rig
from tests.market.bookings.helpers import booked, open_calendar, slot


async def test_only_companions_set_a_valid_calendar(rig: Rig) -> None:
    comp = await rig.person("companion")
    cust = await rig.person()
    h = bearer(comp.token)
    ranges = [
        {"weekday": 0, "start": "19:00", "end": "23:00"},
        {"weekday": 0, "start": "09:00", "end": "12:30"},
        {"weekday": 6, "start": "22:00", "end": "24:00"},
        {"weekday": 0, "start": "12:30", "end": "13:00"},  # touching is not overlapping
    ]
    resp = await rig.http.put("/api/me/availability", json={"ranges": ranges}, headers=h)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["timezone"] == "Asia/Shanghai"
    assert [(r["weekday"], r["start"], r["end"]) for r in body["ranges"]] == [
        (0, "09:00", "12:30"),
        (0, "12:30", "13:00"),
        (0, "19:00", "23:00"),
        (6, "22:00", "24:00"),
    ]
    assert (await (await rig.http.get("/api/me/availability", headers=h)).json()) == body

    resp = await rig.http.put(
        "/api/me/availability", json={"ranges": ranges}, headers=bearer(cust.token)
    )
    assert (resp.status, (await resp.json())["error"]["code"]) == (403, "companions_only")
    resp = await rig.http.get("/api/me/availability", headers=bearer(cust.token))
    assert resp.status == 403

    for bad in (
        [{"weekday": 1, "start": "09:15", "end": "10:00"}],  # not on the half hour
        [{"weekday": 1, "start": "10:00", "end": "10:00"}],  # empty
        [{"weekday": 1, "start": "11:00", "end": "10:00"}],  # backwards
        [{"weekday": 1, "start": "24:00", "end": "24:30"}],  # not a time of day
        [{"weekday": 1, "start": "09:60", "end": "10:00"}],
        [
            {"weekday": 2, "start": "09:00", "end": "11:00"},
            {"weekday": 2, "start": "10:30", "end": "12:00"},
        ],
    ):
        resp = await rig.http.put("/api/me/availability", json={"ranges": bad}, headers=h)
        assert (resp.status, (await resp.json())["error"]["code"]) == (
            400,
            "invalid_availability",
        ), bad
    for bad_shape in (
        [{"weekday": 7, "start": "09:00", "end": "10:00"}],
        [{"weekday": 1, "start": "9:00", "end": "10:00"}],
        [{"weekday": 1, "start": "09:00", "end": "10:00", "extra": 1}],
        [
            {"weekday": d % 7, "start": f"{d // 7:02d}:00", "end": f"{d // 7:02d}:30"}
            for d in range(29)
        ],
    ):
        resp = await rig.http.put("/api/me/availability", json={"ranges": bad_shape}, headers=h)
        assert (resp.status, (await resp.json())["error"]["code"]) == (400, "invalid_input")
    # 28 ranges is the most, and the calendar can be emptied.
    most = [
        {"weekday": d % 7, "start": f"{d // 7:02d}:00", "end": f"{d // 7:02d}:30"}
        for d in range(28)
    ]
    assert (
        await rig.http.put("/api/me/availability", json={"ranges": most}, headers=h)
    ).status == 200
    resp = await rig.http.put("/api/me/availability", json={"ranges": []}, headers=h)
    assert (await resp.json())["ranges"] == []
    # Unchanged by the refusals: still what was last accepted.
    assert (await (await rig.http.get("/api/me/availability", headers=h)).json())["ranges"] == []


async def test_free_slots_respect_lead_horizon_bookings_and_blocks(rig: Rig) -> None:
    comp = await rig.person("companion")
    cust = await rig.person(fund_fen=10_000)
    await open_calendar(rig, comp)
    url = f"/api/companions/{comp.user_id}/availability"

    body = await (await rig.http.get(url + "?days=14")).json()  # anonymous visitors may look
    assert (body["timezone"], body["slot_min"], body["durations_min"]) == (
        "Asia/Shanghai",
        30,
        [30, 60, 90, 120],
    )
    days = body["days"]
    assert [d["date"] for d in days][:2] == ["2026-01-01", "2026-01-02"]  # China dates
    slots = [datetime.fromisoformat(s) for d in days for s in d["slots"]]
    now = rig.clock.now()
    # At least an hour ahead (08:00 China time now: 09:00 is first), at most 14 days.
    assert min(slots) == now + timedelta(hours=1)
    assert len(days) == 14 and len(days[0]["slots"]) == 30  # 09:00 … 23:30
    assert all(len(d["slots"]) == 48 for d in days[1:])
    last = await (await rig.http.get(url + "?from=2026-01-15&days=2")).json()
    assert len(last["days"][0]["slots"]) == 17 and last["days"][1]["slots"] == []  # to 08:00
    assert datetime.fromisoformat(last["days"][0]["slots"][-1]) == now + timedelta(days=14)

    at = slot(rig, 3)
    await booked(rig, cust, comp, at, duration_min=90)
    taken = {at + timedelta(minutes=m) for m in (0, 30, 60)}
    body = await (await rig.http.get(url + "?from=2026-01-01&days=1")).json()
    left = {datetime.fromisoformat(s) for s in body["days"][0]["slots"]}
    assert not (left & taken) and len(left) == 27
    assert at - timedelta(minutes=30) in left and at + timedelta(minutes=90) in left

    # Past the horizon there is nothing; days are 1..14.
    body = await (await rig.http.get(url + "?from=2026-01-20&days=3")).json()
    assert [d["slots"] for d in body["days"]] == [[], [], []]
    for query in ("?days=15", "?days=0", "?from=tomorrow"):
        resp = await rig.http.get(url + query)
        assert (resp.status, (await resp.json())["error"]["code"]) == (400, "invalid_input")

    # Hidden from a blocked customer; nothing for non-companions.
    assert (await rig.http.get(url, headers=bearer(cust.token))).status == 200
    await rig.http.post("/api/blocks", json={"user_id": cust.user_id}, headers=bearer(comp.token))
    resp = await rig.http.get(url, headers=bearer(cust.token))
    assert (resp.status, (await resp.json())["error"]["code"]) == (404, "companion_not_found")
    resp = await rig.http.get(f"/api/companions/{cust.user_id}/availability")
    assert resp.status == 404
    resp = await rig.http.get("/api/companions/nobody/availability")
    assert resp.status == 404
