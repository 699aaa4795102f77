"""The fair service as both sides read it, in real Chromium at phone size: after a text session
whose companion never answered, the customer's 我的会话 shows the reply figure, the minutes found
unresponsive and the automatic refund, and the companion's studio shows the same session and the
rule in words (zh, then en).  Screenshots: ``web_client/screenshots/qa/fair-*.png``."""

from __future__ import annotations

import re
from typing import Any

import pytest

from metering.check import check_ledger
from tests.harness.rig import RigFactory
from tests.web.test_browser import (
    PHONE,
    _is,
    become_companion,
    call,
    eventually,
    open_person,
    sign_up,
    top_up,
    web_rig,
)
from tests.web.test_qa_tour import Problems, look, toggle_lang

pytestmark = [pytest.mark.timeout(240), pytest.mark.xdist_group("browser")]


async def test_an_unanswered_text_session_is_refunded_and_both_sides_see_why(
    make_rig: RigFactory, browser: Any
) -> None:
    problems = Problems()
    # conftest switches the fair service off for every other test; this one is about it
    async with web_rig(make_rig, fair_enabled=True) as rig:
        cust = await open_person(rig, browser, "customer", PHONE)
        comp = await open_person(rig, browser, "companion", PHONE)
        await sign_up(rig, cust)
        await sign_up(rig, comp)
        comp_id = await become_companion(rig, comp, "晚晚")
        assert await top_up(cust, "20") == 2000

        await call(cust, comp, comp_id, "text")
        for who in (cust, comp):
            await eventually(lambda w=who: _is(w, "live"), 30, f"{who.name} live", cust, comp)
        await cust.page.fill("#draft", "在吗？")
        await cust.page.click("[data-test=send]")
        await comp.page.wait_for_selector("text=在吗？")
        # the companion never answers: four minutes billed (on the 10× clock, 24 s)
        billed = cust.page.locator("[data-test=billed]")
        await eventually(lambda: _at_least(billed, 4), 60, "four minutes billed", cust, comp)
        await cust.page.click("[data-test=hangup]")
        for who in (cust, comp):
            await eventually(lambda w=who: _is(w, "ended"), 20, f"{who.name} sees the end")
        await cust.page.click("[data-test=leave]")
        await comp.page.click("[data-test=leave]")

        # the customer: 我的会话 says no reply came, which minutes were unanswered, the refund
        page = cust.page
        await page.click("header nav >> a[href='/sessions']")
        fair = page.locator("[data-test=sessions] [data-test=fair]")
        await fair.wait_for()
        said = await fair.inner_text()
        unanswered = r"没有得到回复.*?(\d+) 分钟中 (\d+) 分钟未回应 · 自动退款 ¥\d+\.\d\d"
        found = re.search(unanswered, said)
        assert found, said
        # every full minute unanswered; a last minute hung up within 20 s of its start is not
        # judged (PEILIAO_FAIR_MIN_JUDGED_S)
        billed_n, flagged_n = int(found.group(1)), int(found.group(2))
        assert billed_n >= 4 and flagged_n in (billed_n - 1, billed_n), said
        refund_yuan = re.search(r"自动退款 (¥\d+\.\d\d)", said)
        assert refund_yuan is not None
        row = page.locator("[data-test=sessions] [data-session]").first
        # the amount refunded beside the charge is that refund
        assert refund_yuan.group(1) in await row.locator(".refunded").inner_text()
        await look(cust, "fair-sessions", problems)
        await toggle_lang(cust, "English")
        said = await fair.inner_text()
        assert "No replies" in said and "unresponsive" in said and "Automatic refund" in said
        await look(cust, "fair-sessions", problems)

        # the companion: the studio shows the same session and the rule in words
        page = comp.page
        await page.click("header nav >> a[href='/studio']")
        panel = page.locator("[data-test=fair-panel]")
        await panel.locator("[data-test=fair-averages]").wait_for()
        assert refund_yuan.group(1) in await panel.locator("[data-test=fair-refunds]").inner_text()
        rule = await panel.locator("[data-test=fair-rule]").inner_text()
        assert "40 秒" in rule and "50%" in rule and "已关闭" not in rule, rule
        await panel.scroll_into_view_if_needed()
        await look(comp, "fair-studio", problems)
        await toggle_lang(comp, "English")
        averages = await panel.inner_text()
        assert "Your last session" in averages and "1 session, " in averages, averages
        rule = await panel.locator("[data-test=fair-rule]").inner_text()
        assert "40" in rule and "50%" in rule, rule
        await look(comp, "fair-studio", problems)

        assert (await check_ledger(rig.db)).ok
        assert problems == [], "\n".join(problems)
        for who in (cust, comp):
            assert who.errors == [], who.errors


async def _at_least(locator: Any, n: int) -> bool:
    return await locator.count() > 0 and int(await locator.inner_text() or 0) >= n
