"""Browsing companions over HTTP: who is listed, search, price cap, online now, stable pages."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from metering.keys import METERING
from metering.tariff import Rates
from store.models import User
from tests.harness.rig import Person, Rig


async def named(rig: Rig, nickname: str, rates: Rates | None = None) -> Person:
    comp = await rig.person("companion")
    async with rig.db.writing() as s:
        await s.execute(update(User).where(User.id == comp.user_id).values(nickname=nickname))
    if rates is not None:
        await rig.app[METERING].set_rates(comp.user_id, rates)
    return comp


async def listing(rig: Rig, **query: object) -> dict[str, object]:
    resp = await rig.http.get("/api/companions", params={k: str(v) for k, v in query.items()})
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def test_companions_with_prices_are_listed_with_their_state(rig: Rig) -> None:
    await rig.person()  # a customer: not listed
    a = await named(rig, "Alice_100%", Rates(100, 300, 600))
    b = await named(rig, "Bob", Rates(200, 500, 900))
    comp, _sock = await rig.online_companion()
    body = await listing(rig, sort="online")
    rows = body["companions"]
    assert isinstance(rows, list)
    assert {r["id"] for r in rows} == {a.user_id, b.user_id, comp.user_id}
    assert rows[0]["id"] == comp.user_id and rows[0]["status"] == "online"  # online first
    alice = next(r for r in rows if r["id"] == a.user_id)
    assert alice["rates"] == {"text": 100, "voice": 300, "video": 600}
    assert "phone" not in str(body) and a.phone not in str(body)

    assert [r["id"] for r in (await listing(rig, q="alice_1"))["companions"]] == [a.user_id]
    assert (await listing(rig, q="e_100%"))["companions"][0]["id"] == a.user_id
    assert (await listing(rig, q="%"))["companions"][0]["id"] == a.user_id  # % is literal
    cheap = await listing(rig, mode="voice", max_fen=400)
    assert {r["id"] for r in cheap["companions"]} == {a.user_id, comp.user_id}
    online = await listing(rig, online="true")
    assert [r["id"] for r in online["companions"]] == [comp.user_id]

    one = await rig.http.get(f"/api/companions/{b.user_id}")
    assert (await one.json())["nickname"] == "Bob"
    missing = await rig.http.get(f"/api/companions/{(await rig.person()).user_id}")
    assert (missing.status, (await missing.json())["error"]["code"]) == (
        404,
        "companion_not_found",
    )


@pytest.mark.both_databases
async def test_pages_follow_the_cursor_without_repeats_or_gaps(rig: Rig) -> None:
    made = []
    for i in range(5):
        made.append(await named(rig, f"C{i}", Rates(100, 300, 600)))
        rig.clock.advance(1)
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        query: dict[str, object] = {"limit": 2, "sort": "new"}
        if cursor:
            query["cursor"] = cursor
        body = await listing(rig, **query)
        seen += [r["id"] for r in body["companions"]]  # type: ignore[union-attr]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        rig.clock.advance(1)
        await named(rig, "late joiner", Rates(100, 300, 600))  # joins mid-browse: not in these
    assert seen == [p.user_id for p in reversed(made)]
    bad = await rig.http.get("/api/companions", params={"cursor": "not-a-cursor"})
    assert (bad.status, (await bad.json())["error"]["code"]) == (400, "bad_cursor")
    too_many = await rig.http.get("/api/companions", params={"limit": "500"})
    assert too_many.status == 400
