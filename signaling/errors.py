"""Errors of the signaling domain, each with a stable code (sent in Socket.IO acks)."""

from __future__ import annotations

from kernel.errors import CodedError, DomainError


class CallNotFound(DomainError):
    code = "call_not_found"
    status = 404
    default_message = "no such call"


class NotParticipant(DomainError):
    code = "not_participant"
    status = 403
    default_message = "only the two participants may do this"


class NotCallable(DomainError):
    code = "not_callable"
    status = 409
    default_message = "this user is not a companion you can call"


class CompanionOffline(DomainError):
    code = "companion_offline"
    status = 409
    default_message = "the companion is not taking orders right now"


class CompanionBusy(DomainError):
    code = "companion_busy"
    status = 409
    default_message = "the companion is in another session; try again later"


class AlreadyInCall(DomainError):
    code = "already_in_call"
    status = 409
    default_message = "you already have an open session; end it first"


class Blocked(DomainError):
    code = "blocked"
    status = 403
    default_message = "you cannot call this user"


class Draining(DomainError):
    code = "draining"
    status = 503
    default_message = "this server is shutting down; reconnect and try again"


class CallRefused(CodedError):
    """The lifecycle refused the event (``call_active``, ``call_ended``, ``answered_elsewhere``)."""

    status = 409


class MessageBlocked(DomainError):
    code = "message_blocked"
    status = 422
    default_message = "this message was not delivered"


class NotChatting(DomainError):
    code = "call_not_active"
    status = 409
    default_message = "messages can be sent only while the session is active"
