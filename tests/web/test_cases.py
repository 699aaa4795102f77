"""The moderation console in real Chromium at desktop size, and the sanctions it imposes as the
customer and the companion see them on a phone.

A companion's conversation is flagged by automatic moderation (their contact details, twice,
and a stopped message) and reported by the customer; the companion reports the customer about
nothing in particular, and a stopped sexual message of the companion's is queued too.  The
admin sees three cases, the sexual one first, with counts and the oldest wait; opens the
contact case (parties with avatars, the flagged lines highlighted, the companion's history),
confirms it with a chat mute and a note, undoes it, confirms it again; the customer's case is
confirmed with a warning (its note box its own).  The clock is a fake one, started now.
Screenshots go to ``web_client/screenshots/``."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from kernel.clock import FakeClock
from moderation.keys import REPORTS
from store.models import User
from store.models.sanctions import Sanction
from tests.harness import bearer
from tests.harness.rig import Person as Account
from tests.harness.rig import Rig, RigFactory
from tests.web.conftest import DIST, SHOTS
from tests.web.test_browser import DESKTOP, PHONE, Person, eventually, log_in, open_person
from tests.web.test_work import png

pytestmark = [pytest.mark.timeout(180), pytest.mark.xdist_group("browser")]
#: where a login lands
LANDED = re.compile(r"/(companions|studio|admin)$")


async def shot(who: Person, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = "phone" if who.page.viewport_size["width"] < 600 else "desktop"
    await who.page.evaluate("window.scrollTo(0, 0)")
    await asyncio.sleep(0.1)
    await who.page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)


async def named(rig: Rig, who: Account, nickname: str) -> None:
    async with rig.db.writing() as s:
        await s.execute(update(User).where(User.id == who.user_id).values(nickname=nickname))
    resp = await rig.http.put(
        "/api/me/avatar",
        data=png(64, 64),
        headers={**bearer(who.token), "Content-Type": "image/png"},
    )
    assert resp.status == 200, await resp.text()


async def _count(page: Any, selector: str, n: int) -> bool:
    return bool(await page.locator(selector).count() == n)


async def test_the_admin_decides_cases_and_both_sides_see_their_sanction(
    make_rig: RigFactory, browser: Any
) -> None:
    clock = FakeClock(datetime.now(UTC))
    async with make_rig(clock, web_dist_dir=str(DIST), sms_code_ttl_s=3000) as rig:
        cust, cust_sock, comp, comp_sock, call_id = await rig.active_call("text")
        await named(rig, cust, "夜猫子")
        await named(rig, comp, "阿杰")
        lines = [
            (cust_sock, "晚上好"),
            (comp_sock, "你好呀，今天想聊什么"),
            (cust_sock, "随便聊聊"),
            (comp_sock, "我们私下聊吧"),
            (cust_sock, "为什么"),
            (comp_sock, "这里收费太贵了"),
        ]
        for i, (sock, text) in enumerate(lines):
            await sock.ok("chat:send", {"call_id": call_id, "client_id": f"m{i:07d}", "text": text})
        reports = rig.app[REPORTS]
        # An earlier case of the companion's, decided: their history.
        await reports.flag(call_id, comp.user_id, 2, ("upsell",), priority="low")
        admin_account = await rig.person("admin")
        old = await rig.http.get("/api/admin/cases", headers=bearer(admin_account.token))
        # (the real chat rules flagged "我们私下聊吧" on their own: the contact case is open)
        earlier = next(c for c in (await old.json())["cases"] if c["category"] == "upsell")
        resp = await rig.http.post(
            f"/api/admin/cases/{earlier['id']}/decision",
            json={"decision": "dismissed", "note": "正常推荐", "version": earlier["version"]},
            headers=bearer(admin_account.token),
        )
        assert resp.status == 200, await resp.text()
        clock.advance(60)
        await reports.flag(call_id, comp.user_id, 4, ("contact_request",))
        clock.advance(30)
        await reports.flag(call_id, comp.user_id, 6, ("off_platform_payment",), priority="high")
        await reports.flag(
            call_id, comp.user_id, None, ("messenger_id",), blocked_text="加我微信 abc_1234"
        )
        resp = await rig.http.post(
            "/api/reports",
            json={
                "user_id": comp.user_id,
                "reason": "contact_request",
                "call_id": call_id,
                "message_seq": 4,
                "details": "一直让我加微信",
            },
            headers=bearer(cust.token),
        )
        assert resp.status == 201, await resp.text()
        clock.advance(30)
        await reports.flag(call_id, comp.user_id, None, ("sexual",), blocked_text="开视频脱一下")
        resp = await rig.http.post(
            "/api/reports",
            json={"user_id": cust.user_id, "reason": "harassment", "details": "反复辱骂"},
            headers=bearer(comp.token),
        )
        assert resp.status == 201, await resp.text()
        clock.advance(120)

        # -- the admin, at desktop size ----------------------------------------------------------
        admin = await open_person(rig, browser, "admin", DESKTOP)
        admin.phone = admin_account.phone
        await log_in(rig, admin)
        page = admin.page
        await page.wait_for_url(LANDED)
        await page.goto("/admin")
        counts = page.locator("[data-test=case-counts]")
        await counts.locator("[data-severity=critical][data-count='1']").wait_for()
        await counts.locator("[data-severity=high][data-count='1']").wait_for()
        await counts.locator("[data-severity=normal][data-count='2']").wait_for()
        await page.wait_for_selector("[data-test=case-oldest] >> text=最久已等待：4 分钟")
        queue = page.locator("[data-test=case-queue] [data-case]")
        categories = await queue.evaluate_all("(els) => els.map((e) => e.dataset.category)")
        # Minors and sexual content first, then by severity, then the longest waiting.
        assert categories == ["sexual", "off_platform_payment", "contact_request", "harassment"]
        await page.wait_for_selector("[data-test=case-queue] >> text=色情内容")  # in words
        who = page.locator(f"[data-test=case-queue] [title={comp.user_id}]").first
        assert "阿杰" in (await who.inner_text())  # names, the id on hover

        contact = page.locator("[data-test=case-queue] [data-category=contact_request]")
        await contact.click()
        view = page.locator("[data-case-view]")
        await view.locator("[data-test=case-category] >> text=站外联系方式").wait_for()
        parties = view.locator("[data-test=case-parties]")
        await parties.locator(f"[title={comp.user_id}] >> text=阿杰").wait_for()
        await parties.locator(f"[title={cust.user_id}] >> text=夜猫子").wait_for()
        assert await parties.locator("img.avatar").count() == 2
        chat = view.locator("[data-test=case-chat]")
        await chat.locator("li.flagged >> text=我们私下聊吧").wait_for()
        await chat.locator("li.blocked >> text=加我微信 abc_1234").wait_for()
        assert await chat.locator("li:not(.flagged) >> text=随便聊聊").count() == 1
        await view.locator("[data-test=case-items] >> text=一直让我加微信").wait_for()
        history = view.locator("[data-test=case-history]")
        await history.locator("text=诱导消费 · 已驳回").wait_for()
        await view.locator("[data-test=case-note]").fill("多次索要微信，禁言一天")
        await shot(admin, "admin-cases")

        # Another case's note box is its own.
        await page.locator("[data-test=case-queue] [data-category=harassment]").click()
        await view.locator("[data-test=case-category] >> text=骚扰").wait_for()
        assert await view.locator("[data-test=case-note]").input_value() == ""
        await view.locator("[data-test=case-note]").fill("辱骂陪聊师，警告")
        await view.locator("[data-test=decide-kind]").select_option("warn")
        await view.locator("[data-test=case-submit]").click()
        await view.locator("[data-test=case-imposed] >> text=警告").wait_for()

        await contact.click()
        await view.locator("[data-test=case-category] >> text=站外联系方式").wait_for()
        await view.locator("[data-test=case-note]").fill("多次索要微信，禁言一天")
        await view.locator("[data-test=decide-kind]").select_option("mute")
        await view.locator("[data-test=decide-hours]").fill("24")
        await view.locator("[data-test=case-submit]").click()
        await view.locator("[data-test=case-imposed] >> text=禁言").wait_for()
        await view.locator("[data-test=case-undo] >> text=撤销裁决（还剩 9:").wait_for()
        await shot(admin, "admin-case-decided")
        await view.locator("[data-test=case-undo]").click()
        await view.locator("[data-test=case-done] >> text=裁决已撤销").wait_for()
        await view.locator("[data-test=case-decide]").wait_for()
        async with rig.db.reading() as s:
            (lifted,) = (
                await s.scalars(select(Sanction).where(Sanction.user_id == comp.user_id))
            ).all()
        assert lifted.lifted_at is not None  # the undo lifted the mute
        await view.locator("[data-test=case-note]").fill("多次索要微信，禁言一天")
        await view.locator("[data-test=decide-kind]").select_option("mute")
        await view.locator("[data-test=case-submit]").click()
        await view.locator("[data-test=case-imposed]").wait_for()
        await eventually(
            lambda: _count(page, "[data-test=case-queue] [data-case]", 2), 10, "two left", admin
        )
        clock.advance(601)  # the undo window is over
        await page.reload()
        await page.locator("[data-test=cases-decided]").click()
        await page.locator("[data-test=case-queue] [data-category=contact_request]").first.click()
        await view.locator("text=已超过可撤销裁决的时间").wait_for()
        assert await view.locator("[data-test=case-undo]").count() == 0

        # -- the companion's and the customer's views of their sanctions, on a phone ------------
        await cust_sock.ok("call:hangup", {"call_id": call_id})  # the call view would come first
        await cust_sock.wait("call:update", lambda d: d["status"] == "ended", timeout=10)
        for account, name in ((comp, "sanction-companion"), (cust, "sanction-customer")):
            person = await open_person(rig, browser, name, PHONE)
            person.phone = account.phone
            await log_in(rig, person)
            await person.page.wait_for_url(LANDED)
            await person.page.goto("/me")
            kind = "mute" if account is comp else "warn"
            reason = "多次索要微信，禁言一天" if account is comp else "辱骂陪聊师，警告"
            state = "[data-state=in_force]" if account is comp else ""
            card = person.page.locator(f"[data-sanction][data-kind={kind}]{state}")
            await card.locator(f"text={reason}").wait_for()
            if account is comp:  # the undone mute shows as lifted beside the one in force
                await person.page.locator("[data-kind=mute][data-state=lifted]").wait_for()
            await shot(person, name)
            assert person.errors == [], person.errors
        assert admin.errors == [], admin.errors
