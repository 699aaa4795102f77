"""The screens of issue 18's discovery and onboarding problems, photographed at phone and
desktop size in zh and en (``web_client/screenshots/discover/<tag>-*.png``): the same tour
before and after the change, so the two sets compare screen by screen.  The assertions live in
``test_discover.py``; this only sets the scene and looks."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import update

from store.models import CompanionRate, User
from store.models.reviews import CompanionStats
from store.models.vetting import CompanionProfile
from tests.harness.rig import Rig
from tests.web.conftest import SHOTS
from tests.web.test_browser import DESKTOP, PHONE, Person
from tests.web.test_browser import log_in as log_in

DIR = SHOTS / "discover"


async def snap(who: Person, name: str, *, sizes: tuple[str, ...] = ("phone", "desktop")) -> None:
    DIR.mkdir(parents=True, exist_ok=True)
    page = who.page
    own = dict(page.viewport_size)
    for size in sizes:
        await page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
        await page.evaluate("window.scrollTo(0, 0)")
        await asyncio.sleep(0.3)
        await page.screenshot(path=str(DIR / f"{name}-{size}.png"), full_page=size != "fold")
    await page.set_viewport_size(own)


async def set_lang(who: Person, lang: str) -> None:
    await who.page.evaluate(f"localStorage.setItem('locale', '{lang}')")
    await who.page.reload()
    await who.page.wait_for_load_state("networkidle")


async def cast(rig: Rig) -> dict[str, str]:
    """Four listed companions: a gold one with one 5-star review, a senior one, a newcomer and
    the only one online, whose figures put them last in the recommended order of old."""
    ids: dict[str, str] = {}
    online, sock = await rig.online_companion()
    rig.socks.append(sock)
    ids["online"] = online.user_id
    for key in ("gold", "senior", "newcomer"):
        ids[key] = (await rig.person("companion")).user_id
    now = rig.clock.now()
    figures = {
        # (nickname, level, tags, specialties, reviews, stars, orders)
        "gold": ("晚晚", "gold", ["音乐"], ["情感倾诉", "助眠陪伴"], 1, 5, 3),
        "senior": ("阿杰", "senior", ["游戏"], ["游戏陪玩"], 0, 0, 2),
        "newcomer": ("Lily", "newcomer", ["外语"], ["外语陪练"], 0, 0, 0),
        "online": ("小雨", "newcomer", ["闲聊"], ["闲聊"], 5, 19, 12),
    }
    from market.reviews.rules import bayesian_x100

    async with rig.db.writing() as s:
        for key, (nick, level, tags, specs, n, stars, orders) in figures.items():
            uid = ids[key]
            await s.execute(update(User).where(User.id == uid).values(nickname=nick, tags=tags))
            await s.execute(
                update(CompanionRate).where(CompanionRate.user_id == uid).values(level=level)
            )
            s.add(
                CompanionProfile(
                    user_id=uid,
                    approved_at=now,
                    updated_at=now,
                    intro=f"你好，我是{nick}",
                    specialties=specs,
                    gender="female",
                )
            )
            s.add(
                CompanionStats(
                    user_id=uid,
                    rating_count=n,
                    rating_sum=stars,
                    rating_x100=bayesian_x100(n, stars),
                    orders=orders,
                    minutes=orders * 10,
                    updated_at=now,
                )
            )
    return ids


async def customer_screens(rig: Rig, cust: Person, tag: str) -> None:
    page = cust.page
    await page.goto("/companions")
    await page.wait_for_selector("[data-test=results] [data-companion]")
    await page.wait_for_timeout(500)
    await snap(cust, f"{tag}-companions-zh")
    await page.set_viewport_size(PHONE)
    await page.click("[data-test=toggle-filters]")
    await snap(cust, f"{tag}-companions-filters-zh", sizes=("phone",))
    await set_lang(cust, "en")
    await page.wait_for_selector("[data-test=results] [data-companion]")
    await page.wait_for_timeout(500)
    await snap(cust, f"{tag}-companions-en")
    await set_lang(cust, "zh-CN")
    for path, name in (("/bookings", "bookings"), ("/me", "me"), ("/admin", "admin-as-customer")):
        await page.goto(path)
        await page.wait_for_load_state("networkidle")
        await page.wait_for_timeout(400)
        await snap(cust, f"{tag}-{name}-zh", sizes=("phone",))
    await page.goto("/no/such/page")
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(400)
    await snap(cust, f"{tag}-unknown-url-zh", sizes=("phone",))
    await set_lang(cust, "en")
    await page.goto("/bookings")
    await page.wait_for_load_state("networkidle")
    await snap(cust, f"{tag}-bookings-en", sizes=("phone",))
    await set_lang(cust, "zh-CN")


async def logged_out_screens(who: Person, tag: str, companion_id: str) -> None:
    page = who.page
    await page.goto("/companions")
    await page.wait_for_selector("[data-test=results] [data-companion]")
    await snap(who, f"{tag}-logged-out-zh")
    await page.goto(f"/companions/{companion_id}")
    await page.wait_for_selector("[data-test=favourite]")
    await snap(who, f"{tag}-companion-logged-out-zh", sizes=("phone",))


async def admin_screens(rig: Rig, admin: Person, tag: str) -> None:
    page = admin.page
    await page.wait_for_timeout(600)
    await snap(admin, f"{tag}-admin-landing-zh", sizes=("desktop",))
    await page.goto("/admin?tab=audit")
    await page.wait_for_selector("[data-test=audit]")
    await page.wait_for_timeout(600)
    await snap(admin, f"{tag}-admin-audit-zh", sizes=("desktop",))
    await set_lang(admin, "en")
    await page.wait_for_selector("[data-test=audit]")
    await page.wait_for_timeout(600)
    await snap(admin, f"{tag}-admin-audit-en", sizes=("desktop",))
    await set_lang(admin, "zh-CN")


def promote(rig: Rig, phone: str) -> Any:
    async def run() -> None:
        async with rig.db.writing() as s:
            await s.execute(
                update(User).where(User.phone == phone).values(role="admin", nickname="审核员")
            )

    return run()
