"""A user's standing under their sanctions, read where it is enforced: at login (a suspension
or ban refuses it, telling what, why, until when, and how to appeal) and on every chat message
(a mute).  The rules are ``accounts.sanction_rules``; imposing is ``accounts.sanctions``."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import sanction_rules as rules
from kernel.errors import CodedError, DomainError
from kernel.settings import Settings
from store.models.sanctions import Sanction


class ChatMuted(CodedError):
    code = "chat_muted"
    status = 403

    def __init__(self, until: datetime | None) -> None:
        super().__init__(
            "chat_muted",
            "you are muted and cannot send messages for now",
            until=until.isoformat() if until else None,
        )


class EarningsFrozen(CodedError):
    code = "earnings_frozen"
    status = 403

    def __init__(self, until: datetime | None) -> None:
        super().__init__(
            "earnings_frozen",
            "your earnings are frozen while a case about your account is open",
            until=until.isoformat() if until else None,
        )


class AccountLocked(DomainError):
    """A login refused while a suspension or ban is in force: what, why, until, and how to
    appeal (the token is good for that one sanction's appeal)."""

    code = "account_suspended"
    status = 403
    default_message = "this account is suspended"

    def __init__(self, s: Sanction, appeal_token: str) -> None:
        super().__init__(None, sanction=sanction_dict(s), appeal_token=appeal_token)


class AccountBanned(AccountLocked):
    code = "account_banned"
    default_message = "this account is banned"


def sanction_dict(s: Sanction) -> dict[str, object]:
    """What the sanctioned user is told at a refused login."""
    return {
        "id": s.id,
        "kind": s.kind,
        "reason": s.reason,
        "starts_at": s.starts_at.isoformat(),
        "ends_at": s.ends_at.isoformat() if s.ends_at else None,
        "appealed": s.appealed_at is not None,
    }


def in_force_of(s: Sanction) -> rules.InForce:
    return rules.InForce(
        rules.Kind(s.kind), s.starts_at, s.ends_at, s.lifted_at is not None, s.freeze_earnings
    )


async def restricting(s: AsyncSession, user_id: str, now: datetime) -> list[Sanction]:
    """The user's sanctions that may restrict them now (the rules decide which do)."""
    return (await restricting_many(s, [user_id], now))[user_id]


async def restricting_many(
    s: AsyncSession, user_ids: list[str], now: datetime
) -> dict[str, list[Sanction]]:
    """``restricting`` for many users in one query: each user's sanctions in force now."""
    rows = await s.scalars(
        select(Sanction).where(
            Sanction.user_id.in_(user_ids),
            Sanction.lifted_at.is_(None),
            Sanction.kind != rules.Kind.WARN.value,
            Sanction.starts_at <= now,
        )
    )
    out: dict[str, list[Sanction]] = {u: [] for u in user_ids}
    for r in rows.all():
        if rules.in_force(in_force_of(r), now):
            out[r.user_id].append(r)
    return out


async def locking_sanction(s: AsyncSession, user_id: str, now: datetime) -> Sanction | None:
    """The suspension or ban that keeps the user out now (the latest-ending one), or None."""
    locking = [r for r in await restricting(s, user_id, now) if r.kind in rules.LOCKING]
    if not locking:
        return None
    return max(locking, key=lambda r: (r.ends_at is None, r.ends_at or now))


def appeal_key(settings: Settings) -> bytes:
    return hmac.new(settings.secret_key.encode(), b"peiliao appeal v1", hashlib.sha256).digest()


def refusal(settings: Settings, s: Sanction, now: datetime) -> AccountLocked:
    refused = AccountBanned if s.kind == rules.Kind.BAN else AccountLocked
    return refused(s, rules.appeal_token(appeal_key(settings), s.id, now))
