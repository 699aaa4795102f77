"""Text chat inside a call: stored, ordered by a per-call sequence number, delivered to every
device of both sides, with history paging, delivery and read receipts, typing indicators, a
per-user rate limit and the moderation hook every message passes before delivery.

Sequence numbers come from the call row (``last_seq``), incremented under its row lock, so they
are gap-free and ordered across processes.  A message is idempotent on the sender's
``client_id``: a resend (after a reconnect, say) returns the stored message and delivers nothing
twice.  A client that reconnects asks for history after the last ``seq`` it saw.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import select

from accounts.service import Principal
from kernel.clock import Clock
from kernel.errors import RateLimited
from moderation.verdict import Verdict
from signaling.call_rows import readable_call, side_of
from signaling.calls import CallService, Emitter
from signaling.errors import CallNotFound, MessageBlocked, NotChatting, NotParticipant
from signaling.lifecycle import Side, Status
from signaling.limits import RateLimiter
from signaling.message_batch import MessageWriter
from signaling.message_batch import message_view as _view
from signaling.protocol import ChatPageAck, ChatReceiptsAck, ChatSendAck, ChatTypingAck
from store import Database
from store.models import Call as CallRow
from store.models import Message
from store.sweep import delete_in_batches

log = structlog.get_logger(__name__)


def _other(parties: tuple[str, str], user_id: str) -> str:
    """The participant who is not ``user_id``."""
    customer_id, companion_id = parties
    return companion_id if user_id == customer_id else customer_id


@dataclass(frozen=True, slots=True)
class ForReview:
    """A message moderation queued for an admin: delivered (``seq``) or blocked (``seq`` is
    ``None`` and ``blocked_text`` what was stopped)."""

    call_id: str
    sender_id: str
    seq: int | None
    categories: tuple[str, ...]
    priority: str = "normal"
    blocked_text: str | None = None


#: the moderation flags (``moderation.verdict.Verdict.flags``) told as ``chat:safety``, each to
#: both sides with the sender's id, so that each side reads the words meant for it: ``minor``
#: reminds both that minors may not use the platform; ``upsell_banner`` tells the customer
#: spending is never required and ``sexual_warning`` that the companion's message was stopped
#: (each with a one-tap report), while the companion who sent it is reminded of the rules
SAFETY_FLAGS = frozenset({"minor", "upsell_banner", "sexual_warning"})

MAX_MESSAGE_CHARS = 2000
MAX_PAGE = 100


class Moderation(Protocol):
    """The hook every chat message passes before delivery (the Moderation issue fills it)."""

    async def review(self, sender: Principal, call_id: str, text: str) -> Verdict: ...


class DeliverAll:
    """The hook until rules exist: every message is delivered as written."""

    async def review(self, sender: Principal, call_id: str, text: str) -> Verdict:
        return Verdict("allow", text)


def message_view(m: Message) -> dict[str, Any]:
    return _view(m.call_id, m.seq, m.sender_id, m.client_id, m.body, m.action, m.created_at)


class ChatService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        calls: CallService,
        emitter: Emitter,
        moderation: Moderation,
        limiter: RateLimiter,
        *,
        may_send: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._db = db
        #: raises (a mute in force) when the sender may not chat now
        self._may_send = may_send
        self._clock = clock
        self._calls = calls
        self._emit = emitter
        self._moderation = moderation
        self._limiter = limiter
        self.writer = MessageWriter(db, clock.now, self._deliver)
        #: called for each message moderation queues for an admin (``ForReview``)
        self.on_review: list[Callable[[ForReview], Awaitable[None]]] = []

    async def send(self, who: Principal, call_id: str, client_id: str, text: str) -> ChatSendAck:
        """Moderate, store and deliver one message; the stored message (a resend returns the
        first) and the categories moderation found in it (the sender is told why it was
        masked).  Messages are stored in batches (``MessageWriter``).  Raises
        ``MessageBlocked`` (``details.categories``) for a message moderation stopped."""
        if not self._limiter.allow(f"chat:{who.user_id}"):
            raise RateLimited("you are sending messages too fast; wait a moment")
        parties = await self._calls.participants(call_id)  # (customer, companion)
        if who.user_id not in parties:
            raise NotParticipant()
        if self._may_send is not None:
            await self._may_send(who.user_id)
        verdict = await self._moderation.review(who, call_id, text)
        if verdict.action == "block":
            log.info(
                "message_blocked",
                call_id=call_id,
                user_id=who.user_id,
                categories=verdict.categories,
            )
            await self._tell_safety(who, call_id, parties, None, verdict.flags)
            if verdict.queue:  # stopped, and an admin looks all the same (sexual content, …)
                await self._queue(
                    ForReview(
                        call_id, who.user_id, None, verdict.categories, verdict.priority, text
                    )
                )
            raise MessageBlocked(verdict.reason or None, categories=list(verdict.categories))
        view = await self.writer.write(
            call_id, who.user_id, client_id, verdict.text, verdict.action
        )
        await self._tell_safety(who, call_id, parties, view["seq"], verdict.flags)
        if verdict.warn:
            await self._emit.to_user(
                _other(parties, who.user_id),
                "chat:warning",
                {
                    "call_id": call_id,
                    "seq": view["seq"],
                    "categories": list(verdict.categories),
                },
            )
        if verdict.action == "review":
            await self._queue(
                ForReview(call_id, who.user_id, view["seq"], verdict.categories, verdict.priority)
            )
        return {"message": view, "categories": list(verdict.categories)}

    async def _queue(self, item: ForReview) -> None:
        for hook in self.on_review:
            try:
                await hook(item)
            except Exception:
                log.exception("review_queue_failed", call_id=item.call_id)

    async def _tell_safety(
        self,
        who: Principal,
        call_id: str,
        parties: tuple[str, str],
        seq: int | None,
        flags: tuple[str, ...],
    ) -> None:
        """``chat:safety`` for each flag moderation raised on a message (``seq``, or ``None``
        for a blocked one), to both sides: ``sender_id`` tells each whose message it was."""
        for flag in flags:
            if flag not in SAFETY_FLAGS:
                log.warning("unknown_safety_flag", flag=flag)
                continue
            told = {"call_id": call_id, "seq": seq, "flag": flag, "sender_id": who.user_id}
            for user in parties:
                await self._emit.to_user(user, "chat:safety", told)

    async def _deliver(self, customer_id: str, companion_id: str, view: dict[str, Any]) -> None:
        for user in (customer_id, companion_id):
            await self._emit.to_user(user, "chat:message", view)

    async def history(
        self,
        who: Principal,
        call_id: str,
        *,
        after_seq: int | None = None,
        before_seq: int | None = None,
        limit: int = 50,
    ) -> ChatPageAck:
        """A page of messages, oldest first: after ``after_seq`` (catching up), or before
        ``before_seq`` (scrolling back), or the latest ``limit``."""
        limit = max(1, min(limit, MAX_PAGE))
        async with self._db.reading() as s:
            row = await readable_call(s, who, call_id)
            q = select(Message).where(Message.call_id == call_id)
            if after_seq is not None:
                q = q.where(Message.seq > after_seq).order_by(Message.seq).limit(limit)
                messages = list((await s.scalars(q)).all())
            else:
                if before_seq is not None:
                    q = q.where(Message.seq < before_seq)
                q = q.order_by(Message.seq.desc()).limit(limit)
                messages = list(reversed((await s.scalars(q)).all()))
            return {
                "call_id": call_id,
                "messages": [message_view(m) for m in messages],
                "last_seq": row.last_seq,
                "receipts": receipts(row),
            }

    async def mark(self, who: Principal, call_id: str, seq: int, kind: str) -> ChatReceiptsAck:
        """A delivery or read receipt up to ``seq`` (only moves forward)."""
        async with self._db.writing() as s:
            row = await s.get(CallRow, call_id, with_for_update=True)
            if row is None:
                raise CallNotFound()
            side = side_of(row, who.user_id)
            if side is None:
                raise NotParticipant()
            seq = min(seq, row.last_seq)
            attr = f"{side.value}_{kind}_seq"
            moved = seq > getattr(row, attr)
            if moved:
                setattr(row, attr, seq)
                if kind == "read" and seq > getattr(row, f"{side.value}_delivered_seq"):
                    setattr(row, f"{side.value}_delivered_seq", seq)
            out: ChatReceiptsAck = {"call_id": call_id, "receipts": receipts(row)}
            other = row.companion_id if side is Side.CUSTOMER else row.customer_id
        if moved:
            await self._emit.to_user(other, "chat:receipt", dict(out))
        return out

    async def purge(self, older_than_days: int, batch: int = 5_000) -> int:
        """Retention: delete the messages of ended calls older than ``older_than_days`` (reports
        keep their own copy of the evidence).  In batches, so no transaction holds the table
        long; how many were deleted."""
        cutoff = self._clock.now() - timedelta(days=older_than_days)
        ids = (
            select(Message.id)
            .join(CallRow, CallRow.id == Message.call_id)
            .where(Message.created_at < cutoff, CallRow.status == Status.ENDED)
        )
        total = await delete_in_batches(self._db, ids, Message.id, batch)
        if total:
            log.info("chat_retention_purged", messages=total, days=older_than_days)
        return total

    async def typing(self, who: Principal, call_id: str) -> ChatTypingAck:
        if not self._limiter.allow(f"typing:{who.user_id}"):
            raise RateLimited()
        # Ephemeral: answered from this process's memory of the call (no database read).
        customer_id, companion_id = await self._calls.participants(call_id)
        if who.user_id not in (customer_id, companion_id):
            raise NotParticipant()
        if await self._calls.active_status(call_id) != Status.ACTIVE:
            raise NotChatting()
        other = companion_id if who.user_id == customer_id else customer_id
        await self._emit.to_user(other, "chat:typing", {"call_id": call_id, "user_id": who.user_id})
        return {"call_id": call_id}


def receipts(row: CallRow) -> dict[str, dict[str, int]]:
    return {
        "customer": {"delivered": row.customer_delivered_seq, "read": row.customer_read_seq},
        "companion": {"delivered": row.companion_delivered_seq, "read": row.companion_read_seq},
    }
