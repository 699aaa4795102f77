"""Metering tables: the double-entry ledger, holds, metered sessions, grants, payments.

The ledger is append-only.  ``transfers`` rows are immutable and their primary key is the
idempotency key (``capture:{session}:{minute}``, ``topup:{order}``, …): posting the same transfer
twice is a no-op by construction.  ``entries`` are its legs and sum to zero per transfer.
``ledger_accounts.balance_fen`` is a running total kept in the same transaction as the entries
(checked against them by ``peiliao ledger check``); accounts flagged ``no_negative`` are guarded by
a conditional ``UPDATE … WHERE balance_fen + delta >= 0``, so a balance cannot go below zero even
under concurrent writers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    user_id: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    no_negative: Mapped[bool] = mapped_column(default=True)
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class Transfer(Base):
    __tablename__ = "transfers"
    __table_args__ = (Index("ix_transfers_session_minute", "session_id", "minute"),)

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    session_id: Mapped[str | None] = mapped_column(String(40), default=None)
    minute: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    memo: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (Index("ix_entries_account", "account_id", "id"),)

    # BIGINT on PostgreSQL; INTEGER on SQLite, whose autoincrement needs "INTEGER PRIMARY KEY".
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"))
    #: positive: the account's balance rises (credit); negative: it falls (debit)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class Hold(Base):
    """A minute's reservation: pending until captured (served) or released (not served)."""

    __tablename__ = "holds"
    __table_args__ = (UniqueConstraint("session_id", "minute"),)

    id: Mapped[str] = mapped_column(String(120), primary_key=True)  # the hold transfer's id
    session_id: Mapped[str] = mapped_column(ForeignKey("metered_sessions.id"))
    minute: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default="pending")
    #: where the money came from: [[account_id, fen], …] (cash and promo balance), or a grant
    sources: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    grant_id: Mapped[str | None] = mapped_column(String(40), default=None)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    #: the budget month the cash part counts against (YYYY-MM, Asia/Shanghai)
    budget_month: Mapped[str | None] = mapped_column(String(7), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MeteredSession(Base):
    __tablename__ = "metered_sessions"
    __table_args__ = (Index("ix_metered_sessions_status_heartbeat", "status", "heartbeat_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    companion_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    mode: Mapped[str] = mapped_column(String(8))
    rate_fen_per_min: Mapped[int]
    commission_bp: Mapped[int]
    status: Mapped[str] = mapped_column(String(12))
    meter: Mapped[dict[str, Any]] = mapped_column(JSON)
    charged_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    billed_minutes: Mapped[int] = mapped_column(default=0)
    #: the process running the session; it heartbeats, and another settles it if it stops
    owner: Mapped[str] = mapped_column(String(64), default="")
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    end_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class ActiveMeter(Base):
    """A customer's one open metered session (a 1:1 call, a booking's call, a voice-room seat).

    The primary key is the guarantee that a customer has at most one meter running, whichever
    process or path opens it: the row is inserted in the transaction that opens the session
    (before minute 1 is held) and deleted in the one that ends it (``metering.meters``)."""

    __tablename__ = "active_meters"

    customer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("metered_sessions.id"), unique=True)
    #: what the session is: ``call``, ``booking`` or ``room_seat`` (``metering.meters.MeterKind``)
    kind: Mapped[str] = mapped_column(String(12))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CompanionRate(Base):
    """A companion's prices and level.  Sessions copy the rate when they start."""

    __tablename__ = "companion_rates"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    level: Mapped[str] = mapped_column(String(12), default="newcomer")
    specialist: Mapped[bool] = mapped_column(default=False)
    text_fen_per_min: Mapped[int]
    voice_fen_per_min: Mapped[int]
    video_fen_per_min: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MinuteGrant(Base):
    """Prepaid minutes: a package bought from the platform or a companion, or free minutes."""

    __tablename__ = "minute_grants"
    __table_args__ = (Index("ix_minute_grants_user_mode", "user_id", "mode"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))  # platform_package | companion_package | coupon
    mode: Mapped[str] = mapped_column(String(8))
    companion_id: Mapped[str | None] = mapped_column(String(32), default=None)
    minutes_total: Mapped[int]
    minutes_held: Mapped[int] = mapped_column(default=0)
    minutes_used: Mapped[int] = mapped_column(default=0)
    price_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class BudgetMonth(Base):
    """Cash committed (held or captured) by a customer in one month, against their cap."""

    __tablename__ = "budget_months"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    committed_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class CustomerSetting(Base):
    __tablename__ = "customer_settings"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    monthly_cap_fen: Mapped[int | None] = mapped_column(BigInteger, default=None)


class PaymentOrder(Base):
    """A top-up: created here, paid at the provider, credited once on its signed notification."""

    __tablename__ = "payment_orders"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # our merchant order number
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    provider: Mapped[str] = mapped_column(String(12))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="created")
    provider_trade_no: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class PackageOffer(Base):
    """A weekly or monthly minute package a senior companion sells for themselves."""

    __tablename__ = "package_offers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    companion_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # weekly | monthly
    mode: Mapped[str] = mapped_column(String(8))
    minutes: Mapped[int]
    price_fen: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CouponRedemption(Base):
    """One row per (account, coupon): the primary key makes a coupon once-per-user, even when
    two redemptions race."""

    __tablename__ = "coupon_redemptions"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    coupon: Mapped[str] = mapped_column(String(24), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    redeemed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PayoutAccount(Base):
    """Where a companion's withdrawals go (an Alipay or WeChat account, or a bank card)."""

    __tablename__ = "payout_accounts"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    provider: Mapped[str] = mapped_column(String(12))
    account_masked: Mapped[str] = mapped_column(String(40))
    account_ref: Mapped[str] = mapped_column(String(200))
    bound_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Withdrawal(Base):
    __tablename__ = "withdrawals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # pending_review | approved | paid | rejected
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(32), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    reason: Mapped[str | None] = mapped_column(String(200), default=None)
