"""Concurrent writes of one user's own things: profiles, avatars and the login's touch, on
SQLite and PostgreSQL (every answer 200, nothing lost)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from kernel.clock import FakeClock
from store import Database
from store.models import AuthSession
from tests.harness import bearer
from tests.harness.rig import Person, Rig, RigFactory, make_rig
from tests.kernel.test_concurrent_writes import CONCURRENT, png

__all__ = ["make_rig"]

pytestmark = [pytest.mark.timeout(180), pytest.mark.both_databases]


async def _profiles(rig: Rig, people: list[Person], *, each: int) -> list[int]:
    async def patch(who: Person, i: int) -> int:
        resp = await rig.http.patch(
            "/api/me", json={"nickname": f"名字{i}", "tags": []}, headers=bearer(who.token)
        )
        return resp.status

    return list(await asyncio.gather(*(patch(p, i) for p in people for i in range(each))))


async def test_ten_users_update_their_profiles_at_once(
    make_rig: RigFactory, clock: FakeClock
) -> None:
    async with make_rig(clock, sms_max_per_ip_per_hour=10_000) as rig:
        people = [await rig.person() for _ in range(10)]
        assert await _profiles(rig, people, each=1) == [200] * 10


async def test_one_user_sends_twenty_profile_updates_at_once(
    make_rig: RigFactory, clock: FakeClock
) -> None:
    async with make_rig(clock) as rig:
        who = await rig.person()
        assert await _profiles(rig, [who], each=20) == [200] * 20
        me = await (await rig.http.get("/api/me", headers=bearer(who.token))).json()
        assert me["nickname"].startswith("名字")


async def test_twenty_avatar_uploads_at_once_all_succeed_with_distinct_versions(
    make_rig: RigFactory, clock: FakeClock
) -> None:
    async with make_rig(clock) as rig:
        who = await rig.person()
        image = png()

        async def upload() -> tuple[int, Any]:
            resp = await rig.http.put(
                "/api/me/avatar",
                data=image,
                headers=bearer(who.token) | {"Content-Type": "image/png"},
            )
            return resp.status, await resp.json()

        answers = await asyncio.gather(*(upload() for _ in range(CONCURRENT)))
        assert [status for status, _ in answers] == [200] * CONCURRENT, answers
        urls = {body["avatar_url"] for _, body in answers}
        assert len(urls) == CONCURRENT  # each upload got its own version: none was lost
        avatar = await rig.http.get(sorted(urls)[-1])
        assert avatar.status == 200


async def test_a_due_session_touch_never_fails_the_requests_arriving_together(
    make_rig: RigFactory, clock: FakeClock, db: Database
) -> None:
    """The touch (``last_seen_at``) is a write on the read path of every request: due after
    five minutes, written by one of the requests arriving together, and none of them fails."""
    async with make_rig(clock) as rig:
        who = await rig.person()
        clock.advance(timedelta(minutes=6).total_seconds())
        answers = await asyncio.gather(
            *(rig.http.get("/api/me", headers=bearer(who.token)) for _ in range(CONCURRENT))
        )
        assert [r.status for r in answers] == [200] * CONCURRENT
        async with db.reading() as s:
            seen = await s.scalar(
                select(AuthSession.last_seen_at).where(AuthSession.user_id == who.user_id)
            )
        assert seen == clock.now()
