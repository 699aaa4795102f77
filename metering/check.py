"""``peiliao ledger check``: verify every ledger invariant and report violations as JSON.

Rules (each one SELECT of offending rows; all run as a single ``UNION ALL`` round trip):

- ``transfer_balances``: every transfer's entries sum to zero, with at least two legs.
- ``ledger_sums_to_zero``: all entries together sum to zero.
- ``balance_matches_entries``: each account's running balance equals the sum of its entries.
- ``no_negative``: no account flagged ``no_negative`` is below zero.
- ``minute_charged_once``: no (session, minute) has more than one capture.
- ``holds_resolved``: an ended session has no pending hold.
- ``held_matches_holds``: each customer's ``held`` balance equals their pending cash holds.
- ``session_charge_matches``: a session's ``charged_fen`` equals its captured cash holds.
- ``grant_counts``: a grant's held/used minutes equal its pending/captured holds, within bounds.
- ``active_meter_matches``: a customer's ``active_meters`` row points at an open session of
  theirs, and every open session has its row (so no customer has two open: the row's primary
  key is the customer).  Examples are ``[session, has_row, session_open]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, String, case, cast, func, literal, select, union_all
from sqlalchemy.sql import Select

from store import Database
from store.models import (
    ActiveMeter,
    Entry,
    Hold,
    LedgerAccount,
    MeteredSession,
    MinuteGrant,
    Transfer,
)

MAX_LISTED = 20
_OPEN = ("running", "paused")


@dataclass
class Report:
    checked: dict[str, int] = field(default_factory=dict)
    violations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "violations": self.violations}


def _row(rule: str, key: Any, a: Any, b: Any) -> list[Any]:
    return [
        literal(rule, String).label("rule"),
        cast(key, String).label("key"),
        cast(a, BigInteger).label("a"),
        cast(b, BigInteger).label("b"),
    ]


def _rules() -> list[Select[Any]]:
    entry_sum = func.coalesce(func.sum(Entry.amount_fen), 0)
    sums = (
        select(Entry.account_id.label("account_id"), func.sum(Entry.amount_fen).label("total"))
        .group_by(Entry.account_id)
        .subquery()
    )
    pending_cash = (
        select(MeteredSession.customer_id.label("user_id"), func.sum(Hold.amount_fen).label("fen"))
        .join(MeteredSession, MeteredSession.id == Hold.session_id)
        .where(Hold.status == "pending", Hold.grant_id.is_(None))
        .group_by(MeteredSession.customer_id)
        .subquery()
    )
    captured_cash = (
        select(Hold.session_id.label("sid"), func.sum(Hold.amount_fen).label("fen"))
        .where(Hold.status == "captured", Hold.grant_id.is_(None))
        .group_by(Hold.session_id)
        .subquery()
    )
    by_grant = (
        select(
            Hold.grant_id.label("gid"),
            func.sum(case((Hold.status == "pending", 1), else_=0)).label("held"),
            func.sum(case((Hold.status == "captured", 1), else_=0)).label("used"),
        )
        .where(Hold.grant_id.is_not(None))
        .group_by(Hold.grant_id)
        .subquery()
    )
    held_by = func.coalesce(by_grant.c.held, 0)
    used_by = func.coalesce(by_grant.c.used, 0)
    return [
        select(*_row("transfer_balances", Transfer.id, entry_sum, func.count(Entry.id)))
        .outerjoin(Entry, Entry.transfer_id == Transfer.id)
        .group_by(Transfer.id)
        .having((entry_sum != 0) | (func.count(Entry.id) < 2)),
        select(*_row("ledger_sums_to_zero", literal("all"), entry_sum, literal(0))).having(
            entry_sum != 0
        ),
        select(
            *_row(
                "balance_matches_entries",
                LedgerAccount.id,
                LedgerAccount.balance_fen,
                func.coalesce(sums.c.total, 0),
            )
        )
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(LedgerAccount.balance_fen != func.coalesce(sums.c.total, 0)),
        select(*_row("no_negative", LedgerAccount.id, LedgerAccount.balance_fen, literal(0))).where(
            LedgerAccount.no_negative.is_(True), LedgerAccount.balance_fen < 0
        ),
        select(*_row("minute_charged_once", Transfer.session_id, Transfer.minute, func.count()))
        .where(Transfer.kind == "capture")
        .group_by(Transfer.session_id, Transfer.minute)
        .having(func.count() > 1),
        select(*_row("holds_resolved", Hold.session_id, Hold.minute, literal(0)))
        .join(MeteredSession, MeteredSession.id == Hold.session_id)
        .where(MeteredSession.status == "ended", Hold.status == "pending"),
        select(
            *_row(
                "held_matches_holds",
                LedgerAccount.id,
                LedgerAccount.balance_fen,
                func.coalesce(pending_cash.c.fen, 0),
            )
        )
        .outerjoin(pending_cash, pending_cash.c.user_id == LedgerAccount.user_id)
        .where(
            LedgerAccount.kind == "held",
            LedgerAccount.balance_fen != func.coalesce(pending_cash.c.fen, 0),
        ),
        select(
            *_row(
                "session_charge_matches",
                MeteredSession.id,
                MeteredSession.charged_fen,
                func.coalesce(captured_cash.c.fen, 0),
            )
        )
        .outerjoin(captured_cash, captured_cash.c.sid == MeteredSession.id)
        .where(MeteredSession.charged_fen != func.coalesce(captured_cash.c.fen, 0)),
        select(
            *_row(
                "grant_counts", MinuteGrant.id, MinuteGrant.minutes_held, MinuteGrant.minutes_used
            )
        )
        .outerjoin(by_grant, by_grant.c.gid == MinuteGrant.id)
        .where(
            (MinuteGrant.minutes_held != held_by)
            | (MinuteGrant.minutes_used != used_by)
            | (MinuteGrant.minutes_held < 0)
            | (MinuteGrant.minutes_used < 0)
            | (MinuteGrant.minutes_held + MinuteGrant.minutes_used > MinuteGrant.minutes_total)
        ),
        # A row whose session has ended (or is another customer's): the customer is locked out.
        select(*_row("active_meter_matches", ActiveMeter.session_id, literal(1), literal(0)))
        .join(MeteredSession, MeteredSession.id == ActiveMeter.session_id)
        .where(
            MeteredSession.status.not_in(_OPEN)
            | (MeteredSession.customer_id != ActiveMeter.customer_id)
        ),
        # An open session without the row: nothing stops a second meter beside it.
        select(*_row("active_meter_matches", MeteredSession.id, literal(0), literal(1)))
        .outerjoin(ActiveMeter, ActiveMeter.session_id == MeteredSession.id)
        .where(MeteredSession.status.in_(_OPEN), ActiveMeter.session_id.is_(None)),
    ]


#: Built once: constructing this statement costs more than running it on a small ledger.
_VIOLATIONS = union_all(*_rules())
_COUNTS = select(
    select(func.count()).select_from(Transfer).scalar_subquery().label("transfers"),
    select(func.count()).select_from(Entry).scalar_subquery().label("entries"),
    select(func.count()).select_from(LedgerAccount).scalar_subquery().label("accounts"),
    select(func.count()).select_from(MeteredSession).scalar_subquery().label("sessions"),
)


async def check_ledger(db: Database) -> Report:
    report = Report()
    async with db.reading() as s:
        counts = (await s.execute(_COUNTS)).one()
        report.checked = {k: int(v) for k, v in counts._mapping.items()}
        rows = (await s.execute(_VIOLATIONS)).all()
    found: dict[str, list[list[Any]]] = {}
    for rule, key, a, b in rows:
        found.setdefault(rule, []).append([key, a, b])
    for rule, examples in found.items():
        report.violations.append(
            {"rule": rule, "count": len(examples), "examples": examples[:MAX_LISTED]}
        )
    return report
