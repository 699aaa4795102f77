"""Errors of the appeals domain, each with a stable code and HTTP status."""

from __future__ import annotations

from kernel.errors import DomainError


class AppealNotFound(DomainError):
    code = "appeal_not_found"
    status = 404
    default_message = "no such appeal"


class AppealedSessionNotFound(DomainError):
    code = "session_not_found"
    status = 404
    default_message = "no such session of yours"


class SessionNotEnded(DomainError):
    code = "session_not_ended"
    status = 409
    default_message = "a session can be appealed once it has ended"


class NothingToAppeal(DomainError):
    code = "nothing_to_appeal"
    status = 409
    default_message = "this session charged nothing that is not refunded already"


class AppealWindowClosed(DomainError):
    code = "appeal_window_closed"
    status = 409
    default_message = "the time to appeal this session has passed"


class AlreadyAppealed(DomainError):
    code = "already_appealed"
    status = 409
    default_message = "this session was appealed already"


class TooManyOpenAppeals(DomainError):
    code = "too_many_open_appeals"
    status = 409
    default_message = "you have appeals waiting for a decision; wait for them first"


class NotTheCompanion(DomainError):
    code = "not_the_companion"
    status = 403
    default_message = "only the session's companion responds to its appeal"


class AlreadyResponded(DomainError):
    code = "already_responded"
    status = 409
    default_message = "the companion has responded to this appeal already"


class AppealDecided(DomainError):
    code = "appeal_decided"
    status = 409
    default_message = "this appeal has been decided; a decision is final"


class AppealDeciding(DomainError):
    code = "appeal_deciding"
    status = 409
    default_message = "another decision on this appeal is being carried out"


class NothingToRefund(DomainError):
    code = "nothing_to_refund"
    status = 409
    default_message = "nothing of this session is left to refund; reject the appeal instead"


class InvalidRefundAmount(DomainError):
    code = "invalid_refund_amount"
    status = 400
    default_message = "a partial refund is 1 fen to 1 fen less than what is refundable"


class InvalidDecision(DomainError):
    code = "invalid_decision"
    status = 400
    default_message = "only a partial decision takes amount_fen, and it needs one"


class InvalidText(DomainError):
    code = "invalid_text"
    status = 400
    default_message = "the text is too short or too long once trimmed"
