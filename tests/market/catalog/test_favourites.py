"""Favourites: keep and drop a companion (idempotent), listed with their state, told when they
come online; not for a blocked pair, not for a non-companion."""

from __future__ import annotations

from tests.harness import bearer
from tests.harness.rig import Rig


async def test_favourites_and_the_online_notice(rig: Rig) -> None:
    cust = await rig.person()
    comp = await rig.person("companion")
    h = bearer(cust.token)
    for _ in range(2):  # idempotent
        resp = await rig.http.put(f"/api/favourites/{comp.user_id}", headers=h)
        assert resp.status == 200, await resp.text()
    listed = (await (await rig.http.get("/api/favourites", headers=h)).json())["companions"]
    assert [(c["id"], c["status"]) for c in listed] == [(comp.user_id, "offline")]

    cust_sock = await rig.connect(cust)
    comp_sock = await rig.connect(comp, "companion")
    await comp_sock.ok("presence:set", {"accepting": True})
    notice = await cust_sock.wait("favourite:online", timeout=5)
    assert notice["user_id"] == comp.user_id and "phone" not in notice

    other = await rig.person()
    resp = await rig.http.put(f"/api/favourites/{other.user_id}", headers=h)
    assert (resp.status, (await resp.json())["error"]["code"]) == (404, "companion_not_found")
    resp = await rig.http.delete(f"/api/favourites/{comp.user_id}", headers=h)
    assert (await resp.json())["companions"] == []

    await rig.http.post("/api/blocks", json={"user_id": cust.user_id}, headers=bearer(comp.token))
    resp = await rig.http.put(f"/api/favourites/{comp.user_id}", headers=h)
    assert (await resp.json())["error"]["code"] == "blocked"
    assert (await rig.http.get("/api/favourites")).status == 401
