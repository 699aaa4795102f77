"""Review findings on the moderation cases (decision and undo)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from moderation.keys import CASES, REPORTS
from store.models import Case
from store.models.sanctions import Sanction
from tests.harness import bearer
from tests.harness.rig import Person, Rig, make_rig, rig

__all__ = ["make_rig", "rig"]

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(120)]


async def post(rig: Rig, path: str, who: Person, body: Any = None) -> tuple[int, Any]:
    resp = await rig.http.post(path, json=body, headers=bearer(who.token))
    return resp.status, await resp.json()


async def get(rig: Rig, path: str, who: Person) -> tuple[int, Any]:
    resp = await rig.http.get(path, headers=bearer(who.token))
    return resp.status, await resp.json()


async def a_case(rig: Rig) -> tuple[Person, Person, dict[str, Any]]:
    """An open case about a companion: (companion, admin, the case as the queue shows it)."""
    cust = await rig.person()
    comp = await rig.person("companion")
    await rig.app[REPORTS].report(cust.user_id, comp.user_id, "harassment", "一直骚扰我")
    admin = await rig.person("admin")
    _, queue = await get(rig, "/api/admin/cases", admin)
    (case,) = queue["cases"]
    return comp, admin, case


@pytest.mark.parametrize("version", [2**63, 10**20])
async def test_a_decision_with_a_version_beyond_64_bits_is_a_400_not_a_500(
    rig: Rig, version: int
) -> None:
    """``CaseDecisionIn.version`` has no upper bound; the guarded UPDATE then hands the driver
    an integer no database column holds (SQLite: OverflowError; PostgreSQL: out of int64)."""
    _comp, admin, case = await a_case(rig)
    status, body = await post(
        rig,
        f"/api/admin/cases/{case['id']}/decision",
        admin,
        {"decision": "dismissed", "note": "证据不足", "version": version},
    )
    assert status == 400 and body["error"]["code"] == "invalid_input", (status, body)


async def test_an_undo_while_the_confirmation_imposes_its_sanction_leaves_no_sanction(
    rig: Rig,
) -> None:
    """The decision is three transactions (claim the case; impose the sanction; write its id on
    the case).  An undo landing between the first and the third finds no sanction id to lift
    and reopens the case; the decision then imposes the sanction and writes its id onto the
    reopened case: an open case, undone with 200, whose sanction is in force."""
    comp, admin, case = await a_case(rig)
    book = rig.app[CASES]
    real = book._sanctions
    imposing, go_on = asyncio.Event(), asyncio.Event()

    class Slow:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        async def impose(self, *args: Any, **kwargs: Any) -> Any:
            imposing.set()
            await go_on.wait()
            return await real.impose(*args, **kwargs)

    book._sanctions = Slow()
    path = f"/api/admin/cases/{case['id']}"
    deciding = asyncio.create_task(
        post(
            rig,
            f"{path}/decision",
            admin,
            {
                "decision": "confirmed",
                "note": "骚扰，停用一天",
                "version": case["version"],
                "sanction": {"kind": "suspend", "hours": 24},
            },
        )
    )
    await asyncio.wait_for(imposing.wait(), 10)
    status, undone = await post(rig, f"{path}/undo", admin)
    assert status == 200, undone
    assert undone["status"] == "open"
    go_on.set()
    await deciding
    async with rig.db.reading() as s:
        row = await s.get(Case, case["id"])
        assert row is not None
        in_force = (
            await s.scalars(
                select(Sanction).where(
                    Sanction.user_id == comp.user_id, Sanction.lifted_at.is_(None)
                )
            )
        ).all()
    # The undo said the decision was taken back: the case is open and nothing it imposed stands.
    assert (row.status, row.sanction_id, [x.id for x in in_force]) == ("open", None, []), (
        row.status,
        row.sanction_id,
        [(x.id, x.kind) for x in in_force],
    )


async def test_an_undo_while_a_new_report_of_the_same_case_is_being_filed_folds_it_in(
    rig: Rig,
) -> None:
    """After a decision the next report of the same (conversation, target, category) opens a
    new case.  An undo at that moment looks for that case (``open_key``), does not see it while
    the report's transaction is still open, and then claims the same ``open_key`` for the
    reopened case: on PostgreSQL it waits on the unique index and fails when the report commits
    (IntegrityError: a 500), where it should fold the new case in or be refused clearly."""
    import secrets

    from moderation.casebook import attach
    from store.models import Report

    comp, admin, case = await a_case(rig)
    path = f"/api/admin/cases/{case['id']}"
    status, decided = await post(
        rig,
        f"{path}/decision",
        admin,
        {"decision": "dismissed", "note": "证据不足", "version": case["version"]},
    )
    assert status == 200, decided
    reporter = await rig.person()
    async with rig.db.writing() as s:
        row = Report(
            id="rpt_" + secrets.token_hex(12),
            reporter_id=reporter.user_id,
            target_id=comp.user_id,
            call_key="",
            message_seq=0,
            reason="harassment",
            details="也骚扰我",
            evidence={},
            status="open",
            created_at=rig.clock.now(),
        )
        await attach(s, row)  # opens the new case of the same key, not committed yet
        s.add(row)
        await s.flush()
        undoing = asyncio.create_task(post(rig, f"{path}/undo", admin))
        await asyncio.sleep(1.0)  # the undo runs up to the new case's key and waits there
    status, undone = await asyncio.wait_for(undoing, 30)
    assert status in (200, 409), (status, undone)
    async with rig.db.reading() as s:
        open_cases = (
            await s.scalars(
                select(Case).where(Case.target_id == comp.user_id, Case.status == "open")
            )
        ).all()
    assert len(open_cases) == 1, [(c.id, c.items) for c in open_cases]
