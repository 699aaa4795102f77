"""Shared fixtures: real databases (SQLite file and a PostgreSQL database made for this run), the
app on a real loopback server, and a fake clock.

PostgreSQL is at ``PEILIAO_TEST_PG_URL`` (default the machine's 127.0.0.1:5432, database ``test``);
each run creates its own database and drops it at the end.  When the server is absent, tests that
need it are skipped, unless ``PEILIAO_REQUIRE_SERVICES=1`` (CI), where they fail.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import structlog
from aiohttp.test_utils import TestClient, TestServer

from accounts.sms import DevOutbox
from kernel.clock import FakeClock
from kernel.settings import Settings
from peiliao.app import create_app
from store import Database
from store.migrate import upgrade
from store.models import Base

# structlog's default console renderer formats exceptions with rich when it is installed (it is:
# Schemathesis needs it), printing every frame's locals: seconds per traceback, on the event loop.
# The tests log like the server does: plain tracebacks.
structlog.configure(
    processors=[
        structlog.processors.add_log_level,
        structlog.processors.StackInfoRenderer(),
        structlog.dev.set_exc_info,
        structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
        structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        ),
    ]
)

PG_ADMIN_URL = os.environ.get(
    "PEILIAO_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("PEILIAO_REQUIRE_SERVICES", "") in ("1", "true", "yes")
TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef"


def service_missing(what: str, why: object) -> None:
    message = f"{what} is not reachable ({why})"
    if REQUIRE_SERVICES:
        pytest.fail(message + " and PEILIAO_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


def _pg_url(database: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


async def _pg_admin(sql: str) -> None:
    import asyncpg

    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncio.wait_for(asyncpg.connect(dsn), 5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database for this test run, with the schema at head; dropped at the end."""
    name = f"peiliao_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError) as exc:
        service_missing("PostgreSQL", exc)
    url = _pg_url(name)

    async def migrate() -> None:
        db = Database(url)
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(migrate())
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy (cheaper than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"

    async def migrate() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(db)
            async with db.engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            await db.dispose()

    asyncio.run(migrate())
    return path


@dataclass(frozen=True)
class DbTarget:
    kind: str
    url: str


# Where the database's behaviour is the subject (SQL, locking, migrations, concurrency, the
# ledger), tests run on SQLite and on PostgreSQL: every test under these directories of tests/,
# and elsewhere each test or module marked ``both_databases``.  The rest (HTTP rules,
# validation, authorization) run on SQLite only.
BOTH_DATABASES_DIRS = frozenset({"metering", "store"})
TESTS_DIR = Path(__file__).resolve().parent
# PEILIAO_TEST_ALL_ON_BOTH=1 runs every database test on both, as before the marker existed.
ALL_ON_BOTH = os.environ.get("PEILIAO_TEST_ALL_ON_BOTH", "") in ("1", "true", "yes")


def _on_both(definition: pytest.Function) -> bool:
    if ALL_ON_BOTH or definition.get_closest_marker("both_databases") is not None:
        return True
    parts = Path(definition.path).resolve().relative_to(TESTS_DIR).parts
    return len(parts) > 1 and parts[0] in BOTH_DATABASES_DIRS


#: run first, so that two workers do not end the run waiting on one long test: the browser
#: group (one worker, in turn), the state machine, then the multi-process group
_LONG_FIRST = ("browser", "test_stateful.py", "processes")


def _long_rank(item: pytest.Item) -> int:
    group = item.get_closest_marker("xdist_group")
    names = (group.args[0] if group else "", Path(str(item.path)).name)
    for rank, long in enumerate(_LONG_FIRST):
        if long in names:
            return rank
    return len(_LONG_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_long_rank)  # stable: the rest keep their order


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``db_target``: SQLite, or both databases (see ``_on_both``); an explicit ``parametrize``
    of it wins."""
    if "db_target" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if "db_target" in (names.split(",") if isinstance(names, str) else names):
            return
    kinds = ["sqlite", "postgresql"] if _on_both(metafunc.definition) else ["sqlite"]
    metafunc.parametrize("db_target", kinds, indirect=True)


@pytest.fixture
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> DbTarget:
    """SQLite (a copy of the migrated template), or PostgreSQL where the database matters
    (see ``pytest_generate_tests``)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "peiliao.db"
        path.write_bytes(template.read_bytes())
        return DbTarget("sqlite", f"sqlite+aiosqlite:///{path}")
    return DbTarget("postgresql", request.getfixturevalue("pg_database"))


_pg_sequences: list[str] | None = None


async def empty_postgres(db: Database) -> None:
    """Every table emptied and every sequence restarted, in one round trip.  On tables this
    small, ``DELETE`` (children first) is some 40× faster than ``TRUNCATE``, which makes new
    files for each of the 40-odd tables and their indexes."""
    global _pg_sequences
    async with db.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        if _pg_sequences is None:
            rows = await raw.fetch(
                "SELECT sequence_name FROM information_schema.sequences"
                " WHERE sequence_schema = current_schema()"
            )
            _pg_sequences = [r[0] for r in rows]
        statements = [f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables)]
        statements += [f'ALTER SEQUENCE "{name}" RESTART' for name in _pg_sequences]
        # Several statements in one simple query run as one transaction.
        await raw.execute("; ".join(statements))


@pytest.fixture
async def db(db_target: DbTarget) -> AsyncIterator[Database]:
    database = Database(db_target.url)
    if db_target.kind == "postgresql":
        await empty_postgres(database)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(db_target: DbTarget) -> Settings:
    return Settings(
        env="dev",
        database_url=db_target.url,
        secret_key=TEST_SECRET,
        web_dist_dir="/nonexistent",
        drain_timeout_s=1.0,
        # The fair service's automatic refunds would change the money of every test whose
        # companion stays quiet; its own tests switch it on (tests/*/test_fair_*.py).
        fair_enabled=False,
    )


@pytest.fixture
def outbox() -> DevOutbox:
    return DevOutbox(100)


@pytest.fixture
async def client(
    db: Database, settings: Settings, clock: FakeClock, outbox: DevOutbox
) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """The whole app on a real loopback server, on the parametrized database."""
    app = create_app(settings, clock=clock, sms=outbox)
    async with TestClient(TestServer(app)) as c:
        yield c


REDIS_URL = os.environ.get("PEILIAO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass(frozen=True)
class RedisTarget:
    url: str
    prefix: str  # every key this test makes starts with it; they are deleted at the end


@pytest.fixture
def redis_target() -> Iterator[RedisTarget]:
    """The real Redis, with a key prefix of this test's own (a sync fixture, so that async
    fixtures can ask for it through ``request.getfixturevalue``)."""
    import redis

    r = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        r.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        r.close()
        service_missing("Redis", exc)
    prefix = f"peiliao-test:{os.getpid()}:{secrets.token_hex(4)}:"
    yield RedisTarget(REDIS_URL, prefix)
    keys = list(r.scan_iter(match=prefix + "*", count=1000))
    if keys:
        r.delete(*keys)
    r.close()
