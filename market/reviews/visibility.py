"""What each viewer sees of a review: the one decision every response and event that carries a
review goes through (``reviews.routes``).  Pure: no I/O.

An anonymous review hides its author from everyone but the author and the admins (who moderate
with the real identities).  Hidden means more than the name: the reviewed companion's own
session history, bookings and appeals list every session with its customer, so anything that
joins the review to its session names the author as surely as the id would.  So for them:

- no session (call) id, no booking, no customer id;
- its times to the day only (China time): a review written minutes after a session ended would
  otherwise point at that session;
- not found from the session (``GET /api/sessions/{id}/review`` shows the companion no
  anonymous review; the companion's data export lists it without its session), and no
  ``review:received`` push (its arrival seconds after a session
  ended would point at it just the same).

What remains observable, on purpose: the day, the stars and text, the order of the listing,
and the companion's figures (a count that grows).  A companion who polls the listing the
moment each session ends can still guess; stopping that needs publication delayed or batched,
which is a product decision this module does not take.

A review that is not anonymous names its author by nickname to everyone; the reviewed
companion also gets the session id (they were in it: it tells them nothing new).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the view's shape only: this module does no I/O
    from market.reviews.service import ReviewView

#: reviews' dates are shown in China time (no daylight saving: a fixed offset is exact)
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


class Parties(Protocol):
    """What the decision reads: a ``ReviewView``, or a stored ``Review`` row (the export)."""

    @property
    def customer_id(self) -> str: ...

    @property
    def companion_id(self) -> str: ...

    @property
    def anonymous(self) -> bool: ...


class Audience(StrEnum):
    #: the customer who wrote it
    AUTHOR = "author"
    #: the companion it reviews
    REVIEWED = "reviewed"
    #: an admin, moderating
    ADMIN = "admin"
    #: anyone else, logged in or not (also the public listing, whoever reads it)
    PUBLIC = "public"


def audience(viewer_id: str | None, viewer_role: str | None, r: Parties) -> Audience:
    if viewer_id is not None and viewer_id == r.customer_id:
        return Audience.AUTHOR
    if viewer_role == "admin":
        return Audience.ADMIN
    if viewer_id is not None and viewer_id == r.companion_id:
        return Audience.REVIEWED
    return Audience.PUBLIC


@dataclass(frozen=True, slots=True)
class Shown:
    """A review as one audience may see it."""

    id: str
    #: the customer's nickname, or 匿名
    author: str
    stars: int
    tags: list[str]
    text: str
    created_at: datetime
    updated_at: datetime
    reply_text: str
    replied_at: datetime | None
    companion_id: str
    anonymous: bool
    hidden: bool
    #: None where it would join an anonymous review to its author
    session_id: str | None


def hides_author(r: Parties, who: Audience) -> bool:
    return r.anonymous and who in (Audience.REVIEWED, Audience.PUBLIC)


def shown(r: ReviewView, who: Audience) -> Shown:
    masked = hides_author(r, who)
    return Shown(
        id=r.id,
        author=r.author,
        stars=r.stars,
        tags=list(r.tags),
        text=r.text,
        created_at=to_day(r.created_at) if masked else r.created_at,
        updated_at=to_day(r.updated_at) if masked else r.updated_at,
        reply_text=r.reply_text,
        replied_at=r.replied_at,
        companion_id=r.companion_id,
        anonymous=r.anonymous,
        hidden=r.hidden,
        session_id=None if masked or who is Audience.PUBLIC else r.session_id,
    )


def found_by_session(r: Parties, who: Audience) -> bool:
    """Whether ``GET /api/sessions/{id}/review`` shows this review to ``who`` (a participant):
    the session names its customer, so an anonymous review is not found from it by anyone
    but its author and admins."""
    return not hides_author(r, who)


def announced(r: Parties) -> bool:
    """Whether the reviewed companion is told at once (``review:received``)."""
    return not r.anonymous


def to_day(at: datetime) -> datetime:
    """The start of ``at``'s day in China time."""
    local = at.astimezone(CHINA)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)
