"""Blocks over HTTP, and their effect: neither side can call the other."""

from __future__ import annotations

from tests.harness import bearer
from tests.harness.rig import Rig, request_id


async def test_block_list_unblock(rig: Rig) -> None:
    me = await rig.person()
    other = await rig.person("companion")
    h = bearer(me.token)
    resp = await rig.http.post("/api/blocks", json={"user_id": other.user_id}, headers=h)
    assert resp.status == 200, await resp.text()
    again = await rig.http.post("/api/blocks", json={"user_id": other.user_id}, headers=h)
    listed = (await again.json())["blocked"]
    assert [b["user_id"] for b in listed] == [other.user_id]  # idempotent
    assert "phone" not in str(listed)
    resp = await rig.http.delete(f"/api/blocks/{other.user_id}", headers=h)
    assert (await resp.json())["blocked"] == []
    resp = await rig.http.delete(f"/api/blocks/{other.user_id}", headers=h)
    assert resp.status == 200


async def test_block_refusals(rig: Rig) -> None:
    me = await rig.person()
    h = bearer(me.token)
    resp = await rig.http.post("/api/blocks", json={"user_id": me.user_id}, headers=h)
    assert (resp.status, (await resp.json())["error"]["code"]) == (400, "cannot_block_self")
    resp = await rig.http.post("/api/blocks", json={"user_id": "u_nobody"}, headers=h)
    assert (resp.status, (await resp.json())["error"]["code"]) == (404, "user_not_found")
    resp = await rig.http.post("/api/blocks", json={"user_id": "../x"}, headers=h)
    assert resp.status == 400
    assert (await rig.http.get("/api/blocks")).status == 401


async def test_blocked_either_way_cannot_call(rig: Rig) -> None:
    cust = await rig.person(fund_fen=1000)
    comp, comp_sock = await rig.online_companion()
    sock = await rig.connect(cust)
    for blocker, blocked in ((comp, cust), (cust, comp)):
        resp = await rig.http.post(
            "/api/blocks", json={"user_id": blocked.user_id}, headers=bearer(blocker.token)
        )
        assert resp.status == 200
        ack = await sock.call(
            "call:request",
            {"companion_id": comp.user_id, "mode": "text", "request_id": request_id()},
        )
        assert ack["error"]["code"] == "blocked"
        assert not comp_sock.seen("call:incoming")
        await rig.http.delete(f"/api/blocks/{blocked.user_id}", headers=bearer(blocker.token))
    ack = await sock.ok(
        "call:request", {"companion_id": comp.user_id, "mode": "text", "request_id": request_id()}
    )
    assert ack["call"]["status"] == "ringing"
