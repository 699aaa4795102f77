"""Ended, charged sessions made the way customers make them: a real call over Socket.IO, billed
by the metering runner as the fake clock moves, then hung up."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from metering.check import check_ledger
from store.models import MeteredSession
from tests.harness import bearer
from tests.harness.rig import Person, Rig, Sock, request_id


async def ended_session(
    rig: Rig,
    cust: Person | None = None,
    *,
    seconds: int = 181,
    chat: tuple[str, ...] = (),
) -> tuple[Person, Person, str]:
    """A text session of ``seconds`` (181 s: 4 minutes at 100 fen = 400 fen charged), ended by
    the customer: (customer, companion, session id)."""
    cust = cust or await rig.person(fund_fen=10_000)
    comp, comp_sock = await rig.online_companion()
    cust_sock = await rig.connect(cust, "customer")
    ack = await cust_sock.ok(
        "call:request", {"companion_id": comp.user_id, "mode": "text", "request_id": request_id()}
    )
    call_id: str = ack["call"]["call_id"]
    await comp_sock.ok("call:accept", {"call_id": call_id})
    for i, text in enumerate(chat):
        sock: Sock = cust_sock if i % 2 == 0 else comp_sock
        await sock.ok("chat:send", {"call_id": call_id, "client_id": f"m{i:07d}", "text": text})
    rig.clock.advance(seconds)
    await cust_sock.ok("call:hangup", {"call_id": call_id})
    await cust_sock.sio.disconnect()
    await comp_sock.sio.disconnect()
    return cust, comp, call_id


async def ended_at_plus(rig: Rig, session_id: str, delta_s: float) -> None:
    """Move the clock to ``delta_s`` seconds after the session ended."""
    async with rig.db.reading() as s:
        row = await s.get(MeteredSession, session_id)
    assert row is not None and row.ended_at is not None
    target = row.ended_at + timedelta(seconds=delta_s)
    rig.clock.advance((target - rig.clock.now()).total_seconds())


async def appeal(
    rig: Rig, who: Person, session_id: str, *, reason: str = "rude", key: str | None = None
) -> Any:
    return await rig.http.post(
        f"/api/sessions/{session_id}/appeal",
        json={
            "reason": reason,
            "text": "陪聊师一直在敷衍，还说了难听的话。",
            "request_id": key or "apl-" + secrets.token_hex(8),
        },
        headers=bearer(who.token),
    )


async def json_of(resp: Any, status: int) -> Any:
    body = await resp.json()
    assert resp.status == status, body
    return body


async def error_code(resp: Any, status: int) -> str:
    body = await json_of(resp, status)
    code: str = body["error"]["code"]
    return code


async def ledger_ok(rig: Rig) -> None:
    report = await check_ledger(rig.db)
    assert report.ok, report.to_json()
