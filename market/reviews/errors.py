"""Errors of the reviews domain."""

from __future__ import annotations

from kernel.errors import DomainError


class ReviewSessionNotFound(DomainError):
    """Also for someone else's session: its existence does not leak."""

    code = "session_not_found"
    status = 404
    default_message = "no such session"


class ReviewNotFound(DomainError):
    code = "review_not_found"
    status = 404
    default_message = "no such review"


class CompanionNotFound(DomainError):
    code = "companion_not_found"
    status = 404
    default_message = "no such companion"


class SessionNotEnded(DomainError):
    code = "session_not_ended"
    status = 409
    default_message = "a session can be reviewed once it has ended"


class SessionNotPaid(DomainError):
    code = "session_not_paid"
    status = 409
    default_message = "only a session with billed minutes can be reviewed"


class ReviewWindowClosed(DomainError):
    code = "review_window_closed"
    status = 409
    default_message = "the time to review this session has passed"


class AlreadyReviewed(DomainError):
    code = "already_reviewed"
    status = 409
    default_message = "this session has a review already"


class AlreadyReplied(DomainError):
    code = "already_replied"
    status = 409
    default_message = "this review has a reply already"


class ReviewLocked(DomainError):
    code = "review_locked"
    status = 409
    default_message = "a review with a reply can no longer be edited"


class InvalidStars(DomainError):
    code = "invalid_stars"
    status = 400
    default_message = "stars must be 1-5"


class UnknownReviewTag(DomainError):
    code = "unknown_review_tag"
    status = 400
    default_message = "a tag is not one of the review tags"


class TooManyReviewTags(DomainError):
    code = "too_many_review_tags"
    status = 400
    default_message = "too many tags"


class TextTooLong(DomainError):
    code = "text_too_long"
    status = 400
    default_message = "the text is too long"


#: reviews.rules.RuleError codes → the errors the API answers with
RULE_ERRORS: dict[str, type[DomainError]] = {
    e.code: e
    for e in (
        InvalidStars,
        UnknownReviewTag,
        TooManyReviewTags,
        TextTooLong,
        SessionNotEnded,
        SessionNotPaid,
        ReviewWindowClosed,
    )
}


class TextRefused(DomainError):
    code = "text_refused"
    status = 400
    default_message = "the text holds what may not be published"


class BadCursor(DomainError):
    code = "bad_cursor"
    status = 400
    default_message = "the cursor is not one this server gave"
