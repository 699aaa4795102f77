"""NACK and RTX across the relay, both ways, with real aiortc peers on loopback and loss injected
in userspace: a packet lost between the relay and a subscriber is retransmitted by the relay from
its own history (the subscriber's NACK never goes upstream), and a packet lost between the
publisher and the relay is asked for by the relay's receiver, retransmitted by the publisher and
forwarded, so the subscriber ends up with it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from media import forward as forward_module
from media import rtc_internals
from media.room import Room
from tests.media.test_feedback import relay, until
from tests.media.test_forward import Pattern, Tone

pytestmark = pytest.mark.timeout(60)


def watch_subscriber(receiver: Any, media_ssrc: int, rtx_ssrc: int) -> tuple[set[int], set[int]]:
    """Sequence numbers the subscriber's receiver got: as media, and repaired by RTX."""
    media: set[int] = set()
    repaired: set[int] = set()
    original = receiver._handle_rtp_packet

    async def handle(packet: Any, arrival_time_ms: int) -> None:
        if packet.ssrc == media_ssrc:
            media.add(packet.sequence_number)
        elif packet.ssrc == rtx_ssrc and len(packet.payload) >= 2:
            repaired.add(int.from_bytes(packet.payload[:2], "big"))
        await original(packet, arrival_time_ms=arrival_time_ms)

    setattr(receiver, "_handle_rtp_packet", handle)  # noqa: B010
    return media, repaired


async def join(room: Room, pcs: list[RTCPeerConnection]) -> None:
    """Each peer (a tone and a test pattern) joins ``room`` as u0, u1, …"""
    for i, pc in enumerate(pcs):
        pc.addTransceiver(Tone(440.0), direction="sendrecv")
        pc.addTransceiver(Pattern(), direction="sendrecv")
        await pc.setLocalDescription(await pc.createOffer())
        answer = await room.answer(f"u{i}", pc.localDescription.sdp)
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))


async def test_the_relay_answers_a_subscribers_nack_from_its_history(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with relay(1, track=Pattern) as rig:
        out = rig.outbound[0].sender
        media, repaired = watch_subscriber(rig.subscriber_receiver(0), out._ssrc, out._rtx_ssrc)
        upstream_nacks = [0]
        original_nack = rig.inbound.receiver._send_rtcp_nack

        async def count_nack(media_ssrc: int, lost: list[int]) -> None:
            upstream_nacks[0] += 1
            await original_nack(media_ssrc, lost)

        setattr(rig.inbound.receiver, "_send_rtcp_nack", count_nack)  # noqa: B010
        lost: list[int] = []
        send = rtc_internals.send_rtp_now
        n = [0]

        def lossy(sender: Any, data: bytes) -> bool:
            n[0] += 1
            if n[0] % 15 == 0 and len(lost) < 10:
                lost.append(int.from_bytes(data[2:4], "big"))
                return True  # sent, as far as the relay knows: lost on the way
            return send(sender, data)

        monkeypatch.setattr(forward_module.rtc_internals, "send_rtp_now", lossy)
        await until(lambda: len(lost) >= 10, 20.0)
        monkeypatch.setattr(forward_module.rtc_internals, "send_rtp_now", send)
        await until(lambda: set(lost) <= repaired, 5.0)
        assert not set(lost) & media  # never arrived as media: only the RTX repaired them
        assert upstream_nacks[0] == 0  # the publisher was not bothered


async def test_the_relay_asks_the_publisher_for_what_it_never_got_and_forwards_it() -> None:
    lost: list[int] = []
    seen: set[int] = set()
    n = [0]

    def upstream(packet: Any) -> bool:
        first = packet.sequence_number not in seen
        seen.add(packet.sequence_number)
        n[0] += 1
        if first and n[0] > 60 and n[0] % 15 == 0 and len(lost) < 10 and packet.payload_type:
            lost.append(packet.sequence_number)
            return False
        return True

    async with relay(1, track=Pattern, upstream=upstream) as rig:
        out = rig.outbound[0].sender
        media, repaired = watch_subscriber(rig.subscriber_receiver(0), out._ssrc, out._rtx_ssrc)
        await until(lambda: len(lost) >= 10, 20.0)
        forward = rig.forwards[0]
        offset = forward._seq_offset
        wanted = {(s + offset) & 0xFFFF for s in lost}
        await until(lambda: wanted <= media | repaired, 5.0)
        assert wanted <= media  # late, from the publisher's RTX, forwarded as media


async def test_in_a_room_video_lost_before_the_relay_is_nacked_and_forwarded_from_rtx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The synchronous receive path (``rtc_internals.receive_video``) keeps aiortc's NACKs and
    RTX: u0's video packets that never reach the relay's receiver are asked for, come back as
    RTX, are unwrapped and reach u1 as media, in sequence."""
    dropped: list[int] = []
    first_ssrc: list[int] = []
    nacks = [0]
    receive = rtc_internals.receive_video
    watched: list[Any] = []

    def lossy(receiver: Any, packet: Any, arrival_time_ms: int) -> Any:
        if watched and receiver is watched[0]:
            if not first_ssrc:
                first_ssrc.append(packet.ssrc)
            n = packet.sequence_number
            first = n not in dropped
            if packet.ssrc == first_ssrc[0] and n % 17 == 0 and len(dropped) < 8 and first:
                dropped.append(n)
                return None  # lost on the way in: the receiver never sees it
        return receive(receiver, packet, arrival_time_ms)

    monkeypatch.setattr(rtc_internals, "receive_video", lossy)
    room = Room("call_" + "0" * 32, ("audio", "video"))
    pcs = [RTCPeerConnection(RTCConfiguration(iceServers=[])) for _ in range(2)]
    try:
        await join(room, pcs)
        inbound = room.participants["u0"].transceivers["video"][0].receiver
        original_nack = inbound._send_rtcp_nack

        async def count_nack(media_ssrc: int, lost: list[int]) -> None:
            nacks[0] += 1
            await original_nack(media_ssrc, lost)

        setattr(inbound, "_send_rtcp_nack", count_nack)  # noqa: B010
        watched.append(inbound)
        out = room.participants["u1"].transceivers["video"][0].sender
        u1_video = next(t for t in pcs[1].getTransceivers() if t.kind == "video").receiver
        await until(lambda: out._ssrc is not None, 10.0)
        media, _ = watch_subscriber(u1_video, out._ssrc, out._rtx_ssrc)
        await until(lambda: len(dropped) >= 8, 30.0)
        forward = room._forwards[("u0", "video")][0]
        wanted = {(s + forward._seq_offset) & 0xFFFF for s in dropped}
        await until(lambda: wanted <= media, 5.0)
        assert nacks[0] >= 1
        p = room.participants["u0"]
        assert p.rx_fast > 0.9 * sum(p.rx_packets.values()), (p.rx_fast, p.rx_packets)
    finally:
        for pc in pcs:
            await pc.close()
        await room.close()
        await asyncio.sleep(0)


async def test_in_a_room_a_packet_whose_retransmission_is_lost_too_is_asked_for_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One video packet of u0's lost on the way to the relay, and its first retransmission lost
    as well (one loss in ten does that on a lossy uplink), and no other gap after it: the
    relay's receiver asks for it again a round trip later (``media.nack``; aiortc's own asks
    only when a new gap appears, so it was never asked for again), and u1 gets it, as media, on
    its outgoing number."""
    target: list[int] = []  # the source sequence number lost
    retransmits = [0]
    media_ssrc: list[int] = []
    receive = rtc_internals.receive_video
    watched: list[Any] = []
    asked: list[list[int]] = []
    keyframes_before: list[int] = []

    def lossy(receiver: Any, packet: Any, arrival_time_ms: int) -> Any:
        if watched and receiver is watched[0]:
            media_ssrc or media_ssrc.append(packet.ssrc)
            seq = packet.sequence_number
            if packet.ssrc == media_ssrc[0] and not target and seq % 50 == 0:
                forwards = room._forwards.get(("u0", "video"))
                if forwards and forwards[0].forwarded > 0:  # u1 is receiving
                    target.append(seq)
                    keyframes_before.append(forwards[0].keyframe_requests)
                    return None  # the original: lost on the way in
        return receive(receiver, packet, arrival_time_ms)

    monkeypatch.setattr(rtc_internals, "receive_video", lossy)
    room = Room("call_" + "1" * 32, ("audio", "video"))
    pcs = [RTCPeerConnection(RTCConfiguration(iceServers=[])) for _ in range(2)]
    try:
        await join(room, pcs)
        publisher = next(t for t in pcs[0].getTransceivers() if t.kind == "video").sender
        retransmit = publisher._retransmit

        async def first_one_lost(seq: int) -> None:
            if target and seq == target[0]:
                retransmits[0] += 1
                if retransmits[0] == 1:
                    return  # its first retransmission: lost on the way as well
            await retransmit(seq)

        setattr(publisher, "_retransmit", first_one_lost)  # noqa: B010
        inbound = room.participants["u0"].transceivers["video"][0].receiver
        original_nack = inbound._send_rtcp_nack

        async def record_nack(ssrc: int, lost: list[int]) -> None:
            asked.append(list(lost))
            await original_nack(ssrc, lost)

        setattr(inbound, "_send_rtcp_nack", record_nack)  # noqa: B010
        watched.append(inbound)
        out = room.participants["u1"].transceivers["video"][0].sender
        u1_video = next(t for t in pcs[1].getTransceivers() if t.kind == "video").receiver
        await until(lambda: out._ssrc is not None, 10.0)
        media, _ = watch_subscriber(u1_video, out._ssrc, out._rtx_ssrc)
        await until(lambda: retransmits[0] >= 2, 10.0)
        forward = room._forwards[("u0", "video")][0]
        wanted = (target[0] + forward._seq_offset) & 0xFFFF
        await until(lambda: wanted in media, 5.0)
        assert sum(target[0] in lost for lost in asked) >= 2, asked
        # u1's own NACK for it found it missing but still being asked for upstream: no keyframe
        # was requested for it (media.forward waits for the retransmission)
        await asyncio.sleep(0.3)
        assert forward.keyframe_requests == keyframes_before[0]
    finally:
        for pc in pcs:
            await pc.close()
        await room.close()
        await asyncio.sleep(0)
