"""Chat retention: messages of ended sessions older than the retention are purged; those of
open sessions, newer ones, and the evidence copied into reports are kept."""

from __future__ import annotations

from sqlalchemy import func, select

from store.models import Message
from tests.harness import bearer
from tests.harness.rig import Rig


async def test_old_messages_of_ended_sessions_are_purged(rig: Rig) -> None:
    cust, cust_sock, comp, comp_sock, old_call = await rig.active_call("text")
    await cust_sock.ok("chat:send", {"call_id": old_call, "client_id": "old-0001", "text": "早"})
    await comp_sock.ok("chat:send", {"call_id": old_call, "client_id": "old-0002", "text": "加我"})
    report = await rig.http.post(
        "/api/reports",
        json={"user_id": comp.user_id, "reason": "other", "call_id": old_call, "message_seq": 2},
        headers=bearer(cust.token),
    )
    assert report.status == 201
    await cust_sock.ok("call:hangup", {"call_id": old_call})
    rig.clock.advance(181 * 86_400)
    _cust2, sock2, _comp2, _s, open_call = await rig.active_call("text")
    await sock2.ok("chat:send", {"call_id": open_call, "client_id": "new-0001", "text": "hi"})

    purged = await rig.signaling.chat.purge(180)
    assert purged == 2
    async with rig.db.reading() as s:
        left = (await s.scalars(select(Message.call_id))).all()
        assert left == [open_call]
        assert await s.scalar(select(func.count()).select_from(Message)) == 1
    admin = await rig.person("admin")
    queue = await (await rig.http.get("/api/admin/reports", headers=bearer(admin.token))).json()
    assert [m["text"] for m in queue["reports"][0]["evidence"]["messages"]] == ["早", "加我"]
    assert await rig.signaling.chat.purge(180) == 0
