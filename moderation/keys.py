"""Moderation's state, under the AppKeys other packages read: blocks, reports and cases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from moderation.blocks import BlockService
from moderation.casebook import CaseBook
from moderation.reports import ReportService

BLOCKS = web.AppKey("blocks", BlockService)
REPORTS = web.AppKey("reports", ReportService)
#: a participant reported a call (report id, call id): keep the media evidence of it; the
#: outcome (``kept``, ``nothing_kept``, ``window_passed``), or None for a call without media.
#: Signaling's ``setup`` sets it (the relay and the calls are its); until then nothing is kept.
KeepCallEvidence = Callable[[str, str], Awaitable[str | None]]
CALL_EVIDENCE: web.AppKey[KeepCallEvidence] = web.AppKey("call_evidence")
CASES = web.AppKey("cases", CaseBook)
