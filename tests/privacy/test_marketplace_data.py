"""The marketplace's part of export and deletion: an open booking keeps an account from being
deleted (its hold is the customer's money); otherwise a deleted person's application files and
voice samples go, their reviews keep their stars but lose their words, their tickets go; the
export carries all of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from store.models.reviews import Review
from store.models.support import Ticket, TicketMessage
from store.models.vetting import ApplicationFile, CompanionApplication
from tests.harness import bearer
from tests.harness.rig import Rig
from tests.market.bookings.helpers import book, open_calendar
from tests.market.reviews.helpers import paid_session, review
from tests.market.vetting.conftest import applicant, submitted

pytestmark = pytest.mark.both_databases  # the database's behaviour matters here


async def test_an_open_booking_keeps_the_account(rig: Rig) -> None:
    cust = await rig.person(fund_fen=3000)  # exactly a 10-minute voice hold
    comp = await rig.person("companion")
    await open_calendar(rig, comp)
    at = rig.clock.now() + timedelta(hours=3)
    at = at.replace(minute=0, second=0, microsecond=0)
    resp = await book(rig, cust, comp, at)
    assert resp.status == 201, await resp.text()
    for who in (cust, comp):
        body = await (await rig.http.delete("/api/me", headers=bearer(who.token))).json()
        assert body["error"]["code"] == "account_busy"
        assert body["error"]["details"]["open"] == ["booking"]


async def test_export_and_delete_cover_applications_reviews_and_tickets(rig: Rig) -> None:
    who = await applicant(rig)
    await rig.fund(who.token, 200)
    _cust, _comp, session_id = await paid_session(rig, who, seconds=61)  # 2 minutes: all of it
    status, body = await review(rig, who, session_id, 5, text="很温柔，聊得很开心")
    assert status == 201, body
    app_id = await submitted(rig, who)
    h = bearer(who.token)
    resp = await rig.http.post(
        "/api/tickets",
        json={
            "category": "account",
            "subject": "注销前的问题",
            "body": "我想知道注销后数据怎么处理",
            "request_id": "tk-0000000001",
        },
        headers=h,
    )
    assert resp.status == 201, await resp.text()

    export = await (await rig.http.get("/api/me/export", headers=h)).json()
    assert [a["id"] for a in export["companion_applications"]] == [app_id]
    assert [(r["session_id"], r["stars"], r["role"]) for r in export["reviews"]] == [
        (session_id, 5, "author")
    ]
    assert [t["subject"] for t in export["tickets"]] == ["注销前的问题"]
    assert export["tickets"][0]["messages"][0]["text"] == "我想知道注销后数据怎么处理"

    resp = await rig.http.delete("/api/me", headers=h)
    assert resp.status == 200, await resp.text()
    async with rig.db.reading() as s:
        left = {
            "applications": await s.scalar(
                select(func.count())
                .select_from(CompanionApplication)
                .where(CompanionApplication.user_id == who.user_id)
            ),
            "files": await s.scalar(select(func.count()).select_from(ApplicationFile)),
            "tickets": await s.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.user_id == who.user_id)
            ),
            "ticket_messages": await s.scalar(select(func.count()).select_from(TicketMessage)),
        }
        kept = await s.scalar(select(Review).where(Review.session_id == session_id))
    assert left == {"applications": 0, "files": 0, "tickets": 0, "ticket_messages": 0}
    assert kept is not None and (kept.stars, kept.text, kept.anonymous) == (5, "", True)
