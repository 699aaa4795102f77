"""Evidence of calls, with consent: both parties are told at the start; the relay keeps only a
bounded in-memory window of what it forwards; a report seals each participant's last two
minutes (Ogg Opus as received, VP8 keyframes as JPEG) for the admins, and nothing is written
for a call nobody reports."""

from __future__ import annotations

import asyncio
import io
import itertools
from pathlib import Path
from typing import Any

import av
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from PIL import Image
from sqlalchemy import func, select, update

from kernel.clock import FakeClock
from kernel.crypto import Sealer, SealError
from media import ogg
from media.evidence import (
    MAX_AUDIO_BYTES,
    MAX_KEYFRAMES,
    PACKET_OVERHEAD_BYTES,
    AudioWindow,
    KeyframeWindow,
    ParticipantWindow,
)
from media.rooms import Rooms
from store.models import Report
from store.models.evidence import CallEvidence
from tests.harness import bearer
from tests.harness.rig import Person, Rig, RigFactory, Sock
from tests.media.test_forward import Pattern, Tone
from tests.media.test_negotiation import negotiate

pytestmark = pytest.mark.timeout(90)

# -- the window: bounded, cheap -------------------------------------------------------------------


def test_the_audio_window_is_bounded_by_time_and_bytes_under_a_long_stream() -> None:
    window = AudioWindow()
    # Ten minutes of 20 ms voice packets: only the last 120 s stay.
    for i in range(10 * 60 * 50):
        window.add(i * 0.02, i * 960, b"\x78" + bytes(79))
    assert 119 * 50 <= len(window) <= 120 * 50 + 1
    assert window.bytes == len(window) * (80 + PACKET_OVERHEAD_BYTES)
    # Ten minutes of the largest Opus packets (1275 bytes): the byte cap holds.
    big = AudioWindow()
    for i in range(10 * 60 * 50):
        big.add(i * 0.02, i * 960, b"\xfc" + bytes(1274))
        assert big.bytes <= MAX_AUDIO_BYTES
    assert len(big) < 120 * 50  # fewer than 2 minutes: the byte cap cut it first
    kept = big.packets(10 * 60 * 0.02 * 50)
    assert kept and kept[-1].rtp_timestamp == (10 * 60 * 50 - 1) * 960  # the newest stay


def _vp8_packets(seq: int, ts: int, frame: bytes, per: int = 1000) -> list[tuple[int, bool, bytes]]:
    """A VP8 frame as RTP payloads (RFC 7741: descriptor byte, S bit on the first)."""
    parts = [frame[i : i + per] for i in range(0, len(frame), per)]
    return [
        ((seq + n) & 0xFFFF, n == len(parts) - 1, bytes([0x10 if n == 0 else 0x00]) + part)
        for n, part in enumerate(parts)
    ]


def test_one_keyframe_per_ten_seconds_assembled_in_any_order_and_bounded() -> None:
    window = KeyframeWindow()
    keyframe = bytes([0x00]) + bytes(range(256)) * 10  # P bit clear: a keyframe
    inter = bytes([0x01]) + bytes(500)
    seq, now = 100, 0.0
    for second in range(600):  # ten minutes, one keyframe and one delta frame a second
        now = float(second)
        packets = _vp8_packets(seq, second * 90_000, keyframe)
        packets[1:] = packets[:0:-1]  # the rest out of order (RTX repairs arrive late)
        for s, marker, payload in packets:
            window.add(now, s, second * 90_000, marker, payload)
        seq += len(packets)
        for s, marker, payload in _vp8_packets(seq, second * 90_000 + 3000, inter):
            window.add(now + 0.5, s, second * 90_000 + 3000, marker, payload)
        seq += 1
    frames = window.keyframes(now)
    assert len(window.frames) <= MAX_KEYFRAMES
    assert 11 <= len(frames) <= 13  # one per 10 s of the last 120 s
    assert all(f.data == keyframe for f in frames)  # reassembled exactly, descriptors removed
    gaps = [b.arrival_s - a.arrival_s for a, b in itertools.pairwise(frames)]
    assert all(g >= 10 for g in gaps)


async def test_an_ended_calls_windows_are_kept_for_a_report_then_dropped() -> None:
    rooms = Rooms(after_call_s=0.5)
    room = await rooms._room("call_" + "e" * 32, "voice")
    window = room.windows["u1"] = ParticipantWindow("u1")
    for i in range(100):
        window.audio.add(asyncio.get_running_loop().time(), i * 960, b"\x78" + bytes(60))
    await rooms.close(room.call_id)
    kept = rooms.snapshot(room.call_id)
    assert kept is not None and len(kept[0].audio) == 100  # ended: still there for a report
    assert rooms.evidence_bytes() > 0
    await asyncio.sleep(0.7)
    assert rooms.snapshot(room.call_id) is None  # and gone from memory after
    assert rooms.evidence_bytes() == 0


# -- the Ogg container ----------------------------------------------------------------------------


def _opus_packets(count: int) -> list[bytes]:
    import numpy as np

    enc = av.CodecContext.create("libopus", "w")
    enc.sample_rate, enc.layout, enc.format, enc.bit_rate = 48_000, "stereo", "s16", 32_000  # type: ignore[attr-defined]
    out: list[bytes] = []
    for i in range(count):
        t = (np.arange(960) + i * 960) / 48_000
        mono = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(
            np.repeat(mono, 2).reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate, frame.pts = 48_000, i * 960
        out += [bytes(p) for p in enc.encode(frame)]  # type: ignore[attr-defined]
    return out


def test_ogg_opus_holds_the_packets_as_received_and_fills_gaps_in_time() -> None:
    packets = _opus_packets(100)
    sent = [(1_000_000 + i * 960, p) for i, p in enumerate(packets) if i not in (40, 41, 42)]
    data, written, duration = ogg.write(sent)
    assert written == 97 and duration == 100 * 960  # the three lost are concealed, in time
    container = av.open(io.BytesIO(data))
    demuxed = [bytes(p) for p in container.demux(audio=0) if p.size]
    originals = {p for _, p in sent}
    assert sum(1 for p in demuxed if p in originals) == 97  # byte for byte, no re-encoding
    container = av.open(io.BytesIO(data))
    decoded = sum(f.samples for f in container.decode(audio=0))
    assert decoded == 100 * 960
    # Every page's CRC is right (a reader that checks them would refuse the file otherwise).
    at = 0
    while at < len(data):
        assert data[at : at + 4] == b"OggS"
        nsegs = data[at + 26]
        size = 27 + nsegs + sum(data[at + 27 : at + 27 + nsegs])
        page = bytearray(data[at : at + size])
        crc = int.from_bytes(page[22:26], "little")
        page[22:26] = b"\0\0\0\0"
        assert ogg.crc32(bytes(page)) == crc
        at += size


# -- end to end: real peers through the server -----------------------------------------------------


def _peer(video: bool) -> RTCPeerConnection:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(Tone(440.0))
    if video:
        pc.addTrack(Pattern())
    return pc


async def _media_call(rig: Rig, mode: str) -> tuple[Person, Sock, Person, Sock, str, list[Any]]:
    cust, cust_sock, comp, comp_sock, call_id = await rig.active_call(mode)
    pcs = [_peer(mode == "video"), _peer(mode == "video")]
    assert (await negotiate(cust_sock, call_id, pcs[0]))["ok"]
    assert (await negotiate(comp_sock, call_id, pcs[1]))["ok"]
    await cust_sock.wait("media:state", lambda d: d["flowing"], timeout=15)
    return cust, cust_sock, comp, comp_sock, call_id, pcs


async def _rows(rig: Rig) -> int:
    async with rig.db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(CallEvidence)) or 0)


async def _report(rig: Rig, who: Person, target: Person, call_id: str) -> dict[str, Any]:
    resp = await rig.http.post(
        "/api/reports",
        json={"user_id": target.user_id, "reason": "harassment", "call_id": call_id},
        headers=bearer(who.token),
    )
    assert resp.status == 201, await resp.text()
    return dict(await resp.json())


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.mark.both_databases
async def test_a_reported_video_call_seals_both_windows_and_only_admins_open_them(
    make_rig: RigFactory, clock: FakeClock, tmp_path: Path
) -> None:
    async with make_rig(clock, var_dir=str(tmp_path / "var")) as rig:
        cust, cust_sock, comp, comp_sock, call_id, pcs = await _media_call(rig, "video")
        files = _files(tmp_path / "var")  # the sandbox payment key
        try:
            # Both were told, at the start, that the last 2 minutes are kept for safety.
            for sock in (cust_sock, comp_sock):
                notice = await sock.wait("call:safety_notice", timeout=5)
                assert notice == {
                    "call_id": call_id,
                    "window_s": 120,
                    "after_call_s": 600,
                    "retention_days": 30,
                }
            await asyncio.sleep(3.0)
            room = rig.signaling.rooms.get(call_id)
            before = {u: p.rx_packets["audio"] for u, p in room.participants.items()}
            report = await _report(rig, cust, comp, call_id)  # during the call
            after = {u: p.rx_packets["audio"] for u, p in room.participants.items()}
            assert report["call_evidence"] == "kept"
            admin = await rig.person("admin")
            listed = await rig.http.get(
                f"/api/admin/reports/{report['id']}/call-evidence", headers=bearer(admin.token)
            )
            assert listed.status == 200
            items = (await listed.json())["items"]
            # The report's case says its call's media was kept (the console plays it there).
            async with rig.db.reading() as s:
                case_id = await s.scalar(select(Report.case_id).where(Report.id == report["id"]))
            case = await rig.http.get(f"/api/admin/cases/{case_id}", headers=bearer(admin.token))
            assert case.status == 200, await case.text()
            shown = {i["id"]: i["call_evidence"] for i in (await case.json())["items"]}
            assert shown[report["id"]] == "kept"
            for user in (cust.user_id, comp.user_id):
                audio = [i for i in items if i["subject_id"] == user and i["kind"] == "audio"]
                frames = [i for i in items if i["subject_id"] == user and i["kind"] == "keyframe"]
                assert len(audio) == 1 and frames, (user, items)
                resp = await rig.http.get(
                    f"/api/admin/call-evidence/{audio[0]['id']}", headers=bearer(admin.token)
                )
                assert resp.status == 200 and resp.content_type == "audio/ogg"
                data = await resp.read()
                # The packets the relay forwarded up to the report, as received.
                assert before[user] - 5 <= audio[0]["packets"] <= after[user]
                container = av.open(io.BytesIO(data))
                demuxed = [p for p in container.demux(audio=0) if p.size]
                assert len(demuxed) >= audio[0]["packets"]
                decoded = sum(f.samples for f in av.open(io.BytesIO(data)).decode(audio=0))
                assert abs(decoded / 48_000 - audio[0]["duration_ms"] / 1000) < 0.05
                assert abs(audio[0]["duration_ms"] - audio[0]["packets"] * 20) < 500
                resp = await rig.http.get(
                    f"/api/admin/call-evidence/{frames[0]['id']}", headers=bearer(admin.token)
                )
                assert resp.status == 200 and resp.content_type == "image/jpeg"
                image = Image.open(io.BytesIO(await resp.read()))
                assert image.format == "JPEG" and image.size == (320, 240)
            # Neither party, nor anyone else but an admin, may fetch or list it.
            for person in (cust, comp):
                for path in (
                    f"/api/admin/call-evidence/{items[0]['id']}",
                    f"/api/admin/reports/{report['id']}/call-evidence",
                ):
                    resp = await rig.http.get(path, headers=bearer(person.token))
                    assert resp.status == 403, path
                    assert (await resp.json())["error"]["code"] == "forbidden"
            missing = await rig.http.get(
                "/api/admin/call-evidence/evd_nothing", headers=bearer(admin.token)
            )
            assert missing.status == 404
            assert (await missing.json())["error"]["code"] == "evidence_not_found"
            # Every viewing is in the audit log.
            audit = await rig.http.get("/api/admin/audit", headers=bearer(admin.token))
            actions = [e["action"] for e in (await audit.json())["entries"]]
            assert actions.count("evidence.view") == 4
            assert actions.count("evidence.list") == 1  # once per admin and report
            # At rest: sealed (not an Ogg or a JPEG), and another key does not open it.
            async with rig.db.reading() as s:
                rows = (await s.scalars(select(CallEvidence))).all()
            assert rows and all(b"OggS" not in r.sealed and b"JFIF" not in r.sealed for r in rows)
            other = Sealer({"dev": b"k" * 32}, "dev")
            with pytest.raises(SealError):
                other.open_bytes(rows[0].sealed, f"call_evidence:{rows[0].id}")
            assert _files(tmp_path / "var") == files  # nothing on disk: the database holds it
        finally:
            for pc in pcs:
                await pc.close()


@pytest.mark.both_databases
async def test_nothing_is_written_for_an_unreported_call_and_a_late_report_finds_none(
    make_rig: RigFactory, clock: FakeClock, tmp_path: Path
) -> None:
    async with make_rig(clock, var_dir=str(tmp_path / "var")) as rig:
        cust, cust_sock, comp, _comp_sock, call_id, pcs = await _media_call(rig, "voice")
        files = _files(tmp_path / "var")  # the sandbox payment key
        try:
            await asyncio.sleep(1.5)
            await cust_sock.ok("call:hangup", {"call_id": call_id})
            await asyncio.sleep(0.3)
            assert rig.signaling.rooms.get(call_id) is None
            assert await _rows(rig) == 0  # nobody reported: nothing in the database …
            assert _files(tmp_path / "var") == files  # … nor on disk
            # Eleven minutes after the end: the report stands, the media is gone.
            clock.advance(11 * 60)
            report = await _report(rig, comp, cust, call_id)
            assert report["call_evidence"] == "window_passed"
            assert await _rows(rig) == 0
        finally:
            for pc in pcs:
                await pc.close()


@pytest.mark.both_databases
async def test_a_report_after_the_call_keeps_its_last_minutes_until_expiry_unless_the_case_is_open(
    make_rig: RigFactory, clock: FakeClock
) -> None:
    async with make_rig(clock) as rig:
        cust, cust_sock, comp, _comp_sock, call_id, pcs = await _media_call(rig, "voice")
        try:
            await asyncio.sleep(1.5)
            await cust_sock.ok("call:hangup", {"call_id": call_id})
            await asyncio.sleep(0.3)
            clock.advance(9 * 60)  # within the 10 minutes
            report = await _report(rig, comp, cust, call_id)
            assert report["call_evidence"] == "kept"
            assert await _rows(rig) == 2  # each participant's audio
            again = await _report(rig, comp, cust, call_id)  # a resend: written once
            assert again["id"] == report["id"] and await _rows(rig) == 2
            evidence = rig.signaling.media.evidence
            clock.advance(31 * 86_400)
            assert await evidence.sweep() == 0  # expired, but the case is open: kept
            async with rig.db.writing() as s:
                await s.execute(
                    update(Report).where(Report.id == report["id"]).values(status="resolved")
                )
            assert await evidence.sweep() == 2
            assert await _rows(rig) == 0
        finally:
            for pc in pcs:
                await pc.close()
