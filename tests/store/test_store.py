"""The store on SQLite and PostgreSQL: migrations from empty, schema parity, time zones,
SQLite's pragmas and the write serialization that ``Database.writing`` promises."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, func, insert, inspect, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from store import Database
from store.db import NestedWriteError
from store.migrate import current_revision, downgrade, head_revision, upgrade
from store.models import ActiveMeter, Base, MeteredSession, PhoneGuard, User
from tests.conftest import _pg_admin, _pg_url, service_missing

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database with nothing in it: not even the migrations table."""
    if request.param == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
        yield db
        await db.dispose()
        return
    name = f"peiliao_test_empty_{secrets.token_hex(4)}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except (OSError, TimeoutError) as exc:
        service_missing("PostgreSQL", exc)
    db = Database(_pg_url(name))
    yield db
    await db.dispose()
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_migrations_build_the_schema_from_an_empty_database(empty_db: Database) -> None:
    assert await current_revision(empty_db) is None
    await upgrade(empty_db)
    assert await current_revision(empty_db) == head_revision()
    async with empty_db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


async def test_migrations_match_the_models(empty_db: Database) -> None:
    """Autogenerate finds nothing to do: nobody changed a model without a migration."""
    await upgrade(empty_db)

    def diff(conn: object) -> list[object]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(ctx, Base.metadata))

    async with empty_db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_downgrade_to_empty_and_up_again(empty_db: Database) -> None:
    await upgrade(empty_db)
    await downgrade(empty_db, "base")
    async with empty_db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert not ({t.name for t in Base.metadata.sorted_tables} & tables)
    await upgrade(empty_db)
    assert await current_revision(empty_db) == head_revision()


async def test_0017_gives_each_customer_with_open_sessions_one_meter(empty_db: Database) -> None:
    """Sessions open at the upgrade get their customer's row: the earliest open one (a customer
    the old race left with two keeps one row; ``ledger check`` names the other), of its kind."""
    await upgrade(empty_db, "0016")
    t0 = datetime(2026, 12, 1, tzinfo=UTC)

    def session(sid: str, customer: str, status: str, minutes: int) -> dict[str, object]:
        when = t0 + timedelta(minutes=minutes)
        return {
            "id": sid, "customer_id": customer, "companion_id": "u_comp", "mode": "voice",
            "rate_fen_per_min": 300, "commission_bp": 3000, "status": status, "meter": {},
            "charged_fen": 0, "refunded_fen": 0, "billed_minutes": 0, "owner": "x",
            "heartbeat_at": when, "created_at": when,
        }  # fmt: skip

    async with empty_db.writing() as s:
        for n, uid in enumerate(("u_a", "u_b", "u_c", "u_comp")):
            user = _user(f"1380000040{n}", t0)
            user.id = uid
            s.add(user)
        await s.flush()
        await s.execute(
            MeteredSession.__table__.insert(),
            [
                session("call_old", "u_a", "ended", 0),
                session("call_a2", "u_a", "running", 2),
                session("vrs_a1", "u_a", "paused", 1),  # the earliest open: a room seat
                session("call_b", "u_b", "running", 3),
                session("call_c", "u_c", "ended", 4),
            ],
        )
    await upgrade(empty_db)
    async with empty_db.reading() as s:
        rows = (await s.execute(select(ActiveMeter.customer_id, ActiveMeter.session_id,
                                       ActiveMeter.kind))).all()  # fmt: skip
    assert sorted(map(tuple, rows)) == [("u_a", "vrs_a1", "room_seat"), ("u_b", "call_b", "call")]


def _user(phone: str, when: datetime) -> User:
    return User(
        id=f"u_{phone}",
        phone=phone,
        role="customer",
        nickname="n",
        tags=[],
        avatar_version=0,
        created_at=when,
        updated_at=when,
    )


async def test_datetimes_come_back_aware_and_in_utc(db: Database) -> None:
    beijing = timezone(timedelta(hours=8))
    when = datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=beijing)
    async with db.writing() as s:
        s.add(_user("13800000301", when))
    async with db.reading() as s:
        got = (await s.execute(select(User.created_at))).scalar_one()
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got == when


async def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="timezone-aware"):
        async with db.writing() as s:
            s.add(_user("13800000302", datetime(2026, 1, 1)))


async def test_phone_is_unique(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.writing() as s:
        s.add(_user("13800000303", now))
    with pytest.raises(IntegrityError):
        async with db.writing() as s:
            s.add(
                User(
                    id="u_other",
                    phone="13800000303",
                    role="customer",
                    nickname="n",
                    tags=[],
                    avatar_version=0,
                    created_at=now,
                    updated_at=now,
                )
            )


async def test_sqlite_runs_wal_with_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", sqlite_busy_timeout_ms=1234)
    try:
        async with db.engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            busy = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
        assert (mode, fks, busy) == ("wal", 1, 1234)
        await upgrade(db)
        with pytest.raises(IntegrityError):
            async with db.writing() as s:
                await s.execute(
                    text(
                        "INSERT INTO avatars (user_id, content_type, data, updated_at) "
                        "VALUES ('u_missing', 'image/webp', x'00', '2026-01-01 00:00:00')"
                    )
                )
    finally:
        await db.dispose()


async def test_concurrent_read_modify_write_in_writing_units_never_loses_an_update(
    db: Database,
) -> None:
    """Twenty concurrent increments that read, then write: serialized, so none is lost.

    On SQLite, ``writing()`` is ``BEGIN IMMEDIATE``; on PostgreSQL the row lock (FOR UPDATE)
    the repositories take does the same.
    """
    async with db.writing() as s:
        s.add(PhoneGuard(phone="13800000304", failed_attempts=0))

    async def bump() -> None:
        async with db.writing() as s:
            row = (
                await s.execute(
                    select(PhoneGuard).where(PhoneGuard.phone == "13800000304").with_for_update()
                )
            ).scalar_one()
            value = row.failed_attempts
            await asyncio.sleep(0.001)  # widen the race window
            await s.execute(
                update(PhoneGuard)
                .where(PhoneGuard.phone == "13800000304")
                .values(failed_attempts=value + 1)
            )

    await asyncio.gather(*(bump() for _ in range(20)))
    async with db.reading() as s:
        final = (await s.execute(select(PhoneGuard.failed_attempts))).scalar_one()
    assert final == 20


async def test_a_write_inside_reading_fails_on_both_engines(db: Database) -> None:
    """reading() is read-only, enforced by the database (PostgreSQL ``BEGIN READ ONLY``, SQLite
    ``PRAGMA query_only``): a write there fails at once in every test, not only under load with
    "database is locked"."""
    for statement in (
        insert(PhoneGuard).values(phone="13800000305", failed_attempts=0),
        update(PhoneGuard).values(failed_attempts=1),
        delete(PhoneGuard),
    ):
        with pytest.raises(DBAPIError, match=r"(?i)read-only|readonly"):
            async with db.reading() as s:
                await s.execute(statement)


async def test_pooled_connections_switch_between_reading_and_writing(db: Database) -> None:
    """A connection that served a read-only unit writes when it next serves writing(), and the
    other way round: the read-only setting is per unit of work, not stuck to the connection."""
    for round_ in range(3):
        async with db.writing() as s:
            s.add(PhoneGuard(phone=f"1380000031{round_}", failed_attempts=round_))
        async with db.reading() as s:
            assert (await s.execute(select(func.count()).select_from(PhoneGuard))).scalar_one() == (
                round_ + 1
            )
        with pytest.raises(DBAPIError):
            async with db.reading() as s:
                await s.execute(delete(PhoneGuard))
    # The engine used directly (migrations, admin) stays writable after read-only units.
    async with db.engine.begin() as conn:
        await conn.execute(update(PhoneGuard).values(failed_attempts=9))
    async with db.reading() as s:
        values = set((await s.execute(select(PhoneGuard.failed_attempts))).scalars())
    assert values == {9}


async def test_many_concurrent_reads_and_writes_share_the_pool(db: Database) -> None:
    """Interleaved readers and writers on the same pool: no write is refused as read-only and no
    read may write, however the pool hands connections around."""
    async with db.writing() as s:
        s.add(PhoneGuard(phone="13800000320", failed_attempts=0))

    async def bump() -> None:
        async with db.writing() as s:
            await s.execute(
                update(PhoneGuard).values(failed_attempts=PhoneGuard.failed_attempts + 1)
            )

    async def read() -> int:
        async with db.reading() as s:
            return int((await s.execute(select(PhoneGuard.failed_attempts))).scalar_one())

    await asyncio.gather(*(bump() if i % 2 else read() for i in range(40)))
    assert await read() == 20


async def test_writing_nested_in_writing_in_one_task_is_refused(db: Database) -> None:
    """On SQLite the inner writing() would wait forever for the write lock its own task holds;
    it raises instead, on both engines, so a test on either catches it.  Other tasks still queue
    behind the outer unit, and the task can write again once the outer unit is closed."""
    with pytest.raises(NestedWriteError):
        async with db.writing() as outer:
            outer.add(PhoneGuard(phone="13800000330", failed_attempts=0))
            async with db.writing():
                pass
    async with asyncio.timeout(10):
        async with db.writing() as s:
            s.add(PhoneGuard(phone="13800000331", failed_attempts=0))
        async with db.writing() as outer:
            other = asyncio.create_task(_count_in_writing(db))
            outer.add(PhoneGuard(phone="13800000332", failed_attempts=0))
        counted = await other
        # SQLite: the other writer queued behind the outer unit.  PostgreSQL does not serialize
        # writers: under load the other task may count before the outer unit commits.
        assert counted == 2 if db.is_sqlite else counted in (1, 2)
        assert await _count_in_writing(db) == 2  # the rolled-back first unit left nothing


async def _count_in_writing(db: Database) -> int:
    async with db.writing() as s:
        return int((await s.execute(select(func.count()).select_from(PhoneGuard))).scalar_one())
