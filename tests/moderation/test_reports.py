"""Reports over HTTP (evidence attached by the server, the admin queue, decisions) and what a
block does besides refusing calls: an open call between the two ends, and neither sees the
other in the catalog."""

from __future__ import annotations

from typing import Any

from kernel.clock import FakeClock
from moderation.verdict import Verdict
from tests.harness import bearer
from tests.harness.rig import Rig, RigFactory


async def test_a_reported_message_reaches_the_admin_queue_with_its_context(rig: Rig) -> None:
    cust, cust_sock, comp, comp_sock, call_id = await rig.active_call("text")
    for i, (sock, text) in enumerate(
        [(cust_sock, "你好"), (comp_sock, "加我微信聊吧"), (cust_sock, "不要")]
    ):
        await sock.ok("chat:send", {"call_id": call_id, "client_id": f"m{i:07d}", "text": text})
    body = {
        "user_id": comp.user_id,
        "reason": "contact_request",
        "details": "要我加微信",
        "call_id": call_id,
        "message_seq": 2,
    }
    h = bearer(cust.token)
    resp = await rig.http.post("/api/reports", json=body, headers=h)
    assert resp.status == 201, await resp.text()
    report = await resp.json()
    again = await (await rig.http.post("/api/reports", json=body, headers=h)).json()
    assert again["id"] == report["id"]  # once per reporter, target, session and message

    own = {**body, "message_seq": 1}  # the customer's own message is not the companion's
    resp = await rig.http.post("/api/reports", json=own, headers=h)
    assert (resp.status, (await resp.json())["error"]["code"]) == (400, "message_not_found")
    stranger = await rig.person()
    resp = await rig.http.post("/api/reports", json=body, headers=bearer(stranger.token))
    assert (await resp.json())["error"]["code"] == "not_participant"
    resp = await rig.http.post("/api/reports", json={**body, "reason": "boring"}, headers=h)
    assert resp.status == 400
    resp = await rig.http.post(
        "/api/reports", json={"user_id": cust.user_id, "reason": "other"}, headers=h
    )
    assert (await resp.json())["error"]["code"] == "cannot_report_self"

    assert (await rig.http.get("/api/admin/reports", headers=h)).status == 403
    admin = await rig.person("admin")
    ah = bearer(admin.token)
    queue = (await (await rig.http.get("/api/admin/reports", headers=ah)).json())["reports"]
    # The chat rules queued the companion's message on their own (contact request) too.
    (auto,) = [r for r in queue if r["reporter_id"] is None]
    assert (auto["reason"], auto["target_id"], auto["message_seq"]) == ("auto", comp.user_id, 2)
    queue = [r for r in queue if r["reporter_id"] is not None]
    assert [r["id"] for r in queue] == [report["id"]]
    evidence = queue[0]["evidence"]
    assert evidence["call"]["id"] == call_id and evidence["reported_seq"] == 2
    assert [m["text"] for m in evidence["messages"]] == ["你好", "加我微信聊吧", "不要"]
    mine = (await (await rig.http.get("/api/reports", headers=h)).json())["reports"]
    assert [r["id"] for r in mine] == [report["id"]] and "evidence" not in mine[0]

    path = f"/api/admin/reports/{report['id']}/decision"
    decided = await rig.http.post(
        path, json={"status": "resolved", "note": "警告该陪聊师"}, headers=ah
    )
    assert (await decided.json())["status"] == "resolved"
    twice = await rig.http.post(path, json={"status": "dismissed", "note": "x"}, headers=ah)
    assert (await twice.json())["error"]["code"] == "report_decided"
    left = (await (await rig.http.get("/api/admin/reports", headers=ah)).json())["reports"]
    assert [r["id"] for r in left] == [auto["id"]]


async def test_a_block_ends_the_open_call_and_hides_them_from_each_other(rig: Rig) -> None:
    cust, cust_sock, comp, _comp_sock, call_id = await rig.active_call("text")
    listed = await (await rig.http.get("/api/companions", headers=bearer(cust.token))).json()
    assert [c["id"] for c in listed["companions"]] == [comp.user_id]
    resp = await rig.http.post(
        "/api/blocks", json={"user_id": cust.user_id}, headers=bearer(comp.token)
    )
    assert resp.status == 200
    ended = await cust_sock.wait("call:update", lambda d: d["status"] == "ended", timeout=5)
    assert ended["end_reason"] == "moderation"
    refused = await cust_sock.call(
        "chat:send", {"call_id": call_id, "client_id": "after-block", "text": "hello?"}
    )
    assert not refused["ok"]
    listed = await (await rig.http.get("/api/companions", headers=bearer(cust.token))).json()
    assert listed["companions"] == []  # the blocker is gone from the blocked one's list
    one = await rig.http.get(f"/api/companions/{comp.user_id}", headers=bearer(cust.token))
    assert one.status == 404
    anonymous = await (await rig.http.get("/api/companions")).json()
    assert [c["id"] for c in anonymous["companions"]] == [comp.user_id]
    profile = await rig.http.get(f"/api/users/{comp.user_id}", headers=bearer(cust.token))
    assert profile.status == 404  # nor their profile
    watched = await cust_sock.ok("presence:watch", {"user_ids": [comp.user_id]})
    assert watched["statuses"] == {comp.user_id: "offline"}  # nor whether they are online
    over_http = await rig.http.get(f"/api/presence?ids={comp.user_id}", headers=bearer(cust.token))
    assert (await over_http.json())["statuses"] == {comp.user_id: "offline"}  # either way
    stranger = await rig.person()
    seen = await rig.http.get(f"/api/users/{comp.user_id}", headers=bearer(stranger.token))
    assert seen.status == 200


class FlagContact:
    """A stand-in rule: a companion's message with 微信 is delivered, queued for review, and
    the customer warned (the real rules are moderation/detect.py's)."""

    async def review(self, sender: Any, call_id: str, text: str) -> Verdict:
        if "微信" in text:
            return Verdict("review", text, ("messenger_id",), warn=sender.role.value == "companion")
        return Verdict("allow", text)


async def test_a_message_for_review_is_delivered_queued_and_the_customer_warned(
    make_rig: RigFactory, clock: FakeClock
) -> None:
    async with make_rig(clock, moderation=FlagContact()) as rig:
        _cust, cust_sock, comp, comp_sock, call_id = await rig.active_call("text")
        await cust_sock.ok("chat:send", {"call_id": call_id, "client_id": "c0000001", "text": "hi"})
        sent = await comp_sock.ok(
            "chat:send", {"call_id": call_id, "client_id": "p0000001", "text": "加我微信"}
        )
        assert sent["message"]["moderation"] == "review"
        await cust_sock.wait("chat:message", lambda d: d["text"] == "加我微信")  # delivered
        warning = await cust_sock.wait("chat:warning", timeout=5)
        assert warning == {"call_id": call_id, "seq": 2, "categories": ["messenger_id"]}
        assert not any(name == "chat:warning" for name, _ in comp_sock.events)
        admin = await rig.person("admin")
        queue = await (await rig.http.get("/api/admin/reports", headers=bearer(admin.token))).json()
        (flag,) = queue["reports"]
        assert flag["reporter_id"] is None and flag["reason"] == "auto"
        assert flag["target_id"] == comp.user_id and flag["details"] == "messenger_id"
        assert flag["evidence"]["reported_seq"] == 2
