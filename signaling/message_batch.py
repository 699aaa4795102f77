"""Stores chat messages in batches: every message queued while the previous transaction ran goes
into the next one (group commit), so the database's write lock is taken once for many messages
instead of once each.  On SQLite, where there is one writer, this is what keeps delivery latency
flat under load (bench/signaling); on PostgreSQL it saves round trips.

One transaction per batch, whatever its size: lock the calls (``ORDER BY id``, the lock order of
every other writer), find messages already stored under the same (call, sender, client id)
(resends), number the new ones from each call's ``last_seq``, insert them, move ``last_seq``.
A message for a call that is no longer active is refused; a resend returns the stored message.
Messages are then delivered in sequence order, batch after batch, by the one worker.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import structlog
from sqlalchemy import Table, bindparam, insert, select, tuple_, update

from signaling.errors import NotChatting
from signaling.lifecycle import Status
from store import Database
from store.models import Call as CallRow
from store.models import Message

log = structlog.get_logger(__name__)

_CALLS = cast(Table, CallRow.__table__)
_MESSAGES = cast(Table, Message.__table__)


@dataclass
class Pending:
    call_id: str
    sender_id: str
    client_id: str
    text: str
    action: str
    future: asyncio.Future[dict[str, Any]]


#: delivers one stored message to both sides (called in sequence order, after the commit)
Deliver = Callable[[str, str, dict[str, Any]], Awaitable[None]]


def message_view(
    call_id: str, seq: int, sender_id: str, client_id: str, text: str, action: str, at: datetime
) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "seq": seq,
        "sender_id": sender_id,
        "client_id": client_id,
        "text": text,
        "moderation": action,
        "sent_ms": int(at.timestamp() * 1000),
    }


class MessageWriter:
    def __init__(
        self,
        db: Database,
        now: Callable[[], datetime],
        deliver: Deliver,
        *,
        max_batch: int = 200,
        max_queue: int = 10_000,
    ) -> None:
        self._db = db
        self._now = now
        self._deliver = deliver
        self._max_batch = max_batch
        self._queue: asyncio.Queue[Pending] = asyncio.Queue(max_queue)
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._work(), name="chat-writer")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        while not self._queue.empty():
            p = self._queue.get_nowait()
            if not p.future.done():
                p.future.set_exception(RuntimeError("chat stopped"))

    async def write(
        self, call_id: str, sender_id: str, client_id: str, text: str, action: str
    ) -> dict[str, Any]:
        """Store one message (or find its earlier copy); the stored message's view."""
        if self._worker is None:
            raise RuntimeError("the chat writer is not running")
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        await self._queue.put(Pending(call_id, sender_id, client_id, text, action, fut))
        return await fut

    async def _work(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                delivered = await self._store(batch)
            except Exception as exc:
                log.exception("chat_batch_failed", size=len(batch))
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(exc)
                continue
            for view, customer_id, companion_id in delivered:
                try:
                    await self._deliver(customer_id, companion_id, view)
                except Exception:
                    log.exception("chat_delivery_failed", call_id=view["call_id"])

    async def _store(self, batch: list[Pending]) -> list[tuple[dict[str, Any], str, str]]:
        now = self._now()
        call_ids = sorted({p.call_id for p in batch})
        fresh: list[tuple[dict[str, Any], str, str]] = []
        async with self._db.writing() as s:
            calls = {
                r.id: r
                for r in (
                    await s.execute(
                        select(
                            _CALLS.c.id,
                            _CALLS.c.status,
                            _CALLS.c.last_seq,
                            _CALLS.c.customer_id,
                            _CALLS.c.companion_id,
                        )
                        .where(_CALLS.c.id.in_(call_ids))
                        .order_by(_CALLS.c.id)
                        .with_for_update()
                    )
                ).all()
            }
            keys = [(p.call_id, p.sender_id, p.client_id) for p in batch]
            stored = {
                (m.call_id, m.sender_id, m.client_id): m
                for m in (
                    await s.execute(
                        select(_MESSAGES).where(
                            tuple_(
                                _MESSAGES.c.call_id, _MESSAGES.c.sender_id, _MESSAGES.c.client_id
                            ).in_(keys)
                        )
                    )
                ).all()
            }
            last_seq = {cid: r.last_seq for cid, r in calls.items()}
            rows: list[dict[str, Any]] = []
            outcome: list[tuple[Pending, dict[str, Any] | Exception]] = []
            new_views: dict[tuple[str, str, str], dict[str, Any]] = {}
            for p in batch:
                key = (p.call_id, p.sender_id, p.client_id)
                if key in stored:
                    m = stored[key]
                    outcome.append(
                        (
                            p,
                            message_view(
                                m.call_id,
                                m.seq,
                                m.sender_id,
                                m.client_id,
                                m.body,
                                m.action,
                                m.created_at,
                            ),
                        )
                    )
                    continue
                if key in new_views:  # the same message twice in one batch
                    outcome.append((p, new_views[key]))
                    continue
                call = calls.get(p.call_id)
                if call is None or call.status != Status.ACTIVE:
                    outcome.append((p, NotChatting()))
                    continue
                last_seq[p.call_id] += 1
                seq = last_seq[p.call_id]
                rows.append(
                    {
                        "call_id": p.call_id,
                        "seq": seq,
                        "sender_id": p.sender_id,
                        "client_id": p.client_id,
                        "body": p.text,
                        "action": p.action,
                        "created_at": now,
                    }
                )
                view = message_view(p.call_id, seq, p.sender_id, p.client_id, p.text, p.action, now)
                new_views[key] = view
                outcome.append((p, view))
                fresh.append((view, call.customer_id, call.companion_id))
            if rows:
                await s.execute(insert(_MESSAGES), rows)
                moved = [
                    {"cid": cid, "seq": seq}
                    for cid, seq in sorted(last_seq.items())
                    if seq != calls[cid].last_seq
                ]
                await s.execute(
                    update(_CALLS)
                    .where(_CALLS.c.id == bindparam("cid"))
                    .values(last_seq=bindparam("seq")),
                    moved,
                )
        # committed: answer every sender
        for p, result in outcome:
            if p.future.done():
                continue
            if isinstance(result, Exception):
                p.future.set_exception(result)
            else:
                p.future.set_result(result)
        return fresh
