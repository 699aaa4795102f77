"""What the marketplace keeps about a person, for export and deletion.

Deletion is refused while something is under way that holds money or another person's time: a
booking not yet settled (its hold is the customer's money), a group voice room they host or sit
in, an appeal not yet decided.  Otherwise their application files and voice samples (a voice is
personal data), their public profile, calendar and stats go; reviews they wrote keep their stars
(a companion's rating must not change because a customer left) but lose their words and show as
anonymous; their support tickets and messages go.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from market.bookings.rules import OPEN as OPEN_BOOKINGS
from market.reviews.visibility import audience, hides_author, to_day
from store.models.appeals import Appeal
from store.models.bookings import Booking, BookingCalendar
from store.models.reviews import CompanionStats, Review
from store.models.support import Ticket, TicketMessage
from store.models.vetting import (
    ApplicationFile,
    CompanionApplication,
    CompanionProfile,
    CompanionVoiceSample,
)
from store.models.voicerooms import VoiceRoom, VoiceRoomMember, VoiceRoomMessage

MAX_EXPORTED = 10_000


async def busy_with(s: AsyncSession, user_id: str) -> list[str]:
    """What keeps ``user_id`` from deleting their account now (empty: nothing)."""
    busy: list[str] = []
    booking = await s.scalar(
        select(Booking.id).where(
            or_(Booking.customer_id == user_id, Booking.companion_id == user_id),
            Booking.status.in_([str(x) for x in OPEN_BOOKINGS]),
        )
    )
    if booking is not None:
        busy.append("booking")
    room = await s.scalar(
        select(VoiceRoom.id).where(VoiceRoom.host_id == user_id, VoiceRoom.status == "open")
    )
    member = await s.scalar(
        select(VoiceRoomMember.id).where(
            VoiceRoomMember.user_id == user_id, VoiceRoomMember.status == "joined"
        )
    )
    if room is not None or member is not None:
        busy.append("voice_room")
    appeal = await s.scalar(
        select(Appeal.id).where(
            or_(Appeal.customer_id == user_id, Appeal.companion_id == user_id),
            Appeal.status != "decided",
        )
    )
    if appeal is not None:
        busy.append("appeal")
    return busy


async def erase(s: AsyncSession, user_id: str) -> None:
    """Delete or anonymize ``user_id``'s marketplace data (inside the deletion's transaction)."""
    applications = select(CompanionApplication.id).where(CompanionApplication.user_id == user_id)
    await s.execute(delete(ApplicationFile).where(ApplicationFile.application_id.in_(applications)))
    await s.execute(delete(CompanionApplication).where(CompanionApplication.user_id == user_id))
    await s.execute(delete(CompanionVoiceSample).where(CompanionVoiceSample.user_id == user_id))
    await s.execute(delete(CompanionProfile).where(CompanionProfile.user_id == user_id))
    await s.execute(delete(CompanionStats).where(CompanionStats.user_id == user_id))
    await s.execute(delete(BookingCalendar).where(BookingCalendar.companion_id == user_id))
    await s.execute(
        update(Review).where(Review.customer_id == user_id).values(text="", anonymous=True)
    )
    tickets = select(Ticket.id).where(Ticket.user_id == user_id)
    await s.execute(delete(TicketMessage).where(TicketMessage.ticket_id.in_(tickets)))
    await s.execute(delete(Ticket).where(Ticket.user_id == user_id))
    await s.execute(delete(VoiceRoomMessage).where(VoiceRoomMessage.sender_id == user_id))


def _review(r: Review, user_id: str) -> dict[str, Any]:
    """A review in its author's or its companion's export: what ``reviews.visibility`` lets
    each see (an anonymous review's session and exact time are not the companion's)."""
    masked = hides_author(r, audience(user_id, None, r))
    return {
        "session_id": None if masked else r.session_id,
        "role": "author" if r.customer_id == user_id else "reviewed",
        "stars": r.stars,
        "tags": list(r.tags),
        "text": r.text,
        "reply": r.reply_text,
        "at": (to_day(r.created_at) if masked else r.created_at).isoformat(),
    }


async def export(s: AsyncSession, user_id: str) -> dict[str, Any]:
    """The marketplace part of ``GET /api/me/export``."""
    applications = (
        await s.scalars(
            select(CompanionApplication)
            .where(CompanionApplication.user_id == user_id)
            .order_by(CompanionApplication.created_at)
        )
    ).all()
    reviews = (
        await s.scalars(
            select(Review)
            .where(or_(Review.customer_id == user_id, Review.companion_id == user_id))
            .order_by(Review.created_at)
            .limit(MAX_EXPORTED)
        )
    ).all()
    bookings = (
        await s.scalars(
            select(Booking)
            .where(or_(Booking.customer_id == user_id, Booking.companion_id == user_id))
            .order_by(Booking.created_at)
            .limit(MAX_EXPORTED)
        )
    ).all()
    appeals = (
        await s.scalars(
            select(Appeal)
            .where(or_(Appeal.customer_id == user_id, Appeal.companion_id == user_id))
            .order_by(Appeal.created_at)
        )
    ).all()
    tickets = (
        await s.scalars(select(Ticket).where(Ticket.user_id == user_id).order_by(Ticket.created_at))
    ).all()
    thread: dict[str, list[dict[str, Any]]] = {t.id: [] for t in tickets}
    if tickets:
        for m in (
            await s.scalars(
                select(TicketMessage)
                .where(TicketMessage.ticket_id.in_(list(thread)))
                .order_by(TicketMessage.ticket_id, TicketMessage.seq)
                .limit(MAX_EXPORTED)
            )
        ).all():
            thread[m.ticket_id].append(
                {
                    "from": "support" if m.staff else "me",
                    "text": m.body,
                    "at": m.created_at.isoformat(),
                }
            )
    rooms = (
        await s.scalars(
            select(VoiceRoomMember)
            .where(VoiceRoomMember.user_id == user_id)
            .order_by(VoiceRoomMember.joined_at)
            .limit(MAX_EXPORTED)
        )
    ).all()
    said = (
        await s.scalars(
            select(VoiceRoomMessage)
            .where(VoiceRoomMessage.sender_id == user_id)
            .order_by(VoiceRoomMessage.created_at)
            .limit(MAX_EXPORTED)
        )
    ).all()
    return {
        "companion_applications": [
            {
                "id": a.id,
                "status": a.status,
                "specialties": list(a.specialties),
                "gender": a.gender,
                "intro": a.intro,
                "rates_fen_per_min": {
                    "text": a.text_fen_per_min,
                    "voice": a.voice_fen_per_min,
                    "video": a.video_fen_per_min,
                },
                "reason": a.reason,
                "created_at": a.created_at.isoformat(),
            }
            for a in applications
        ],
        "reviews": [_review(r, user_id) for r in reviews],
        "bookings": [
            {
                "id": b.id,
                "role": "customer" if b.customer_id == user_id else "companion",
                "mode": b.mode,
                "starts_at": b.starts_at.isoformat(),
                "duration_min": b.duration_min,
                "rate_fen_per_min": b.rate_fen_per_min,
                "hold_fen": b.hold_fen,
                "status": b.status,
                "fee_fen": b.fee_fen,
            }
            for b in bookings
        ],
        "appeals": [
            {
                "id": a.id,
                "session_id": a.session_id,
                "role": "customer" if a.customer_id == user_id else "companion",
                "reason": a.reason,
                "text": a.text if a.customer_id == user_id else "",
                "response": a.response_text if a.companion_id == user_id else "",
                "status": a.status,
                "outcome": a.outcome,
                "refund_fen": a.refund_fen,
                "decision_reason": a.decision_reason,
                "at": a.created_at.isoformat(),
            }
            for a in appeals
        ],
        "tickets": [
            {
                "id": t.id,
                "category": t.category,
                "subject": t.subject,
                "status": t.status,
                "messages": thread[t.id],
                "at": t.created_at.isoformat(),
            }
            for t in tickets
        ],
        "voice_rooms": [
            {
                "room_id": m.room_id,
                "joined_at": m.joined_at.isoformat(),
                "left_at": m.left_at.isoformat() if m.left_at else None,
            }
            for m in rooms
        ],
        "voice_room_messages": [
            {"room_id": m.room_id, "seq": m.seq, "text": m.body, "at": m.created_at.isoformat()}
            for m in said
        ],
    }
