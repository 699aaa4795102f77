"""The detector in the chat itself (the default policy, real sockets): an ID number is not
delivered and the sender is told why; a phone number is delivered masked and the customer is
warned; digits split over several messages are caught."""

from __future__ import annotations

from sqlalchemy import select

from accounts.ids import AuthSessionId, UserId
from accounts.roles import Role
from accounts.service import Principal
from moderation.chat_rules import ChatRules
from store.models import User
from tests.harness import bearer
from tests.harness.rig import Rig


async def test_chat_is_moderated_by_the_rules(rig: Rig) -> None:
    _cust, cust_sock, _comp, comp_sock, call_id = await rig.active_call("text")

    def msg(client_id: str, text: str) -> dict[str, str]:
        return {"call_id": call_id, "client_id": client_id, "text": text}

    blocked = await cust_sock.call("chat:send", msg("c0000001", "我的身份证 11010519491231002X"))
    assert blocked["error"]["code"] == "message_blocked"
    assert blocked["error"]["details"]["categories"] == ["id_card"]

    masked = await comp_sock.ok("chat:send", msg("p0000001", "打我电话 138 1234 5678"))
    assert masked["message"]["moderation"] == "mask"
    assert masked["categories"] == ["phone"]  # the sender is told why
    assert "5678" not in masked["message"]["text"] and "****" in masked["message"]["text"]
    seen = await cust_sock.wait("chat:message", lambda d: d["seq"] == masked["message"]["seq"])
    assert "1234" not in seen["text"]
    warning = await cust_sock.wait("chat:warning", timeout=5)
    assert warning["categories"] == ["phone"]

    fine = await cust_sock.ok("chat:send", msg("c0000002", "一小时45元，我们聊60分钟吧"))
    assert fine["message"]["moderation"] == "allow"

    for i, part in enumerate(("139", "8765", "4321")):  # a number in three messages
        last = await comp_sock.ok("chat:send", msg(f"p000001{i}", part))
    assert last["message"]["moderation"] != "allow"


async def test_the_verdict_carries_flags_priority_and_the_queue() -> None:
    """The hook keeps one conversation per call: a minor's cue from the customer and a meeting
    asked by the companion meet across senders."""
    rules = ChatRules.from_secret("s3cret", "", lambda: 100.0)
    customer = Principal(UserId("u_c"), Role.CUSTOMER, AuthSessionId("a_c"))
    companion = Principal(UserId("u_p"), Role.COMPANION, AuthSessionId("a_p"))
    minor = await rules.review(customer, "call_1", "我才初二")
    assert (minor.action, minor.flags, minor.queue) == ("review", ("minor",), True)
    meeting = await rules.review(companion, "call_1", "周末出来见面吧")
    assert (meeting.action, meeting.priority, meeting.queue) == ("block", "high", True)
    sexual = await rules.review(companion, "call_2", "开视频脱一下")
    assert sexual.action == "block" and sexual.flags == ("sexual_warning",) and sexual.warn


async def test_flags_reach_the_people_they_protect(rig: Rig) -> None:
    """``chat:safety`` reaches both sides with whose message it was: a minor's message reminds
    both; a companion's sexual message is stopped (with no message to point at) and the second
    push to spend raises the banner: the customer is protected, the companion reminded."""
    cust, cust_sock, comp, comp_sock, call_id = await rig.active_call("text")

    def msg(client_id: str, text: str) -> dict[str, str]:
        return {"call_id": call_id, "client_id": client_id, "text": text}

    minor = await cust_sock.ok("chat:send", msg("c0000001", "我才初二"))
    seq = minor["message"]["seq"]
    for sock in (cust_sock, comp_sock):
        told = await sock.wait("chat:safety", lambda d: d["flag"] == "minor", timeout=5)
        assert told == {"call_id": call_id, "seq": seq, "flag": "minor", "sender_id": cust.user_id}

    blocked = await comp_sock.call("chat:send", msg("p0000001", "开视频脱一下"))
    assert blocked["error"]["code"] == "message_blocked"
    for sock in (cust_sock, comp_sock):
        told = await sock.wait("chat:safety", lambda d: d["flag"] == "sexual_warning", timeout=5)
        assert told == {
            "call_id": call_id,
            "seq": None,
            "flag": "sexual_warning",
            "sender_id": comp.user_id,
        }

    for i, push in enumerate(("买个套餐吧", "再充点吧")):
        rig.clock.advance(60)
        await comp_sock.ok("chat:send", msg(f"p000001{i}", push))
    for sock in (cust_sock, comp_sock):
        banner = await sock.wait("chat:safety", lambda d: d["flag"] == "upsell_banner", timeout=5)
        assert banner["call_id"] == call_id and isinstance(banner["seq"], int)
        assert banner["sender_id"] == comp.user_id
    # both sides were told the same
    cust_told = [(d["flag"], d["seq"]) for d in cust_sock.seen("chat:safety")]
    assert cust_told == [(d["flag"], d["seq"]) for d in comp_sock.seen("chat:safety")]


async def test_a_blocked_message_an_admin_must_see_is_queued_first_with_its_text(
    rig: Rig,
) -> None:
    """A minor's message is queued (normal); the companion then asks to meet: blocked, and queued
    at high priority with the stopped text kept as evidence; the queue lists it first."""
    _cust, cust_sock, comp, comp_sock, call_id = await rig.active_call("text")

    def msg(client_id: str, text: str) -> dict[str, str]:
        return {"call_id": call_id, "client_id": client_id, "text": text}

    await cust_sock.ok("chat:send", msg("c0000001", "我才初二"))
    rig.clock.advance(30)
    blocked = await comp_sock.call("chat:send", msg("p0000001", "周末出来见面吧"))
    assert blocked["error"]["code"] == "message_blocked"

    admin = await rig.person("admin")
    resp = await rig.http.get("/api/admin/reports", headers=bearer(admin.token))
    assert resp.status == 200, await resp.text()
    reports = (await resp.json())["reports"]
    assert [(r["priority"], r["reason"]) for r in reports] == [("high", "auto"), ("normal", "auto")]
    first = reports[0]
    assert first["target_id"] == comp.user_id and first["message_seq"] is None
    async with rig.db.reading() as s:
        nickname = await s.scalar(select(User.nickname).where(User.id == comp.user_id))
    assert (first["target_nickname"], first["reporter_nickname"]) == (nickname, None)
    assert first["evidence"]["blocked"]["text"] == "周末出来见面吧"
    assert first["evidence"]["blocked"]["sender_id"] == comp.user_id
    assert [m["text"] for m in first["evidence"]["messages"]] == ["我才初二"]


def test_the_console_has_words_for_every_category() -> None:
    """Automatic reports list their categories; the admin console words each, in both languages
    (a new category without words would show its code)."""
    import json
    from pathlib import Path

    from moderation.detect import Category

    root = Path(__file__).resolve().parents[2] / "web_client" / "src" / "i18n" / "work"
    for language in ("zh-CN", "en"):
        words = json.loads((root / f"{language}.json").read_text())["console"]["reports"]
        assert set(words["category"]) == {c.value for c in Category}, language
