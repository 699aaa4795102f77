"""Account use cases: the shell that runs the pure rules against the store and the SMS provider."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import sms_policy
from accounts.avatar import AvatarRejected, process_avatar
from accounts.errors import (
    CodeRejected,
    ImageTooLarge,
    InvalidImage,
    InvalidPhone,
    InvalidProfile,
    PhoneLocked,
    SmsRefused,
    UserNotFound,
)
from accounts.ids import AuthSessionId, UserId
from accounts.phone import mask_phone, normalize_phone
from accounts.profile import ProfileRuleError, clean_nickname, clean_tags, default_nickname
from accounts.revocation import MemoryRevocations, Reason, Revocations, Revoked
from accounts.roles import Role
from accounts.sms import SmsSender
from accounts.standing import locking_sanction, refusal
from accounts.tokens import hash_token, new_id, new_token
from kernel.clock import Clock
from kernel.errors import Unauthenticated
from kernel.settings import Settings
from kernel.telemetry import LOGINS, SMS_CODES, Metric, Telemetry
from store import Database
from store.models import AuthSession, Avatar, SmsCode, SmsSend, User
from store.repos import accounts as repo

log = structlog.get_logger(__name__)

_SMS_MESSAGES = {
    sms_policy.Refusal.RESEND_TOO_SOON: "a code was sent less than a minute ago",
    sms_policy.Refusal.PHONE_DAILY_LIMIT: "too many codes for this phone today",
    sms_policy.Refusal.IP_HOURLY_LIMIT: "too many codes from this network in the last hour",
    sms_policy.Refusal.PHONE_LOCKED: "too many wrong codes; this phone is locked for a while",
}
#: how often ``last_seen_at`` is written: at most once per this many seconds per session
_TOUCH_EVERY_S = 300


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making a request, as established by a valid session token."""

    user_id: UserId
    role: Role
    session_id: AuthSessionId


@dataclass(frozen=True, slots=True)
class Login:
    user: User
    token: str
    session_id: AuthSessionId
    expires_at: datetime
    new_user: bool


@dataclass(frozen=True, slots=True)
class CodeSent:
    expires_in_s: int
    resend_after_s: int


def new_user(
    phone: str,
    role: Role,
    now: datetime,
    *,
    nickname: str | None = None,
    tags: list[str] | None = None,
) -> User:
    """A new account: a random id, and never the phone number as its nickname."""
    return User(
        id=new_id("u"),
        phone=phone,
        role=role.value,
        nickname=nickname or default_nickname(phone),
        tags=tags or [],
        avatar_version=0,
        created_at=now,
        updated_at=now,
    )


class AccountService:
    def __init__(
        self,
        db: Database,
        sms: SmsSender,
        clock: Clock,
        settings: Settings,
        telemetry: Telemetry | None = None,
        revocations: Revocations | None = None,
    ) -> None:
        self._db = db
        #: "this login / every login of this user ended", told to every process (the sockets)
        self.revocations: Revocations = revocations or MemoryRevocations()
        self._telemetry = telemetry
        self._sms = sms
        self._clock = clock
        self._settings = settings
        # Login sessions whose last_seen_at is being written now (bounded by requests in flight).
        self._touching: set[str] = set()
        self._limits = sms_policy.SmsLimits(
            code_ttl_s=settings.sms_code_ttl_s,
            resend_interval_s=settings.sms_resend_interval_s,
            max_per_phone_per_day=settings.sms_max_per_phone_per_day,
            max_per_ip_per_hour=settings.sms_max_per_ip_per_hour,
            max_failed_attempts=settings.sms_max_failed_attempts,
            lockout_s=settings.sms_lockout_s,
        )

    def _count(self, metric: Metric, outcome: str) -> None:
        if self._telemetry is not None:
            self._telemetry.count(metric, outcome=outcome)

    @staticmethod
    def parse_phone(raw: str) -> str:
        phone = normalize_phone(raw)
        if phone is None:
            raise InvalidPhone()
        return phone

    # -- SMS codes ------------------------------------------------------------------------------

    async def request_code(self, raw_phone: str, client_ip: str) -> CodeSent:
        """Send a login code.  The answer never depends on whether the phone is registered."""
        phone = self.parse_phone(raw_phone)
        now = self._clock.now()
        code = sms_policy.new_code()
        async with self._db.writing() as s:
            # Lock order phone → ip everywhere, so two requests never wait on each other in a cycle.
            guard = await repo.lock_phone_guard(s, phone)
            await repo.lock_ip_guard(s, client_ip)
            decision = sms_policy.decide_send(
                phone_sends=await repo.send_times_for_phone(
                    s, phone, now - timedelta(seconds=sms_policy.DAY_S)
                ),
                ip_sends=await repo.send_times_for_ip(
                    s, client_ip, now - timedelta(seconds=sms_policy.HOUR_S)
                ),
                locked_until=guard.locked_until,
                now=now,
                limits=self._limits,
            )
            if isinstance(decision, sms_policy.SendRefused):
                log.info("sms_code_refused", phone=mask_phone(phone), reason=decision.reason.value)
                self._count(SMS_CODES, decision.reason.value)
                raise SmsRefused(
                    decision.reason.value, decision.retry_after_s, _SMS_MESSAGES[decision.reason]
                )
            await repo.retire_codes(s, phone, now)
            record = SmsCode(
                phone=phone,
                code_hash=sms_policy.hash_code(self._settings.secret_key, phone, code),
                created_at=now,
                expires_at=decision.expires_at,
            )
            send = SmsSend(phone=phone, ip=client_ip, sent_at=now)
            s.add_all([record, send])
        # Outside the transaction: a slow provider must not hold the database's write lock.
        try:
            await self._sms.send_code(phone, code)
        except Exception:
            async with self._db.writing() as s:
                # Undo: the code was never delivered, so it must not count against the user.
                await s.delete(await s.merge(send))
                await repo.retire_codes(s, phone, now)
            self._count(SMS_CODES, "provider_failed")
            raise
        log.info("sms_code_sent", phone=mask_phone(phone))
        self._count(SMS_CODES, "sent")
        return CodeSent(self._limits.code_ttl_s, self._limits.resend_interval_s)

    async def verify_code(
        self, raw_phone: str, code: str, *, client: str = "cookie", user_agent: str = ""
    ) -> Login:
        """Check a code; on success sign the phone up if new and open a login session."""
        phone = self.parse_phone(raw_phone)
        if not (len(code) == sms_policy.CODE_DIGITS and code.isascii() and code.isdigit()):
            # Malformed input is not a guess at a code: no attempt is counted.
            raise CodeRejected("code_malformed", "the code is 6 digits")
        now = self._clock.now()
        async with self._db.writing() as s:
            guard = await repo.lock_phone_guard(s, phone)
            latest = await repo.latest_code(s, phone)
            decision = sms_policy.decide_verify(
                latest=None
                if latest is None
                else sms_policy.StoredCode(
                    latest.code_hash, latest.expires_at, latest.used_at is not None
                ),
                presented_hash=sms_policy.hash_code(self._settings.secret_key, phone, code),
                failed_attempts=guard.failed_attempts,
                locked_until=guard.locked_until,
                now=now,
                limits=self._limits,
            )
            guard.failed_attempts = decision.failed_attempts
            guard.locked_until = decision.locked_until
            if decision.accepted:
                assert latest is not None
                if not await repo.use_code(s, latest.id, now):
                    raise CodeRejected("code_invalid", "wrong or already used code")
                user = await repo.user_by_phone(s, phone)
                is_new = user is None
                locked = None if user is None else await locking_sanction(s, user.id, now)
                if locked is not None:
                    # Refused with what, why, until when and how to appeal; under the guard's
                    # lock, which imposing a sanction takes too, so no login slips past one.
                    log.info("login_refused_sanctioned", user_id=locked.user_id, kind=locked.kind)
                    raise refusal(self._settings, locked, now)
                if user is None:
                    user = new_user(phone, Role.CUSTOMER, now)
                    s.add(user)
                    await s.flush()
                login = await self._open_session(s, user, client, user_agent, now, is_new)
        # The guard's new counters are committed above whether or not the code was accepted.
        self._count(LOGINS, decision.result.value)
        if decision.result is sms_policy.VerifyResult.LOCKED:
            log.info("sms_verify_locked", phone=mask_phone(phone))
            raise PhoneLocked(retry_after_s=decision.retry_after_s)
        if not decision.accepted:
            left = self._limits.max_failed_attempts - decision.failed_attempts
            log.info("sms_verify_failed", phone=mask_phone(phone), result=decision.result.value)
            message = (
                "the code has expired"
                if decision.result.value == "code_expired"
                else ("wrong or already used code")
            )
            raise CodeRejected(decision.result.value, message, attempts_left=left)
        log.info("login", user_id=login.user.id, new_user=login.new_user, client=client)
        return login

    async def _open_session(
        self,
        s: AsyncSession,
        user: User,
        client: str,
        user_agent: str,
        now: datetime,
        new_user: bool,
    ) -> Login:
        token = new_token()
        session = AuthSession(
            id=new_id("s"),
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(seconds=self._settings.session_ttl_s),
            last_seen_at=now,
            client=client,
            user_agent=user_agent[:200],
        )
        s.add(session)
        return Login(user, token, AuthSessionId(session.id), session.expires_at, new_user)

    # -- sessions -------------------------------------------------------------------------------

    async def authenticate(self, token: str) -> Principal:
        """The principal behind a token, or :class:`Unauthenticated` (expired, revoked, unknown)."""
        if not token or len(token) > 128:
            raise Unauthenticated()
        async with self._db.reading() as s:
            found = await repo.session_with_user(s, hash_token(token))
        return await self._valid(found)

    async def check_many(
        self, session_ids: list[AuthSessionId]
    ) -> dict[AuthSessionId, Principal | Unauthenticated]:
        """Each login session's principal as the database has it now (its role included), or
        :class:`Unauthenticated`, in one query: how long-lived sockets re-check the logins they
        opened with (``signaling.logins``, through ``kernel.coalesce``)."""
        async with self._db.reading() as s:
            found = await repo.sessions_with_users_by_id(s, list(session_ids))
        out: dict[AuthSessionId, Principal | Unauthenticated] = {}
        for session_id in session_ids:
            try:
                out[session_id] = await self._valid(found.get(session_id))
            except Unauthenticated as exc:
                out[session_id] = exc
        return out

    async def _valid(self, found: tuple[AuthSession, User] | None) -> Principal:
        if found is None:
            raise Unauthenticated()
        now = self._clock.now()
        session, user = found
        idle_deadline = session.last_seen_at + timedelta(seconds=self._settings.session_idle_s)
        if session.revoked_at is not None or session.expires_at <= now or idle_deadline <= now:
            raise Unauthenticated("your session has ended; log in again")
        try:
            role = Role(user.role)
        except ValueError:  # a deleted account ("deleted"): its logins are revoked anyway
            raise Unauthenticated("your session has ended; log in again") from None
        due = (now - session.last_seen_at).total_seconds() >= _TOUCH_EVERY_S
        if due and session.id not in self._touching:
            # A write on the hot read path: its own short unit, only when due, and once per
            # session however many of its requests arrive at the same moment.
            self._touching.add(session.id)
            try:
                async with self._db.writing() as s:
                    await repo.touch_session(s, session.id, now)
            finally:
                self._touching.discard(session.id)
        return Principal(UserId(user.id), role, AuthSessionId(session.id))

    async def logout(self, session_id: AuthSessionId, user_id: UserId) -> None:
        """End one login session; its sockets on every process are disconnected."""
        async with self._db.writing() as s:
            await repo.revoke_session(s, session_id, self._clock.now())
        await self.revocations.publish(Revoked(user_id, Reason.LOGOUT, session_id))

    async def logout_everywhere(self, user_id: UserId) -> int:
        return await self.revoke_user(user_id, Reason.LOGOUT_ALL)

    async def revoke_user(self, user_id: UserId, reason: Reason) -> int:
        """End every login session of ``user_id`` and disconnect all their sockets on every
        process (logout everywhere, a sanction).  The number of sessions that were open."""
        async with self._db.writing() as s:
            ended = await repo.revoke_user_sessions(s, user_id, self._clock.now())
        await self.revocations.publish(Revoked(user_id, reason))
        return ended

    async def role_changed(self, user_id: UserId) -> None:
        """Call after a change of ``user_id``'s role has committed: their logins stay valid, but
        their sockets were authenticated with the old role, so they are disconnected (the
        client reconnects and learns the new role)."""
        await self.revocations.publish(Revoked(user_id, Reason.ROLE_CHANGED))

    # -- users and profiles ---------------------------------------------------------------------

    async def user_by_phone(self, phone: str) -> User | None:
        async with self._db.reading() as s:
            return await repo.user_by_phone(s, phone)

    async def get_user(self, user_id: str) -> User:
        async with self._db.reading() as s:
            user = await repo.user_by_id(s, user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def update_profile(
        self, user_id: UserId, *, nickname: str | None, tags: list[str] | None
    ) -> User:
        try:
            clean_name = None if nickname is None else clean_nickname(nickname)
            clean = None if tags is None else clean_tags(tags)
        except ProfileRuleError as exc:
            raise InvalidProfile(exc.code, str(exc)) from exc
        async with self._db.writing() as s:
            user = await repo.user_by_id(s, user_id)
            if user is None:
                raise UserNotFound()
            if clean_name is not None:
                user.nickname = clean_name
            if clean is not None:
                user.tags = clean
            user.updated_at = self._clock.now()
        return user

    async def set_avatar(self, user_id: UserId, data: bytes, content_type: str) -> User:
        try:
            image = await asyncio.to_thread(
                process_avatar,
                data,
                content_type,
                max_bytes=self._settings.max_avatar_bytes,
                max_pixels=self._settings.max_avatar_pixels,
                size_px=self._settings.avatar_size_px,
            )
        except AvatarRejected as exc:
            if exc.code == "image_too_large":
                raise ImageTooLarge(str(exc)) from exc
            if exc.code == "unsupported_image_type":
                raise InvalidImage(str(exc)) from exc
            raise InvalidImage() from exc
        now = self._clock.now()
        async with self._db.writing() as s:
            # Locked: two uploads at once on PostgreSQL must not both read version N.
            user = await s.get(User, user_id, with_for_update=True)
            if user is None:
                raise UserNotFound()
            await s.merge(
                Avatar(
                    user_id=user_id,
                    content_type=image.content_type,
                    data=image.data,
                    updated_at=now,
                )
            )
            user.avatar_version += 1
            user.updated_at = now
        return user

    async def get_avatar(self, user_id: str) -> Avatar:
        async with self._db.reading() as s:
            avatar = await repo.avatar_of(s, user_id)
        if avatar is None:
            raise UserNotFound("this user has no avatar")
        return avatar

    # -- administration -------------------------------------------------------------------------

    async def ensure_user(
        self,
        raw_phone: str,
        role: Role,
        *,
        nickname: str | None = None,
        tags: list[str] | None = None,
    ) -> tuple[User, bool]:
        """Get or create the user of a phone with ``role`` (CLI: admin create, seed)."""
        phone = self.parse_phone(raw_phone)
        now = self._clock.now()
        async with self._db.writing() as s:
            user = await repo.user_by_phone(s, phone)
            created = user is None
            changed = False
            if user is None:
                user = new_user(phone, role, now, nickname=nickname, tags=tags)
                s.add(user)
            else:
                changed = user.role != role.value
                user.role = role.value
                if nickname is not None:
                    user.nickname = nickname
                if tags is not None:
                    user.tags = tags
                user.updated_at = now
        if changed:
            await self.role_changed(UserId(user.id))
        return user, created
