"""Issue 18 walked end to end at phone size (390×844) in zh and en, the admin at desktop size: a
customer with little money chats by text with a companion, leaves the call screen and comes back
through the call bar, runs low, hangs up, and reads the money on every screen.  Every screen is
photographed to ``web_client/screenshots/qa/`` and checked for the layout facts a person notices:
nothing wider than the phone, no message key shown literally, the hang-up button on screen
while the low-balance banner shows, and the same money on the call screen, the bar and the
wallet."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.harness.rig import Rig, RigFactory
from tests.web.conftest import SHOTS
from tests.web.discover_tour import promote
from tests.web.test_browser import (
    DESKTOP,
    PHONE,
    Person,
    _is,
    become_companion,
    call,
    eventually,
    log_in,
    open_person,
    sign_up,
    spent,
    top_up,
    web_rig,
)

pytestmark = [pytest.mark.timeout(300), pytest.mark.xdist_group("browser")]
DIR = SHOTS / "qa"

# A message key shown as such: two or more dotted snake_case words ("call.safety.x").
KEY = re.compile(r"\b[a-z][a-z_]+\.[a-z_]+(\.[a-z_]+)*\b")
# Words a person may read with dots in them (none yet in the product's text).
NOT_KEYS: set[str] = set()

LAYOUT = """
() => {
  const w = window.innerWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > w + 1; })
    .filter((e) => !e.closest('[data-scrolls]'))
    .map((e) => e.tagName.toLowerCase()
      + (e.className ? '.' + String(e.className).split(' ')[0] : '')
      + (e.getAttribute('data-test') ? '[' + e.getAttribute('data-test') + ']' : ''));
  // lit as a person sees it: bold in the header's nav
  const nav = [...document.querySelectorAll('header nav a')]
    .filter((a) => Number(getComputedStyle(a).fontWeight) >= 600)
    .map((a) => a.getAttribute('href'));
  return { scroll: document.documentElement.scrollWidth, inner: w, wide: wide.slice(0, 8),
           nav: [...new Set(nav)], text: document.body.innerText };
}
"""


async def look(who: Person, name: str, problems: list[str], *, full: bool = True) -> None:
    """Photograph the page and note what a person would see wrong on it."""
    DIR.mkdir(parents=True, exist_ok=True)
    page = who.page
    await page.wait_for_load_state("networkidle")
    await asyncio.sleep(0.4)
    lang = await page.evaluate("localStorage.getItem('locale') || 'zh-CN'")
    size = "phone" if page.viewport_size["width"] < 600 else "desktop"
    await page.screenshot(path=str(DIR / f"{name}-{lang}-{size}.png"), full_page=full)
    seen = await page.evaluate(LAYOUT)
    where = f"{name} ({lang}, {size})"
    if seen["scroll"] > seen["inner"]:
        problems.append(f"{where}: {seen['scroll']} px wide > {seen['inner']}: {seen['wide']}")
    keys = {m.group(0) for m in KEY.finditer(seen["text"])} - NOT_KEYS
    keys = {k for k in keys if not re.fullmatch(r"[a-z]+\.(com|cn|png|jpg)", k)}
    if keys:
        problems.append(f"{where}: message keys shown: {sorted(keys)}")
    if len(seen["nav"]) > 1:
        problems.append(f"{where}: nav items highlighted at once: {seen['nav']}")
    if lang == "zh-CN":
        english = re.findall(r"\b[A-Za-z]{4,}(?: [A-Za-z]{2,})+\b", seen["text"])
        english = [e for e in english if e not in ("English",)]
        if english:
            problems.append(f"{where}: English in the Chinese UI: {english[:6]}")


class Problems(list[str]):
    """What the walk found, also printed as found (a failure later still shows them)."""

    def append(self, problem: str) -> None:
        print("PROBLEM", problem, flush=True)
        super().append(problem)


async def set_lang(who: Person, lang: str) -> None:
    await who.page.evaluate(f"localStorage.setItem('locale', '{lang}')")
    await who.page.reload()
    await who.page.wait_for_load_state("networkidle")


async def toggle_lang(who: Person, to: str) -> None:
    """The header's language button (``to``: the label it shows, "English" or "中文")."""
    other = "中文" if to == "English" else "English"
    await who.page.click(f"header >> button:has-text('{to}')")
    await who.page.wait_for_selector(f"header >> button:has-text('{other}')")


async def in_viewport(who: Person, selector: str) -> bool:
    box = await who.page.locator(selector).bounding_box()
    size = who.page.viewport_size
    return (
        box is not None
        and box["y"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] >= 0
        and box["x"] + box["width"] <= size["width"]
    )


async def fen(who: Person, selector: str) -> int:
    return int(await who.page.get_attribute(selector, "data-fen") or 0)


async def say(who: Person, text: str) -> None:
    await who.page.fill("#draft", text)
    await who.page.click("[data-test=send]")


async def test_a_low_balance_text_session_walked_in_both_languages(
    make_rig: RigFactory, browser: Any
) -> None:
    problems = Problems()
    async with web_rig(make_rig) as rig:
        await _tour(rig, browser, problems)
    assert problems == [], "\n".join(problems)


async def _tour(rig: Rig, browser: Any, problems: list[str]) -> None:
    cust = await open_person(rig, browser, "customer", PHONE)
    comp = await open_person(rig, browser, "companion", PHONE)
    page = cust.page

    # -- logged out ------------------------------------------------------------------------
    await page.goto("/companions")
    await page.wait_for_selector("[data-test=nav-login]")
    await look(cust, "logged-out", problems)
    await page.goto("/no/such/page")
    await page.wait_for_selector("[data-test=not-found]")
    await look(cust, "not-found", problems)
    await set_lang(cust, "en")
    await look(cust, "not-found", problems)
    await set_lang(cust, "zh-CN")

    # -- first login: onboarding ------------------------------------------------------------
    await log_in(rig, cust)
    await page.wait_for_selector("[data-test=welcome]")
    await look(cust, "welcome", problems)
    await page.click("[data-test=welcome-skip]")
    await page.wait_for_url(re.compile(r"/companions$"))
    await sign_up(rig, comp)
    comp_id = await become_companion(rig, comp, "晚晚")
    await look(comp, "studio", problems)
    await set_lang(comp, "en")
    await look(comp, "studio", problems)
    await set_lang(comp, "zh-CN")

    # -- wallet: the real-name rule, then a small top-up --------------------------------------
    assert await top_up(cust, "5") == 500
    await look(cust, "wallet", problems)
    await set_lang(cust, "en")
    await look(cust, "wallet", problems)
    await set_lang(cust, "zh-CN")

    # -- discovery ---------------------------------------------------------------------------
    await page.goto("/companions")
    await page.wait_for_selector(f"[data-companion='{comp_id}'] [data-test=status]")
    await look(cust, "companions", problems)
    await set_lang(cust, "en")
    await page.wait_for_selector(f"[data-companion='{comp_id}']")
    await look(cust, "companions", problems)
    await set_lang(cust, "zh-CN")
    await page.goto(f"/companions/{comp_id}")
    await page.wait_for_selector("[data-test=call-text]")
    await look(cust, "companion", problems)

    # -- a text session ------------------------------------------------------------------------
    await call(cust, comp, comp_id, "text")
    for who in (cust, comp):
        await eventually(lambda w=who: _is(w, "live"), 30, f"{who.name} live", cust, comp)
    await say(cust, "你好，在吗？")
    await comp.page.wait_for_selector("text=你好，在吗？")
    await say(comp, "在的，想聊点什么？")
    await page.wait_for_selector("text=在的，想聊点什么？")
    await look(cust, "call-text", problems, full=False)
    await look(comp, "call-text-companion", problems, full=False)
    if not await in_viewport(cust, "[data-test=hangup]"):
        problems.append("call: 挂断 not within the viewport")

    # with ¥5 at ¥1/min, fewer than 3 minutes are left after the second minute
    await page.wait_for_selector(".banner.low", timeout=60_000)
    await look(cust, "call-low-balance", problems, full=False)
    if not await in_viewport(cust, "[data-test=hangup]"):
        problems.append("call with the low-balance banner: 挂断 not within the viewport")
    await toggle_lang(cust, "English")  # in place: no reload, the session stays on screen
    await look(cust, "call-low-balance", problems, full=False)
    if not await in_viewport(cust, "[data-test=hangup]"):
        problems.append("call with the low-balance banner (en): Hang up not within the viewport")
    await toggle_lang(cust, "中文")
    # more money from the call screen, so the session outlasts the walk below
    await page.click("[data-test=topup-1000]")
    await page.wait_for_selector(".banner.low", state="detached", timeout=30_000)

    # -- away from the call: the bar, and the same money there --------------------------------
    on_call = await spent(cust)
    balance = await fen(cust, "[data-test=balance]")
    # by the nav (a reload with a session open goes back to the call screen, on purpose)
    await page.click("header nav >> a[href='/wallet']")
    await page.wait_for_selector("[data-test=callbar]")
    await look(cust, "wallet-in-call", problems)
    bar = await page.inner_text("[data-test=callbar-money]")
    wallet_fen = await fen(cust, "[data-test=wallet-balance]")
    # the same money on the call screen, the bar and the wallet
    if bar != f"已花 ¥{on_call / 100:.2f}" or wallet_fen != balance:
        problems.append(f"call: spent {on_call}, balance {balance}; bar {bar!r}; {wallet_fen=}")
    for path, name in (("/bookings", "bookings"), ("/support", "support"), ("/me", "me")):
        await page.click(f"header nav >> a[href='{path}']")
        await page.wait_for_url(re.compile(f"{path}$"))
        await page.wait_for_selector("[data-test=callbar]")
        await look(cust, f"{name}-in-call", problems)
    await comp.page.click("header nav >> a[href='/studio']")
    await comp.page.wait_for_selector("[data-test=callbar]")
    await look(comp, "studio-in-call", problems)
    # the companion's bar says what the minutes so far earned them (it once said ¥0.00)
    earned = await comp.page.inner_text("[data-test=callbar-money]")
    if not re.fullmatch(r"已赚 ¥\d+\.\d\d", earned) or earned.endswith("¥0.00"):
        problems.append(f"companion's call bar: {earned!r} after {on_call} fen spent")
    await page.click("[data-test=callbar]")
    await page.wait_for_url(re.compile(r"/call$"))
    await comp.page.click("[data-test=callbar]")
    await comp.page.wait_for_url(re.compile(r"/call$"))

    # -- the end ---------------------------------------------------------------------------------
    await page.click("[data-test=hangup]")
    for who in (cust, comp):
        await eventually(lambda w=who: _is(w, "ended"), 20, f"{who.name} sees the end", cust, comp)
    await asyncio.sleep(1)
    await look(cust, "call-ended", problems)
    await look(comp, "call-ended-companion", problems)
    charged = await spent(cust)
    await page.click("[data-test=leave]")
    await comp.page.click("[data-test=leave]")
    if await page.locator("[data-test=callbar]").count():
        problems.append("the call bar stays after the session ended")

    await page.goto("/wallet")
    await page.wait_for_selector("[data-test=line-session]")
    line_fen = await fen(cust, "[data-test=line-session]")
    wallet_after = await fen(cust, "[data-test=wallet-balance]")
    if line_fen != -charged or wallet_after != 1500 - charged:
        problems.append(f"money: call {charged}, statement {line_fen}, wallet {wallet_after}")
    await look(cust, "statement", problems)
    await set_lang(cust, "en")
    await look(cust, "statement", problems)
    await page.goto("/sessions")
    await page.wait_for_selector("[data-test=sessions] [data-session]")
    await look(cust, "sessions", problems)
    await set_lang(cust, "zh-CN")
    await look(cust, "sessions", problems)
    await page.goto("/rooms")
    await look(cust, "rooms", problems)

    await comp.page.goto("/studio?tab=money")
    await comp.page.wait_for_selector("[data-test=earnings-summary]")
    await look(comp, "earnings", problems)
    await set_lang(comp, "en")
    await look(comp, "earnings", problems)
    await set_lang(comp, "zh-CN")

    # -- the admin, at desktop size ----------------------------------------------------------------
    admin = await open_person(rig, browser, "admin", DESKTOP)
    await sign_up(rig, admin)
    await promote(rig, admin.phone)
    await admin.page.goto("/")
    await admin.page.wait_for_url(re.compile(r"/admin$"))
    await look(admin, "admin", problems)
    await admin.page.goto("/admin?tab=audit")
    await admin.page.wait_for_selector("[data-test=audit]")
    await look(admin, "admin-audit", problems)
    await set_lang(admin, "en")
    await look(admin, "admin-audit", problems)
    await page.goto("/admin")
    await page.wait_for_selector("[data-test=forbidden]")
    await look(cust, "forbidden", problems)

    for who in (cust, comp, admin):
        # the unknown page's own 404 (the response and its console line) is expected
        unexpected = [
            e
            for e in who.errors
            if "/no/such/page" not in e and not e.startswith("Failed to load resource")
        ]
        if unexpected:
            problems.append(f"{who.name} console errors: {unexpected[:5]}")
