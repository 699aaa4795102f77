"""Review finding on the earnings summary: its figures come from one read, yet on PostgreSQL each
of its queries sees the database as of that query (READ COMMITTED), so a write landing between
them gives a summary that contradicts itself."""

from __future__ import annotations

from typing import Any

import pytest

from metering import earnings
from metering.keys import METERING
from tests.harness import bearer
from tests.harness.rig import Rig, make_rig, rig
from tests.market.appeals.helpers import ended_session

__all__ = ["make_rig", "rig"]

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(120)]


async def test_pending_earnings_and_their_release_dates_agree_under_a_concurrent_refund(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cust, comp, sid = await ended_session(rig)  # 400 fen charged, 280 pending for the companion
    real = earnings.releases
    refunded = False

    async def releases_after_a_refund(*args: Any, **kwargs: Any) -> Any:
        nonlocal refunded
        if not refunded:  # an admin refunds the session between the summary's two reads
            refunded = True
            await rig.app[METERING].refund_session(sid, 400, key="admin-review", reason="x")
        return await real(*args, **kwargs)

    monkeypatch.setattr(earnings, "releases", releases_after_a_refund)
    resp = await rig.http.get("/api/me/earnings/summary", headers=bearer(comp.token))
    assert resp.status == 200, await resp.text()
    summary = await resp.json()
    assert refunded
    released = sum(r["amount_fen"] for r in summary["releases"])
    assert summary["pending_fen"] == released, summary
