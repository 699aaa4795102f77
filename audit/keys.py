"""The audit log, under the AppKey every package that records an admin's act reads."""

from __future__ import annotations

from aiohttp import web

from audit.log import AuditLog

AUDIT = web.AppKey("audit", AuditLog)
