"""The moderation console's cases over HTTP, on both databases: reports and automatic flags of
one conversation and category are one case; the queue is most severe first, then the longest
waiting; a confirmation imposes its sanction through the sanction service and an undo within
the window takes both back; of two admins deciding at once (on two app instances sharing the
database, as two processes) exactly one wins; non-admins are refused every case endpoint."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from kernel.clock import FakeClock
from moderation.keys import REPORTS
from store.models.audit import AdminAction
from store.models.sanctions import Sanction
from tests.harness import bearer
from tests.harness.rig import Person, Rig, RigFactory

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(120)]


async def get(rig: Rig, path: str, who: Person) -> tuple[int, Any]:
    resp = await rig.http.get(path, headers=bearer(who.token))
    return resp.status, await resp.json()


async def post(rig: Rig, path: str, who: Person, body: Any = None) -> tuple[int, Any]:
    resp = await rig.http.post(path, json=body, headers=bearer(who.token))
    return resp.status, await resp.json()


async def chat(rig: Rig) -> tuple[Person, Person, str]:
    """A conversation of four lines, the companion's the 2nd and 4th: (customer, companion,
    call id)."""
    cust, cust_sock, comp, comp_sock, call_id = await rig.active_call("text")
    lines = [
        (cust_sock, "你好"),
        (comp_sock, "今天过得怎么样"),
        (cust_sock, "还行"),
        (comp_sock, "嗯嗯"),
    ]
    for i, (sock, text) in enumerate(lines):
        await sock.ok("chat:send", {"call_id": call_id, "client_id": f"m{i:07d}", "text": text})
    return cust, comp, call_id


async def test_flags_and_reports_of_one_conversation_and_category_are_one_case(rig: Rig) -> None:
    cust, comp, call_id = await chat(rig)
    reports = rig.app[REPORTS]
    # Three flags of the companion's contact details (phone, WeChat id, a blocked one) and the
    # customer's report about it: one case.  A blocked sexual message: another.
    await reports.flag(call_id, comp.user_id, 2, ("phone",))
    rig.clock.advance(5)
    await reports.flag(call_id, comp.user_id, 4, ("messenger_id", "contact_request"))
    rig.clock.advance(5)
    await reports.flag(
        call_id, comp.user_id, None, ("email_url",), blocked_text="发邮件到 a@b.cn 联系我"
    )
    rig.clock.advance(5)  # items are listed oldest first: at the same instant, in no set order
    status, mine = await post(
        rig,
        "/api/reports",
        cust,
        {
            "user_id": comp.user_id,
            "reason": "contact_request",
            "call_id": call_id,
            "message_seq": 4,
        },
    )
    assert status == 201, mine
    await reports.flag(call_id, comp.user_id, None, ("sexual",), blocked_text="开视频脱一下")
    # A report about the customer alone (no conversation) is a case of its own.
    status, _ = await post(rig, "/api/reports", comp, {"user_id": cust.user_id, "reason": "other"})
    assert status == 201

    admin = await rig.person("admin")
    status, queue = await get(rig, "/api/admin/cases", admin)
    assert status == 200, queue
    cases = queue["cases"]
    assert [(c["category"], c["severity"], c["items"], c["reports"]) for c in cases] == [
        ("sexual", "critical", 1, 0),
        ("contact_request", "normal", 4, 1),
        ("other", "normal", 1, 1),
    ]
    assert queue["counts"] == {"critical": 1, "high": 0, "normal": 2, "low": 0}
    contact = cases[1]
    assert contact["call_id"] == call_id and contact["target"]["id"] == comp.user_id
    assert contact["target"]["nickname"]  # names, not just ids
    assert cases[2]["call_id"] is None and cases[2]["target"]["id"] == cust.user_id

    status, detail = await get(rig, f"/api/admin/cases/{contact['id']}", admin)
    assert status == 200, detail
    items = detail["items"]
    assert [(i["automatic"], i["message_seq"]) for i in items] == [
        (True, 2),
        (True, 4),
        (True, None),
        (False, 4),
    ]
    assert items[1]["categories"] == ["messenger_id", "contact_request"]
    assert items[2]["blocked_text"] == "发邮件到 a@b.cn 联系我"
    assert {p["id"] for p in detail["parties"]} == {cust.user_id, comp.user_id}
    lines = [(m["seq"], m["text"], m["flagged"], m["blocked"]) for m in detail["chat"]]
    assert lines == [
        (1, "你好", False, False),
        (2, "今天过得怎么样", True, False),
        (3, "还行", False, False),
        (4, "嗯嗯", True, False),
        (None, "发邮件到 a@b.cn 联系我", True, True),
    ]
    # The target's other cases (the sexual one) are their history; no sanctions yet.
    assert [c["id"] for c in detail["history"]] == [cases[0]["id"]]
    assert detail["sanctions"] == []
    async with rig.db.reading() as s:
        viewed = (
            await s.scalars(select(AdminAction).where(AdminAction.action == "case.view"))
        ).all()
    assert [(v.subject_id, v.admin_id) for v in viewed] == [(contact["id"], admin.user_id)]


async def test_the_queue_is_most_severe_first_then_oldest_with_counts_and_the_wait(
    rig: Rig,
) -> None:
    _cust, comp, call_id = await chat(rig)
    reports = rig.app[REPORTS]
    await reports.flag(call_id, comp.user_id, 2, ("offline_meeting",))  # normal, the oldest
    rig.clock.advance(60)
    await reports.flag(call_id, comp.user_id, 4, ("upsell",), priority="low")
    rig.clock.advance(60)
    await reports.flag(call_id, comp.user_id, None, ("off_platform_payment",), priority="high")
    rig.clock.advance(60)
    await reports.flag(call_id, comp.user_id, 2, ("id_card",))  # normal, newer
    rig.clock.advance(60)
    await reports.flag(call_id, comp.user_id, None, ("minor",), priority="high")
    rig.clock.advance(30)
    admin = await rig.person("admin")
    _, queue = await get(rig, "/api/admin/cases", admin)
    assert [(c["category"], c["severity"]) for c in queue["cases"]] == [
        ("minor", "critical"),
        ("off_platform_payment", "high"),
        ("offline_meeting", "normal"),
        ("id_card", "normal"),
        ("upsell", "low"),
    ]
    assert queue["counts"] == {"critical": 1, "high": 1, "normal": 2, "low": 1}
    assert queue["oldest_wait_s"] == 270  # the offline-meeting flag's
    # A later flag that is more urgent raises its case's severity.
    await reports.flag(call_id, comp.user_id, 4, ("upsell",), priority="high")
    _, queue = await get(rig, "/api/admin/cases", admin)
    assert [c["category"] for c in queue["cases"]][:3] == [
        "minor",
        "upsell",
        "off_platform_payment",
    ]


async def test_a_confirmation_sanctions_through_the_ladder_and_undo_takes_both_back(
    rig: Rig,
) -> None:
    cust, comp, call_id = await chat(rig)
    status, report = await post(
        rig,
        "/api/reports",
        cust,
        {"user_id": comp.user_id, "reason": "harassment", "call_id": call_id, "message_seq": 2},
    )
    assert status == 201
    admin = await rig.person("admin")
    _, queue = await get(rig, "/api/admin/cases", admin)
    (case,) = queue["cases"]
    path = f"/api/admin/cases/{case['id']}"

    # Bad input is refused with a code, and changes nothing.
    bad = {
        "decision": "dismissed",
        "note": "x",
        "version": case["version"],
        "sanction": {"kind": "mute"},
    }
    status, body = await post(rig, f"{path}/decision", admin, bad)
    assert (status, body["error"]["code"]) == (400, "invalid_input")
    status, body = await post(rig, f"{path}/decision", admin, {"decision": "confirmed"})
    assert status == 400
    status, body = await post(
        rig,
        "/api/admin/cases/case_nope/decision",
        admin,
        {"decision": "dismissed", "note": "x", "version": 0},
    )
    assert (status, body["error"]["code"]) == (404, "case_not_found")
    status, body = await post(rig, f"{path}/undo", admin)
    assert (status, body["error"]["code"]) == (409, "case_not_decided")
    status, body = await post(
        rig,
        f"{path}/decision",
        admin,
        {"decision": "dismissed", "note": "x", "version": case["version"] + 1},
    )
    assert (status, body["error"]["code"]) == (409, "case_changed")

    confirm = {
        "decision": "confirmed",
        "note": "骚扰用户，禁言一天",
        "version": case["version"],
        "sanction": {"kind": "mute", "hours": 24},
    }
    status, decided = await post(rig, f"{path}/decision", admin, confirm)
    assert status == 200, decided
    assert decided["status"] == "confirmed" and decided["decision_note"] == "骚扰用户，禁言一天"
    assert decided["sanction_id"] and decided["undo_until"]
    _, theirs = await get(rig, "/api/me/sanctions", comp)
    (mute,) = theirs["sanctions"]
    assert (mute["id"], mute["kind"], mute["in_force"]) == (decided["sanction_id"], "mute", True)
    assert mute["reason"] == "骚扰用户，禁言一天"
    _, reported = await get(rig, "/api/reports", cust)
    assert [(r["id"], r["status"]) for r in reported["reports"]] == [(report["id"], "resolved")]
    _, open_queue = await get(rig, "/api/admin/cases", admin)
    assert open_queue["cases"] == [] and open_queue["oldest_wait_s"] is None
    _, recent = await get(rig, "/api/admin/cases?status=decided", admin)
    assert [c["id"] for c in recent["cases"]] == [case["id"]]
    status, body = await post(rig, f"{path}/decision", admin, confirm)
    assert (status, body["error"]["code"]) == (409, "case_decided")  # never two sanctions

    # A flag after the decision opens a new case; the undo folds it back into this one.
    rig.clock.advance(60)
    await rig.app[REPORTS].flag(call_id, comp.user_id, 4, ("harassment",))
    status, undone = await post(rig, f"{path}/undo", admin)
    assert status == 200, undone
    assert (undone["status"], undone["sanction_id"], undone["items"]) == ("open", None, 2)
    _, theirs = await get(rig, "/api/me/sanctions", comp)
    assert theirs["sanctions"][0]["in_force"] is False and theirs["sanctions"][0]["lifted_at"]
    _, reported = await get(rig, "/api/reports", cust)
    assert reported["reports"][0]["status"] == "open"
    _, queue = await get(rig, "/api/admin/cases", admin)
    assert [c["id"] for c in queue["cases"]] == [case["id"]]

    # The detail shows the history: the target's sanction (lifted) stays on record.
    _, detail = await get(rig, path, admin)
    assert [s["id"] for s in detail["sanctions"]] == [decided["sanction_id"]]
    # Dismissed now; after ten minutes it can no longer be undone.
    status, dismissed = await post(
        rig,
        f"{path}/decision",
        admin,
        {"decision": "dismissed", "note": "证据不足", "version": undone["version"]},
    )
    assert (status, dismissed["status"], dismissed["sanction_id"]) == (200, "dismissed", None)
    rig.clock.advance(601)
    status, body = await post(rig, f"{path}/undo", admin)
    assert (status, body["error"]["code"]) == (409, "case_undo_expired")
    async with rig.db.reading() as s:
        actions = (
            await s.scalars(
                select(AdminAction.action)
                .where(
                    AdminAction.action.in_(
                        ["case.decide", "case.undo", "sanction.impose", "sanction.lift"]
                    )
                )
                .order_by(AdminAction.id)
            )
        ).all()
    assert list(actions) == [
        "case.decide",
        "sanction.impose",
        "case.undo",
        "sanction.lift",
        "case.decide",
    ]


async def test_a_sanction_the_ladder_refuses_leaves_the_case_open(rig: Rig) -> None:
    admin = await rig.person("admin")
    other_admin = await rig.person("admin")
    await rig.app[REPORTS].report(admin.user_id, other_admin.user_id, "other", "")
    _, queue = await get(rig, "/api/admin/cases", admin)
    (case,) = queue["cases"]
    status, body = await post(
        rig,
        f"/api/admin/cases/{case['id']}/decision",
        admin,
        {"decision": "confirmed", "note": "x", "version": 0, "sanction": {"kind": "ban"}},
    )
    assert (status, body["error"]["code"]) == (409, "cannot_sanction")
    _, queue = await get(rig, "/api/admin/cases", admin)
    assert [(c["id"], c["status"]) for c in queue["cases"]] == [(case["id"], "open")]


async def test_two_admins_deciding_at_once_on_two_instances_one_wins(
    make_rig: RigFactory, clock: FakeClock
) -> None:
    async with make_rig(clock) as one, make_rig(clock) as two:
        _cust, comp, call_id = await chat(one)
        await one.app[REPORTS].flag(call_id, comp.user_id, 2, ("offline_meeting",))
        first, second = await one.person("admin"), await one.person("admin")
        _, queue = await get(one, "/api/admin/cases", first)
        (case,) = queue["cases"]
        path = f"/api/admin/cases/{case['id']}/decision"

        def body(kind: str) -> dict[str, Any]:
            return {
                "decision": "confirmed",
                "note": f"约线下见面（{kind}）",
                "version": case["version"],
                "sanction": {"kind": kind},
            }

        results = await asyncio.gather(
            post(one, path, first, body("warn")), post(two, path, second, body("suspend"))
        )
        statuses = sorted(status for status, _ in results)
        assert statuses == [200, 409], results
        loser = next(b for status, b in results if status == 409)
        assert loser["error"]["code"] == "case_decided"
        async with one.db.reading() as s:
            imposed = (
                await s.scalars(select(Sanction).where(Sanction.user_id == comp.user_id))
            ).all()
        assert len(imposed) == 1 and imposed[0].case_id == case["id"]


async def test_every_case_endpoint_refuses_customers_and_companions(rig: Rig) -> None:
    _cust, comp, call_id = await chat(rig)
    await rig.app[REPORTS].flag(call_id, comp.user_id, 2, ("phone",))
    admin = await rig.person("admin")
    _, queue = await get(rig, "/api/admin/cases", admin)
    case_id = queue["cases"][0]["id"]
    decision = {"decision": "dismissed", "note": "x", "version": 0}
    for who in (await rig.person(), comp):
        for method, path, body in (
            ("GET", "/api/admin/cases", None),
            ("GET", "/api/admin/cases?status=decided", None),
            ("GET", f"/api/admin/cases/{case_id}", None),
            ("POST", f"/api/admin/cases/{case_id}/decision", decision),
            ("POST", f"/api/admin/cases/{case_id}/undo", None),
        ):
            resp = await rig.http.request(method, path, json=body, headers=bearer(who.token))
            assert resp.status == 403, (method, path, resp.status)
            text = await resp.text()
            assert comp.user_id not in text and "今天过得怎么样" not in text
    _, queue = await get(rig, "/api/admin/cases", admin)
    assert queue["cases"][0]["status"] == "open"  # nothing was decided
