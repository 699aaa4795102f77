"""The audit log: admin decisions are logged once each, admins read them (newest first, paged,
filtered), nobody else can."""

from __future__ import annotations

import pytest

from audit.log import AuditLog
from tests.harness import bearer
from tests.harness.rig import Rig

pytestmark = pytest.mark.both_databases  # the database's behaviour matters here


async def test_a_report_decision_is_logged_once_and_only_admins_read_the_log(rig: Rig) -> None:
    cust, _cs, comp, _ps, call_id = await rig.active_call("text")
    h = bearer(cust.token)
    body = {"user_id": comp.user_id, "reason": "harassment", "call_id": call_id}
    report = await (await rig.http.post("/api/reports", json=body, headers=h)).json()
    admin = await rig.person("admin")
    ah = bearer(admin.token)
    path = f"/api/admin/reports/{report['id']}/decision"
    resp = await rig.http.post(path, json={"status": "resolved", "note": "警告"}, headers=ah)
    assert resp.status == 200, await resp.text()

    log = await (await rig.http.get("/api/admin/audit", headers=ah)).json()
    (entry,) = [e for e in log["entries"] if e["subject_id"] == report["id"]]
    assert (entry["admin_id"], entry["action"], entry["subject_type"]) == (
        admin.user_id,
        "report.decide",
        "report",
    )
    assert entry["detail"] == {"status": "resolved", "note": "警告"}
    assert (await rig.http.get("/api/admin/audit", headers=h)).status == 403
    assert (await rig.http.get("/api/admin/audit")).status == 401


async def test_the_log_pages_newest_first_filters_and_keys_make_a_retry_log_once(rig: Rig) -> None:
    audit = AuditLog(rig.db, rig.clock)
    for i in range(5):
        await audit.record(
            key=f"k{i}",
            admin_id="adm1" if i % 2 else "adm2",
            action="thing.do",
            subject_type="thing",
            subject_id=f"t{i % 2}",
            detail={"i": i},
        )
    await audit.record(
        key="k4", admin_id="adm2", action="thing.do", subject_type="thing", subject_id="t0"
    )  # a retry of the last action: not logged again
    admin = await rig.person("admin")
    ah = bearer(admin.token)
    page = await (await rig.http.get("/api/admin/audit?limit=3", headers=ah)).json()
    assert [e["detail"]["i"] for e in page["entries"]] == [4, 3, 2]
    rest = await (
        await rig.http.get(f"/api/admin/audit?limit=3&cursor={page['next_cursor']}", headers=ah)
    ).json()
    assert [e["detail"]["i"] for e in rest["entries"]] == [1, 0]
    assert rest["next_cursor"] is None
    only = await (
        await rig.http.get("/api/admin/audit?subject_type=thing&subject_id=t1", headers=ah)
    ).json()
    assert [e["detail"]["i"] for e in only["entries"]] == [3, 1]
    resp = await rig.http.get("/api/admin/audit?limit=0", headers=ah)
    assert resp.status == 400
