"""A report as its reporter sees it: the one shape every route that shows one returns (moderation's
own, and reviews' ``POST /api/reviews/{id}/report``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from moderation.reports import REVIEW_SEQ, ReportView


class ReportOut(BaseModel):
    """A report as its reporter sees it (``report_out``)."""

    id: str
    #: what was reported: ``user``, ``session``, ``message`` or ``review``
    subject: str
    #: the reported user (null for a review: its author is not the reporter's to learn)
    target_id: str | None
    #: the reported session (null for a review: it would name the review's author)
    call_id: str | None
    message_seq: int | None
    #: the reported review (reviews only)
    review_id: str | None = None
    reason: str
    details: str
    status: str
    created_at: datetime
    decision_note: str
    #: a reported voice/video call: what became of the last two minutes of its media —
    #: ``kept`` (sealed for the admins), ``nothing_kept`` (no media was held),
    #: ``window_passed`` (reported more than 10 minutes after the call); null otherwise
    call_evidence: str | None = None


def report_out(r: ReportView) -> ReportOut:
    """The one view of a report for its reporter (``POST /api/reports``, ``GET /api/reports``,
    ``POST /api/reviews/{id}/report``).  A user report names what the reporter named
    themselves.  A review report names the review only: its author may be anonymous, and the
    target's id or the reviewed session would name them (``reviews.visibility``)."""
    review = r.evidence.get("review") if r.message_seq == REVIEW_SEQ else None
    if isinstance(review, dict):
        return ReportOut(
            id=r.id,
            subject="review",
            target_id=None,
            call_id=None,
            message_seq=None,
            review_id=str(review.get("id") or "") or None,
            reason=r.reason,
            details=r.details,
            status=r.status,
            created_at=r.created_at,
            decision_note=r.decision_note,
        )
    return ReportOut(
        id=r.id,
        subject="message" if r.message_seq else "session" if r.call_id else "user",
        target_id=r.target_id,
        call_id=r.call_id,
        message_seq=r.message_seq,
        reason=r.reason,
        details=r.details,
        status=r.status,
        created_at=r.created_at,
        decision_note=r.decision_note,
        call_evidence=_media_outcome(r),
    )


def _media_outcome(r: ReportView) -> str | None:
    media = r.evidence.get("media")
    return str(media.get("outcome")) if isinstance(media, dict) else None
