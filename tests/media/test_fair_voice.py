"""Fair service on voice calls through the relay, with real aiortc peers: aiortc's sender stamps
every Opus packet with its RFC 6464 level, which the relay counts without decoding.  A companion
who sends silence gets their customer an automatic partial refund; one who talks does not.
Time runs 20× faster (``ScaledClock``) so minutes pass in seconds."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from sqlalchemy import func, select

from kernel.clock import ScaledClock
from metering.check import check_ledger
from signaling.keys import FAIR
from store.models import Transfer
from tests.harness import bearer
from tests.harness.rig import RigFactory, Sock
from tests.media.test_forward import Tone

pytestmark = [pytest.mark.timeout(120), pytest.mark.both_databases]
SPEED = 20.0


async def negotiate(sock: Sock, call_id: str, pc: RTCPeerConnection) -> None:
    await pc.setLocalDescription(await pc.createOffer())
    ack = await sock.ok("media:offer", {"call_id": call_id, "sdp": pc.localDescription.sdp})
    await pc.setRemoteDescription(RTCSessionDescription(ack["sdp"], "answer"))


async def voice_call(make_rig: RigFactory, companion_track: Any) -> dict[str, Any]:
    clock = ScaledClock(anchor_epoch_s=time.time(), speed=SPEED)
    async with make_rig(clock, media_silence_s=5.0, fair_enabled=True, ring_timeout_s=600) as rig:
        cust, cust_sock, _comp, comp_sock, call_id = await rig.active_call("voice", 5_000)
        rtc = RTCConfiguration(iceServers=[])
        cust_pc, comp_pc = RTCPeerConnection(rtc), RTCPeerConnection(rtc)
        try:
            cust_pc.addTrack(AudioStreamTrack())  # the customer says nothing either
            comp_pc.addTrack(companion_track)
            await negotiate(cust_sock, call_id, cust_pc)
            await negotiate(comp_sock, call_id, comp_pc)
            await cust_sock.wait("media:state", lambda d: d["flowing"], timeout=15)
            await asyncio.sleep(190 / SPEED)  # a little over 3 minutes connected
            await cust_sock.ok("call:hangup", {"call_id": call_id})
            mine = await cust_sock.wait("session:fair", lambda d: d["call_id"] == call_id, 15)
            theirs = await comp_sock.wait("session:fair", lambda d: d["call_id"] == call_id, 15)
        finally:
            for pc in (cust_pc, comp_pc):
                await pc.close()
        assert mine == theirs
        wallet = await (await rig.http.get("/api/wallet", headers=bearer(cust.token))).json()
        again = await rig.app[FAIR].assess(call_id)  # judged twice: nothing more happens
        async with rig.db.reading() as s:
            refunds = await s.scalar(
                select(func.count()).where(Transfer.id == f"refund:{call_id}:fair")
            )
        assert (await check_ledger(rig.db)).ok
        return {
            "judged": mine,
            "wallet_fen": wallet["wallet_fen"],
            "again": again,
            "refunds": refunds,
        }


async def test_a_silent_companion_gets_the_customer_a_partial_refund(
    make_rig: RigFactory,
) -> None:
    out = await voice_call(make_rig, AudioStreamTrack())
    judged = out["judged"]
    billed = judged["billed_minutes"]
    assert billed == 4  # a little over 3 minutes connected
    # every full minute was silent; the last covers ~10 s and is judged only if a loaded
    # machine stretched it past min_judged_s (20 s)
    assert judged["flagged_minutes"] in (3, 4)
    assert judged["companion_voiced_ms"] == 0 and judged["talk_share_percent"] is None
    assert judged["refund_fen"] == judged["flagged_minutes"] * 300 // 2
    assert out["wallet_fen"] == 5_000 - billed * 300 + judged["refund_fen"]
    assert out["again"] is None and out["refunds"] == 1


async def test_a_talking_companion_is_not_refunded(make_rig: RigFactory) -> None:
    out = await voice_call(make_rig, Tone(440.0))
    judged = out["judged"]
    billed = judged["billed_minutes"]
    assert billed >= 3
    assert judged["flagged_minutes"] == 0 and judged["refund_fen"] == 0
    # The relay heard the tone for (nearly) the whole of every minute, the customer never.
    assert judged["companion_voiced_ms"] >= (billed - 1) * 55_000
    assert judged["customer_voiced_ms"] == 0 and judged["talk_share_percent"] == 100
    assert out["wallet_fen"] == 5_000 - billed * 300
    assert out["refunds"] == 0
