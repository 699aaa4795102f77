"""A voice room's text chat in real Chromium at phone size: the host and a member on the room
screen exchange messages (each sees the other's, in order), the member's phone number arrives
masked and they are told, their sexual message is stopped with a notice and reaches nobody, and
the list keeps the newest message in view.  Screenshots: ``web_client/screenshots/room-chat-*``."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from metering.keys import METERING
from metering.tariff import Rates
from store.models import User
from tests.harness import bearer
from tests.harness.rig import RigFactory
from tests.web.conftest import SHOTS
from tests.web.test_browser import PHONE, Person, open_person, sign_up, top_up, user_id, web_rig

pytestmark = [pytest.mark.timeout(180), pytest.mark.xdist_group("browser")]


async def say(who: Person, text: str) -> None:
    await who.page.fill("[data-test=room-chat-input]", text)
    await who.page.click("[data-test=room-chat-send]")


async def bubbles(who: Person) -> list[str]:
    texts: list[str] = await who.page.locator("[data-test=room-messages] .bubble").all_inner_texts()
    return texts


async def shot(who: Person, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await who.page.evaluate("window.scrollTo(0, 0)")  # the sticky bar stays at the top
    await who.page.wait_for_timeout(150)
    await who.page.screenshot(path=str(SHOTS / f"room-chat-{name}-phone.png"), full_page=True)


async def test_host_and_member_chat_on_the_room_screen(make_rig: RigFactory, browser: Any) -> None:
    async with web_rig(make_rig) as rig:
        host = await open_person(rig, browser, "host", PHONE)
        await sign_up(rig, host)
        host_id = await user_id(rig, host.phone)
        async with rig.db.writing() as s:
            await s.execute(
                update(User).where(User.id == host_id).values(role="companion", nickname="小雨")
            )
        await rig.app[METERING].set_rates(host_id, Rates(100, 300, 600))
        cookies = {c["name"]: c["value"] for c in await host.page.context.cookies()}
        resp = await rig.http.post(
            "/api/voice-rooms",
            json={"title": "睡前英语角", "rate_fen_per_min": 200, "capacity": 4},
            headers=bearer(cookies["peiliao_session"]),
        )
        assert resp.status == 201, await resp.text()
        room_id = (await resp.json())["id"]

        member = await open_person(rig, browser, "member", PHONE)
        await sign_up(rig, member)
        async with rig.db.writing() as s:
            await s.execute(
                update(User)
                .where(User.id == await user_id(rig, member.phone))
                .values(nickname="夜猫子")
            )
        await top_up(member, "50")
        await member.page.goto(f"/rooms/{room_id}")
        await member.page.click("[data-test=room-join]")
        await member.page.wait_for_selector("[data-test=room][data-inside=true]")
        await member.page.wait_for_selector("[data-test=room-chat] >> text=还没有消息")

        await host.page.goto(f"/rooms/{room_id}")
        await host.page.wait_for_selector("[data-test=room][data-inside=true]")
        await host.page.wait_for_selector("[data-test=room-chat]")

        await say(host, "欢迎来到英语角")
        await member.page.wait_for_selector("[data-test=room-messages] >> text=欢迎来到英语角")
        await say(member, "大家好，我是新来的")
        await host.page.wait_for_selector("[data-test=room-messages] >> text=我是新来的")
        # Enough to scroll: the newest stays in view on both screens.
        for i in range(8):
            await say(host if i % 2 else member, f"第{i + 1}句")
            await host.page.wait_for_selector(f"[data-test=room-messages] >> text=第{i + 1}句")
        await member.page.wait_for_selector("[data-test=room-messages] >> text=第8句")
        # A phone number: delivered masked, and the sender is told.
        await say(member, "我的电话 13812345678")
        await member.page.wait_for_selector("[data-test=room-chat-moderated].masked")
        await host.page.wait_for_selector("[data-test=room-messages] >> text=我的电话 ****")
        # Sexual content: stopped, the sender told, nobody sees it.
        await say(member, "全套多少钱")
        await member.page.wait_for_selector("[data-test=room-chat-moderated].blocked")
        for who in (host, member):
            texts = await bubbles(who)
            assert texts[:2] == ["欢迎来到英语角", "大家好，我是新来的"], texts
            assert texts[2:10] == [f"第{i + 1}句" for i in range(8)], texts
            assert texts[10:] == ["我的电话 ****"], texts
            assert not any("13812345678" in t or "全套" in t for t in texts)
            at_end = await who.page.eval_on_selector(
                "[data-test=room-messages]",
                "el => el.scrollHeight > el.clientHeight"
                " && el.scrollHeight - el.scrollTop - el.clientHeight < 4",
            )
            assert at_end, who.name
        await shot(member, "member")
        await shot(host, "host")
        for who in (host, member):
            assert who.errors == [], (who.name, who.errors)
