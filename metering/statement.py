"""Statements for people: the ledger of one person's money grouped into the lines they would
write themselves — one per session (all its holds, captures, releases, refunds of unserved
minutes and settlements netted), per booking, per top-up, package, coupon, and per refund of a
session (an appeal's, the fair service's, an admin's: dated when it was made, keyed by its
transfer) — newest first, keyset-paged.

A line's ``amount_fen`` is exactly the sum of the ledger entries it stands for on the statement's
accounts, so the lines of a statement add up to the change of those accounts (a customer's wallet,
promo credit, held money and booking holds; a companion's pending and available earnings).  Money
moved between those accounts (a hold, its release; a settlement) nets to zero inside its line and
is never a line of its own.  The raw ledger stays available (``detail=ledger``, CSV).

Read inside the caller's transaction; nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Subquery

from metering import accounts
from store.models import Entry, MeteredSession, Transfer
from store.models.bookings import Booking

#: transfer kinds that are a withdrawal's: the companion's withdrawals have their own list
WITHDRAWAL_KINDS = ("withdraw", "withdraw_return")
#: lines that are spending (the month's spend is their net, refunds included)
SPENDING_KINDS = ("session", "package", "booking", "refund")
#: lines that are a companion's earnings (today / this week / this month; refunds take back)
EARNING_KINDS = ("session", "booking", "refund")


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose statement: the accounts summed, the one whose part of a line is not settled yet
    (a customer's held money, a companion's pending earnings), the sessions that are lines even
    when they moved none of that money (package and coupon minutes), and kinds left out."""

    name: str
    accounts: ColumnElement[bool]
    unsettled_account: str
    sessions: ColumnElement[bool]
    excluded_kinds: tuple[str, ...] = ()


def customer_scope(user_id: str) -> Scope:
    my_booking_holds = select(
        type_coerce(literal_column("'booking_hold:'"), String) + Booking.id
    ).where(Booking.customer_id == user_id)
    return Scope(
        name="customer",
        accounts=or_(
            Entry.account_id.in_(
                [accounts.wallet(user_id), accounts.promo(user_id), accounts.held(user_id)]
            ),
            Entry.account_id.in_(my_booking_holds),
        ),
        unsettled_account=accounts.held(user_id),
        sessions=MeteredSession.customer_id == user_id,
    )


def companion_scope(user_id: str) -> Scope:
    return Scope(
        name="companion",
        accounts=Entry.account_id.in_(
            [accounts.earn_pending(user_id), accounts.earn_available(user_id)]
        ),
        unsettled_account=accounts.earn_pending(user_id),
        sessions=MeteredSession.companion_id == user_id,
        excluded_kinds=WITHDRAWAL_KINDS,
    )


@dataclass(frozen=True, slots=True)
class Group:
    """One statement line before it is described: its key (the session id, ``booking:{id}``,
    else the transfer id: ``refund:{session}:{key}`` for a refund), kind, when it began, its
    net and the part of it not settled yet."""

    key: str
    kind: str
    at: datetime
    amount_fen: int
    unsettled_fen: int


def _groups(scope: Scope) -> Subquery:
    booking_id = Transfer.memo["booking_id"].as_string()
    # A refund of a session after the fact is a line of its own; a refunded minute (a hold not
    # served, ``minute`` set) is part of the session's own line.
    refund = and_(Transfer.kind == "refund", Transfer.minute.is_(None))
    key = case(
        (refund, Transfer.id),
        (Transfer.session_id.is_not(None), Transfer.session_id),
        (
            Transfer.kind.like("booking%"),
            type_coerce(literal_column("'booking:'"), String) + booking_id,
        ),
        else_=Transfer.id,
    )
    kind = case(
        (refund, literal_column("'refund'")),
        (Transfer.session_id.is_not(None), literal_column("'session'")),
        (Transfer.kind.like("booking%"), literal_column("'booking'")),
        else_=Transfer.kind,
    )
    entries = (
        select(
            key.label("k"),
            kind.label("kind"),
            Transfer.created_at.label("at"),
            Entry.amount_fen.label("amt"),
            case((Entry.account_id == scope.unsettled_account, Entry.amount_fen), else_=0).label(
                "unsettled"
            ),
            literal_column("0", Integer).label("listed"),
        )
        .join(Transfer, Transfer.id == Entry.transfer_id)
        .where(scope.accounts)
    )
    if scope.excluded_kinds:
        entries = entries.where(Transfer.kind.not_in(scope.excluded_kinds))
    # A session served minutes is a line even if none of them moved this money (a package's).
    sessions = select(
        MeteredSession.id,
        literal_column("'session'", String),
        MeteredSession.created_at,
        literal_column("0", BigInteger),
        literal_column("0", BigInteger),
        literal_column("1", Integer),
    ).where(scope.sessions, MeteredSession.billed_minutes > 0)
    u = union_all(entries, sessions).subquery()
    amount = func.sum(u.c.amt)
    return (
        select(
            u.c.k.label("key"),
            func.max(u.c.kind).label("kind"),
            func.min(u.c.at).label("at"),
            amount.label("amount_fen"),
            func.sum(u.c.unsettled).label("unsettled_fen"),
        )
        .group_by(u.c.k)
        # holds that were released and nothing else (a call that never connected) are no line
        .having(or_(amount != 0, func.max(u.c.listed) == 1))
        .subquery()
    )


async def page(
    s: AsyncSession, scope: Scope, *, after: tuple[datetime, str] | None, limit: int
) -> list[Group]:
    """Up to ``limit`` lines, newest first, after the line ``after`` (its time and key)."""
    g = _groups(scope)
    stmt = select(g).order_by(g.c.at.desc(), g.c.key.desc()).limit(limit)
    if after is not None:
        at, key = after
        stmt = stmt.where(or_(g.c.at < at, and_(g.c.at == at, g.c.key < key)))
    rows = (await s.execute(stmt)).all()
    return [Group(r.key, r.kind, r.at, int(r.amount_fen), int(r.unsettled_fen)) for r in rows]


async def net_between(
    s: AsyncSession, scope: Scope, kinds: tuple[str, ...], start: datetime, end: datetime
) -> int:
    """The net of the lines of ``kinds`` that began in ``[start, end)``."""
    g = _groups(scope)
    value = (
        await s.execute(
            select(func.coalesce(func.sum(g.c.amount_fen), 0)).where(
                g.c.kind.in_(kinds), g.c.at >= start, g.c.at < end
            )
        )
    ).scalar_one()
    return int(value)


#: a refund's source, read off its key (``refund:{session}:{key}``)
REFUND_SOURCES = (("appeal-", "appeal"), ("fair", "fair"), ("admin-", "admin"))


def refund_of(key: str) -> tuple[str, str | None]:
    """(session id, source: ``appeal``, ``fair``, ``admin`` or None) of a refund line's key."""
    _, session_id, tail = [*key.split(":", 2), "", ""][:3]
    source = next((name for prefix, name in REFUND_SOURCES if tail.startswith(prefix)), None)
    return session_id, source
