"""The engine, the one ``async_sessionmaker``, and read/write units of work.

SQLite (aiosqlite) is the embedded default and PostgreSQL (asyncpg) the production database.
On SQLite every connection runs in WAL mode with foreign keys on and a busy timeout, and the
driver's own transaction handling is switched off so that we issue ``BEGIN`` ourselves: a unit of
work opened with :meth:`Database.writing` starts with ``BEGIN IMMEDIATE``, which takes the write
lock up front.  Two writers therefore serialize at ``BEGIN`` instead of both reading, then one
failing at its first write with "database is locked" (the read-modify-write hazard SQLite's
deferred transactions have).  On PostgreSQL both kinds are READ COMMITTED transactions; code that
must not race uses conditional ``UPDATE … WHERE`` or ``SELECT … FOR UPDATE``.

A unit of work opened with :meth:`Database.reading` is READ-ONLY, and the database enforces it:
PostgreSQL runs it as ``BEGIN READ ONLY`` (asyncpg's transaction flag, the same one statement), and
SQLite runs it with ``PRAGMA query_only`` on.  A write inside ``reading()`` therefore fails at once,
on both engines, instead of working in tests and failing under load: a deferred SQLite transaction
that upgrades to a write cannot wait for the lock (SQLITE_BUSY_SNAPSHOT) and answered "database is
locked" to concurrent users.  Every write goes through :meth:`Database.writing`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# Execution option carried by the engines the two kinds of unit of work bind to (SQLite only):
# "read" → query_only + BEGIN, "write" → BEGIN IMMEDIATE.  Anything else (migrations, ping, tests
# using the engine directly) gets a plain writable BEGIN.
_MODE = "peiliao_sqlite_mode"
# Where a pooled SQLite connection remembers its current query_only setting, so the PRAGMA is only
# sent when a connection switches between reading and writing, not on every BEGIN.
_QUERY_ONLY = "peiliao_query_only"


#: PostgreSQL's deadlock_detected and serialization_failure: the unit of work lost a race the
#: database broke, not a rule; it may be run again as a whole
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a deadlock or serialization failure (PostgreSQL) after which the whole
    unit of work may be retried.  Only idempotent units should be."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in _TRANSIENT_SQLSTATES


class NestedWriteError(RuntimeError):
    """A task opened ``writing()`` while already inside one.  On SQLite that would wait forever on
    the process's write lock, which the same task holds; raised so that it fails loudly instead."""


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
        if self.is_sqlite:
            self._read_engine = self.engine.execution_options(**{_MODE: "read"})
            # a SQLite read transaction reads one snapshot already (WAL: from its first read)
            self._snapshot_engine = self._read_engine
            self._write_engine = self.engine.execution_options(**{_MODE: "write"})
        else:
            # A connection characteristic: the asyncpg dialect passes it to
            # ``Connection.transaction(readonly=True)`` (one ``BEGIN READ ONLY``) and resets it
            # when the connection goes back to the pool, so writers never inherit it.
            self._read_engine = self.engine.execution_options(postgresql_readonly=True)
            self._snapshot_engine = self.engine.execution_options(
                postgresql_readonly=True, isolation_level="REPEATABLE READ"
            )
            self._write_engine = self.engine
        # The tasks inside writing() right now, to refuse a nested writing() in the same task.
        self._writers: set[asyncio.Task[Any]] = set()
        # SQLite has one writer.  Writers of this process queue here, first come first served,
        # instead of in SQLite's busy handler, which sleeps and retries and can starve a waiter
        # past its timeout under load.  BEGIN IMMEDIATE still guards against other processes.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def reading(self, snapshot: bool = False) -> AsyncIterator[AsyncSession]:
        """A read-only transaction.  Any INSERT/UPDATE/DELETE in it raises (PostgreSQL:
        ``read_only_sql_transaction``; SQLite: "attempt to write a readonly database").
        ``snapshot``: every statement sees the same committed state (PostgreSQL: REPEATABLE
        READ; its default READ COMMITTED lets figures read by separate statements disagree)."""
        engine = self._snapshot_engine if snapshot else self._read_engine
        async with self.sessions(bind=engine) as session, session.begin():
            yield session

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A transaction that may write; serializes with other writers on SQLite
        (``BEGIN IMMEDIATE``).  Must not be nested in another ``writing()`` of the same task:
        raises :class:`NestedWriteError` (on both engines, so tests on either catch it)."""
        task = asyncio.current_task()
        if task is not None:
            if task in self._writers:
                raise NestedWriteError("writing() opened inside writing() in the same task")
            self._writers.add(task)
        try:
            if self._write_lock is None:
                async with self.sessions(bind=self._write_engine) as session, session.begin():
                    yield session
                return
            async with (
                self._write_lock,
                self.sessions(bind=self._write_engine) as session,
                session.begin(),
            ):
                yield session
        finally:
            if task is not None:
                self._writers.discard(task)

    async def ping(self) -> None:
        """Raise if the database cannot answer ``SELECT 1`` within the timeout."""
        async with asyncio.timeout(self.timeout_s), self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def upsert(session: AsyncSession, model: type[Any], values: dict[str, Any]) -> None:
    """Insert the row of ``model`` with ``values`` or, if its primary key exists, update it to
    them: one ``INSERT … ON CONFLICT (pk) DO UPDATE`` on either engine.

    The read-then-add alternative races on PostgreSQL, where ``writing()`` does not serialize:
    two requests both find no row, both insert, one fails on the primary key (a 500).  Use it in
    ``writing()``; load the row afterwards if you need it.
    """
    table = model.__table__
    keys = [c.name for c in table.primary_key.columns]
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    statement = insert(table).values(**values)
    changes = {k: statement.excluded[k] for k in values if k not in keys}
    if changes:
        statement = statement.on_conflict_do_update(index_elements=keys, set_=changes)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    await session.execute(statement)


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
        mode = conn.get_execution_options().get(_MODE)
        # query_only is per connection and outlives the transaction, and pooled connections serve
        # both kinds: set it on every switch (remembered in the pool record's info), never assume.
        query_only = mode == "read"
        info = conn.connection.info
        if info.get(_QUERY_ONLY, False) != query_only:
            conn.exec_driver_sql(f"PRAGMA query_only={int(query_only)}")
            info[_QUERY_ONLY] = query_only
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "write" else "BEGIN")
