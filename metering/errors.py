"""Errors of the metering domain, each with a stable code and HTTP status."""

from __future__ import annotations

from kernel.errors import CodedError, DomainError


class InsufficientFunds(DomainError):
    code = "insufficient_funds"
    status = 402
    default_message = "the balance does not cover the next minute; top up first"


class BudgetExceeded(DomainError):
    code = "budget_exceeded"
    status = 402
    default_message = "this charge would pass your monthly budget cap"


class RatesNotSet(DomainError):
    code = "rates_not_set"
    status = 409
    default_message = "this companion has not set rates"


class InvalidRates(CodedError):
    status = 400


class SessionNotFound(DomainError):
    code = "session_not_found"
    status = 404
    default_message = "no such metered session"


class SessionEnded(DomainError):
    code = "session_ended"
    status = 409
    default_message = "the session has ended"


class SessionNotEnded(DomainError):
    code = "session_not_ended"
    status = 409
    default_message = "refunds are for sessions that have ended"


class SessionExists(DomainError):
    code = "session_exists"
    status = 409
    default_message = "a session with this id exists for other parties"


class MeterBusy(DomainError):
    """The customer already has an open metered session (a call, a booking's call or a room
    seat): ``details.kind`` says which.  The code is the one clients know for this refusal."""

    code = "already_in_call"
    status = 409
    default_message = "you already have an open session; end it first"


class InvalidAmount(DomainError):
    code = "invalid_amount"
    status = 400
    default_message = "amounts are whole fen, above zero and within limits"


class RefundTooLarge(DomainError):
    code = "refund_too_large"
    status = 409
    default_message = "a refund may not exceed what was charged and not yet refunded"


class RefundUncovered(DomainError):
    code = "refund_uncovered"
    status = 409
    default_message = "the companion's earnings from this session were already paid out"


class CouponUsed(DomainError):
    code = "coupon_already_used"
    status = 409
    default_message = "this coupon was already redeemed by this account"


class PackageNotFound(DomainError):
    code = "package_not_found"
    status = 404
    default_message = "no such package"


class PaymentRejected(DomainError):
    code = "payment_rejected"
    status = 400
    default_message = "the payment notification was not accepted"


class OrderNotFound(DomainError):
    code = "order_not_found"
    status = 404
    default_message = "no such payment order"


class WithdrawalRefused(CodedError):
    status = 409


class OfferRefused(CodedError):
    status = 409
