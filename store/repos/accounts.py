"""Queries for accounts: users, SMS codes and throttles, login sessions, avatars."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AuthSession, Avatar, IpGuard, PhoneGuard, SmsCode, SmsSend, User


async def _insert_ignore(session: AsyncSession, model: type, **values: object) -> None:
    """INSERT … ON CONFLICT DO NOTHING on either database."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(insert(model).values(**values).on_conflict_do_nothing())


async def lock_phone_guard(session: AsyncSession, phone: str) -> PhoneGuard:
    """The phone's guard row, created if missing and locked for this transaction.

    On PostgreSQL ``FOR UPDATE`` serializes every send and verification for one phone; on SQLite
    the writing transaction's ``BEGIN IMMEDIATE`` already does (SQLAlchemy omits FOR UPDATE there).
    """
    await _insert_ignore(session, PhoneGuard, phone=phone, failed_attempts=0)
    stmt = select(PhoneGuard).where(PhoneGuard.phone == phone).with_for_update()
    return (await session.execute(stmt)).scalar_one()


async def lock_ip_guard(session: AsyncSession, ip: str) -> None:
    await _insert_ignore(session, IpGuard, ip=ip)
    await session.execute(select(IpGuard.ip).where(IpGuard.ip == ip).with_for_update())


async def send_times_for_phone(
    session: AsyncSession, phone: str, since: datetime
) -> Sequence[datetime]:
    stmt = select(SmsSend.sent_at).where(SmsSend.phone == phone, SmsSend.sent_at > since)
    return (await session.execute(stmt)).scalars().all()


async def send_times_for_ip(session: AsyncSession, ip: str, since: datetime) -> Sequence[datetime]:
    stmt = select(SmsSend.sent_at).where(SmsSend.ip == ip, SmsSend.sent_at > since)
    return (await session.execute(stmt)).scalars().all()


async def latest_code(session: AsyncSession, phone: str) -> SmsCode | None:
    stmt = (
        select(SmsCode)
        .where(SmsCode.phone == phone)
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def use_code(session: AsyncSession, code_id: int, now: datetime) -> bool:
    """Mark a code used; ``False`` if it already was (single use even without the guard lock)."""
    stmt = (
        update(SmsCode).where(SmsCode.id == code_id, SmsCode.used_at.is_(None)).values(used_at=now)
    )
    result = await session.execute(stmt)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def retire_codes(session: AsyncSession, phone: str, now: datetime) -> None:
    """Mark every unused code of the phone used: a newer one replaces them."""
    await session.execute(
        update(SmsCode).where(SmsCode.phone == phone, SmsCode.used_at.is_(None)).values(used_at=now)
    )


async def user_by_phone(session: AsyncSession, phone: str) -> User | None:
    return (await session.execute(select(User).where(User.phone == phone))).scalar_one_or_none()


async def user_by_id(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def session_with_user(
    session: AsyncSession, token_hash: str
) -> tuple[AuthSession, User] | None:
    stmt = (
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == token_hash)
    )
    row = (await session.execute(stmt)).first()
    return (row[0], row[1]) if row else None


async def sessions_with_users_by_id(
    session: AsyncSession, session_ids: list[str]
) -> dict[str, tuple[AuthSession, User]]:
    """Login sessions with their users, by session id, in one query."""
    stmt = (
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.id.in_(session_ids))
    )
    return {a.id: (a, u) for a, u in (await session.execute(stmt)).all()}


async def touch_session(session: AsyncSession, session_id: str, now: datetime) -> None:
    await session.execute(
        update(AuthSession).where(AuthSession.id == session_id).values(last_seen_at=now)
    )


async def revoke_session(session: AsyncSession, session_id: str, now: datetime) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_user_sessions(session: AsyncSession, user_id: str, now: datetime) -> int:
    result = await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def avatar_of(session: AsyncSession, user_id: str) -> Avatar | None:
    return await session.get(Avatar, user_id)


async def count_users(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())
