"""My sessions: both sides see the session, each with the other as the peer; only their own;
newest first across keyset pages; the role filter; a bad cursor is refused."""

from __future__ import annotations

from tests.harness import bearer
from tests.harness.rig import Rig
from tests.market.reviews.helpers import paid_session


async def test_my_sessions_are_listed_newest_first_for_both_sides(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)
    comp = await rig.online_companion()
    ids = []
    for seconds in (61, 30, 125):
        rig.clock.advance(5)
        _c, _p, sid = await paid_session(rig, cust, comp, seconds=seconds)
        ids.append(sid)
    h = bearer(cust.token)
    page = await (await rig.http.get("/api/me/sessions?limit=2", headers=h)).json()
    assert [s["id"] for s in page["sessions"]] == [ids[2], ids[1]]
    first = page["sessions"][0]
    assert (first["kind"], first["role"], first["peer"]["id"]) == (
        "call",
        "customer",
        comp[0].user_id,
    )
    assert (first["billed_minutes"], first["charged_fen"], first["status"]) == (3, 300, "ended")
    assert "phone" not in first["peer"]
    rest = await (
        await rig.http.get(f"/api/me/sessions?limit=2&cursor={page['next_cursor']}", headers=h)
    ).json()
    assert [s["id"] for s in rest["sessions"]] == [ids[0]] and rest["next_cursor"] is None

    served = await (
        await rig.http.get("/api/me/sessions?role=companion", headers=bearer(comp[0].token))
    ).json()
    assert [(s["id"], s["peer"]["id"]) for s in served["sessions"]] == [
        (sid, cust.user_id) for sid in reversed(ids)
    ]
    none = await (await rig.http.get("/api/me/sessions?role=companion", headers=h)).json()
    assert none["sessions"] == []
    stranger = await rig.person()
    theirs = await (await rig.http.get("/api/me/sessions", headers=bearer(stranger.token))).json()
    assert theirs["sessions"] == []
    bad = await rig.http.get("/api/me/sessions?cursor=nonsense", headers=h)
    assert (bad.status, (await bad.json())["error"]["code"]) == (400, "bad_cursor")
    assert (await rig.http.get("/api/me/sessions")).status == 401
