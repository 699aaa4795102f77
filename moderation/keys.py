"""Moderation's state, under the AppKeys other packages read: blocks and reports."""

from __future__ import annotations

from aiohttp import web

from moderation.blocks import BlockService
from moderation.reports import ReportService

BLOCKS = web.AppKey("blocks", BlockService)
REPORTS = web.AppKey("reports", ReportService)
