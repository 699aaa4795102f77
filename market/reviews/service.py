"""Reviews: write (and edit) one per paid session, the companion's one reply, the listings, the
"can I review this session" view, the evidence of a report, and an admin hiding a review.

Every write that changes what counts (a review, an edit, hiding) recomputes the companion's
figures in the same transaction (``StatsService.refresh_in``).  Texts are moderated with the
chat's detector and policy: a ``block`` verdict refuses the text with its categories
(``text_refused``), ``mask`` stores it masked, ``review`` stores it (masked where it must be) and
queues it for an admin as an automatic report (``ReportService.flag_review``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from audit.log import AuditLog
from kernel.clock import Clock
from kernel.cursor import BadCursor, CursorCodec
from market.reviews import rules
from market.reviews.errors import (
    RULE_ERRORS,
    AlreadyReplied,
    AlreadyReviewed,
    CompanionNotFound,
    ReviewLocked,
    ReviewNotFound,
    ReviewSessionNotFound,
    TextRefused,
)
from market.reviews.stats import StatsService
from moderation.detect import DEFAULT_POLICY, Action, Detector, Policy
from moderation.reports import ReportService
from store import Database
from store.models import MeteredSession, User
from store.models.reviews import Review

MAX_PAGE = 50


@dataclass(frozen=True, slots=True)
class ReviewView:
    id: str
    session_id: str
    customer_id: str
    companion_id: str
    #: the customer's nickname, or 匿名
    author: str
    stars: int
    tags: list[str]
    text: str
    anonymous: bool
    moderation: str
    created_at: datetime
    updated_at: datetime
    reply_text: str
    replied_at: datetime | None
    hidden: bool


@dataclass(frozen=True, slots=True)
class SessionReview:
    """A session's review as one participant sees it, and whether it can be written now."""

    review: ReviewView | None
    can_review: bool
    #: the end of the review window (None: the session is not a paid, ended one)
    open_until: datetime | None
    #: why not, when not: session_not_ended | session_not_paid | review_window_closed |
    #: already_reviewed | not_customer
    reason: str | None


def view(r: Review, nickname: str) -> ReviewView:
    return ReviewView(
        id=r.id,
        session_id=r.session_id,
        customer_id=r.customer_id,
        companion_id=r.companion_id,
        author=rules.display_name(nickname, r.anonymous),
        stars=r.stars,
        tags=list(r.tags),
        text=r.text,
        anonymous=r.anonymous,
        moderation=r.moderation,
        created_at=r.created_at,
        updated_at=r.updated_at,
        reply_text=r.reply_text,
        replied_at=r.replied_at,
        hidden=r.hidden_at is not None,
    )


@dataclass(frozen=True, slots=True)
class Moderated:
    text: str
    action: str
    categories: tuple[str, ...]


class ReviewService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        stats: StatsService,
        detector: Detector,
        cursors: CursorCodec,
        *,
        reports: ReportService | None = None,
        window_s: int = 7 * 86_400,
    ) -> None:
        self._db = db
        self._clock = clock
        self._stats = stats
        self._detector = detector
        self._cursors = cursors
        self._reports = reports
        self._window_s = window_s

    @staticmethod
    def detector_from(secret: str, policy: str) -> Detector:
        """The chat's detector (``ChatRules.from_secret``): the same key for value hashes and
        the same ``PEILIAO_MODERATION_POLICY``."""
        key = hmac.new(secret.encode(), b"moderation", hashlib.sha256).digest()
        return Detector(key, Policy.parse(policy) if policy else DEFAULT_POLICY)

    # -- writing ---------------------------------------------------------------------------------

    async def write(
        self,
        customer_id: str,
        session_id: str,
        *,
        stars: int,
        tags: Sequence[str],
        text: str,
        anonymous: bool,
    ) -> tuple[ReviewView, bool]:
        """Review a paid session of ``customer_id``: (the review, whether it is new).  Sending
        the same review again returns it; a different one is ``already_reviewed``."""
        stars, clean_tags, clean = _checked(stars, tags, text)
        moderated = self._moderate(clean, "customer")
        for attempt in range(2):  # a concurrent resend or first refresh: the second pass sees it
            try:
                async with self._db.writing() as s:
                    session = await self._own_session(s, customer_id, session_id)
                    existing = await s.scalar(select(Review).where(Review.session_id == session_id))
                    if existing is not None:
                        same = (stars, clean_tags, moderated.text, anonymous) == (
                            existing.stars,
                            list(existing.tags),
                            existing.text,
                            existing.anonymous,
                        )
                        if not same:
                            raise AlreadyReviewed()
                        return await self._view(s, existing), False
                    self._check_window(session)
                    now = self._clock.now()
                    row = Review(
                        id="rev_" + secrets.token_hex(12),
                        session_id=session_id,
                        customer_id=customer_id,
                        companion_id=session.companion_id,
                        stars=stars,
                        tags=clean_tags,
                        text=moderated.text,
                        moderation=moderated.action,
                        anonymous=anonymous,
                        created_at=now,
                        updated_at=now,
                        reply_text="",
                        hidden_reason="",
                    )
                    s.add(row)
                    await s.flush()
                    await self._stats.refresh_in(s, row.companion_id)
                    await self._flag(s, row, moderated, customer_id)
                    written = await self._view(s, row)
                break
            except IntegrityError:
                if attempt:
                    raise
        await self._stats.changed(written.companion_id)
        return written, True

    async def edit(
        self,
        customer_id: str,
        session_id: str,
        *,
        stars: int,
        tags: Sequence[str],
        text: str,
        anonymous: bool,
    ) -> ReviewView:
        """Change my review while its window is open and the companion has not replied."""
        stars, clean_tags, clean = _checked(stars, tags, text)
        moderated = self._moderate(clean, "customer")
        async with self._db.writing() as s:
            session = await self._own_session(s, customer_id, session_id)
            row = await s.scalar(
                select(Review).where(Review.session_id == session_id).with_for_update()
            )
            if row is None:
                raise ReviewNotFound()
            self._check_window(session)
            if row.replied_at is not None or row.hidden_at is not None:
                raise ReviewLocked()
            row.stars = stars
            row.tags = clean_tags
            row.text = moderated.text
            row.moderation = moderated.action
            row.anonymous = anonymous
            row.updated_at = self._clock.now()
            await s.flush()
            await self._stats.refresh_in(s, row.companion_id)
            await self._flag(s, row, moderated, customer_id)
            edited = await self._view(s, row)
        await self._stats.changed(edited.companion_id)
        return edited

    async def reply(self, companion_id: str, review_id: str, text: str) -> ReviewView:
        """The reviewed companion's one reply; sending the same again returns it."""
        try:
            clean = rules.clean_text(text, rules.MAX_REPLY_CHARS)
        except rules.RuleError as exc:
            raise RULE_ERRORS[exc.code](str(exc)) from None
        moderated = self._moderate(clean, "companion")
        async with self._db.writing() as s:
            row = await s.get(Review, review_id, with_for_update=True)
            if row is None or row.companion_id != companion_id or row.hidden_at is not None:
                raise ReviewNotFound()
            if row.replied_at is not None:
                if row.reply_text == moderated.text:
                    return await self._view(s, row)
                raise AlreadyReplied()
            row.reply_text = moderated.text
            row.replied_at = self._clock.now()
            await self._flag(s, row, moderated, companion_id)
            return await self._view(s, row)

    async def hide(self, review_id: str, admin_id: str, reason: str, audit: AuditLog) -> ReviewView:
        """An admin takes a review down: listed nowhere, counted in no rating; audit-logged in
        the same transaction.  Hiding a hidden review changes nothing."""
        async with self._db.writing() as s:
            row = await s.get(Review, review_id, with_for_update=True)
            if row is None:
                raise ReviewNotFound()
            if row.hidden_at is None:
                row.hidden_at = self._clock.now()
                row.hidden_by = admin_id
                row.hidden_reason = reason.strip()
                await s.flush()
                await self._stats.refresh_in(s, row.companion_id)
                await audit.record(
                    key=f"review.hide:{row.id}",
                    admin_id=admin_id,
                    action="review.hide",
                    subject_type="review",
                    subject_id=row.id,
                    detail={
                        "reason": row.hidden_reason,
                        "session_id": row.session_id,
                        "companion_id": row.companion_id,
                        "stars": row.stars,
                    },
                    s=s,
                )
            hidden = await self._view(s, row)
        await self._stats.changed(hidden.companion_id)
        return hidden

    # -- reading ---------------------------------------------------------------------------------

    async def of_session(self, user_id: str, session_id: str) -> SessionReview:
        """The review of a session I took part in, and whether (until when) I can write it."""
        async with self._db.reading() as s:
            session = await s.get(MeteredSession, session_id)
            if session is None or user_id not in (session.customer_id, session.companion_id):
                raise ReviewSessionNotFound()
            row = await s.scalar(select(Review).where(Review.session_id == session_id))
            shown = None
            if row is not None and (row.hidden_at is None or user_id == row.customer_id):
                shown = await self._view(s, row)
        window = rules.review_window(
            session.status,
            session.billed_minutes,
            session.ended_at,
            self._clock.now(),
            self._window_s,
        )
        if user_id != session.customer_id:
            return SessionReview(shown, False, window.until, "not_customer")
        if row is not None:
            return SessionReview(shown, False, window.until, "already_reviewed")
        return SessionReview(None, window.open, window.until, window.code)

    async def visible(self, review_id: str) -> ReviewView:
        async with self._db.reading() as s:
            row = await s.get(Review, review_id)
            if row is None or row.hidden_at is not None:
                raise ReviewNotFound()
            return await self._view(s, row)

    async def of_companion(
        self, companion_id: str, cursor: str | None, limit: int
    ) -> tuple[list[ReviewView], str | None]:
        """A companion's visible reviews, newest first."""
        async with self._db.reading() as s:
            role = await s.scalar(select(User.role).where(User.id == companion_id))
        if role != "companion":
            raise CompanionNotFound()
        return await self._page(
            "reviews.companion",
            and_(Review.companion_id == companion_id, Review.hidden_at.is_(None)),
            cursor,
            limit,
        )

    async def written_by(
        self, customer_id: str, cursor: str | None, limit: int
    ) -> tuple[list[ReviewView], str | None]:
        """Reviews ``customer_id`` wrote, newest first, hidden ones too (marked)."""
        return await self._page("reviews.written", Review.customer_id == customer_id, cursor, limit)

    async def _page(
        self, kind: str, where: Any, cursor: str | None, limit: int
    ) -> tuple[list[ReviewView], str | None]:
        limit = max(1, min(limit, MAX_PAGE))
        stmt = (
            select(Review, User.nickname)
            .join(User, User.id == Review.customer_id)
            .where(where)
            .order_by(Review.created_at.desc(), Review.id.desc())
        )
        async with self._db.reading() as s:
            if cursor:
                # The cursor holds the last review's id only, its time is read back here: a
                # cursor is readable (signed, not sealed), and an anonymous review's exact time
                # is not for its readers (``reviews.visibility``).
                review_id = self._position(kind, cursor)
                at = await s.scalar(select(Review.created_at).where(Review.id == review_id))
                if at is None:
                    raise BadCursor()
                stmt = stmt.where(
                    or_(
                        Review.created_at < at,
                        and_(Review.created_at == at, Review.id < review_id),
                    )
                )
            rows = (await s.execute(stmt.limit(limit + 1))).all()
        page = [view(r, nickname) for r, nickname in rows[:limit]]
        more = len(rows) > limit
        next_cursor = self._cursors.encode(kind, [page[-1].id]) if more else None
        return page, next_cursor

    def _position(self, kind: str, cursor: str) -> str:
        position = self._cursors.decode(kind, cursor)
        if len(position) != 1 or not isinstance(position[0], str) or len(position[0]) > 40:
            raise BadCursor()
        return position[0]

    # -- helpers ---------------------------------------------------------------------------------

    async def _own_session(
        self, s: AsyncSession, customer_id: str, session_id: str
    ) -> MeteredSession:
        session = await s.get(MeteredSession, session_id)
        if session is None or session.customer_id != customer_id:
            raise ReviewSessionNotFound()  # someone else's session does not exist for me
        return session

    def _check_window(self, session: MeteredSession) -> None:
        window = rules.review_window(
            session.status,
            session.billed_minutes,
            session.ended_at,
            self._clock.now(),
            self._window_s,
        )
        if not window.open:
            assert window.code is not None
            raise RULE_ERRORS[window.code]()

    def _moderate(self, text: str, role: str) -> Moderated:
        if not text:
            return Moderated("", Action.ALLOW.value, ())
        decision = self._detector.check(text, sender_role=role)
        categories = tuple(c.value for c in decision.categories)
        if decision.action is Action.BLOCK:
            raise TextRefused(
                decision.reason or "the text holds what may not be published",
                categories=list(categories),
            )
        return Moderated(decision.text, decision.action.value, categories)

    async def _flag(self, s: AsyncSession, row: Review, moderated: Moderated, author: str) -> None:
        if moderated.action != Action.REVIEW.value or self._reports is None:
            return
        nickname = await s.scalar(select(User.nickname).where(User.id == row.customer_id))
        await self._reports.flag_review(
            author, row.session_id, moderated.categories, evidence(view(row, nickname or "")), s=s
        )

    async def _view(self, s: AsyncSession, row: Review) -> ReviewView:
        nickname = await s.scalar(select(User.nickname).where(User.id == row.customer_id))
        return view(row, nickname or "")


def evidence(r: ReviewView) -> dict[str, Any]:
    """A review as stored, for a report (JSON)."""
    return {
        "review": {
            "id": r.id,
            "session_id": r.session_id,
            "customer_id": r.customer_id,
            "companion_id": r.companion_id,
            "stars": r.stars,
            "tags": r.tags,
            "text": r.text,
            "anonymous": r.anonymous,
            "moderation": r.moderation,
            "created_at": r.created_at.isoformat(),
            "updated_at": r.updated_at.isoformat(),
            "reply_text": r.reply_text,
            "replied_at": r.replied_at.isoformat() if r.replied_at else None,
        }
    }


def _checked(stars: int, tags: Sequence[str], text: str) -> tuple[int, list[str], str]:
    try:
        return (
            rules.check_stars(stars),
            rules.clean_tags(tags),
            rules.clean_text(text, rules.MAX_TEXT_CHARS),
        )
    except rules.RuleError as exc:
        raise RULE_ERRORS[exc.code](str(exc)) from None
