"""Errors of the accounts domain, each with a stable code and HTTP status."""

from __future__ import annotations

from accounts.sms_policy import Refusal, VerifyResult
from kernel.errors import CodedError, DomainError


class InvalidPhone(DomainError):
    code = "invalid_phone"
    status = 400
    default_message = "not a mainland mobile number (1[3-9] and 9 more digits)"


class SmsRefused(CodedError):
    """A send refused by a rate rule; ``code`` is the rule's own (see ``sms_policy.Refusal``)."""

    status = 429
    codes = tuple(Refusal)

    def __init__(self, code: str, retry_after_s: int, message: str) -> None:
        super().__init__(code, message, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s


class CodeRejected(CodedError):
    """A login code refused; ``code`` is one of ``sms_policy.VerifyResult``'s refusals."""

    status = 400
    codes = tuple(r for r in VerifyResult if r is not VerifyResult.ACCEPTED)


class PhoneLocked(DomainError):
    code = "phone_locked"
    status = 429
    default_message = "too many wrong codes; this phone is locked for a while"


class SmsUnavailable(DomainError):
    code = "sms_unavailable"
    status = 503
    default_message = "the SMS provider did not accept the message; try again shortly"


class InvalidProfile(CodedError):
    status = 400


class InvalidImage(DomainError):
    code = "invalid_image"
    status = 400
    default_message = "the upload is not a PNG, JPEG or WebP image we can decode"


class ImageTooLarge(DomainError):
    code = "image_too_large"
    status = 413
    default_message = "the image is too large"


class UserNotFound(DomainError):
    code = "user_not_found"
    status = 404
    default_message = "no such user"
