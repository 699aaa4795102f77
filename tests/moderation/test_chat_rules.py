"""The detector in the chat itself (the default policy, real sockets): an ID number is not
delivered and the sender is told why; a phone number is delivered masked and the customer is
warned; digits split over several messages are caught."""

from __future__ import annotations

from accounts.ids import AuthSessionId, UserId
from accounts.roles import Role
from accounts.service import Principal
from moderation.chat_rules import ChatRules
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
