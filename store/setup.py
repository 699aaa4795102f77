"""The store's part of the app: the database, its schema checked when the app starts and its
pool disposed when the app has stopped (its cleanup context is the first, so it closes last)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from kernel.keys import SETTINGS
from store.db import Database
from store.keys import DB
from store.migrate import current_revision, head_revision

log = structlog.get_logger("peiliao")


def setup(app: web.Application, *, check_schema: bool = True) -> None:
    settings = app[SETTINGS]
    db = app[DB] = Database(
        settings.database_url,
        timeout_s=settings.db_timeout_s,
        pool_size=settings.db_pool_size,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )

    async def database(app_: web.Application) -> AsyncIterator[None]:
        if check_schema:
            await _check_schema(db)
        log.info(
            "server_started",
            env=settings.env,
            database=db.engine.url.get_backend_name(),
            event_loop=type(asyncio.get_running_loop()).__module__.split(".")[0],
        )
        yield
        await db.dispose()

    app.cleanup_ctx.append(database)


async def _check_schema(db: Database) -> None:
    current, head = await current_revision(db), head_revision()
    if current != head:
        raise SystemExit(
            f"database schema is at {current or 'nothing'}, code needs {head}: "
            "run `peiliao db upgrade` (make run does it for you)"
        )
