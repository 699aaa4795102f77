"""What the ``peiliao`` commands share: settings from the environment, logs, a database for one
command's work, the account service, the schema check."""

from __future__ import annotations

import os
from typing import Any

from kernel.settings import Settings, SettingsError


def settings_from_env() -> Settings:
    try:
        return Settings.from_env(os.environ)
    except SettingsError as exc:
        raise SystemExit(f"peiliao: configuration error: {exc}") from None


def configure_logs(settings: Settings) -> None:
    from kernel.logs import configure_logging

    configure_logging(level=settings.log_level, json_logs=settings.json_logs)


async def with_db(settings: Settings, work: Any) -> Any:
    from store import Database

    db = Database(
        settings.database_url,
        timeout_s=settings.db_timeout_s,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    try:
        return await work(db)
    finally:
        await db.dispose()


def account_service(settings: Settings, db: Any) -> Any:
    """The account service, publishing revocations (a role change) to the running servers
    through Redis when there is one; with none, their database re-check finds the change.
    Close ``.revocations`` when done."""
    from accounts.revocation import MemoryRevocations, RedisRevocations, Revocations
    from accounts.service import AccountService
    from accounts.sms import DevOutbox
    from kernel.clock import SystemClock

    revocations: Revocations = (
        RedisRevocations.from_url(settings.redis_url, settings.redis_prefix, "cli")
        if settings.redis_url
        else MemoryRevocations()
    )
    return AccountService(db, DevOutbox(1), SystemClock(), settings, revocations=revocations)


async def with_accounts(settings: Settings, work: Any) -> Any:
    """``work(db, accounts)`` on a database whose schema is current, with the account service;
    the service's revocation channel and the database are closed afterwards."""

    async def go(db: Any) -> Any:
        await require_schema(db)
        accounts = account_service(settings, db)
        try:
            return await work(db, accounts)
        finally:
            await accounts.revocations.close()

    return await with_db(settings, go)


async def require_schema(db: Any) -> None:
    from store.migrate import current_revision, head_revision

    if await current_revision(db) != head_revision():
        raise SystemExit("peiliao: the database schema is not current; run `peiliao db upgrade`")
