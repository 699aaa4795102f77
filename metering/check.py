"""``peiliao ledger check``: verify every ledger invariant and report violations as JSON.

Rules (each a query; a violation lists the offending ids):

- ``transfer_balances``: every transfer's entries sum to zero, with at least two legs.
- ``ledger_sums_to_zero``: all entries together sum to zero.
- ``balance_matches_entries``: each account's running balance equals the sum of its entries.
- ``no_negative``: no account flagged ``no_negative`` is below zero.
- ``minute_charged_once``: no (session, minute) has more than one capture.
- ``holds_resolved``: an ended session has no pending hold.
- ``held_matches_holds``: each customer's ``held`` balance equals their pending cash holds.
- ``session_charge_matches``: a session's ``charged_fen`` equals its captured cash holds.
- ``grant_counts``: a grant's held/used minutes equal its pending/captured holds, within bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store import Database
from store.models import Entry, Hold, LedgerAccount, MeteredSession, MinuteGrant, Transfer

MAX_LISTED = 20


@dataclass
class Report:
    checked: dict[str, int] = field(default_factory=dict)
    violations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "violations": self.violations}

    def add(self, rule: str, rows: list[Any]) -> None:
        if rows:
            self.violations.append(
                {"rule": rule, "count": len(rows), "examples": [list(r) for r in rows[:MAX_LISTED]]}
            )


async def check_ledger(db: Database) -> Report:
    report = Report()
    async with db.reading() as s:
        await _run(s, report)
    return report


async def _run(s: AsyncSession, report: Report) -> None:
    report.checked["transfers"] = int(
        (await s.execute(select(func.count()).select_from(Transfer))).scalar_one()
    )
    report.checked["entries"] = int(
        (await s.execute(select(func.count()).select_from(Entry))).scalar_one()
    )
    report.checked["accounts"] = int(
        (await s.execute(select(func.count()).select_from(LedgerAccount))).scalar_one()
    )
    report.checked["sessions"] = int(
        (await s.execute(select(func.count()).select_from(MeteredSession))).scalar_one()
    )

    per_transfer = (
        select(Transfer.id, func.coalesce(func.sum(Entry.amount_fen), 0), func.count(Entry.id))
        .outerjoin(Entry, Entry.transfer_id == Transfer.id)
        .group_by(Transfer.id)
        .having((func.coalesce(func.sum(Entry.amount_fen), 0) != 0) | (func.count(Entry.id) < 2))
    )
    report.add("transfer_balances", list((await s.execute(per_transfer)).all()))

    total = (await s.execute(select(func.coalesce(func.sum(Entry.amount_fen), 0)))).scalar_one()
    report.add("ledger_sums_to_zero", [["all", int(total)]] if int(total) != 0 else [])

    sums = (
        select(Entry.account_id.label("account_id"), func.sum(Entry.amount_fen).label("total"))
        .group_by(Entry.account_id)
        .subquery()
    )
    mismatched = (
        select(LedgerAccount.id, LedgerAccount.balance_fen, func.coalesce(sums.c.total, 0))
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(LedgerAccount.balance_fen != func.coalesce(sums.c.total, 0))
    )
    report.add("balance_matches_entries", list((await s.execute(mismatched)).all()))

    negative = select(LedgerAccount.id, LedgerAccount.balance_fen).where(
        LedgerAccount.no_negative.is_(True), LedgerAccount.balance_fen < 0
    )
    report.add("no_negative", list((await s.execute(negative)).all()))

    twice = (
        select(Transfer.session_id, Transfer.minute, func.count())
        .where(Transfer.kind == "capture")
        .group_by(Transfer.session_id, Transfer.minute)
        .having(func.count() > 1)
    )
    report.add("minute_charged_once", list((await s.execute(twice)).all()))

    open_holds = (
        select(Hold.session_id, Hold.minute)
        .join(MeteredSession, MeteredSession.id == Hold.session_id)
        .where(MeteredSession.status == "ended", Hold.status == "pending")
    )
    report.add("holds_resolved", list((await s.execute(open_holds)).all()))

    pending_cash = (
        select(MeteredSession.customer_id.label("user_id"), func.sum(Hold.amount_fen).label("fen"))
        .join(MeteredSession, MeteredSession.id == Hold.session_id)
        .where(Hold.status == "pending", Hold.grant_id.is_(None))
        .group_by(MeteredSession.customer_id)
        .subquery()
    )
    held_rows = (
        await s.execute(
            select(LedgerAccount.user_id, LedgerAccount.balance_fen, pending_cash.c.fen)
            .outerjoin(pending_cash, pending_cash.c.user_id == LedgerAccount.user_id)
            .where(LedgerAccount.kind == "held")
        )
    ).all()
    report.add(
        "held_matches_holds",
        [r for r in held_rows if int(r[1]) != int(r[2] or 0)],
    )

    captured = (
        select(Hold.session_id.label("sid"), func.sum(Hold.amount_fen).label("fen"))
        .where(Hold.status == "captured", Hold.grant_id.is_(None))
        .group_by(Hold.session_id)
        .subquery()
    )
    charge_rows = (
        await s.execute(
            select(MeteredSession.id, MeteredSession.charged_fen, captured.c.fen).outerjoin(
                captured, captured.c.sid == MeteredSession.id
            )
        )
    ).all()
    report.add("session_charge_matches", [r for r in charge_rows if int(r[1]) != int(r[2] or 0)])

    held_by_grant = (
        select(
            Hold.grant_id.label("gid"),
            func.sum(case((Hold.status == "pending", 1), else_=0)).label("held"),
            func.sum(case((Hold.status == "captured", 1), else_=0)).label("used"),
        )
        .where(Hold.grant_id.is_not(None))
        .group_by(Hold.grant_id)
        .subquery()
    )
    grant_rows = (
        await s.execute(
            select(
                MinuteGrant.id,
                MinuteGrant.minutes_held,
                MinuteGrant.minutes_used,
                MinuteGrant.minutes_total,
                held_by_grant.c.held,
                held_by_grant.c.used,
            ).outerjoin(held_by_grant, held_by_grant.c.gid == MinuteGrant.id)
        )
    ).all()
    report.add(
        "grant_counts",
        [
            r
            for r in grant_rows
            if int(r[1]) != int(r[4] or 0)
            or int(r[2]) != int(r[5] or 0)
            or r[1] < 0
            or r[2] < 0
            or r[1] + r[2] > r[3]
        ],
    )
