"""Export and deletion of a person's data.

Export: the profile (with the phone: it is the person's own), every session they took part in,
the messages they sent, their money movements (ledger entries of their accounts), the reports
they made and the users they blocked, and their marketplace records (``privacy/marketplace.py``:
applications, reviews, bookings, appeals, tickets, voice rooms).

Deletion: refused while a session, a booking, a voice room or an appeal is open, or money is
left (a wallet or earnings balance: spend or withdraw it first; nobody's money disappears with an
account).  Otherwise, in one transaction: logins revoked, the avatar and login codes deleted, the
messages they sent and their media kept as call evidence deleted, prices removed (a companion
leaves the catalog), the marketplace records erased or anonymized (``privacy/marketplace.py``),
blocks either way removed, and the user row kept but emptied — phone replaced by a meaningless
unique placeholder, nickname "已注销用户", tags cleared, role ``deleted``.  Ledger entries stay
(the books must balance) and are linked to an id that no longer identifies anyone.  After the
commit every socket of the user, on every process, is disconnected (``accounts.revocation``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from accounts.ids import UserId
from accounts.revocation import MemoryRevocations, Reason, Revocations, Revoked
from kernel.clock import Clock
from kernel.errors import CodedError
from metering import accounts
from privacy import marketplace
from store import Database
from store.models import (
    AuthSession,
    Avatar,
    Block,
    Call,
    CompanionRate,
    Entry,
    LedgerAccount,
    Message,
    MinuteGrant,
    Report,
    SmsCode,
    Transfer,
    User,
)
from store.models.evidence import CallEvidence

DELETED_NICKNAME = "已注销用户"
DELETED_ROLE = "deleted"
MAX_EXPORTED = 10_000
_REMAINING = MinuteGrant.minutes_total - MinuteGrant.minutes_used


def own_accounts(user_id: str) -> list[str]:
    """Every ledger account that holds ``user_id``'s money (``metering.accounts``)."""
    return [
        accounts.wallet(user_id),
        accounts.promo(user_id),
        accounts.held(user_id),
        accounts.earn_pending(user_id),
        accounts.earn_available(user_id),
        accounts.payout_pending(user_id),
    ]


class PrivacyService:
    def __init__(self, db: Database, clock: Clock, revocations: Revocations | None = None) -> None:
        self._db = db
        self._clock = clock
        #: accounts' channel: a deleted account's sockets are disconnected on every process
        self._revocations: Revocations = revocations or MemoryRevocations()

    async def export(self, user_id: str) -> dict[str, Any]:
        async with self._db.reading() as s:
            user = await s.get(User, user_id)
            if user is None:
                raise CodedError("user_not_found", "no such user")
            calls = (
                await s.scalars(
                    select(Call)
                    .where(or_(Call.customer_id == user_id, Call.companion_id == user_id))
                    .order_by(Call.created_at)
                    .limit(MAX_EXPORTED)
                )
            ).all()
            messages = (
                await s.scalars(
                    select(Message)
                    .where(Message.sender_id == user_id)
                    .order_by(Message.created_at)
                    .limit(MAX_EXPORTED)
                )
            ).all()
            entries = (
                await s.execute(
                    select(Entry.account_id, Entry.amount_fen, Transfer.kind, Transfer.created_at)
                    .join(Transfer, Transfer.id == Entry.transfer_id)
                    .where(Entry.account_id.in_(own_accounts(user_id)))
                    .order_by(Entry.id)
                    .limit(MAX_EXPORTED)
                )
            ).all()
            reports = (await s.scalars(select(Report).where(Report.reporter_id == user_id))).all()
            blocks = (await s.scalars(select(Block).where(Block.blocker_id == user_id))).all()
            market = await marketplace.export(s, user_id)
        return {
            "profile": {
                "id": user.id,
                "phone": user.phone,
                "nickname": user.nickname,
                "role": user.role,
                "tags": list(user.tags),
                "created_at": user.created_at.isoformat(),
            },
            "sessions": [
                {
                    "id": c.id,
                    "role": "customer" if c.customer_id == user_id else "companion",
                    "mode": c.mode,
                    "rate_fen_per_min": c.rate_fen_per_min,
                    "status": c.status,
                    "created_at": c.created_at.isoformat(),
                    "ended_at": c.ended_at.isoformat() if c.ended_at else None,
                    "end_reason": c.end_reason,
                }
                for c in calls
            ],
            "messages": [
                {
                    "session_id": m.call_id,
                    "seq": m.seq,
                    "text": m.body,
                    "at": m.created_at.isoformat(),
                }
                for m in messages
            ],
            "money": [
                {"account": accounts.kind_of(a), "amount_fen": amt, "kind": k, "at": at.isoformat()}
                for a, amt, k, at in entries
            ],
            "reports": [
                {"id": r.id, "reason": r.reason, "status": r.status, "at": r.created_at.isoformat()}
                for r in reports
            ],
            "blocked": [b.blocked_id for b in blocks],
            **market,
        }

    async def delete(self, user_id: str) -> None:
        async with self._db.writing() as s:
            user = await s.get(User, user_id, with_for_update=True)
            if user is None or user.role == DELETED_ROLE:
                return
            open_call = await s.scalar(
                select(Call.id).where(
                    or_(Call.customer_id == user_id, Call.companion_id == user_id),
                    Call.status.in_(("ringing", "active")),
                )
            )
            if open_call is not None:
                raise CodedError(
                    "account_busy", "a session is open: end it before deleting the account"
                )
            busy = await marketplace.busy_with(s, user_id)
            if busy:
                raise CodedError(
                    "account_busy",
                    "a booking, a voice room or an appeal is under way: cancel or finish it "
                    "before deleting the account",
                    open=busy,
                )
            balances = (
                await s.execute(
                    select(LedgerAccount.id, LedgerAccount.balance_fen).where(
                        LedgerAccount.id.in_(own_accounts(user_id))
                    )
                )
            ).all()
            # Promo credit was the platform's gift: it lapses with the account.  Money paid in
            # (the wallet, bought package minutes) or earned must be used or withdrawn first.
            left = {
                accounts.kind_of(account): fen
                for account, fen in balances
                if fen and account != accounts.promo(user_id)
            }
            unused = await s.scalar(
                select(
                    func.coalesce(func.sum(MinuteGrant.minutes_total - MinuteGrant.minutes_used), 0)
                ).where(
                    MinuteGrant.user_id == user_id,
                    MinuteGrant.kind != "coupon",
                    MinuteGrant.expired_at.is_(None),
                    MinuteGrant.expires_at > self._clock.now(),
                )
            )
            if unused:
                left["package_minutes"] = int(unused)
            if left:
                raise CodedError(
                    "balance_not_empty",
                    "money is left on the account: use the wallet and bought minutes, or withdraw "
                    "the earnings, first (promo credit lapses with the account)",
                    balances=left,
                )
            now = self._clock.now()
            await s.execute(
                update(AuthSession)
                .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            await s.execute(delete(Avatar).where(Avatar.user_id == user_id))
            await s.execute(delete(SmsCode).where(SmsCode.phone == user.phone))
            await s.execute(delete(Message).where(Message.sender_id == user_id))
            # Their media in reported calls' evidence goes with their messages (the report and
            # the other participant's media stay for the case).
            await s.execute(delete(CallEvidence).where(CallEvidence.subject_id == user_id))
            await s.execute(delete(CompanionRate).where(CompanionRate.user_id == user_id))
            await marketplace.erase(s, user_id)
            await s.execute(
                delete(Block).where(or_(Block.blocker_id == user_id, Block.blocked_id == user_id))
            )
            user.phone = _placeholder_phone(user_id)
            user.nickname = DELETED_NICKNAME
            user.tags = []
            user.avatar_version = 0
            user.role = DELETED_ROLE
            user.updated_at = now
        # After the commit: a process that re-checks on hearing it finds the logins revoked.
        await self._revocations.publish(Revoked(UserId(user_id), Reason.DELETED))


def _placeholder_phone(user_id: str) -> str:
    """11 characters, unique per user, never a phone number (it starts with a letter)."""
    return "x" + hashlib.sha256(user_id.encode()).hexdigest()[:10]
