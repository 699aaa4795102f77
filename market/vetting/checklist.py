"""What an application needs before it can be submitted, and the rates it may ask for.

Pure: no I/O.  A first application needs a voice sample (customers hear it before they call);
a companion reapplying keeps their public one unless they upload another.  Each specialist
category applied for (``metering.tariff.SPECIALIST_CATEGORIES``) needs a certificate on this
application, unless an earlier approval accepted one for it already.  Requested rates must
lie within the bounds of the applicant's level (newcomer for a first application), with the
specialist ceiling when a specialist category is applied for.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from enum import StrEnum

from market.vetting.specialties import ApplicationRuleError, specialist_specialties
from metering.tariff import Level, RateError, Rates, is_specialist, validate_rates


class Status(StrEnum):
    DRAFT = "draft"  # the applicant edits it
    PENDING = "pending"  # submitted, waiting for an admin; frozen
    APPROVED = "approved"
    REJECTED = "rejected"  # with a reason; the applicant may edit and submit again


OPEN_STATUSES = (Status.DRAFT, Status.PENDING)
VOICE_SAMPLE = "voice_sample"
CERTIFICATE = "certificate"


def missing(
    specialties: Sequence[str],
    *,
    has_voice_sample: bool,
    first_application: bool,
    certificate_categories: Collection[str],
    certified: Collection[str],
) -> list[str]:
    """What is still missing: ``voice_sample`` and ``certificate:<category>`` items."""
    items: list[str] = []
    if first_application and not has_voice_sample:
        items.append(VOICE_SAMPLE)
    for category in specialist_specialties(specialties):
        if category not in certificate_categories and category not in certified:
            items.append(f"{CERTIFICATE}:{category}")
    return items


def check_rates(rates: Rates, level: Level, specialties: Sequence[str]) -> Rates:
    """``rates`` if allowed for ``level`` and these specialties, else
    :class:`ApplicationRuleError` (``rate_out_of_bounds`` / ``rate_order``)."""
    try:
        return validate_rates(rates, level, is_specialist(list(specialties)))
    except RateError as exc:
        raise ApplicationRuleError(exc.code, str(exc), level=level.value) from None
