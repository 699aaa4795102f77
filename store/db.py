"""The engine, the one ``async_sessionmaker``, and read/write units of work.

SQLite (aiosqlite) is the embedded default and PostgreSQL (asyncpg) the production database.
On SQLite every connection runs in WAL mode with foreign keys on and a busy timeout, and the
driver's own transaction handling is switched off so that we issue ``BEGIN`` ourselves: a unit of
work opened with :meth:`Database.writing` starts with ``BEGIN IMMEDIATE``, which takes the write
lock up front.  Two writers therefore serialize at ``BEGIN`` instead of both reading, then one
failing at its first write with "database is locked" (the read-modify-write hazard SQLite's
deferred transactions have).  On PostgreSQL both kinds are READ COMMITTED transactions; code that
must not race uses conditional ``UPDATE … WHERE`` or ``SELECT … FOR UPDATE``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

_IMMEDIATE = "peiliao_sqlite_immediate"


class Database:
    """Owns the engine.  Open units of work with :meth:`reading` or :meth:`writing`."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10.0,
        pool_size: int = 10,
        sqlite_busy_timeout_ms: int = 10_000,
        echo: bool = False,
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            _ensure_sqlite_dir(url)
            kwargs["connect_args"] = {"timeout": sqlite_busy_timeout_ms / 1000}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
            kwargs["connect_args"] = {"timeout": timeout_s, "command_timeout": timeout_s}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine, sqlite_busy_timeout_ms)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_engine = (
            self.engine.execution_options(**{_IMMEDIATE: True}) if self.is_sqlite else self.engine
        )
        # SQLite has one writer.  Writers of this process queue here, first come first served,
        # instead of in SQLite's busy handler, which sleeps and retries and can starve a waiter
        # past its timeout under load.  BEGIN IMMEDIATE still guards against other processes.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A transaction for reads (and writes that need no serialization)."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A transaction that serializes with other writers on SQLite (``BEGIN IMMEDIATE``)."""
        if self._write_lock is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with (
            self._write_lock,
            self.sessions(bind=self._write_engine) as session,
            session.begin(),
        ):
            yield session

    async def ping(self) -> None:
        """Raise if the database cannot answer ``SELECT 1`` within the timeout."""
        async with asyncio.timeout(self.timeout_s), self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _ensure_sqlite_dir(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    # https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver; we emit BEGIN in _on_begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
