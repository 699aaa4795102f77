"""Safety evidence of voice and video calls, signaling's part: both parties are told at the start
that the last two minutes are kept briefly for safety reports (``call:safety_notice``), and a
report of a call reaches the process whose relay holds its windows.

A report is on time while the call runs and until ``after_call_s`` (10 minutes) after it ended;
later the windows are gone from the relay's memory and the outcome is ``window_passed`` (not an
error: the report itself stands).  The owner seals and writes the windows itself
(``media.evidence_store``), so the media never travels between processes; if the owner is gone,
its memory went with it (``nothing_kept``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import select

from kernel.clock import Clock
from kernel.errors import DomainError
from signaling.media_route import MediaRoute
from store import Database
from store.models import Call

log = structlog.get_logger(__name__)

MEDIA_MODES = ("voice", "video")


class CallEvidence:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        media: MediaRoute | None,
        *,
        window_s: float,
        after_call_s: float,
        retention_days: int,
    ) -> None:
        self._db = db
        self._clock = clock
        self._media = media
        self._after_call = timedelta(seconds=after_call_s)
        #: what ``call:safety_notice`` tells both parties (the client words it in zh/en)
        self.notice: dict[str, Any] = {
            "window_s": int(window_s),
            "after_call_s": int(after_call_s),
            "retention_days": retention_days,
        }

    async def keep(self, report_id: str, call_id: str) -> str | None:
        """Keep the evidence of ``call_id`` for ``report_id``: the outcome, or None for a call
        without media (text)."""
        async with self._db.reading() as s:
            row = (
                await s.execute(
                    select(Call.mode, Call.status, Call.ended_at, Call.owner).where(
                        Call.id == call_id
                    )
                )
            ).first()
        if row is None or row.mode not in MEDIA_MODES:
            return None
        if row.ended_at is not None and self._clock.now() - row.ended_at > self._after_call:
            return "window_passed"
        if row.status == "ringing" or self._media is None:
            return "nothing_kept"
        try:
            result = await self._media.call(
                str(row.owner or ""), "evidence", call_id=call_id, report_id=report_id
            )
        except DomainError as exc:
            log.warning("call_evidence_unreachable", call_id=call_id, code=exc.code)
            return "nothing_kept"
        return str(result.get("outcome") or "nothing_kept")
