"""Sanctions imposed on users: the shell around ``accounts.sanction_rules``.

Imposing a suspension or a ban happens in one transaction with the end of every login of the
user, under the same row lock a login takes (the phone's guard), so no login can slip between
the sanction and the revocation; after the commit every process is told (the revocation
channel disconnects the user's sockets) and ``on_locked`` hooks end the user's open sessions
(billed to that moment).  A mute is read on every chat message (one indexed query), so it holds
on every process at once; a login is refused while a suspension or ban is in force, with what,
why, until when, and a token to appeal it once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import select

from accounts import sanction_rules as rules
from accounts.errors import UserNotFound
from accounts.ids import UserId
from accounts.revocation import Reason, Revoked
from accounts.roles import Role
from accounts.service import AccountService
from accounts.standing import (
    ChatMuted,
    appeal_key,
    in_force_of,
    restricting_many,
)
from kernel.clock import Clock
from kernel.coalesce import Coalescer
from kernel.errors import CodedError, DomainError
from kernel.settings import Settings, SettingsError
from store import Database
from store.models import User
from store.models.sanctions import Sanction
from store.repos import accounts as repo

log = structlog.get_logger(__name__)

MAX_REASON_CHARS = 500
MAX_APPEAL_CHARS = 1000


class SanctionNotFound(DomainError):
    code = "sanction_not_found"
    status = 404
    default_message = "no such sanction"


class SanctionLifted(DomainError):
    code = "sanction_already_lifted"
    status = 409
    default_message = "this sanction was lifted already"


class AppealExists(DomainError):
    code = "sanction_appeal_exists"
    status = 409
    default_message = "this sanction was appealed already; each sanction may be appealed once"


class CannotSanction(DomainError):
    code = "cannot_sanction"
    status = 409
    default_message = "an admin account or your own account cannot be sanctioned"


class BadAppealToken(DomainError):
    code = "bad_appeal_token"
    status = 400
    default_message = "the appeal link is not valid or has expired; log in to appeal"


@dataclass(frozen=True, slots=True)
class SanctionView:
    id: str
    user_id: str
    kind: str
    requested_kind: str
    points: int
    reason: str
    case_id: str | None
    starts_at: datetime
    ends_at: datetime | None
    decided_by: str
    freeze_earnings: bool
    lifted_at: datetime | None
    lifted_by: str | None
    lift_note: str
    appealed_at: datetime | None
    appeal_text: str
    in_force: bool


class SanctionService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        accounts: AccountService,
        ladder: rules.Ladder | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._accounts = accounts
        self._key = appeal_key(settings)
        try:
            self.ladder = ladder or rules.Ladder.parse(
                settings.sanction_points,
                settings.sanction_escalate_at,
                settings.sanction_window_days,
            )
        except ValueError as e:
            raise SettingsError(f"PEILIAO_SANCTION_*: {e}") from None
        #: every chat message's check, one query per batch of senders (``kernel.coalesce``)
        self._chat_checks: Coalescer[str, rules.Standing] = Coalescer(self._standings)

    # -- deciding ---------------------------------------------------------------------------

    async def impose(
        self,
        user_id: str,
        kind: rules.Kind,
        reason: str,
        decided_by: str,
        *,
        hours: int | None = None,
        case_id: str | None = None,
        freeze_earnings: bool = False,
    ) -> SanctionView:
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON_CHARS:
            raise CodedError("invalid_reason", f"a reason of 1..{MAX_REASON_CHARS} characters")
        if freeze_earnings and kind not in rules.LOCKING and kind is not rules.Kind.MUTE:
            raise CodedError("invalid_input", "a warning cannot freeze earnings")
        now = self._clock.now()
        async with self._db.writing() as s:
            user = await s.get(User, user_id)
            if user is None or user.role == "deleted":
                raise UserNotFound()
            if user.role == Role.ADMIN.value or user_id == decided_by:
                raise CannotSanction()
            # The lock a login takes: a login either sees this sanction or is revoked by it.
            await repo.lock_phone_guard(s, user.phone)
            history = (await s.scalars(select(Sanction).where(Sanction.user_id == user_id))).all()
            try:
                decision = rules.decide(
                    kind,
                    hours,
                    [
                        rules.Past(
                            rules.Kind(h.kind), h.points, h.starts_at, h.lifted_at is not None
                        )
                        for h in history
                    ],
                    now,
                    self.ladder,
                )
            except ValueError as e:
                raise CodedError("invalid_duration", str(e)) from None
            row = Sanction(
                id="sanc_" + secrets.token_hex(12),
                user_id=user_id,
                kind=decision.kind.value,
                requested_kind=kind.value,
                points=decision.points,
                reason=reason,
                case_id=case_id,
                starts_at=now,
                ends_at=decision.ends_at,
                decided_by=decided_by,
                freeze_earnings=freeze_earnings,
                lift_note="",
                appeal_text="",
            )
            s.add(row)
            if decision.kind in rules.LOCKING:
                await repo.revoke_user_sessions(s, user_id, now)
        log.info(
            "sanction_imposed",
            sanction_id=row.id,
            user_id=user_id,
            kind=row.kind,
            requested=kind.value,
            case_id=case_id,
        )
        if decision.kind in rules.LOCKING:
            # Every process hears it: the user's sockets end and their sessions with them.
            await self._accounts.revocations.publish(Revoked(UserId(user_id), Reason.SANCTIONED))
        return self._view(row, now)

    async def lift(self, sanction_id: str, by: str, note: str) -> SanctionView:
        now = self._clock.now()
        async with self._db.writing() as s:
            row = await s.get(Sanction, sanction_id, with_for_update=True)
            if row is None:
                raise SanctionNotFound()
            if row.lifted_at is not None:
                raise SanctionLifted()
            row.lifted_at, row.lifted_by, row.lift_note = now, by, note.strip()[:500]
        log.info("sanction_lifted", sanction_id=sanction_id, user_id=row.user_id)
        return self._view(row, now)

    # -- the sanctioned user ----------------------------------------------------------------

    async def mine(self, user_id: str) -> list[SanctionView]:
        return await self.history(user_id)

    async def history(self, user_id: str) -> list[SanctionView]:
        now = self._clock.now()
        async with self._db.reading() as s:
            rows = await s.scalars(
                select(Sanction)
                .where(Sanction.user_id == user_id)
                .order_by(Sanction.starts_at.desc(), Sanction.id)
                .limit(200)
            )
            return [self._view(r, now) for r in rows.all()]

    async def appeal(self, user_id: str, sanction_id: str, text: str) -> SanctionView:
        return await self._appeal(sanction_id, text, owner=user_id)

    async def appeal_with_token(self, token: str, text: str) -> SanctionView:
        sanction_id = rules.read_appeal_token(self._key, token, self._clock.now())
        if sanction_id is None:
            raise BadAppealToken()
        return await self._appeal(sanction_id, text, owner=None)

    async def _appeal(self, sanction_id: str, text: str, owner: str | None) -> SanctionView:
        text = text.strip()
        if not text or len(text) > MAX_APPEAL_CHARS:
            raise CodedError("invalid_input", f"an appeal of 1..{MAX_APPEAL_CHARS} characters")
        now = self._clock.now()
        async with self._db.writing() as s:
            row = await s.get(Sanction, sanction_id, with_for_update=True)
            if row is None or (owner is not None and row.user_id != owner):
                raise SanctionNotFound()
            if not rules.can_appeal(row.appealed_at is not None, row.lifted_at is not None):
                raise SanctionLifted() if row.lifted_at is not None else AppealExists()
            row.appealed_at, row.appeal_text = now, text
        log.info("sanction_appealed", sanction_id=sanction_id, user_id=row.user_id)
        return self._view(row, now)

    # -- what the user may do now -----------------------------------------------------------

    async def standing(self, user_id: str) -> rules.Standing:
        return (await self._standings([user_id]))[user_id]

    async def locked_out(self, user_id: str) -> bool:
        return not (await self.standing(user_id)).can_login

    async def _standings(self, user_ids: list[str]) -> dict[str, rules.Standing]:
        now = self._clock.now()
        async with self._db.reading() as s:
            rows = await restricting_many(s, user_ids, now)
        return {u: rules.standing([in_force_of(r) for r in rows[u]], now) for u in user_ids}

    async def check_chat(self, user_id: str) -> None:
        """ChatMuted while a mute (or heavier) is in force."""
        found = await self._chat_checks.get(user_id)
        if not found.can_chat:
            raise ChatMuted(found.until)

    def _view(self, r: Sanction, now: datetime) -> SanctionView:
        return SanctionView(
            id=r.id,
            user_id=r.user_id,
            kind=r.kind,
            requested_kind=r.requested_kind,
            points=r.points,
            reason=r.reason,
            case_id=r.case_id,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            decided_by=r.decided_by,
            freeze_earnings=r.freeze_earnings,
            lifted_at=r.lifted_at,
            lifted_by=r.lifted_by,
            lift_note=r.lift_note,
            appealed_at=r.appealed_at,
            appeal_text=r.appeal_text,
            in_force=rules.in_force(in_force_of(r), now),
        )
