"""Errors of the vetting domain, each with a stable code and HTTP status.

The pure rules (``specialties``, ``checklist``, ``uploads``) raise plain ``ValueError``s with a
code; :func:`refusal` turns one into the class of that code, so every code the API can answer
is a class here (and is listed in the OpenAPI document).
"""

from __future__ import annotations

from typing import Any

from kernel.errors import DomainError


class RealNameRequired(DomainError):
    code = "real_name_required"
    status = 400
    default_message = "verify your real name first (PUT /api/me/real-name)"


class MinorNotAllowed(DomainError):
    code = "minor_not_allowed"
    status = 400
    default_message = "under-18s cannot become companions"


class AdminCannotApply(DomainError):
    code = "admin_cannot_apply"
    status = 403
    default_message = "an admin account cannot apply to be a companion"


class NotCompanion(DomainError):
    code = "not_companion"
    status = 403
    default_message = "only companions have a level"


class ApplicationNotFound(DomainError):
    code = "application_not_found"
    status = 404
    default_message = "no such application"


class ApplicationPending(DomainError):
    code = "application_pending"
    status = 409
    default_message = "your application is waiting for review and cannot be changed"


class ApplicationDecided(DomainError):
    code = "application_decided"
    status = 409
    default_message = "this application was decided already"


class ApplicationIncomplete(DomainError):
    code = "application_incomplete"
    status = 400
    default_message = "the application is not complete"


class TooManySubmissions(DomainError):
    code = "too_many_submissions"
    status = 429
    default_message = "too many applications submitted today: try again tomorrow"


class ReapplyCooldown(DomainError):
    code = "reapply_cooldown"
    status = 429
    default_message = "you may submit again a while after a rejection"


class ReasonRequired(DomainError):
    code = "reason_required"
    status = 400
    default_message = "a rejection needs a reason (the applicant is shown it)"


class CertificateNotFound(DomainError):
    code = "certificate_not_found"
    status = 404
    default_message = "no such certificate"


class VoiceSampleNotFound(DomainError):
    code = "voice_sample_not_found"
    status = 404
    default_message = "no voice sample"


class TooManyCertificates(DomainError):
    code = "too_many_certificates"
    status = 400
    default_message = "too many certificates on this application"


# -- the pure rules' refusals ---------------------------------------------------------------


class UnknownSpecialty(DomainError):
    code = "unknown_specialty"
    status = 400


class NoSpecialty(DomainError):
    code = "no_specialty"
    status = 400


class TooManySpecialties(DomainError):
    code = "too_many_specialties"
    status = 400


class IntroLength(DomainError):
    code = "intro_length"
    status = 400


class IntroCharacters(DomainError):
    code = "intro_characters"
    status = 400


class IntroContactDetails(DomainError):
    """``details.categories``: the kinds found (phone, messenger_id, email_url, id_card, …)."""

    code = "intro_contact_details"
    status = 400


class RateOutOfBounds(DomainError):
    code = "rate_out_of_bounds"
    status = 400


class RateOrder(DomainError):
    code = "rate_order"
    status = 400


class InvalidCategory(DomainError):
    code = "invalid_category"
    status = 400


class UnsupportedAudioType(DomainError):
    code = "unsupported_audio_type"
    status = 415


class VoiceSampleTooLarge(DomainError):
    code = "voice_sample_too_large"
    status = 413


class InvalidVoiceSample(DomainError):
    code = "invalid_voice_sample"
    status = 400


class UnsupportedImageType(DomainError):
    code = "unsupported_image_type"
    status = 415


class CertificateTooLarge(DomainError):
    code = "certificate_too_large"
    status = 413


class InvalidCertificate(DomainError):
    code = "invalid_certificate"
    status = 400


RULE_ERRORS: tuple[type[DomainError], ...] = (
    UnknownSpecialty,
    NoSpecialty,
    TooManySpecialties,
    IntroLength,
    IntroCharacters,
    IntroContactDetails,
    RateOutOfBounds,
    RateOrder,
)
UPLOAD_ERRORS: tuple[type[DomainError], ...] = (
    UnsupportedAudioType,
    VoiceSampleTooLarge,
    InvalidVoiceSample,
    UnsupportedImageType,
    CertificateTooLarge,
    InvalidCertificate,
    InvalidCategory,
    TooManyCertificates,
)
_BY_CODE = {cls.code: cls for cls in RULE_ERRORS + UPLOAD_ERRORS}


def refusal(code: str, message: str, **details: Any) -> DomainError:
    """The domain error of a rule's ``code`` (every code a pure rule raises has a class)."""
    cls = _BY_CODE.get(code)
    assert cls is not None, f"no error class for rule code {code!r}"
    return cls(message, **details)
