"""The companion's and the admin's screens end to end in real Chromium: a customer applies to be
a companion (real name in the wallet, specialties, intro, rates, a voice sample recorded from the
fake microphone, a certificate), an admin rejects with a reason, they reapply and are approved;
in the studio they set their weekly hours, confirm and decline booking requests, reply to a
review and respond to an appeal, and host a voice room a customer joins.  The admin hides a
reported review, decides the appeal with a partial refund, answers and closes a ticket and
reads it all in the audit log.

The tedious parts (a funded customer, bookings, a paid session, a review, an appeal, a ticket)
go through the HTTP API and Socket.IO as customers make them; the clock is a fake one, moved
only to bill the session.  Screenshots of each new screen, phone and desktop, go to
``web_client/screenshots/``."""

from __future__ import annotations

import asyncio
import re
import struct
import zlib
from typing import Any

import pytest
from sqlalchemy import update

from kernel.clock import FakeClock
from metering.check import check_ledger
from store.models import User
from store.models.appeals import Appeal
from store.models.reviews import Review
from store.models.support import Ticket
from tests.harness import bearer
from tests.harness.rig import Person as Account
from tests.harness.rig import Rig, RigFactory, request_id
from tests.web.conftest import DIST, SHOTS
from tests.web.test_browser import (
    DESKTOP,
    PHONE,
    Person,
    adult_id,
    eventually,
    open_person,
    sign_up,
    user_id,
)

pytestmark = [pytest.mark.timeout(180), pytest.mark.xdist_group("browser")]

INTRO = "你好，我是小雨，心理学专业毕业，擅长倾听和情绪疏导，晚上八点后基本都在线，欢迎来聊。"


def png(width: int = 96, height: int = 64) -> bytes:
    """A small real PNG (a pink card with a darker band): what a phone's photo of a
    certificate is, as far as the server's magic-byte check goes."""
    rows = b""
    for y in range(height):
        colour = b"\xc7\x28\x4f" if 20 <= y < 30 else b"\xfd\xe4\xea"
        rows += b"\x00" + colour * width

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def shots(who: Person, name: str) -> None:
    """The page at phone and at desktop size (back to the person's own size after)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = who.page
    own = dict(page.viewport_size)
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(viewport)
        await page.evaluate("window.scrollTo(0, 0)")  # the sticky bar stays at the top
        await asyncio.sleep(0.05)
        await page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
    await page.set_viewport_size(own)


async def account_of(who: Person) -> Account:
    """The browser's own login as an API account (its session cookie is a bearer token)."""
    cookies = {c["name"]: c["value"] for c in await who.page.context.cookies()}
    uid = await user_id_of_token(who, cookies["peiliao_session"])
    return Account(uid, cookies["peiliao_session"], who.phone)


async def user_id_of_token(who: Person, token: str) -> str:
    me = await who.page.request.get("/api/me", headers=bearer(token))
    assert me.ok
    return str((await me.json())["id"])


async def api(rig: Rig, method: str, path: str, who: Account, body: Any = None) -> Any:
    resp = await rig.http.request(method, path, json=body, headers=bearer(who.token))
    data = await resp.json()
    assert resp.status < 300, (method, path, resp.status, data)
    return data


async def make_admin(rig: Rig, who: Person) -> None:
    uid = await user_id(rig, who.phone)
    async with rig.db.writing() as s:
        await s.execute(update(User).where(User.id == uid).values(role="admin", nickname="审核员"))


async def open_tab(who: Person, tab: str) -> None:
    await who.page.click(f"[role=tab][data-tab={tab}]")
    await who.page.wait_for_selector(f"[role=tab][data-tab={tab}][aria-selected=true]")


async def apply(rig: Rig, who: Person) -> None:
    page = who.page
    await page.goto("/me")
    await page.click("[data-test=become-companion]")
    await page.wait_for_url(re.compile(r"/apply$"))
    await page.wait_for_selector("text=陪聊师必须是已完成实名认证的成年人")
    await shots(who, "apply-real-name")
    await page.click("[data-test=to-real-name]")
    await page.wait_for_url(re.compile(r"/wallet$"))
    await page.fill("[placeholder=真实姓名]", "陈晓雨")
    await page.fill("[placeholder=身份证号]", adult_id())
    await page.click("[data-test=verify]")
    await page.wait_for_selector("text=实名认证成功")
    await page.go_back()
    await page.wait_for_selector("[data-test=step-real-name] >> text=✓")

    await page.click("[data-specialty=情感倾诉]")
    await page.click("[data-specialty=心理咨询]")
    await page.wait_for_selector("text=已选 2/5")
    await page.check("[data-test=gender-female]")
    await page.fill("#intro", "太短")
    for mode, yuan in (("text", "5.00"), ("voice", "2.00"), ("video", "4.00")):
        await page.fill(f"#apply-rate-{mode}", yuan)
    await page.click("[data-test=apply-save]")  # the form stops it: nothing is sent
    problems = page.locator("[data-test=apply-problems]")
    await problems.locator("text=自我介绍需要 20–500 字").wait_for()
    await problems.locator("text=文字价格需在 ¥0.50–¥4.00 之间").wait_for()  # specialist ceiling
    await problems.locator("text=语音价格不能低于文字价格").wait_for()
    await page.fill("#intro", INTRO)
    await page.fill("#apply-rate-text", "1.00")
    await page.click("[data-test=apply-save]")
    await page.wait_for_selector("text=已保存草稿")
    await page.wait_for_selector("[data-test=apply-missing] >> text=还差：声音样本")
    await page.wait_for_selector("[data-test=apply-missing] >> text=还差：心理咨询证书")

    await page.click("[data-test=record]")  # the fake microphone's beeps
    await page.wait_for_selector("text=正在录音")
    await asyncio.sleep(1.5)
    await page.click("[data-test=stop]")
    await page.click("[data-test=voice-send]")
    await page.wait_for_selector("text=声音样本已上传")
    await page.wait_for_selector("[data-test=voice-current]")
    await page.set_input_files(
        "[data-test=cert-file-心理咨询]",
        files=[{"name": "证书.png", "mimeType": "image/png", "buffer": png()}],
    )
    await page.wait_for_selector("text=证书已上传")
    await page.wait_for_selector("[data-category=心理咨询] img")
    await page.wait_for_selector("text=资料齐全，可以提交了")
    await shots(who, "apply-form")
    await page.click("[data-test=apply-submit]")
    await page.wait_for_selector("[data-test=apply-status][data-status=pending]")
    await shots(who, "apply-pending")


async def review_application(admin: Person, *, approve: bool, reason: str = "") -> None:
    page = admin.page
    await page.goto("/admin?tab=applications")
    card = page.locator("[data-application]").first
    await card.wait_for()
    assert "*" in await card.locator("[data-test=app-real-name]").inner_text()  # masked
    await card.locator("text=心理咨询").first.wait_for()
    await card.locator(f"text={INTRO[:12]}").wait_for()
    # The voice sample plays (Chromium reads its duration) and the certificate shows.
    voice = card.locator("[data-test=app-voice]")
    await voice.evaluate("el => { el.preload = 'auto'; el.load(); }")
    await eventually(lambda: _ready(voice), 10, "the voice sample's metadata")
    cert = card.locator("[data-test=app-cert]").first
    await eventually(lambda: _loaded(cert), 10, "the certificate image")
    if approve:
        await card.locator("[data-test=app-approve]").click()
        await page.wait_for_selector("[data-test=applications] [role=status] >> text=已通过")
    else:
        await card.locator("[data-test=app-reject]").click()
        await card.locator("text=拒绝时必须写明理由").wait_for()  # the form insists on a reason
        await shots(admin, "admin-applications")
        await card.locator("[data-test=app-reason]").fill(reason)
        await card.locator("[data-test=app-reject]").click()
        await page.wait_for_selector("[data-test=applications] [role=status] >> text=已拒绝")
    await page.wait_for_selector("[data-test=applications] >> text=没有待处理的事项")


async def _ready(voice: Any) -> bool:
    return bool(await voice.evaluate("el => el.readyState >= 1 && el.duration > 1"))


async def _loaded(img: Any) -> bool:
    return bool(await img.evaluate("el => el.complete && el.naturalWidth === 96"))


async def schedule(who: Person) -> None:
    page = who.page
    await open_tab(who, "schedule")
    await page.click("[data-test=add-range-3]")  # Thursday: 20:00–22:00 suggested
    await page.select_option("[data-day='3'] [data-test=range-end]", "23:00")
    await page.click("[data-test=add-range-5]")
    await page.select_option("[data-day='5'] [data-test=range-start]", "10:00")
    await page.select_option("[data-day='5'] [data-test=range-end]", "12:00")
    await page.wait_for_selector("text=每周共 5 小时")
    await page.click("[data-test=save-availability]")
    await page.wait_for_selector("text=时间表已保存")
    await shots(who, "studio-schedule")


async def test_apply_review_studio_and_admin(make_rig: RigFactory, browser: Any) -> None:
    # 2026-01-01 is a Thursday; 00:00 UTC is 08:00 in China.
    async with make_rig(FakeClock(), web_dist_dir=str(DIST), ice_host_addresses="127.0.0.1") as rig:
        comp = await open_person(rig, browser, "applicant", PHONE)
        admin = await open_person(rig, browser, "admin", DESKTOP)
        await sign_up(rig, comp)
        await sign_up(rig, admin)
        await make_admin(rig, admin)

        # -- become a companion: rejected with a reason, then approved -------------------------
        await apply(rig, comp)
        await review_application(admin, approve=False, reason="证书照片看不清，请重新拍摄上传")
        await comp.page.click("[data-test=apply-refresh]")
        await comp.page.wait_for_selector("[data-test=apply-reason] >> text=证书照片看不清")
        await shots(comp, "apply-rejected")
        # The last decision is the one shown: on this fake clock, make it a later one.
        rig.clock.advance(60)
        await comp.page.click("[data-test=reapply]")
        assert await comp.page.input_value("#intro") == INTRO  # the form comes back filled
        await comp.page.click("[data-test=apply-save]")
        await comp.page.wait_for_selector("text=资料齐全，可以提交了")  # the uploads came along
        await comp.page.click("[data-test=apply-submit]")
        await comp.page.wait_for_selector("[data-test=apply-status][data-status=pending]")
        await review_application(admin, approve=True)
        await comp.page.click("[data-test=apply-refresh]")
        await comp.page.wait_for_selector("[data-test=apply-status][data-status=approved]")
        await shots(comp, "apply-approved")
        await comp.page.click("[data-test=to-studio]")
        await comp.page.wait_for_url(re.compile(r"/studio$"))
        await comp.page.wait_for_selector("[data-test=level-card] >> text=新人")
        await comp.page.wait_for_selector("[data-test=level-card] >> text=平台抽成 30%")
        await eventually(lambda: _value(comp, "#rate-voice", "2.00"), 10, "the approved rates")
        await comp.page.click("[data-test=go-online]")  # the socket knows the new role
        await comp.page.wait_for_selector("[data-test=studio-status][data-status=online]")
        await shots(comp, "studio-overview")

        # -- the weekly schedule, and the bookings it lets customers make ----------------------
        await schedule(comp)
        companion = await account_of(comp)
        hours = await api(rig, "GET", "/api/me/availability", companion)
        assert [(r["weekday"], r["start"], r["end"]) for r in hours["ranges"]] == [
            (3, "20:00", "23:00"),
            (5, "10:00", "12:00"),
        ]
        cust = await rig.person(fund_fen=10_000)
        async with rig.db.writing() as s:
            await s.execute(update(User).where(User.id == cust.user_id).values(nickname="夜猫子"))
        for hour in (20, 21):
            await api(
                rig,
                "POST",
                "/api/bookings",
                cust,
                {
                    "companion_id": companion.user_id,
                    "mode": "text",
                    "starts_at": f"2026-01-01T{hour}:00:00+08:00",
                    "duration_min": 30,
                    "request_id": request_id(),
                },
            )
        await open_tab(comp, "orders")
        requests = comp.page.locator("[data-booking][data-status=requested]")
        await eventually(lambda: _count(requests, 2), 10, "two booking requests (live)")
        await comp.page.wait_for_selector("[role=tab][data-tab=orders] >> text=2")  # the badge
        await shots(comp, "studio-orders")
        await requests.first.locator("[data-test=order-confirm]").click()
        await comp.page.wait_for_selector("text=已确认，到时间会自动接通")
        await comp.page.locator("[data-test=order-decline]").click()
        await comp.page.fill("[data-test=order-reason]", "那天临时有事，抱歉")
        await comp.page.click("[data-test=order-answer]")
        await comp.page.wait_for_selector("text=没有待确认的预约")
        await comp.page.check("[data-test=orders-history]")
        await comp.page.wait_for_selector(
            "[data-booking][data-status=declined] >> text=那天临时有事"
        )
        mine = await api(rig, "GET", "/api/bookings?role=customer&status=open", cust)
        assert [b["status"] for b in mine["bookings"]] == ["confirmed"]

        # -- a paid session, then its review, appeal and ticket (the customer's side) -----------
        session_id = await paid_session(rig, cust, companion)
        review = await api(
            rig,
            "POST",
            f"/api/sessions/{session_id}/review",
            cust,
            {"stars": 2, "tags": ["耐心"], "text": "回复有点慢，聊得一般。"},
        )
        appeal = await api(
            rig,
            "POST",
            f"/api/sessions/{session_id}/appeal",
            cust,
            {
                "reason": "companion_absent",
                "text": "陪聊师一直在忙别的事，回复很慢。",
                "request_id": request_id(),
            },
        )
        ticket = await api(
            rig,
            "POST",
            "/api/tickets",
            cust,
            {
                "category": "payment",
                "subject": "充值没到账",
                "body": "昨天晚上充了 50 元，余额没有变化。",
                "request_id": request_id(),
            },
        )

        # -- the studio: reply to the review, respond to the appeal ----------------------------
        page = comp.page
        await page.goto("/studio?tab=reviews")
        await page.wait_for_selector("[data-review] >> text=回复有点慢")
        await page.wait_for_selector("[role=tab][data-tab=appeals] >> text=1")
        await page.fill("[data-test=reply-text]", "抱歉让你久等了，下次一定及时回复！")
        await page.click("[data-test=reply-send]")
        await page.wait_for_selector("[data-test=review-reply] >> text=下次一定及时回复")
        assert await page.locator("[data-test=reply-text]").count() == 0  # one reply only
        await shots(comp, "studio-reviews")
        await open_tab(comp, "appeals")
        await page.wait_for_selector("[data-appeal] >> text=陪聊师一直在忙别的事")
        await page.fill("[data-test=appeal-text]", "当时网络不好，消息延迟了，我一直在线。")
        await page.click("[data-test=appeal-send]")
        await page.wait_for_selector("[data-test=appeal-response] >> text=当时网络不好")
        await shots(comp, "studio-appeals")
        # The companion reports the review as false: it reaches the admins' report queue.
        await api(
            rig,
            "POST",
            f"/api/reviews/{review['id']}/report",
            companion,
            {"reason": "false_review", "details": "我一直在线回复"},
        )

        # -- the admin: hide the review, decide the appeal, answer the ticket -------------------
        page = admin.page
        await page.goto("/admin")
        await page.click("[data-test=case-queue] [data-category=false_review]")
        view = page.locator("[data-case-view]")
        await view.locator("[data-test=case-review] >> text=回复有点慢").wait_for()
        await view.locator("[data-test=case-category] >> text=虚假评价").wait_for()
        await shots(admin, "admin-reports")
        await view.locator("[data-test=case-note]").fill("评价与聊天记录不符")
        await view.locator("[data-test=hide-review]").click()
        await view.locator("[data-test=hide-review]").wait_for(state="detached")
        await view.locator("[data-test=decide-kind]").select_option("")  # no sanction
        await view.locator("[data-test=case-submit]").click()
        await view.locator("[data-test=case-decided]").wait_for()
        await page.wait_for_selector("text=没有待处理的案件")

        await open_tab(admin, "appeals")
        item = page.locator(f"[data-appeal={appeal['id']}]")
        await item.locator("[data-test=appeal-figures] >> text=¥4.00").wait_for()  # 4 min × ¥1
        await item.locator("[data-test=appeal-companion] >> text=当时网络不好").wait_for()
        await item.locator("summary").click()
        await item.locator("text=在吗？想聊聊").wait_for()  # the session's chat
        await shots(admin, "admin-appeals")
        await item.locator("[data-test=outcome-partial]").check()
        await item.locator("[data-test=appeal-amount]").fill("1.00")
        await item.locator("[data-test=appeal-reason]").fill("回复确有延迟，退还一分钟费用。")
        await item.locator("[data-test=appeal-decide]").click()
        await page.wait_for_selector("[data-test=appeals-queue] >> text=没有待处理的事项")

        await open_tab(admin, "tickets")
        await page.click(f"[data-ticket={ticket['id']}]")
        await page.wait_for_selector("[data-test=ticket-thread] >> text=余额没有变化")
        await page.fill("[data-test=ticket-reply]", "您好，已为您查询，款项已到账，请刷新钱包。")
        await page.click("[data-test=ticket-send]")
        await page.wait_for_selector("[data-author=staff] >> text=款项已到账")
        await shots(admin, "admin-tickets")
        await page.click("[data-test=ticket-close]")
        await page.wait_for_selector("[data-test=ticket-thread] >> text=工单已关闭")
        thread = await api(rig, "GET", f"/api/tickets/{ticket['id']}", cust)
        assert thread["status"] == "closed"
        assert [m["author_name"] for m in thread["messages"]] == ["夜猫子", "客服"]

        await open_tab(admin, "audit")
        for action in (
            "拒绝入驻申请",
            "通过入驻申请",
            "隐藏评价",
            "裁决申诉",
            "回复工单",
            "关闭工单",
        ):
            await page.wait_for_selector(f"[data-test=audit] >> text={action}")
        await page.select_option("[data-test=audit-type]", "appeal")
        await page.click("[data-test=audit-filter]")
        await eventually(lambda: _only(page, "appeal.decide"), 10, "the audit log filtered")
        await shots(admin, "admin-audit")

        async with rig.db.reading() as s:
            assert (await s.get(Review, review["id"])).hidden_at is not None  # type: ignore[union-attr]
            decided = await s.get(Appeal, appeal["id"])
            assert (
                decided is not None and decided.outcome == "partial" and decided.refund_fen == 100
            )
            closed = await s.get(Ticket, ticket["id"])
            assert closed is not None and closed.status == "closed"
        assert (await check_ledger(rig.db)).ok

        # -- a group voice room: open it, a customer joins, close it --------------------------
        page = comp.page
        await page.goto("/studio?tab=room")
        await page.fill("#room-title", "深夜树洞 · 随便聊聊")
        await page.fill("#room-rate", "1.50")
        await page.select_option("#room-cap", "3")
        await page.click("[data-test=room-open]")
        await page.wait_for_selector("[data-test=room-title] >> text=深夜树洞")
        await page.wait_for_selector("[data-test=room-media][data-state=connected]", timeout=20_000)
        rooms = await api(rig, "GET", "/api/voice-rooms", cust)
        room_id = rooms["rooms"][0]["id"]
        cust_sock = await rig.connect(cust, "customer")
        await cust_sock.ok("room:join", {"room_id": room_id, "request_id": request_id()})
        await page.wait_for_selector("[data-test=room-listeners][data-n='1']")
        await page.wait_for_selector("[data-test=room-members] >> text=夜猫子")
        await shots(comp, "studio-room")
        await page.click("[data-test=room-close]")
        await page.click("[data-test=room-close-confirm]")
        await page.wait_for_selector("[data-test=room-closed] >> text=深夜树洞")
        await cust_sock.wait("room:left", lambda d: d["reason"] == "closed")

        for who in (comp, admin):
            assert who.errors == [], (who.name, who.errors)


async def paid_session(rig: Rig, cust: Account, companion: Account) -> str:
    """A text call the companion takes on another device of theirs, 181 s long (4 minutes
    billed at ¥1), with two chat messages; ended by the customer."""
    comp_sock = await rig.connect(companion, "companion")
    await comp_sock.ok("presence:set", {"accepting": True})
    cust_sock = await rig.connect(cust, "customer")
    ack = await cust_sock.ok(
        "call:request",
        {"companion_id": companion.user_id, "mode": "text", "request_id": request_id()},
    )
    call_id: str = ack["call"]["call_id"]
    await comp_sock.ok("call:accept", {"call_id": call_id})
    await cust_sock.ok(
        "chat:send", {"call_id": call_id, "client_id": "m0000001", "text": "在吗？想聊聊"}
    )
    await comp_sock.ok("chat:send", {"call_id": call_id, "client_id": "m0000002", "text": "在的"})
    rig.clock.advance(181)
    await cust_sock.ok("call:hangup", {"call_id": call_id})
    await cust_sock.sio.disconnect()
    await comp_sock.sio.disconnect()
    return call_id


async def _value(who: Person, selector: str, expected: str) -> bool:
    return bool(await who.page.input_value(selector) == expected)


async def _count(locator: Any, n: int) -> bool:
    return bool(await locator.count() == n)


async def _only(page: Any, action: str) -> bool:
    actions = await page.locator("[data-test=audit] tr[data-action]").evaluate_all(
        "rows => rows.map(r => r.dataset.action)"
    )
    return bool(actions) and set(actions) == {action}
