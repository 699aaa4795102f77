"""People under sanctions, for tests that need one: a warned user and a suspended one."""

from __future__ import annotations

from tests.harness import bearer
from tests.harness.rig import Person, Rig


async def sanctioned(rig: Rig, admin: Person) -> tuple[Person, list[str], str]:
    """A user with two warnings (their ids), and the appeal token a suspended user's refused
    login gave."""
    warned = await rig.person()
    warnings = []
    for _ in range(2):
        resp = await rig.http.post(
            f"/api/admin/users/{warned.user_id}/sanctions",
            json={"kind": "warn", "reason": "提醒"},
            headers=bearer(admin.token),
        )
        assert resp.status == 201, await resp.text()
        warnings.append((await resp.json())["id"])
    suspended = await rig.person()
    resp = await rig.http.post(
        f"/api/admin/users/{suspended.user_id}/sanctions",
        json={"kind": "suspend", "reason": "引导线下交易"},
        headers=bearer(admin.token),
    )
    assert resp.status == 201, await resp.text()
    rig.clock.advance(61)  # past the SMS resend interval
    resp = await rig.http.post("/api/auth/sms-code", json={"phone": suspended.phone})
    assert resp.status == 200, await resp.text()
    code = rig.outbox.messages(suspended.phone, 1)[0].code
    resp = await rig.http.post(
        "/api/auth/login", json={"phone": suspended.phone, "code": code, "client": "cli"}
    )
    assert resp.status == 403, await resp.text()
    return warned, warnings, (await resp.json())["error"]["details"]["appeal_token"]
