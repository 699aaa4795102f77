"""The customer's marketplace in real Chromium against the real server: discovery (search,
specialty chips, mode + price sort kept in the URL across a reload, "load more" on the server's
cursor, the recommended strip with reasons), a companion's page (intro, certificate badge,
booking calendar with the hold shown), bookings (confirmed by the companion: the page hears it;
a free cancellation; another booking moved to now is placed by the server and opens the call
screen: ``booking:due``), the review on the ended call screen and the companion's reply, the
history list with an appeal decided with a partial refund, a support ticket answered by staff,
and a group voice room joined and left.  What is tedious for a person (vetting, the companion's
and the admin's side) goes through the HTTP API, Socket.IO or the database.  Screenshots of each
new screen at phone and desktop sizes go to ``web_client/screenshots/market-*.png``."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from store.models import CompanionRate, User
from store.models.bookings import Booking
from store.models.vetting import CompanionProfile
from tests.harness import bearer
from tests.harness.rig import Rig, RigFactory
from tests.web.conftest import SHOTS
from tests.web.test_browser import (
    DESKTOP,
    PHONE,
    Person,
    eventually,
    open_person,
    sign_up,
    top_up,
    user_id,
    web_rig,
)

pytestmark = [pytest.mark.timeout(180), pytest.mark.xdist_group("browser")]

EVERY_DAY = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]


async def shots(who: Person, name: str) -> None:
    """The page as it is, at phone and at desktop size."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = who.page
    before = page.viewport_size
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(viewport)
        await page.evaluate("window.scrollTo(0, 0)")  # the sticky bar stays at the top
        await page.wait_for_timeout(150)
        await page.screenshot(path=str(SHOTS / f"market-{name}-{size}.png"), full_page=True)
    await page.set_viewport_size(before)


async def api(rig: Rig, method: str, path: str, token: str, body: Any = None) -> Any:
    resp = await rig.http.request(method, path, json=body, headers=bearer(token))
    assert resp.status < 300, (method, path, resp.status, await resp.text())
    return await resp.json()


async def vetted(rig: Rig, uid: str, nickname: str, **profile: Any) -> None:
    """What an approved application leaves behind (vetting is tested on its own)."""
    now = rig.clock.now()
    async with rig.db.writing() as s:
        await s.execute(update(User).where(User.id == uid).values(nickname=nickname))
        s.add(CompanionProfile(user_id=uid, approved_at=now, updated_at=now, **profile))


async def more_companions(rig: Rig, n: int) -> None:
    """Enough listed companions for a second page."""
    now = rig.clock.now()
    async with rig.db.writing() as s:
        for i in range(n):
            uid = "u_" + secrets.token_hex(12)
            phone = "135" + "".join(secrets.choice("0123456789") for _ in range(8))
            s.add(
                User(
                    id=uid,
                    phone=phone,
                    role="companion",
                    nickname=f"陪聊{i:02d}",
                    tags=[],
                    created_at=now,
                    updated_at=now,
                )
            )
            await s.flush()
            s.add(
                CompanionRate(
                    user_id=uid,
                    text_fen_per_min=100 + i,
                    voice_fen_per_min=300,
                    video_fen_per_min=600,
                    updated_at=now,
                )
            )


async def cards(page: Any) -> list[str]:
    return [
        str(await c.get_attribute("data-companion"))
        for c in await page.query_selector_all("[data-test=results] [data-companion]")
    ]


async def test_marketplace_from_discovery_to_support(make_rig: RigFactory, browser: Any) -> None:
    async with web_rig(make_rig) as rig:
        # -- the other side: two vetted companions (one online, with a calendar), an admin ----
        comp = await rig.person("companion")
        await vetted(
            rig,
            comp.user_id,
            "小雨",
            gender="female",
            intro="你好，我是小雨，擅长倾听和英语口语陪练，欢迎来聊。",
            specialties=["情感倾诉", "外语陪练"],
            certified=["外语陪练"],
        )
        other = await rig.person("companion")
        await vetted(
            rig,
            other.user_id,
            "阿杰",
            gender="male",
            intro="一起打游戏吧",
            specialties=["游戏陪玩"],
        )
        await more_companions(rig, 20)
        await api(rig, "PUT", "/api/me/availability", comp.token, {"ranges": EVERY_DAY})
        comp_sock = await rig.connect(comp, "companion")
        await comp_sock.ok("presence:set", {"accepting": True})
        admin = await rig.person("admin")

        cust = await open_person(rig, browser, "customer", DESKTOP)
        page = cust.page
        await sign_up(rig, cust)
        await top_up(cust, "100")
        cust_id = await user_id(rig, cust.phone)

        # -- discovery ---------------------------------------------------------------------------
        await page.goto("/companions")
        await page.wait_for_selector("[data-test=recommendations] [data-test=reason]")
        reason = await page.text_content("[data-test=recommendations] [data-test=reason]")
        assert reason and reason.strip()
        await page.wait_for_selector("[data-test=more]")
        first = await cards(page)
        assert len(first) == 20
        await page.click("[data-test=more]")
        await eventually(lambda: _count_at_least(page, 22), 10, "the second page")
        both = await cards(page)
        assert len(both) == len(set(both)) == 22 and both[:20] == first
        await shots(cust, "discovery")

        await page.click("[data-specialty=外语陪练]")
        await page.wait_for_url(re.compile(r"specialty="))
        await eventually(lambda: _only(page, [comp.user_id]), 10, "the specialty filter")
        await page.click("[data-test=toggle-filters]")
        await page.select_option("[data-test=mode]", "voice")
        await page.select_option("[data-test=sort]", "price")
        await page.wait_for_url(re.compile(r"sort=price"))
        assert "mode=voice" in page.url
        await page.reload()
        await page.wait_for_selector("[data-specialty=外语陪练][aria-pressed=true]")
        assert await page.input_value("[data-test=sort]") == "price"
        assert await page.input_value("[data-test=mode]") == "voice"
        await eventually(lambda: _only(page, [comp.user_id]), 10, "the filters after a reload")
        await page.fill("#q", "阿杰")
        await page.click("[data-test=clear]")
        await page.wait_for_url(re.compile(r"q=%E9%98%BF%E6%9D%B0|q=阿杰"))
        await eventually(lambda: _only(page, [other.user_id]), 10, "the keyword search")
        await page.fill("#q", "")

        # -- a companion's page: profile and booking ----------------------------------------
        await page.goto(f"/companions/{comp.user_id}")
        await page.wait_for_selector("[data-test=intro] >> text=擅长倾听")
        await page.wait_for_selector("[data-test=certified]")
        await page.select_option("[data-test=book-mode]", "text")
        await page.select_option("[data-test=book-duration]", "30")
        # The day after tomorrow (China time): its first slot (00:00) is a day away or more, so
        # the booking is inside its free-cancellation window whatever the hour of the run.
        # Tomorrow's first slot is under two hours away from 22:00 China time (14:00 UTC).
        day_after = page.locator("[role=tab]").nth(2)
        await day_after.click()
        await page.locator("[role=tabpanel] .slot").nth(0).click()
        assert "¥10.00" in (await page.text_content("[data-test=hold]") or "")  # 1.00/min × 10
        await shots(cust, "companion")
        await page.click("[data-test=book]")
        await page.wait_for_selector("[data-test=booked]")
        await page.locator("[role=tabpanel] .slot").nth(2).click()
        await page.click("[data-test=book]")
        await eventually(lambda: _bookings(rig, cust_id, 2), 10, "two bookings")

        # -- my bookings: the companion confirms, I cancel one free ------------------------------
        await page.goto("/bookings?tab=requested")
        await page.wait_for_selector(
            "[data-booking] [data-test=cancel-terms] >> text=确认前可免费取消"
        )
        async with rig.db.reading() as s:
            rows = (
                await s.scalars(
                    select(Booking)
                    .where(Booking.customer_id == cust_id)
                    .order_by(Booking.starts_at)
                )
            ).all()
        for b in rows:
            await api(rig, "POST", f"/api/bookings/{b.id}/confirm", comp.token)
        await page.wait_for_selector("[data-test=booking-toast] >> text=确认了你的预约")
        await page.click("[data-test=tab-upcoming]")
        await page.wait_for_selector(f"[data-booking={rows[0].id}][data-status=confirmed]")
        await page.wait_for_selector(f"[data-booking={rows[0].id}] >> text=前可免费取消")
        await shots(cust, "bookings")
        await page.click(f"[data-booking={rows[0].id}] [data-test=cancel]")
        await page.click(f"[data-booking={rows[0].id}] [data-test=cancel-confirm]")
        await page.wait_for_selector("[data-test=cancelled] >> text=¥10.00 已退回钱包")

        # -- the other booking's slot comes: the server calls, the call screen opens ------------
        starts = rig.clock.now() + timedelta(seconds=20)
        async with rig.db.writing() as s:
            await s.execute(
                update(Booking)
                .where(Booking.id == rows[1].id)
                .values(starts_at=starts, ends_at=starts + timedelta(minutes=30))
            )
        incoming = await comp_sock.wait("call:incoming", timeout=20)
        await page.wait_for_url(re.compile(r"/call$"), timeout=10_000)
        await comp_sock.ok("call:accept", {"call_id": incoming["call_id"]})
        await page.wait_for_selector("[data-test=phase][data-phase=live]")
        await eventually(lambda: _billed(page), 20, "a billed minute")
        await page.click("[data-test=hangup]")
        await page.wait_for_selector("[data-test=phase][data-phase=ended]")

        # -- the review on the ended call screen -------------------------------------------------
        await page.wait_for_selector("[data-test=review-form]")
        await page.click("[data-test=star-5] >> xpath=..")
        await page.click("[data-tag=耐心]")
        await page.click("[data-tag=声音好听]")
        await page.fill("[data-test=review-text]", "很耐心，英语口语进步了")
        await page.check("[data-test=anonymous]")
        await shots(cust, "review")
        await page.click("[data-test=review-submit]")
        await page.wait_for_selector("[data-test=my-review] >> text=很耐心")
        call_id = incoming["call_id"]
        mine = await api(rig, "GET", "/api/me/reviews", comp.token)
        assert mine["reviews"][0]["stars"] == 5 and mine["reviews"][0]["author"] == "匿名"
        await api(
            rig,
            "POST",
            f"/api/reviews/{mine['reviews'][0]['id']}/reply",
            comp.token,
            {"text": "谢谢你，下次继续加油！"},
        )
        await page.click("[data-test=leave]")

        # -- history: my review with the reply; an appeal ---------------------------------------
        await page.goto("/sessions")
        row = f"[data-session={call_id}]"
        await page.wait_for_selector(f"{row} >> text=小雨")
        await page.click(f"{row} [data-test=open-review]")
        await page.wait_for_selector(f"{row} [data-test=companion-reply] >> text=下次继续加油")
        await page.click(f"{row} [data-test=open-appeal]")
        await page.select_option(f"{row} [data-test=appeal-reason]", "overcharged")
        await page.fill(f"{row} [data-test=appeal-text]", "结束后还多扣了一分钟的钱，请核实。")
        await shots(cust, "sessions")
        await page.click(f"{row} [data-test=appeal-submit]")
        await page.wait_for_selector(f"{row} [data-test=appeal-state] >> text=审核中")
        appeal = (await api(rig, "GET", "/api/appeals", comp.token))["appeals"][0]
        await api(
            rig,
            "POST",
            f"/api/appeals/{appeal['id']}/response",
            comp.token,
            {"text": "通话确实按分钟计费，同意平台核实。"},
        )
        await api(
            rig,
            "POST",
            f"/api/admin/appeals/{appeal['id']}/decision",
            admin.token,
            {"outcome": "partial", "amount_fen": 50, "reason": "最后一分钟未满，退一半"},
        )
        await page.goto("/sessions?tab=appeals")
        decided = f"[data-appeal={appeal['id']}]"
        await page.wait_for_selector(f"{decided} [data-test=appeal-status] >> text=部分退款")
        await page.wait_for_selector(f"{decided} [data-test=appeal-decision] >> text=已退款 ¥0.50")
        await page.wait_for_selector(f"{decided} [data-test=appeal-response] >> text=同意平台核实")
        await shots(cust, "appeals")

        # -- the review is on the companion's page ----------------------------------------------
        await page.goto(f"/companions/{comp.user_id}")
        await page.wait_for_selector("[data-test=reviews] [data-review] >> text=很耐心")
        await page.wait_for_selector("[data-test=reviews] [data-test=reply] >> text=下次继续加油")

        # -- customer service about the session -------------------------------------------------
        await page.goto(f"/support?session={call_id}")
        await page.wait_for_selector("[data-test=ticket-form]")
        assert await page.input_value("[data-test=ticket-category]") == "session"
        assert await page.input_value("[data-test=ticket-link]") == f"session:{call_id}"
        await page.fill("[data-test=ticket-subject]", "申诉进度")
        await page.fill("[data-test=ticket-body]", "想确认一下退款什么时候到账。")
        await shots(cust, "support")
        await page.click("[data-test=ticket-submit]")
        await page.wait_for_url(re.compile(r"/support/"))
        ticket_id = page.url.rsplit("/", 1)[1]
        await api(
            rig,
            "POST",
            f"/api/admin/tickets/{ticket_id}/messages",
            admin.token,
            {"body": "退款已原路退回钱包，请查看账单。"},
        )
        await page.reload()
        await page.wait_for_selector("[data-test=ticket-status] >> text=客服已回复")
        await page.wait_for_selector("[data-test=ticket-messages] li.staff >> text=原路退回")
        await page.fill("[data-test=ticket-reply]", "收到，谢谢！")
        await page.click("[data-test=ticket-send]")
        await page.wait_for_selector("[data-test=ticket-messages] >> text=收到，谢谢")
        await shots(cust, "ticket")
        await page.click("[data-test=ticket-close]")
        await page.click("[data-test=ticket-close-confirm]")
        await page.wait_for_selector("[data-test=ticket-closed]")

        # -- a group voice room -----------------------------------------------------------------
        room = await api(
            rig,
            "POST",
            "/api/voice-rooms",
            comp.token,
            {"title": "睡前英语角", "rate_fen_per_min": 200, "capacity": 4},
        )
        await page.goto("/rooms")
        await page.click(f"[data-room={room['id']}]")
        await page.wait_for_selector("[data-test=room] >> text=睡前英语角")
        await shots(cust, "rooms-before")
        await page.click("[data-test=room-join]")
        await page.wait_for_selector("[data-test=room][data-inside=true]")
        await page.wait_for_selector(f"[data-test=members] [data-member={cust_id}]")
        await page.wait_for_selector(f"[data-test=members] [data-member={comp.user_id}]")
        await page.wait_for_selector("[data-test=room-meter]")
        host = await api(rig, "GET", f"/api/voice-rooms/{room['id']}", comp.token)
        assert [m["user_id"] for m in host["members"]] == [comp.user_id, cust_id]
        await shots(cust, "room")
        await page.click("[data-test=room-leave]")
        await page.wait_for_selector("[data-test=room-left]")
        host = await api(rig, "GET", f"/api/voice-rooms/{room['id']}", comp.token)
        assert [m["user_id"] for m in host["members"]] == [comp.user_id]
        await page.goto("/rooms")
        await page.wait_for_selector(f"[data-room={room['id']}] [data-test=listeners] >> text=0/3")
        await shots(cust, "rooms")

        # -- the same screens in English ----------------------------------------------------
        await page.click("text=English")
        await page.goto("/companions")
        await page.wait_for_selector("text=Recommended for you")
        await page.wait_for_selector("[data-specialty=外语陪练] >> text=Language practice")
        await shots(cust, "discovery-en")
        await page.goto("/bookings?tab=history")
        await page.wait_for_selector("[data-test=status] >> text=Cancelled")
        await page.wait_for_selector("[data-test=status] >> text=Completed")
        await shots(cust, "bookings-en")

        assert cust.errors == [], cust.errors


async def _count_at_least(page: Any, n: int) -> bool:
    return len(await cards(page)) >= n


async def _only(page: Any, ids: list[str]) -> bool:
    return await cards(page) == ids


async def _billed(page: Any) -> bool:
    text = await page.text_content("[data-test=billed]")
    return bool(text) and int(text or 0) >= 1


async def _bookings(rig: Rig, customer_id: str, n: int) -> bool:
    async with rig.db.reading() as s:
        found = (
            await s.scalars(select(Booking.id).where(Booking.customer_id == customer_id))
        ).all()
    return len(found) >= n
