"""Appeals over HTTP: who may appeal what and until when, one per session, the open-appeal cap,
the companion's one response, who sees what."""

from __future__ import annotations

import pytest

from tests.harness import bearer
from tests.harness.rig import Rig
from tests.market.appeals.helpers import (
    appeal,
    ended_at_plus,
    ended_session,
    error_code,
    json_of,
)

pytestmark = pytest.mark.timeout(90)


async def test_the_customer_appeals_once_and_a_resend_returns_the_appeal(rig: Rig) -> None:
    cust, comp, sid = await ended_session(rig)
    resp = await appeal(rig, cust, sid, reason="not_as_described", key="apl-first-1")
    first = await json_of(resp, 201)
    assert (first["status"], first["reason"], first["outcome"]) == (
        "open",
        "not_as_described",
        None,
    )
    assert first["session"] == {
        "id": sid,
        "mode": "text",
        "rate_fen_per_min": 100,
        "billed_minutes": 4,
        "charged_fen": 400,
        "refunded_fen": 0,
        "ended_at": first["session"]["ended_at"],
    }
    assert (first["customer"]["id"], first["companion"]["id"]) == (cust.user_id, comp.user_id)
    assert first["text"] == "陪聊师一直在敷衍，还说了难听的话。"

    again = await json_of(await appeal(rig, cust, sid, key="apl-first-1"), 201)
    assert again["id"] == first["id"]
    assert await error_code(await appeal(rig, cust, sid), 409) == "already_appealed"


async def test_only_the_sessions_customer_may_appeal_it(rig: Rig) -> None:
    cust, comp, sid = await ended_session(rig)
    stranger = await rig.person()
    admin = await rig.person("admin")
    for who in (comp, stranger, admin):
        assert await error_code(await appeal(rig, who, sid), 404) == "session_not_found"
    assert await error_code(await appeal(rig, cust, "call_" + "0" * 32), 404) == (
        "session_not_found"
    )
    assert (await rig.http.post(f"/api/sessions/{sid}/appeal", json={})).status == 401


async def test_a_running_session_cannot_be_appealed(rig: Rig) -> None:
    cust, _cs, _comp, _ps, call_id = await rig.active_call("text")
    rig.clock.advance(30)
    assert await error_code(await appeal(rig, cust, call_id), 409) == "session_not_ended"


async def test_a_session_refunded_in_full_has_nothing_to_appeal(rig: Rig) -> None:
    cust, _comp, sid = await ended_session(rig)
    admin = await rig.person("admin")
    resp = await rig.http.post(
        f"/api/admin/sessions/{sid}/refunds",
        json={"amount_fen": 400, "key": "all", "reason": "goodwill"},
        headers=bearer(admin.token),
    )
    assert resp.status == 200, await resp.text()
    assert await error_code(await appeal(rig, cust, sid), 409) == "nothing_to_appeal"


async def test_the_window_is_seven_days_after_the_end(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)
    _, _, on_time = await ended_session(rig, cust)
    _, _, late = await ended_session(rig, cust)
    _, _, day8 = await ended_session(rig, cust)
    await ended_at_plus(rig, on_time, 7 * 24 * 3600)  # day 7, to the second: still open
    await json_of(await appeal(rig, cust, on_time), 201)
    await ended_at_plus(rig, late, 7 * 24 * 3600 + 1)
    assert await error_code(await appeal(rig, cust, late), 409) == "appeal_window_closed"
    await ended_at_plus(rig, day8, 8 * 24 * 3600)
    assert await error_code(await appeal(rig, cust, day8), 409) == "appeal_window_closed"


async def test_at_most_three_open_appeals_per_customer(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)
    sessions = [(await ended_session(rig, cust, seconds=61))[2] for _ in range(4)]
    ids = [(await json_of(await appeal(rig, cust, sid), 201))["id"] for sid in sessions[:3]]
    resp = await appeal(rig, cust, sessions[3])
    assert await error_code(resp, 409) == "too_many_open_appeals"
    admin = await rig.person("admin")
    resp = await rig.http.post(
        f"/api/admin/appeals/{ids[0]}/decision",
        json={"outcome": "reject", "reason": "服务正常"},
        headers=bearer(admin.token),
    )
    assert resp.status == 200, await resp.text()
    await json_of(await appeal(rig, cust, sessions[3]), 201)  # a decided one frees a place


async def test_the_text_is_validated_and_trimmed(rig: Rig) -> None:
    cust, _comp, sid = await ended_session(rig)
    path = f"/api/sessions/{sid}/appeal"
    h = bearer(cust.token)
    base = {"reason": "rude", "text": "x" * 10, "request_id": "apl-valid-1"}
    for bad in (
        {**base, "text": "太短了"},
        {**base, "text": "x" * 1001},
        {**base, "reason": "boring"},
        {**base, "request_id": "短"},
        {**base, "extra": 1},
    ):
        resp = await rig.http.post(path, json=bad, headers=h)
        assert await error_code(resp, 400) == "invalid_input", bad
    # a NUL is refused by the request model itself (no text anywhere may carry one)
    nul = {**base, "text": "他让我加微信 wx_abc123，\x00还要我转账"}
    assert await error_code(await rig.http.post(path, json=nul, headers=h), 400) == (
        "invalid_input"
    )
    padded = {**base, "text": "  \x07 好  " + " " * 20}
    assert await error_code(await rig.http.post(path, json=padded, headers=h), 400) == (
        "invalid_text"
    )
    quoted = {**base, "text": "\t他让我加微信 wx_abc123，\x07还要我转账\r\n "}
    made = await json_of(await rig.http.post(path, json=quoted, headers=h), 201)
    # contact details are kept (the customer quotes them); control characters are not
    assert made["text"] == "他让我加微信 wx_abc123，还要我转账"


async def test_the_companion_responds_once_while_open(rig: Rig) -> None:
    cust, comp, sid = await ended_session(rig)
    made = await json_of(await appeal(rig, cust, sid), 201)
    path = f"/api/appeals/{made['id']}/response"
    text = {"text": "我一直在认真回复，聊天记录可以证明。"}
    stranger = await rig.person()
    admin = await rig.person("admin")
    resp = await rig.http.post(path, json=text, headers=bearer(stranger.token))
    assert await error_code(resp, 404) == "appeal_not_found"
    resp = await rig.http.post(path, json=text, headers=bearer(cust.token))
    assert await error_code(resp, 403) == "not_the_companion"
    resp = await rig.http.post(path, json=text, headers=bearer(admin.token))
    assert await error_code(resp, 404) == "appeal_not_found"

    answered = await json_of(await rig.http.post(path, json=text, headers=bearer(comp.token)), 200)
    assert answered["response_text"] == text["text"] and answered["responded_at"] is not None
    same = await rig.http.post(path, json=text, headers=bearer(comp.token))
    assert (await json_of(same, 200))["responded_at"] == answered["responded_at"]
    other = await rig.http.post(path, json={"text": "补充一句"}, headers=bearer(comp.token))
    assert await error_code(other, 409) == "already_responded"
    resp = await rig.http.post(path, json={"text": " \n "}, headers=bearer(comp.token))
    assert await error_code(resp, 400) == "invalid_text"


async def test_no_response_once_decided(rig: Rig) -> None:
    cust, comp, sid = await ended_session(rig)
    made = await json_of(await appeal(rig, cust, sid), 201)
    admin = await rig.person("admin")
    resp = await rig.http.post(
        f"/api/admin/appeals/{made['id']}/decision",
        json={"outcome": "reject", "reason": "证据不足"},
        headers=bearer(admin.token),
    )
    assert resp.status == 200, await resp.text()
    resp = await rig.http.post(
        f"/api/appeals/{made['id']}/response",
        json={"text": "晚了"},
        headers=bearer(comp.token),
    )
    assert await error_code(resp, 409) == "appeal_decided"


async def test_both_parties_list_and_read_it_and_nobody_else(rig: Rig) -> None:
    cust, comp, sid = await ended_session(rig)
    _, _, second = await ended_session(rig, cust, seconds=61)
    older = await json_of(await appeal(rig, cust, sid), 201)
    rig.clock.advance(5)
    newer = await json_of(await appeal(rig, cust, second), 201)

    mine = await json_of(await rig.http.get("/api/appeals", headers=bearer(cust.token)), 200)
    assert [a["id"] for a in mine["appeals"]] == [newer["id"], older["id"]]  # newest first
    theirs = await json_of(await rig.http.get("/api/appeals", headers=bearer(comp.token)), 200)
    assert [a["id"] for a in theirs["appeals"]] == [older["id"]]  # as the companion
    assert "decided_by" not in theirs["appeals"][0] and "transcript" not in theirs["appeals"][0]

    stranger = await rig.person()
    admin = await rig.person("admin")
    path = f"/api/appeals/{older['id']}"
    for who in (cust, comp, admin):
        assert (await json_of(await rig.http.get(path, headers=bearer(who.token)), 200))[
            "id"
        ] == older["id"]
    resp = await rig.http.get(path, headers=bearer(stranger.token))
    assert await error_code(resp, 404) == "appeal_not_found"
    none = await json_of(await rig.http.get("/api/appeals", headers=bearer(stranger.token)), 200)
    assert none["appeals"] == []
    assert (await rig.http.get(path)).status == 401
