"""``peiliao ledger check`` reports each kind of corruption (it is not a test that cannot fail)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from metering.check import check_ledger
from metering.tariff import Mode
from tests.metering.conftest import Money

pytestmark = pytest.mark.timeout(60)


async def a_finished_call(money: Money) -> tuple[str, str]:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 3000)
    await money.metering.open_session("k1", cust, comp, Mode.VOICE)
    await money.metering.media_up("k1")
    money.clock.advance(90)
    await money.metering.tick("k1")
    await money.metering.end("k1", "hangup")
    await money.check()
    return cust, comp


@pytest.mark.parametrize(
    ("corruption", "rule"),
    [
        (
            "UPDATE ledger_accounts SET balance_fen = balance_fen + 1 WHERE kind = 'wallet'",
            "balance_matches_entries",
        ),
        (
            "UPDATE entries SET amount_fen = amount_fen + 5 "
            "WHERE id = (SELECT MIN(id) FROM entries)",
            "transfer_balances",
        ),
        ("UPDATE ledger_accounts SET balance_fen = -1 WHERE kind = 'wallet'", "no_negative"),
        ("UPDATE holds SET status = 'pending' WHERE minute = 3", "holds_resolved"),
        ("UPDATE metered_sessions SET charged_fen = charged_fen + 300", "session_charge_matches"),
        (
            "INSERT INTO transfers (id, kind, session_id, minute, created_at, memo) VALUES "
            "('capture:k1:1:again', 'capture', 'k1', 1, '2026-01-01 00:00:00', '{}')",
            "minute_charged_once",
        ),
        (  # the meter of a session that has ended: the customer could never open another
            "INSERT INTO active_meters (customer_id, session_id, kind, opened_at) "
            "SELECT customer_id, id, 'call', created_at FROM metered_sessions WHERE id = 'k1'",
            "active_meter_matches",
        ),
        (  # an open session without its meter: nothing would stop a second one beside it
            "UPDATE metered_sessions SET status = 'running' WHERE id = 'k1'",
            "active_meter_matches",
        ),
    ],
)
async def test_each_corruption_is_reported(money: Money, corruption: str, rule: str) -> None:
    await a_finished_call(money)
    async with money.db.writing() as s:
        await s.execute(text(corruption))
    report = await check_ledger(money.db)
    assert not report.ok
    assert rule in {v["rule"] for v in report.violations}, report.to_json()
