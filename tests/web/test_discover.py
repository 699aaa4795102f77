"""Discovery and onboarding in real Chromium (issue 18), at phone size for the customer and
desktop for the admin, in zh and en: the online companion first under 综合推荐 and online status
on the recommendation cards, level badges from the real level, 价格最低 usable without a mode,
the rating note, a login button, a favourite tapped before login done after it, the first
login's nickname and interests, the admin's landing and a customer's access-denied page, the
audit log in words and the client's 404.  The tour photographs every screen
(``discover_tour``; ``PEILIAO_TOUR_TAG=before`` on the old code made the "before" set)."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from tests.harness import bearer
from tests.harness.rig import Rig, RigFactory
from tests.web import discover_tour as tour
from tests.web.test_browser import DESKTOP, PHONE, Person, eventually, open_person, web_rig

pytestmark = [pytest.mark.timeout(240), pytest.mark.xdist_group("browser")]


async def log_in_here(rig: Rig, who: Person) -> None:
    """Log in on the login page the app sent us to (its ``?next=`` kept)."""
    page = who.page
    await page.fill("#phone", who.phone)
    await page.click("[data-test=send-code]")
    await page.wait_for_selector("text=验证码已发送")
    await page.fill("#code", rig.outbox.messages(who.phone)[0].code)
    await page.click("[data-test=login]")


async def favourites_of(rig: Rig, who: Person) -> list[str]:
    token = {c["name"]: c["value"] for c in await who.page.context.cookies()}["peiliao_session"]
    body = await (await rig.http.get("/api/favourites", headers=bearer(token))).json()
    return [c["id"] for c in body["companions"]]


async def test_discovery_and_onboarding_for_a_new_customer_and_an_admin(
    make_rig: RigFactory, browser: Any
) -> None:
    tag = os.environ.get("PEILIAO_TOUR_TAG", "after")
    async with web_rig(make_rig) as rig:
        ids = await tour.cast(rig)
        cust = await open_person(rig, browser, "customer", PHONE)
        page = cust.page

        # -- logged out: a login button; a favourite tapped is kept across the login ----------
        await tour.logged_out_screens(cust, tag, ids["gold"])
        await page.click("[data-test=favourite]")
        await page.wait_for_url(re.compile(r"/login\?next="))
        await log_in_here(rig, cust)
        # first login: nickname and interests, then on to the companion, favourite done
        await page.wait_for_selector("[data-test=welcome]")
        await tour.snap(cust, f"{tag}-welcome-zh", sizes=("phone",))
        await page.fill("[data-test=welcome-nickname]", "小明")
        await page.click("[data-tag=游戏]")
        await page.click("[data-tag=音乐]")
        await page.click("[data-test=welcome-save]")
        await page.wait_for_url(re.compile(rf"/companions/{ids['gold']}$"))
        await page.wait_for_selector("[data-test=favourite][aria-pressed=true]")
        await tour.snap(cust, f"{tag}-after-login-zh", sizes=("phone",))
        assert await favourites_of(rig, cust) == [ids["gold"]]
        me = await (await page.request.get("/api/me")).json()
        assert (me["nickname"], me["tags"]) == ("小明", ["游戏", "音乐"])

        # -- discovery: the one online first, status and real levels on the recommendations --
        await page.goto("/companions")
        await page.wait_for_selector("[data-test=recommendations] [data-test=status]")
        first = page.locator("[data-test=results] [data-companion]").first
        assert await first.get_attribute("data-companion") == ids["online"]
        strip = page.locator("[data-test=recommendations]")
        for key, level in (("gold", "gold"), ("senior", "senior"), ("online", "newcomer")):
            card = strip.locator(f"[data-companion={ids[key]}]")
            assert await card.locator("[data-test=level]").get_attribute("data-level") == level
            status = "online" if key == "online" else "offline"
            assert await card.locator("[data-test=status]").get_attribute("data-status") == status
            if key != "online":  # a gold or senior companion is not called new
                assert await card.get_attribute("data-reason") != "new_companion"
        await page.wait_for_selector("[data-test=online-first-note]")
        await page.click("[data-test=rating-note] summary")
        await page.wait_for_selector("text=贝叶斯平均")
        await tour.customer_screens(rig, cust, tag)

        # 价格最低 with no mode: sorted by the text price, and said so
        await page.goto("/companions")
        await page.select_option("[data-test=sort]", "price")
        await page.wait_for_url(re.compile(r"sort=price"))
        assert "mode=text" in page.url
        await page.wait_for_selector("[data-test=price-note]")
        await tour.snap(cust, f"{tag}-price-sort-zh", sizes=("phone",))

        # -- a customer on /admin: a proper access-denied page; an unknown URL: the 404 ------
        await page.goto("/admin")
        await page.wait_for_selector("[data-test=forbidden]")
        await page.goto("/no/such/page")
        await page.wait_for_selector("[data-test=not-found]")
        await tour.set_lang(cust, "en")
        await page.wait_for_selector("[data-test=not-found] >> text=Page not found")
        await tour.snap(cust, f"{tag}-unknown-url-en", sizes=("phone",))
        await tour.set_lang(cust, "zh-CN")
        # the one expected failure: the unknown page's own 404 status
        unexpected = [e for e in cust.errors if "/no/such/page" not in e and "404" not in e]
        assert unexpected == [], cust.errors

        # -- the admin: lands on the console; the audit log reads as words -------------------
        admin = await open_person(rig, browser, "admin", DESKTOP)
        await tour.log_in(rig, admin)
        await admin.page.click("[data-test=welcome-skip]")  # onboarding is skippable
        await admin.page.wait_for_url(re.compile(r"/companions$"))
        await tour.promote(rig, admin.phone)
        token = {c["name"]: c["value"] for c in await admin.page.context.cookies()}[
            "peiliao_session"
        ]
        resp = await rig.http.post(
            f"/api/admin/users/{ids['senior']}/sanctions",
            json={"kind": "warn", "reason": "辱骂用户"},
            headers=bearer(token),
        )
        assert resp.status == 201, await resp.text()
        await admin.page.goto("/")
        await admin.page.wait_for_url(re.compile(r"/admin$"))
        await tour.admin_screens(rig, admin, tag)
        await admin.page.goto("/admin?tab=audit")
        cell = admin.page.locator("[data-test=audit] tr[data-action='sanction.impose'] .detail")
        await eventually(lambda: _has_text(cell, "警告"), 10, "the audit line in words", admin)
        assert "{" not in await cell.inner_text()
        row = admin.page.locator("[data-test=audit] tr[data-action='sanction.impose']")
        assert "处罚用户" in await row.inner_text()
        assert admin.errors == [], admin.errors


async def _has_text(locator: Any, text: str) -> bool:
    return await locator.count() > 0 and text in await locator.first.inner_text()
