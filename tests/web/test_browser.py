"""The web client end to end in real Chromium: a customer and a companion, each in their own
browser context, sign up with SMS codes; the customer tops up through the sandbox, finds the
companion and calls by voice, then by video, then chats by text; media really crosses the relay
(``getStats``: inbound bytes and decoded frames grow in both pages), live spend ticks, and the
balance drops by exactly what was billed.  Running out of money pauses the session in both pages
until a top-up from the call screen.  Screenshots of the key screens at phone and desktop sizes go
to ``web_client/screenshots/``.

Billing runs on a clock 10× faster than real time (a minute in 6 s)."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from kernel.clock import ScaledClock
from metering.check import check_ledger
from store.models import MeteredSession, User
from store.models.sanctions import Sanction
from tests.accounts.test_real_name import make_id
from tests.harness import bearer
from tests.harness.rig import Rig, RigFactory
from tests.web.conftest import DIST, SHOTS

pytestmark = [pytest.mark.timeout(240), pytest.mark.xdist_group("browser")]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SPEED = 10

# Every peer connection the page makes, for getStats() from the test.
RECORD_PCS = """
(() => {
  const Original = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Original(...args);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
})();
"""
INBOUND = """
async () => {
  let bytes = 0, frames = 0, packets = 0;
  for (const pc of window.__pcs) {
    if (pc.connectionState === "closed") continue;
    (await pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp") {
        bytes += r.bytesReceived || 0;
        frames += r.framesDecoded || 0;
        packets += r.packetsReceived || 0;
      }
    });
  }
  return { bytes, frames, packets };
}
"""


class Person:
    def __init__(self, page: Any, phone: str, name: str) -> None:
        self.page = page
        self.phone = phone
        self.name = name
        self.errors: list[str] = []
        self.console: list[str] = []  # the last console lines of any kind, for a failure's story
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on(
            "response",
            lambda r: (
                r.status >= 400 and self.errors.append(f"{r.status} {r.request.method} {r.url}")
            ),
        )

    def _console(self, msg: Any) -> None:
        self.console = [*self.console[-19:], f"{msg.type}: {msg.text}"]
        if msg.type == "error":
            self.errors.append(msg.text)


PEERS = """
async () => Promise.all(window.__pcs.map(async (pc) => {
  const states = [pc.connectionState, pc.iceConnectionState, pc.signalingState];
  if (pc.connectionState === "closed") return states;
  const transports = [];
  (await pc.getStats()).forEach((r) => {
    if (r.type === "transport")
      transports.push({dtls: r.dtlsState, ice: r.iceState, role: r.dtlsRole, sent: r.packetsSent,
                       received: r.packetsReceived, pair: r.selectedCandidatePairId});
  });
  return [...states, transports];
}))
"""


async def explain(*people: Person) -> str:
    """Where each page is: its URL, call phase, peer connections and last console lines."""
    lines = []
    for who in people:
        try:
            peers = await who.page.evaluate(PEERS)
            where = f"{who.page.url} phase={await phase(who)} peers={peers}"
        except Exception as exc:  # the page may be gone: say so, do not hide the timeout
            where = f"unreadable ({exc!r})"
        lines.append(f"{who.name}: {where}; console: {who.console[-8:]}")
    return "\n".join(lines)


async def eventually(
    check: Callable[[], Awaitable[bool]],
    within_s: float,
    what: str,
    *people: Person,
) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{await explain(*people)}")


async def open_person(rig: Rig, browser: Any, name: str, viewport: dict[str, int]) -> Person:
    context = await browser.new_context(
        base_url=rig.url, viewport=viewport, locale="zh-CN", permissions=["camera", "microphone"]
    )
    rig.on_close.append(context.close)  # its sockets go before the server does
    await context.add_init_script(RECORD_PCS)
    page = await context.new_page()
    phone = "13" + "".join(secrets.choice("0123456789") for _ in range(9))
    return Person(page, phone, name)


async def log_in(rig: Rig, who: Person) -> None:
    """Ask for a code on the login page and submit the newest one."""
    page = who.page
    await page.goto("/login")
    await page.fill("#phone", who.phone)
    await page.click("[data-test=send-code]")
    await page.wait_for_selector("text=验证码已发送")
    await page.fill("#code", rig.outbox.messages(who.phone)[0].code)  # the newest first
    await page.click("[data-test=login]")


async def sign_up(rig: Rig, who: Person) -> None:
    """A first login: the onboarding (nickname, interests) is skipped."""
    await log_in(rig, who)
    await who.page.wait_for_url(re.compile(r"/welcome\?next="))
    await who.page.click("[data-test=welcome-skip]")
    await who.page.wait_for_url(re.compile(r"/(companions|studio)$"))


async def user_id(rig: Rig, phone: str) -> str:
    async with rig.db.reading() as s:
        uid = await s.scalar(select(User.id).where(User.phone == phone))
    assert uid is not None
    return str(uid)


async def become_companion(rig: Rig, who: Person, nickname: str) -> str:
    """Vetting is the marketplace's; here an admin's decision is a database update."""
    uid = await user_id(rig, who.phone)
    async with rig.db.writing() as s:
        await s.execute(
            update(User).where(User.id == uid).values(role="companion", nickname=nickname)
        )
    page = who.page
    await page.goto("/studio")
    for mode, yuan in (("text", "1.00"), ("voice", "3.00"), ("video", "6.00")):
        await page.fill(f"#rate-{mode}", yuan)
    await page.click("[data-test=save-rates]")
    await page.wait_for_selector("text=已保存")
    await page.click("[data-test=go-online]")
    await page.wait_for_selector("[data-test=studio-status][data-status=online]")
    return uid


def adult_id() -> str:
    """A valid ID number of someone born 1970–1999, different each time (one account each)."""
    born = date(1970 + secrets.randbelow(30), 1 + secrets.randbelow(12), 1 + secrets.randbelow(28))
    return make_id(born, f"{secrets.randbelow(1000):03d}")


async def top_up(who: Person, yuan: str) -> int:
    page = who.page
    await page.goto("/wallet")
    await page.wait_for_selector("[data-test=real-name] h2")
    if await page.locator("[data-test=verify]").count():  # the first payment: real name first
        await page.fill("[placeholder=真实姓名]", "陈晓明")
        await page.fill("[placeholder=身份证号]", adult_id())
        await page.click("[data-test=verify]")
        await page.wait_for_selector("text=实名认证成功")
    await page.fill("#amount", yuan)
    await page.click("[data-test=pay]")
    await page.wait_for_selector("text=充值成功")
    return int(await page.get_attribute("[data-test=wallet-balance]", "data-fen") or 0)


def read_json(path: Any) -> Any:
    return json.loads(Path(path).read_text())


async def wallet_balance(who: Person) -> int:
    await who.page.goto("/wallet")
    await who.page.wait_for_selector("[data-test=wallet-balance]")
    return int(await who.page.get_attribute("[data-test=wallet-balance]", "data-fen") or 0)


async def phase(who: Person) -> str | None:
    el = await who.page.query_selector("[data-test=phase]")
    return await el.get_attribute("data-phase") if el else None


async def inbound(who: Person) -> dict[str, int]:
    return dict(await who.page.evaluate(INBOUND))


async def shot(who: Person, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = "phone" if who.page.viewport_size["width"] < 600 else "desktop"
    await who.page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)


async def call(cust: Person, comp: Person, comp_id: str, mode: str) -> None:
    page = cust.page
    await page.goto(f"/companions/{comp_id}")
    await page.click(f"[data-test=call-{mode}]")
    await page.wait_for_url(re.compile(r"/call$"))
    await comp.page.wait_for_selector("[data-test=incoming]")
    await comp.page.click("[data-test=accept]")
    await comp.page.wait_for_url(re.compile(r"/call$"))


async def spent(cust: Person) -> int:
    return int(await cust.page.get_attribute("[data-test=spent]", "data-fen") or 0)


async def hang_up_and_settle(rig: Rig, cust: Person, comp: Person) -> int:
    await cust.page.click("[data-test=hangup]")
    for who in (cust, comp):
        await eventually(lambda w=who: _is(w, "ended"), 10, f"{who.name} sees the end", cust, comp)
    # the final meter reaches the page: it shows what the ended session was charged
    await eventually(lambda: _final_charge_shown(rig, cust), 10, "the final charge on the page")
    charged = await spent(cust)
    # The companion's page shows their share of it (less the platform's commission).
    earned = int(await comp.page.get_attribute("[data-test=earned]", "data-fen") or 0)
    assert 0 < earned < charged or charged == earned == 0, (earned, charged)
    await cust.page.click("[data-test=leave]")
    await comp.page.click("[data-test=leave]")
    return charged


async def _final_charge_shown(rig: Rig, cust: Person) -> bool:
    uid = await user_id(rig, cust.phone)
    async with rig.db.reading() as s:
        last = await s.scalar(
            select(MeteredSession)
            .where(MeteredSession.customer_id == uid)
            .order_by(MeteredSession.created_at.desc())
            .limit(1)
        )
    return last is not None and last.status == "ended" and await spent(cust) == last.charged_fen


async def _is(who: Person, expected: str) -> bool:
    return await phase(who) == expected


async def session_charges(rig: Rig, customer_id: str) -> int:
    async with rig.db.reading() as s:
        rows = (
            await s.scalars(select(MeteredSession).where(MeteredSession.customer_id == customer_id))
        ).all()
    return sum(r.charged_fen for r in rows)


def web_rig(make_rig: RigFactory, **changes: Any) -> Any:
    clock = ScaledClock(anchor_epoch_s=time.time(), speed=SPEED)
    return make_rig(
        clock,
        **changes,
        web_dist_dir=str(DIST),
        ice_host_addresses="127.0.0.1",
        # these run on the fast clock too: keep them at real-time scale
        sms_code_ttl_s=3000,
        ring_timeout_s=300,
        away_timeout_s=1200,
        resume_grace_s=600,
        media_silence_s=10.0,
        real_name_before_payment=True,
    )


async def test_voice_then_video_through_the_relay_billed_exactly(
    make_rig: RigFactory, browser: Any
) -> None:
    async with web_rig(make_rig) as rig:
        cust = await open_person(rig, browser, "customer", DESKTOP)
        comp = await open_person(rig, browser, "companion", PHONE)
        await sign_up(rig, cust)
        await sign_up(rig, comp)
        comp_id = await become_companion(rig, comp, "小雨")
        before = await top_up(cust, "50")
        assert before == 5000
        await shot(cust, "wallet")

        await cust.page.goto("/companions")
        await cust.page.wait_for_selector(f"[data-companion={comp_id}] >> text=在线")
        await shot(cust, "companion-list")
        await cust.page.goto(f"/companions/{comp_id}")
        await cust.page.wait_for_selector("text=小雨")
        await shot(cust, "companion-page")

        total = 0
        for mode in ("voice", "video"):
            await call(cust, comp, comp_id, mode)
            for who in (cust, comp):
                await eventually(
                    lambda w=who: _is(w, "live"), 45, f"{who.name} live ({mode})", cust, comp
                )
            for who in (cust, comp):  # media keeps arriving: bytes (and video frames) grow
                first = await inbound(who)
                await eventually(
                    lambda w=who, f=first, m=mode: _media_grew(w, f, video=m == "video"),
                    10,
                    f"{who.name} receives {mode}",
                    cust,
                    comp,
                )
            ticks = await spent(cust)
            await eventually(lambda t=ticks: _grew(cust, t), 15, f"live spend ticking ({mode})")
            if mode == "video":
                await shot(cust, "call-video")
                await shot(comp, "call-video")
            total += await hang_up_and_settle(rig, cust, comp)

        cust_id = await user_id(rig, cust.phone)
        assert total == await session_charges(rig, cust_id) and total >= 300 + 600
        assert await wallet_balance(cust) == before - total
        assert (await check_ledger(rig.db)).ok
        for who in (cust, comp):
            assert who.errors == [], (who.name, who.errors)


async def _has(locator: Any, n: int) -> bool:
    return bool(await locator.count() == n)


async def _media_grew(who: Person, first: dict[str, int], *, video: bool) -> bool:
    later = await inbound(who)
    grew = later["bytes"] > first["bytes"] + 1000
    return grew and (not video or later["frames"] > first["frames"] + 10)


async def _grew(cust: Person, than: int) -> bool:
    return await spent(cust) > than


async def test_text_chat_and_running_out_of_money_pauses_both_pages(
    make_rig: RigFactory, browser: Any
) -> None:
    async with web_rig(make_rig) as rig:
        cust = await open_person(rig, browser, "customer", PHONE)
        comp = await open_person(rig, browser, "companion", DESKTOP)
        await sign_up(rig, cust)
        await sign_up(rig, comp)
        comp_id = await become_companion(rig, comp, "阿杰")
        await top_up(cust, "1")  # one text minute
        await cust.page.goto("/companions")
        await shot(cust, "companion-list")
        await cust.page.goto(f"/companions/{comp_id}")
        await shot(cust, "companion-page")
        await call(cust, comp, comp_id, "text")
        for who in (cust, comp):
            await eventually(lambda w=who: _is(w, "live"), 20, f"{who.name} live", cust, comp)
        await cust.page.fill("#draft", "你好，想聊聊")
        await cust.page.click("[data-test=send]")
        await comp.page.wait_for_selector("[data-test=messages] >> text=你好，想聊聊")
        await comp.page.fill("#draft", "你好呀")
        await comp.page.click("[data-test=send]")
        await cust.page.wait_for_selector("[data-test=messages] >> text=你好呀")
        await shot(cust, "call-text")
        # The customer reports the companion's message; it reaches the admin queue.
        await cust.page.click("[data-test=report-2]")
        await cust.page.check("input[value=contact_request]")
        await cust.page.click("[data-test=report-submit]")
        await cust.page.wait_for_selector("[data-test=report] >> text=已举报")
        # The companion's sexual message is stopped: the customer is told and may report it,
        # the companion sees their message stopped and why, and is reminded of the rules.
        await comp.page.fill("#draft", "开视频脱一下")
        await comp.page.click("[data-test=send]")
        await cust.page.wait_for_selector("[data-test=safety][data-flag=sexual_warning]")
        await comp.page.wait_for_selector("[data-test=stopped] >> text=已拦截")
        reminder = comp.page.locator("[data-test=safety][data-flag=sexual_warning]")
        await reminder.wait_for()
        assert await reminder.get_attribute("data-mine") == "true"
        assert await reminder.locator("[data-test=safety-report]").count() == 0

        for who in (cust, comp):  # the minute runs out: both pages pause
            await eventually(lambda w=who: _is(w, "paused"), 30, f"{who.name} paused", cust, comp)
        await shot(cust, "call-paused")
        await cust.page.click("[data-test=topup-1000]")  # top up without leaving the call
        for who in (cust, comp):
            await eventually(lambda w=who: _is(w, "live"), 20, f"{who.name} resumed", cust, comp)
        charged = await hang_up_and_settle(rig, cust, comp)
        cust_id = await user_id(rig, cust.phone)
        assert charged == await session_charges(rig, cust_id) and charged >= 200
        assert await wallet_balance(cust) == 100 + 1000 - charged
        assert (await check_ledger(rig.db)).ok

        admin = await open_person(rig, browser, "admin", DESKTOP)
        await sign_up(rig, admin)
        admin_id = await user_id(rig, admin.phone)
        async with rig.db.writing() as s:
            await s.execute(update(User).where(User.id == admin_id).values(role="admin"))
        await admin.page.goto("/admin")
        # Two cases: the stopped sexual message (first: the most severe), and the customer's
        # report of the companion's message.
        page = admin.page
        queue = page.locator("[data-test=case-queue] [data-case]")
        await eventually(lambda: _has(queue, 2), 10, "2 cases", admin)
        assert await queue.evaluate_all("(els) => els.map((e) => e.dataset.category)") == [
            "sexual",
            "contact_request",
        ]
        view = page.locator("[data-case-view]")
        await queue.nth(1).click()
        await view.locator("[data-test=case-items] >> text=索要联系方式").wait_for()
        await view.locator("[data-test=case-chat] li.flagged >> text=你好呀").wait_for()
        await queue.nth(0).click()
        await view.locator("[data-test=case-category] >> text=色情内容").wait_for()  # in words
        # the companion's stopped message, queued by moderation with its text as evidence
        await view.locator("[data-test=case-blocked] >> text=开视频脱一下").wait_for()
        await shot(admin, "admin-reports")
        for n, (note, kind) in enumerate((("已禁言", "mute"), ("已警告", "warn"))):
            await queue.nth(0).click()
            await view.locator("[data-test=case-decide]").wait_for()
            await view.locator("[data-test=case-note]").fill(note)
            await view.locator("[data-test=decide-kind]").select_option(kind)
            await view.locator("[data-test=case-submit]").click()
            await view.locator("[data-test=case-imposed]").wait_for()
            await eventually(lambda left=1 - n: _has(queue, left), 10, "decided", admin)
        await page.wait_for_selector("text=没有待处理的案件")
        for who in (cust, comp, admin):
            assert who.errors == [], (who.name, who.errors)


async def test_profile_packages_trial_and_block(make_rig: RigFactory, browser: Any) -> None:
    async with web_rig(make_rig) as rig:
        cust = await open_person(rig, browser, "customer", PHONE)
        comp = await open_person(rig, browser, "companion", DESKTOP)
        await sign_up(rig, cust)
        await sign_up(rig, comp)
        comp_id = await become_companion(rig, comp, "小林")

        page = cust.page
        await page.goto("/me")
        await page.fill("#nickname", "夜猫子")
        await page.click("text=游戏")
        await page.click("[data-test=save-profile]")
        await page.wait_for_selector("text=已保存")
        cust_id = await user_id(rig, cust.phone)
        async with rig.db.reading() as s:
            me = await s.get(User, cust_id)
            assert me is not None and me.nickname == "夜猫子" and "游戏" in me.tags

        await top_up(cust, "100")
        await page.click("[data-test=trial]")
        await page.wait_for_selector("text=体验分钟已到账")
        buy = page.locator("[data-test^=buy-]").first
        await buy.click()
        await page.wait_for_selector("text=购买成功")
        assert await page.locator(".offers li").count() >= 2  # the trial and the package
        await shot(cust, "wallet")

        await page.goto(f"/companions/{comp_id}")
        await page.click("[data-test=favourite]")
        await page.wait_for_selector("[data-test=favourite][aria-pressed=true]")
        await page.goto("/companions")
        await page.wait_for_selector(f"[data-test=favourites] [data-companion={comp_id}]")
        await comp.page.goto("/studio")
        await comp.page.click("[data-test=go-offline]")
        await comp.page.click("[data-test=go-online]")
        await page.wait_for_selector("[data-test=toast] >> text=你收藏的小林上线了")

        await page.goto(f"/companions/{comp_id}")
        await page.click("[data-test=block]")
        await page.wait_for_selector("text=已拉黑")
        await page.click("[data-test=call-voice]")
        await page.wait_for_selector("text=无法呼叫该用户")  # the server refuses: blocked

        await page.goto("/me")
        async with page.expect_download() as download:
            await page.click("[data-test=export]")
        exported = read_json(await (await download.value).path())
        assert exported["profile"]["nickname"] == "夜猫子"
        await page.click("[data-test=delete]")
        await page.click("[data-test=delete-confirm]")
        await page.wait_for_selector("text=账户里还有余额或收入")  # money left: refused
        expected = [e for e in cust.errors if "400" in e]  # that refusal, as Chromium logs it
        assert len(expected) == 2 and "DELETE" in expected[0]
        cust.errors = [e for e in cust.errors if e not in expected]
        for who in (cust, comp):
            assert who.errors == [], (who.name, who.errors)


async def sanction(rig: Rig, admin_token: str, uid: str, kind: str, reason: str) -> str:
    resp = await rig.http.post(
        f"/api/admin/users/{uid}/sanctions",
        json={"kind": kind, "reason": reason},
        headers=bearer(admin_token),
    )
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["kind"])  # repeat offences may escalate it


async def appeal_on_page(page: Any, card: str, text: str) -> None:
    await page.click(f"{card} [data-test=appeal]")
    await page.fill(f"{card} [data-test=appeal-text]", text)
    await page.click(f"{card} [data-test=appeal-submit]")
    await page.wait_for_selector(f"{card} [data-test=appealed]")


async def test_a_sanctioned_user_sees_what_and_why_and_appeals_each_once(
    make_rig: RigFactory, browser: Any
) -> None:
    """A mute shows on the profile page with its reason and is appealed there; a suspension logs
    the page out, and the refused login says what, why and until when, with its own appeal."""
    async with web_rig(make_rig, sms_resend_interval_s=1) as rig:  # logs in twice at once
        cust = await open_person(rig, browser, "customer", PHONE)
        await sign_up(rig, cust)
        uid = await user_id(rig, cust.phone)
        admin = await rig.person("admin")

        muted = await sanction(rig, admin.token, uid, "mute", "在聊天中发送微信号")
        await cust.page.goto("/me")
        card = f"[data-kind={muted}]"
        await cust.page.wait_for_selector(f"{card} >> text=在聊天中发送微信号")
        await cust.page.wait_for_selector(f"{card} >> text=生效中")
        await appeal_on_page(cust.page, card, "那是游戏里的房间号，不是微信")
        await shot(cust, "my-sanctions")

        locked = await sanction(rig, admin.token, uid, "suspend", "多次引导线下交易")
        assert locked in ("suspend", "ban")
        page = cust.page
        await log_in(rig, cust)
        panel = f"[data-test=locked] [data-kind={locked}]"
        await page.wait_for_selector(f"{panel} >> text=多次引导线下交易")
        kind_words = "账号停用" if locked == "suspend" else "永久封禁"
        await page.wait_for_selector(f"{panel} >> text={kind_words}")
        await shot(cust, "login-refused")
        await appeal_on_page(page, panel, "我没有引导线下交易，请查看聊天记录")
        assert page.url.endswith("/login")  # still refused: nothing let them in

        async with rig.db.reading() as s:
            rows = (await s.scalars(select(Sanction).where(Sanction.user_id == uid))).all()
        assert sorted((r.kind, r.appeal_text) for r in rows) == sorted(
            [
                (muted, "那是游戏里的房间号，不是微信"),
                (locked, "我没有引导线下交易，请查看聊天记录"),
            ]
        )
        # the refused login answered 403, and the logged-out page's calls 401: nothing else failed
        unexpected = [
            e
            for e in cust.errors
            if not re.match(r"(40[13] |Failed to load resource: .* 40[13])", e)
        ]
        assert any(e.startswith("403 POST") and "/api/auth/login" in e for e in cust.errors)
        assert unexpected == [], cust.errors
