"""The session follows you (issue 18), at phone size in Chromium: a bar on every other screen
while a session is open, timed from the server's start (matching the other side within 2 s, and
not restarting when the call screen is opened again), with the spend and one tap back; chat words
for a text session; the chat scrolled to the newest; the sender told what moderation did with
their message and why; both sides' safety banners; the companion's online switch saying the
truth when their network is gone."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from kernel.clock import ScaledClock
from tests.harness.rig import Rig, RigFactory
from tests.web.conftest import DIST
from tests.web.test_browser import (
    PHONE,
    Person,
    become_companion,
    eventually,
    open_person,
    shot,
    sign_up,
    top_up,
)


def follow_rig(make_rig: RigFactory) -> Any:
    # real time: the pages' clocks and the server's must agree for the timer to be compared
    return make_rig(
        ScaledClock(anchor_epoch_s=time.time(), speed=1),
        web_dist_dir=str(DIST),
        ice_host_addresses="127.0.0.1",
        real_name_before_payment=True,
    )


async def ms(who: Person, selector: str) -> int:
    return int(await who.page.get_attribute(selector, "data-ms") or -1)


async def say(who: Person, text: str) -> None:
    await who.page.fill("#draft", text)
    await who.page.click("[data-test=send]")


async def at_newest(who: Person) -> bool:
    return bool(
        await who.page.eval_on_selector(
            "[data-test=messages]",
            "(el) => el.scrollHeight > el.clientHeight + 50"
            " && el.scrollTop + el.clientHeight >= el.scrollHeight - 2",
        )
    )


async def status_is(who: Person, status: str) -> bool:
    el = await who.page.query_selector("[data-test=studio-status]")
    return el is not None and await el.get_attribute("data-status") == status


async def set_english(who: Person) -> None:
    await who.page.click("header >> text=English")
    await who.page.wait_for_selector("header >> text=中文")


async def test_the_session_follows_you_in_chat_words(make_rig: RigFactory, browser: Any) -> None:
    async with follow_rig(make_rig) as rig:
        await _follow(rig, browser)


async def _follow(rig: Rig, browser: Any) -> None:
    cust = await open_person(rig, browser, "customer", PHONE)
    comp = await open_person(rig, browser, "companion", PHONE)
    await sign_up(rig, cust)
    await sign_up(rig, comp)
    comp_id = await become_companion(rig, comp, "阿杰")
    await top_up(cust, "50")

    # A text session asks, starts and ends in chat words.
    await cust.page.goto(f"/companions/{comp_id}")
    await cust.page.click("[data-test=call-text]")
    await cust.page.wait_for_url(re.compile(r"/call$"))
    incoming = comp.page.locator("[data-test=incoming]")
    await incoming.wait_for()
    assert "新的聊天请求" in await incoming.inner_text()
    assert await comp.page.inner_text("[data-test=accept]") == "开始聊天"
    assert "来电" not in await incoming.inner_text()
    await shot(comp, "follow-chat-request")
    await comp.page.click("[data-test=accept]")
    await comp.page.wait_for_url(re.compile(r"/call$"))
    for who in (cust, comp):
        await who.page.wait_for_selector("[data-test=phase][data-phase=live] >> text=聊天中")
        assert (await who.page.inner_text("[data-test=hangup]")).strip() == "结束聊天"

    # The conversation stays at the newest message.
    for i in range(16):
        who = cust if i % 2 == 0 else comp
        await say(who, f"第 {i + 1} 条消息，聊聊今天的事情")
        await who.page.wait_for_selector(f"[data-test=messages] >> text=第 {i + 1} 条消息")
    for who in (cust, comp):
        await who.page.wait_for_selector("[data-test=messages] >> text=第 16 条消息")
        await eventually(lambda w=who: at_newest(w), 5, f"{who.name} at the newest", cust, comp)

    # The sender is told their message was masked, and why; the other side sees it masked.
    await say(comp, "打我电话 138 1234 5678")
    masked = comp.page.locator("[data-test=masked]")
    await masked.wait_for()
    assert "已打码" in await masked.inner_text() and "手机号" in await masked.inner_text()
    await cust.page.wait_for_selector("[data-test=messages] >> text=****")
    assert await cust.page.locator("[data-test=masked]").count() == 0
    # ... and that a stopped one was stopped, and why; both sides get their banner.
    await say(comp, "开视频脱一下")
    stopped = comp.page.locator("[data-test=stopped]")
    await stopped.wait_for()
    assert "已拦截" in await stopped.inner_text() and "色情内容" in await stopped.inner_text()
    protect = cust.page.locator("[data-test=safety][data-flag=sexual_warning]")
    await protect.wait_for()
    assert await protect.get_attribute("data-mine") == "false"
    assert await protect.locator("[data-test=safety-report]").count() == 1
    remind = comp.page.locator("[data-test=safety][data-flag=sexual_warning]")
    await remind.wait_for()
    assert "平台禁止色情内容" in await remind.inner_text()
    await eventually(lambda: at_newest(comp), 5, "the stopped message in view", comp)
    assert await cust.page.locator("[data-test=messages] >> text=开视频脱一下").count() == 0
    await shot(comp, "follow-sender-masked-blocked")
    await shot(cust, "follow-customer-safety")

    # Tapping 钱包 mid-session: the bar follows, timed as the companion's call screen is.
    await asyncio.sleep(3)
    await cust.page.click("nav >> text=钱包")
    await cust.page.wait_for_url(re.compile(r"/wallet$"))
    bar = cust.page.locator("[data-test=callbar]")
    await bar.wait_for()
    assert "阿杰" in await bar.inner_text()  # who
    await asyncio.sleep(1.2)
    mine, theirs = await ms(cust, "[data-test=callbar-timer]"), await ms(comp, "[data-test=timer]")
    assert mine > 3000 and abs(mine - theirs) < 2000, (mine, theirs)
    assert "已花" in await bar.inner_text()
    await shot(cust, "follow-wallet-bar")
    # the companion's bar on their studio, with what they have earned
    await comp.page.click("nav >> text=接单台")
    comp_bar = comp.page.locator("[data-test=callbar]")
    await comp_bar.wait_for()
    assert "已赚" in await comp_bar.inner_text()
    # one tap back: the timer goes on from where it was, it does not restart
    await bar.click()
    await cust.page.wait_for_url(re.compile(r"/call$"))
    assert await cust.page.locator("[data-test=callbar]").count() == 0
    await asyncio.sleep(0.8)
    again, theirs = await ms(cust, "[data-test=timer]"), await ms(comp, "[data-test=callbar-timer]")
    assert again >= mine and abs(again - theirs) < 2000, (again, theirs)
    # a reloaded page times it from the server's start too
    await cust.page.reload()
    await cust.page.wait_for_selector("[data-test=phase][data-phase=live]")
    await asyncio.sleep(0.8)
    reloaded = await ms(cust, "[data-test=timer]")
    theirs = await ms(comp, "[data-test=callbar-timer]")
    assert reloaded >= again and abs(reloaded - theirs) < 2000, (reloaded, theirs)

    # In English the bar and the chat words are English.
    await set_english(cust)
    await cust.page.click("nav >> text=Wallet")
    await bar.wait_for()
    assert "spent" in await bar.inner_text() and "Return" in await bar.inner_text()
    # the reloaded page had the spend so far at once (the first minute is billed at accept)
    assert "¥0.00" not in await bar.inner_text()
    await shot(cust, "follow-wallet-bar-en")
    await bar.click()
    await cust.page.wait_for_selector("[data-test=hangup] >> text=End chat")
    await cust.page.wait_for_selector("[data-test=phase] >> text=Chatting")
    await shot(cust, "follow-chat-en")
    await cust.page.click("[data-test=hangup]")
    await cust.page.wait_for_selector("[data-test=phase][data-phase=ended] >> text=Chat ended")
    await comp_bar.wait_for(state="detached")

    # The companion's switch says what customers see: offline once the network is gone.
    await comp.page.wait_for_selector("[data-test=studio-status][data-status=online]")
    await comp.page.context.set_offline(True)
    await eventually(lambda: status_is(comp, "disconnected"), 10, "the switch offline", comp)
    status = await comp.page.inner_text("[data-test=studio-status]")
    assert "网络已断开" in status and "在线" not in status.replace("离线", "")
    await shot(comp, "follow-studio-offline")
    await comp.page.context.set_offline(False)
    await eventually(lambda: status_is(comp, "online"), 30, "the switch online again", comp)
    comp.errors = [e for e in comp.errors if "WebSocket" not in e]  # the browser's own lines
    await set_english(comp)
    await comp.page.context.set_offline(True)
    await eventually(lambda: status_is(comp, "disconnected"), 10, "offline in English", comp)
    assert "customers see you offline" in await comp.page.inner_text("[data-test=studio-status]")
    await shot(comp, "follow-studio-offline-en")
    await comp.page.context.set_offline(False)
    await eventually(lambda: status_is(comp, "online"), 30, "online again", comp)
    comp.errors = [e for e in comp.errors if "WebSocket" not in e]
    for who in (cust, comp):
        assert who.errors == [], (who.name, who.errors)
