"""A voice room's text chat over real Socket.IO clients: ordered by a server seq and delivered to
the host and every seated member (a resend once); history only while seated and only since the
seat was taken; 1:1 chat's moderation (a phone number masked, sexual content blocked and queued,
a companion's sexual message flagged for the members, a contact request warned about); blocks
between two members; non-members, listeners, the muted and the flooding refused; bad payloads
refused with codes; a room message reported with its evidence; closed rooms' old messages purged
by the chat retention."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from market.voicerooms.chat import RoomTranscript
from store.models import Report
from store.models.voicerooms import VoiceRoomMessage
from tests.harness import bearer
from tests.harness.rig import Person, Rig, Sock, request_id
from tests.market.voicerooms.test_rooms import join, opened
from tests.moderation.test_sanctions import sanction

pytestmark = pytest.mark.timeout(60)


async def say(sock: Sock, room_id: str, text: str, client_id: str | None = None) -> Any:
    return await sock.call(
        "roomchat:send", {"room_id": room_id, "client_id": client_id or request_id(), "text": text}
    )


async def history(sock: Sock, room_id: str, **cursor: Any) -> Any:
    return await sock.call("roomchat:history", {"room_id": room_id, **cursor})


async def seated_room(
    rig: Rig, members: int = 2
) -> tuple[str, Person, Sock, list[Person], list[Sock]]:
    """An open room: its host's socket and ``members`` funded customers seated in it."""
    host = await rig.person("companion")
    host_sock = await rig.connect(host, "host")
    room_id = await opened(rig, host, capacity=members + 2)
    people, socks = [], []
    for i in range(members):
        member = await rig.person(fund_fen=5_000)
        sock = await rig.connect(member, f"member{i}")
        assert (await join(sock, room_id))["ok"]
        people.append(member)
        socks.append(sock)
    return room_id, host, host_sock, people, socks


def texts(sock: Sock, room_id: str) -> list[tuple[int, str]]:
    return sorted(
        (m["seq"], m["text"])
        for m in sock.seen("roomchat:message", lambda d: d["room_id"] == room_id)
    )


async def until_seen(sock: Sock, count: int) -> None:
    """``sock`` has ``count`` room messages (the ``count``-th to arrive, whichever it is)."""
    await sock.wait("roomchat:message", lambda d: len(sock.seen("roomchat:message")) >= count)


async def test_messages_are_numbered_by_the_server_and_reach_host_and_members_once(
    rig: Rig,
) -> None:
    room_id, host, host_sock, members, socks = await seated_room(rig)
    first = await say(host_sock, room_id, "欢迎大家")
    assert first["ok"], first
    message = first["message"]
    assert (message["seq"], message["text"], message["moderation"]) == (1, "欢迎大家", "allow")
    assert message["sender"]["user_id"] == host.user_id and message["sender"]["role"] == "host"

    # Concurrent senders: numbers are gap-free, each sender's in the order they sent (a sender
    # sends its next message once the last one is acknowledged: Socket.IO runs each event in a
    # task of its own, so a burst from one socket has no order to keep).
    async def burst(i: int, sock: Any) -> list[dict[str, Any]]:
        return [await say(sock, room_id, f"{i}-{n}") for n in range(3)]

    acks = [
        a for got in await asyncio.gather(*(burst(i, s) for i, s in enumerate(socks))) for a in got
    ]
    assert all(a["ok"] for a in acks), acks
    assert sorted(a["message"]["seq"] for a in acks) == list(range(2, 8))
    for sock in [host_sock, *socks]:
        await until_seen(sock, 7)
        seen = texts(sock, room_id)
        assert [seq for seq, _ in seen] == list(range(1, 8))
        for i in range(2):
            mine = [t for _, t in seen if t.startswith(f"{i}-")]
            assert mine == [f"{i}-0", f"{i}-1", f"{i}-2"]
    member_msg = next(a["message"] for a in acks if a["message"]["text"] == "0-0")
    assert member_msg["sender"] == {
        "user_id": members[0].user_id,
        "nickname": member_msg["sender"]["nickname"],
        "role": "member",
    }
    # A resend (same client id) is the same message, stored and delivered once.
    again = await say(socks[0], room_id, "重发", client_id="resend-0001")
    twice = await say(socks[0], room_id, "重发", client_id="resend-0001")
    assert again["message"] == twice["message"] and again["message"]["seq"] == 8
    await until_seen(host_sock, 8)
    await asyncio.sleep(0.2)
    assert len(host_sock.seen("roomchat:message", lambda d: d["text"] == "重发")) == 1
    page = await history(host_sock, room_id)
    assert [m["seq"] for m in page["messages"]] == list(range(1, 9)) and page["last_seq"] == 8
    older = await history(host_sock, room_id, before_seq=4, limit=2)
    assert [m["seq"] for m in older["messages"]] == [2, 3]
    newer = await history(host_sock, room_id, after_seq=6)
    assert [m["seq"] for m in newer["messages"]] == [7, 8]


async def test_history_is_what_was_said_while_seated(rig: Rig) -> None:
    room_id, _host, host_sock, _members, socks = await seated_room(rig, members=1)
    await say(host_sock, room_id, "一")
    late = await rig.person(fund_fen=5_000)
    late_sock = await rig.connect(late, "late")
    # Not seated yet: neither reads nor writes (there are no listeners).
    assert (await history(late_sock, room_id))["error"]["code"] == "not_member"
    assert (await say(late_sock, room_id, "我只听听"))["error"]["code"] == "not_member"
    assert (await join(late_sock, room_id))["ok"]
    await say(socks[0], room_id, "二")
    page = await history(late_sock, room_id)
    assert [m["text"] for m in page["messages"]] == ["二"]
    assert (page["from_seq"], page["last_seq"]) == (1, 2)
    assert not late_sock.seen("roomchat:message", lambda d: d["text"] == "一")
    assert [m["text"] for m in (await history(socks[0], room_id))["messages"]] == ["一", "二"]
    # Gone from the seat: nothing to read or say; back again, only what came after.
    await late_sock.ok("room:leave", {"room_id": room_id})
    await say(host_sock, room_id, "三")
    assert (await history(late_sock, room_id))["error"]["code"] == "not_member"
    assert (await say(late_sock, room_id, "还在吗"))["error"]["code"] == "not_member"
    assert (await join(late_sock, room_id))["ok"]
    await say(host_sock, room_id, "四")
    assert [m["text"] for m in (await history(late_sock, room_id))["messages"]] == ["四"]
    # An admin reads it all; once the room closes, its people read nothing.
    admin_sock = await rig.connect(await rig.person("admin"), "admin")
    everything = await history(admin_sock, room_id)
    assert [m["text"] for m in everything["messages"]] == ["一", "二", "三", "四"]
    assert (await say(admin_sock, room_id, "管理员"))["error"]["code"] == "not_member"
    await host_sock.ok("room:leave", {"room_id": room_id})
    for sock in (host_sock, socks[0]):
        ack = await history(sock, room_id)
        assert ack["error"]["code"] in ("room_closed", "not_member"), ack
    assert (await say(host_sock, room_id, "关了"))["error"]["code"] == "room_closed"


async def test_moderation_masks_blocks_queues_and_warns_as_in_one_to_one_chat(rig: Rig) -> None:
    room_id, host, host_sock, members, socks = await seated_room(rig)
    masked = await say(socks[0], room_id, "我的电话 13812345678")
    assert masked["message"]["moderation"] == "mask"
    assert "13812345678" not in masked["message"]["text"] and "****" in masked["message"]["text"]
    seen = await host_sock.wait("roomchat:message", lambda d: d["seq"] == masked["message"]["seq"])
    assert "13812345678" not in str(seen)

    blocked = await say(socks[1], room_id, "全套多少钱")
    assert blocked["error"]["code"] == "message_blocked"
    assert blocked["error"]["details"]["categories"] == ["sexual"]
    async with rig.db.reading() as s:
        flagged = (await s.scalars(select(Report).where(Report.call_key == room_id))).all()
    assert [(r.target_id, r.reason) for r in flagged] == [(members[1].user_id, "auto")]
    assert flagged[0].evidence["blocked"]["text"] == "全套多少钱"
    assert flagged[0].evidence["room"]["host_id"] == host.user_id

    # The host (a companion) sending sexual content: stopped, and the members are told.
    stopped = await say(host_sock, room_id, "开视频脱一下")
    assert stopped["error"]["code"] == "message_blocked"
    for sock in socks:
        await sock.wait("roomchat:safety", lambda d: d["flag"] == "sexual_warning")
    assert not host_sock.seen("roomchat:safety")
    # The host asking for a messenger id: delivered for review, the members warned.
    asked = await say(host_sock, room_id, "加我微信 abc12345")
    assert asked["message"]["moderation"] == "review"
    for sock in socks:
        warning = await sock.wait("roomchat:warning")
        assert warning["seq"] == asked["message"]["seq"]
    await asyncio.sleep(0.1)
    for sock in [host_sock, *socks]:  # nothing blocked was ever delivered
        assert not sock.seen("roomchat:message", lambda d: "全套" in d["text"] or "脱" in d["text"])


async def test_a_block_between_members_hides_their_messages_from_each_other(rig: Rig) -> None:
    room_id, _host, host_sock, members, socks = await seated_room(rig)
    resp = await rig.http.post(
        "/api/blocks", json={"user_id": members[1].user_id}, headers=bearer(members[0].token)
    )
    assert resp.status == 200
    ack = await say(socks[1], room_id, "你好")
    assert ack["ok"]
    await host_sock.wait("roomchat:message", lambda d: d["text"] == "你好")
    await socks[1].wait("roomchat:message", lambda d: d["text"] == "你好")
    await say(host_sock, room_id, "大家好")
    await socks[0].wait("roomchat:message", lambda d: d["text"] == "大家好")
    assert not socks[0].seen("roomchat:message", lambda d: d["text"] == "你好")
    page = await history(socks[0], room_id)
    assert [m["text"] for m in page["messages"]] == ["大家好"]
    assert members[1].user_id not in str(page)


async def test_muted_listeners_and_strangers_are_refused(rig: Rig) -> None:
    room_id, _host, host_sock, members, socks = await seated_room(rig)
    admin = await rig.person("admin")
    await sanction(rig, admin, members[0], kind="mute", hours=2)
    muted = await say(socks[0], room_id, "你好")
    assert muted["error"]["code"] == "chat_muted" and muted["error"]["details"]["until"]
    stranger_sock = await rig.connect(await rig.person(), "stranger")
    other_host = await rig.person("companion")
    other_sock = await rig.connect(other_host, "other-host")
    for sock in (stranger_sock, other_sock):
        assert (await say(sock, room_id, "路过"))["error"]["code"] == "not_member"
    missing = "vr_" + "0" * 32
    assert (await say(socks[1], missing, "喂"))["error"]["code"] == "room_not_found"
    # The host blocked someone: to them the room does not exist.
    await rig.http.post(
        "/api/blocks", json={"user_id": other_host.user_id}, headers=bearer(_host.token)
    )
    assert (await say(other_sock, room_id, "路过"))["error"]["code"] == "room_not_found"
    await asyncio.sleep(0.1)
    assert not host_sock.seen("roomchat:message", lambda d: d["text"] in ("你好", "路过"))


async def test_a_sender_past_the_chat_limit_is_refused(make_rig: Any, clock: Any) -> None:
    # 4 at once, refilled so slowly that a loaded machine cannot make the test pass by luck
    async with make_rig(clock, chat_messages_burst=4, chat_messages_per_s=0.001) as rig:
        room_id, _host, host_sock, _members, socks = await seated_room(rig, members=1)
        acks = [await say(socks[0], room_id, f"刷屏{i}") for i in range(6)]
        assert [a["ok"] for a in acks] == [True] * 4 + [False] * 2
        assert acks[-1]["error"]["code"] == "rate_limited"
        # a bucket per sender: the host still talks
        assert (await say(host_sock, room_id, "慢一点"))["ok"]
        await host_sock.wait("roomchat:message", lambda d: d["text"] == "慢一点")
        assert len(host_sock.seen("roomchat:message", lambda d: "刷屏" in d["text"])) == 4


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"room_id": "ROOM", "client_id": "abcdefgh", "text": "hi"},
        {"room_id": "vr_" + "a" * 32, "client_id": "short", "text": "hi"},
        {"room_id": "vr_" + "a" * 32, "client_id": "abcdefgh", "text": ""},
        {"room_id": "vr_" + "a" * 32, "client_id": "abcdefgh", "text": "   "},
        {"room_id": "vr_" + "a" * 32, "client_id": "abcdefgh", "text": "长" * 501},
        {"room_id": "vr_" + "a" * 32, "client_id": "abcdefgh", "text": 5},
        {"room_id": "vr_" + "a" * 32, "client_id": "abcdefgh", "text": "hi", "to": "x"},
        "text",
    ],
)
async def test_bad_payloads_are_refused_with_a_code(rig: Rig, payload: Any) -> None:
    sock = await rig.connect(await rig.person(), "bad")
    ack = await sock.call("roomchat:send", payload)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid_input", ack
    for cursor in (
        {"after_seq": 1, "before_seq": 3},
        {"limit": 0},
        {"limit": 101},
        {"after_seq": "1"},
        {"after_seq": -1},
    ):
        ack = await sock.call("roomchat:history", {"room_id": "vr_" + "a" * 32, **cursor})
        assert ack["error"]["code"] == "invalid_input", (cursor, ack)


async def test_a_room_message_is_reported_by_someone_who_was_there(rig: Rig) -> None:
    room_id, host, host_sock, members, socks = await seated_room(rig)
    said = (await say(host_sock, room_id, "你好呀"))["message"]
    body = {"user_id": host.user_id, "reason": "harassment", "call_id": room_id}
    resp = await rig.http.post(
        "/api/reports", json=body | {"message_seq": said["seq"]}, headers=bearer(members[0].token)
    )
    assert resp.status == 201, await resp.text()
    report = await resp.json()
    assert (report["subject"], report["call_id"], report["message_seq"]) == (
        "message",
        room_id,
        said["seq"],
    )
    async with rig.db.reading() as s:
        row = await s.get(Report, report["id"])
    assert row is not None and row.evidence["messages"][0]["text"] == "你好呀"
    # The admin's case shows the room's chat with the reported line marked.
    await say(host_sock, room_id, "然后呢")
    admin = await rig.person("admin")
    case = await rig.http.get(f"/api/admin/cases/{row.case_id}", headers=bearer(admin.token))
    assert case.status == 200, await case.text()
    chat = (await case.json())["chat"]
    assert [(m["text"], m["flagged"]) for m in chat][:2] == [("你好呀", True), ("然后呢", False)]
    # Not in the room then (joined later), not the sender's message, the room alone: refused.
    late = await rig.person(fund_fen=5_000)
    assert (await join(await rig.connect(late, "late"), room_id))["ok"]
    resp = await rig.http.post(
        "/api/reports", json=body | {"message_seq": said["seq"]}, headers=bearer(late.token)
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "not_participant"
    mine = (await say(socks[1], room_id, "我说的"))["message"]
    resp = await rig.http.post(
        "/api/reports", json=body | {"message_seq": mine["seq"]}, headers=bearer(members[0].token)
    )
    assert (await resp.json())["error"]["code"] == "message_not_found"
    resp = await rig.http.post("/api/reports", json=body, headers=bearer(members[0].token))
    assert (await resp.json())["error"]["code"] == "invalid_input"


async def test_old_messages_of_closed_rooms_are_purged_by_the_chat_retention(rig: Rig) -> None:
    old_room, host, host_sock, _people, socks = await seated_room(rig, members=1)
    assert (await say(socks[0], old_room, "早上好"))["ok"]
    assert (await say(host_sock, old_room, "欢迎"))["ok"]
    resp = await rig.http.post(f"/api/voice-rooms/{old_room}/close", headers=bearer(host.token))
    assert resp.status == 200, await resp.text()
    rig.clock.advance(181 * 86_400)
    open_room, _h, _hs, _p, open_socks = await seated_room(rig, members=1)
    assert (await say(open_socks[0], open_room, "hi"))["ok"]

    transcript = RoomTranscript(rig.db, rig.clock)
    assert await transcript.purge(180) == 2
    async with rig.db.reading() as s:
        left = (await s.scalars(select(VoiceRoomMessage.room_id))).all()
    assert left == [open_room]  # an open room's, and newer ones, are kept
    assert await transcript.purge(180) == 0
