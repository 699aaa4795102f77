"""Sessions to review: real ones (a call over Socket.IO, billed as the fake clock moves, hung up)
and, for the rule matrix and long listings, metered-session rows written as metering leaves them
(ended or not, billed or not, ended some time ago)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from store.models import MeteredSession, User
from tests.harness import bearer
from tests.harness.rig import Person, Rig, Sock, request_id


async def paid_session(
    rig: Rig,
    cust: Person | None = None,
    comp: tuple[Person, Sock] | None = None,
    *,
    seconds: int = 61,
) -> tuple[Person, Person, str]:
    """A text session of ``seconds`` (61 s: 2 billed minutes), hung up by the customer:
    (customer, companion, session id).  ``comp``: an online companion and their socket."""
    cust = cust or await rig.person(fund_fen=10_000)
    companion, comp_sock = comp or await rig.online_companion()
    cust_sock = await rig.connect(cust, "customer")
    ack = await cust_sock.ok(
        "call:request",
        {"companion_id": companion.user_id, "mode": "text", "request_id": request_id()},
    )
    call_id: str = ack["call"]["call_id"]
    await comp_sock.ok("call:accept", {"call_id": call_id})
    rig.clock.advance(seconds)
    ack = await cust_sock.ok("call:hangup", {"call_id": call_id})
    assert ack["call"]["status"] == "ended"
    await cust_sock.sio.disconnect()
    return cust, companion, call_id


async def session_row(
    rig: Rig,
    cust: Person,
    comp: Person,
    *,
    status: str = "ended",
    billed_minutes: int = 3,
    ended_ago_s: float = 0,
) -> str:
    now = rig.clock.now()
    sid = "call_" + secrets.token_hex(16)
    async with rig.db.writing() as s:
        s.add(
            MeteredSession(
                id=sid,
                customer_id=cust.user_id,
                companion_id=comp.user_id,
                mode="text",
                rate_fen_per_min=100,
                commission_bp=3000,
                status=status,
                meter={},
                charged_fen=100 * billed_minutes,
                refunded_fen=0,
                billed_minutes=billed_minutes,
                owner="",
                heartbeat_at=now,
                created_at=now - timedelta(seconds=ended_ago_s + 600),
                ended_at=now - timedelta(seconds=ended_ago_s) if status == "ended" else None,
                end_reason="hangup" if status == "ended" else None,
            )
        )
    return sid


async def rename(rig: Rig, who: Person, nickname: str) -> None:
    async with rig.db.writing() as s:
        await s.execute(update(User).where(User.id == who.user_id).values(nickname=nickname))


async def review(
    rig: Rig, who: Person, session_id: str, stars: int = 5, **fields: Any
) -> tuple[int, Any]:
    resp = await rig.http.post(
        f"/api/sessions/{session_id}/review",
        json={"stars": stars, **fields},
        headers=bearer(who.token),
    )
    return resp.status, await resp.json()


async def get(rig: Rig, path: str, who: Person | None = None, **params: Any) -> tuple[int, Any]:
    resp = await rig.http.get(
        path,
        params={k: str(v) for k, v in params.items()},
        headers=bearer(who.token) if who else {},
    )
    return resp.status, await resp.json()


async def post(rig: Rig, path: str, who: Person, body: Any = None) -> tuple[int, Any]:
    resp = await rig.http.post(path, json=body or {}, headers=bearer(who.token))
    return resp.status, await resp.json()


def code(body: Any) -> str:
    return str(body["error"]["code"])
