"""HTTP adapter for reviews: write, edit and read the review of a session, reply, list a
companion's reviews and mine, report a review, and an admin hiding one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from audit.keys import AUDIT
from kernel.cursor import BadCursor
from kernel.http.access import ADMINS, ANYONE, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict
from market.reviews import rules
from market.reviews.errors import (
    AlreadyReplied,
    AlreadyReviewed,
    CompanionNotFound,
    InvalidStars,
    ReviewLocked,
    ReviewNotFound,
    ReviewSessionNotFound,
    ReviewWindowClosed,
    SessionNotEnded,
    SessionNotPaid,
    TextRefused,
    TextTooLong,
    TooManyReviewTags,
    UnknownReviewTag,
)
from market.reviews.keys import REVIEWS
from market.reviews.service import ReviewView, SessionReview, evidence
from market.reviews.visibility import Audience, Shown, announced, audience, found_by_session, shown
from moderation.keys import REPORTS
from moderation.views import ReportOut, report_out
from signaling.keys import EMITTER

api = Api()

_WRITE_ERRORS = [
    ReviewSessionNotFound,
    SessionNotEnded,
    SessionNotPaid,
    ReviewWindowClosed,
    InvalidStars,
    UnknownReviewTag,
    TooManyReviewTags,
    TextTooLong,
    TextRefused,
]


class ReviewIn(Strict):
    stars: Annotated[int, Field(ge=rules.MIN_STARS, le=rules.MAX_STARS)]
    #: up to 5 of ``GET /api/reviews/tags``
    tags: Annotated[
        list[Annotated[str, Field(max_length=16)]], Field(default_factory=list, max_length=20)
    ]
    text: Annotated[str, Field(max_length=rules.MAX_TEXT_CHARS)] = ""
    #: shown as 匿名 instead of my nickname
    anonymous: bool = False


class ReplyIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=rules.MAX_REPLY_CHARS)]


class ReviewReportIn(Strict):
    reason: Literal["false_review", "harassment", "contact_request", "upselling", "other"]
    details: Annotated[str, Field(max_length=500)] = ""


class HideIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=200)]


class PageQuery(Strict):
    cursor: Annotated[str, Field(max_length=300)] | None = None
    limit: Annotated[int, Field(ge=1, le=50)] = 20


class ReplyOut(BaseModel):
    text: str
    at: datetime


class ReviewOut(BaseModel):
    """A review as anyone sees it: the author by nickname only, or 匿名 (an anonymous review's
    times to the day: ``reviews.visibility``)."""

    id: str
    author: str
    stars: int
    tags: list[str]
    text: str
    created_at: datetime
    updated_at: datetime
    reply: ReplyOut | None


class MyReviewOut(ReviewOut):
    """A review I wrote or received (or moderate)."""

    #: null for the companion when the review is anonymous: the session would name its author
    session_id: str | None
    companion_id: str
    anonymous: bool
    #: taken down by an admin: listed nowhere else, counted in no rating
    hidden: bool


class ReviewsOut(BaseModel):
    reviews: list[ReviewOut]
    next_cursor: str | None


class MyReviewsOut(BaseModel):
    #: ``written`` (I am a customer) or ``received`` (I am a companion)
    kind: str
    reviews: list[MyReviewOut]
    next_cursor: str | None


class SessionReviewOut(BaseModel):
    review: MyReviewOut | None
    can_review: bool
    open_until: datetime | None
    #: why not: session_not_ended | session_not_paid | review_window_closed |
    #: already_reviewed | not_customer
    reason: str | None


class ReviewTagsOut(BaseModel):
    tags: list[str]
    max_tags: int


def review_out(r: ReviewView) -> ReviewOut:
    """A review in the public listing, whoever reads it."""
    return ReviewOut(**_public(shown(r, Audience.PUBLIC)))


def my_review_out(r: ReviewView, who: Audience) -> MyReviewOut:
    """A review as its author, the reviewed companion or an admin sees it."""
    v = shown(r, who)
    return MyReviewOut(
        **_public(v),
        session_id=v.session_id,
        companion_id=v.companion_id,
        anonymous=v.anonymous,
        hidden=v.hidden,
    )


def _viewer(call: Call, r: ReviewView) -> Audience:
    return audience(call.user.user_id, call.user.role, r)


def _public(r: Shown) -> dict[str, object]:
    return {
        "id": r.id,
        "author": r.author,
        "stars": r.stars,
        "tags": r.tags,
        "text": r.text,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "reply": ReplyOut(text=r.reply_text, at=r.replied_at) if r.replied_at else None,
    }


def _session_out(call: Call, v: SessionReview) -> SessionReviewOut:
    review = v.review
    if review is not None and not found_by_session(review, _viewer(call, review)):
        review = None
    return SessionReviewOut(
        review=my_review_out(review, _viewer(call, review)) if review is not None else None,
        can_review=v.can_review,
        open_until=v.open_until,
        reason=v.reason,
    )


def _id(call: Call, name: str) -> str:
    return call.request.match_info[name][:40]


@api.route(
    "GET",
    "/api/reviews/tags",
    access=access(ANYONE),
    summary="The tags a review may carry",
    tags=["reviews"],
    auth="none",
    response=ReviewTagsOut,
)
async def review_tags(call: Call) -> BaseModel:
    return ReviewTagsOut(tags=list(rules.REVIEW_TAGS), max_tags=rules.MAX_TAGS)


@api.route(
    "POST",
    "/api/sessions/{session_id}/review",
    access=access(USERS, session_id="customer"),
    summary="Review my paid session (once, within the review window; a resend returns it)",
    tags=["reviews"],
    body=ReviewIn,
    response=MyReviewOut,
    status=201,
    errors=[*_WRITE_ERRORS, AlreadyReviewed],
)
async def write_review(call: Call) -> BaseModel:
    body: ReviewIn = call.body
    review, _created = await call.request.app[REVIEWS].write(
        call.user.user_id,
        _id(call, "session_id"),
        stars=body.stars,
        tags=body.tags,
        text=body.text,
        anonymous=body.anonymous,
    )
    if _created and announced(review):
        await call.request.app[EMITTER].to_user(
            review.companion_id,
            "review:received",
            {"review_id": review.id, "session_id": review.session_id, "stars": review.stars},
        )
    return my_review_out(review, _viewer(call, review))


@api.route(
    "PUT",
    "/api/sessions/{session_id}/review",
    access=access(USERS, session_id="customer"),
    summary="Change my review while the window is open and it has no reply",
    tags=["reviews"],
    body=ReviewIn,
    response=MyReviewOut,
    errors=[*_WRITE_ERRORS, ReviewNotFound, ReviewLocked],
)
async def edit_review(call: Call) -> BaseModel:
    body: ReviewIn = call.body
    review = await call.request.app[REVIEWS].edit(
        call.user.user_id,
        _id(call, "session_id"),
        stars=body.stars,
        tags=body.tags,
        text=body.text,
        anonymous=body.anonymous,
    )
    return my_review_out(review, _viewer(call, review))


@api.route(
    "GET",
    "/api/sessions/{session_id}/review",
    access=access(USERS, session_id="participant"),
    summary="The review of my session, or whether (and until when) I can still write it",
    tags=["reviews"],
    response=SessionReviewOut,
    errors=[ReviewSessionNotFound],
)
async def session_review(call: Call) -> BaseModel:
    state = await call.request.app[REVIEWS].of_session(call.user.user_id, _id(call, "session_id"))
    return _session_out(call, state)


@api.route(
    "POST",
    "/api/reviews/{review_id}/reply",
    access=access(USERS, review_id="companion"),
    summary="Companion: reply to a review of me (once)",
    tags=["reviews"],
    body=ReplyIn,
    response=MyReviewOut,
    errors=[ReviewNotFound, AlreadyReplied, TextTooLong, TextRefused],
)
async def reply_review(call: Call) -> BaseModel:
    body: ReplyIn = call.body
    review = await call.request.app[REVIEWS].reply(
        call.user.user_id, _id(call, "review_id"), body.text
    )
    return my_review_out(review, _viewer(call, review))


@api.route(
    "GET",
    "/api/companions/{companion_id}/reviews",
    access=access(ANYONE, companion_id="public"),
    summary="A companion's reviews, newest first (keyset pages)",
    tags=["reviews"],
    auth="none",
    query=PageQuery,
    response=ReviewsOut,
    errors=[CompanionNotFound, BadCursor],
)
async def companion_reviews(call: Call) -> BaseModel:
    q: PageQuery = call.query
    page, cursor = await call.request.app[REVIEWS].of_companion(
        _id(call, "companion_id"), q.cursor, q.limit
    )
    return ReviewsOut(reviews=[review_out(r) for r in page], next_cursor=cursor)


@api.route(
    "GET",
    "/api/me/reviews",
    access=access(USERS),
    summary="Reviews I wrote (customer) or received (companion), newest first",
    tags=["reviews"],
    query=PageQuery,
    response=MyReviewsOut,
    errors=[BadCursor],
)
async def my_reviews(call: Call) -> BaseModel:
    q: PageQuery = call.query
    reviews = call.request.app[REVIEWS]
    if call.user.role == "companion":
        kind = "received"
        page, cursor = await reviews.of_companion(call.user.user_id, q.cursor, q.limit)
    else:
        kind = "written"
        page, cursor = await reviews.written_by(call.user.user_id, q.cursor, q.limit)
    return MyReviewsOut(
        kind=kind,
        reviews=[my_review_out(r, _viewer(call, r)) for r in page],
        next_cursor=cursor,
    )


@api.route(
    "POST",
    "/api/reviews/{review_id}/report",
    access=access(USERS, review_id="public"),
    summary="Report a review (to the admins' queue, with the review as evidence)",
    tags=["reviews", "safety"],
    body=ReviewReportIn,
    response=ReportOut,
    status=201,
    errors=[ReviewNotFound],
)
async def report_review(call: Call) -> BaseModel:
    body: ReviewReportIn = call.body
    review = await call.request.app[REVIEWS].visible(_id(call, "review_id"))
    report = await call.request.app[REPORTS].report_review(
        call.user.user_id,
        review.customer_id,
        review.session_id,
        body.reason,
        body.details,
        evidence(review),
    )
    return report_out(report)


@api.route(
    "POST",
    "/api/admin/reviews/{review_id}/hide",
    access=access(ADMINS, review_id="admin"),
    summary="Admin: take a review down (not listed, not rated); audit-logged",
    tags=["reviews", "admin"],
    body=HideIn,
    response=MyReviewOut,
    errors=[ReviewNotFound],
)
async def hide_review(call: Call) -> BaseModel:
    body: HideIn = call.body
    review = await call.request.app[REVIEWS].hide(
        _id(call, "review_id"), call.user.user_id, body.reason, call.request.app[AUDIT]
    )
    return my_review_out(review, _viewer(call, review))
