"""Garbage on the wire, below the Socket.IO client: engine.io and socket.io frames a stranger
writes by hand, before and after login.  None may log a traceback or an error, the server keeps
serving everyone else, a malformed frame closes its own connection, and the log lines about
refused frames are bounded (signaling/frames.py)."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
import structlog

from kernel.clock import FakeClock
from signaling.frames import FrameRefusals
from tests.harness.rig import Rig, RigFactory

pytestmark = pytest.mark.timeout(60)

DEEP = "[" * 1000 + "]" * 1000
HUGE = "9" * 5000
#: frames that must close their connection: (name, frame)
MALFORMED: list[tuple[str, str | bytes]] = [
    ("empty", ""),
    ("bad engine.io type", "x"),
    ("engine.io type 9", "9"),
    ("NUL", "\x00"),
    ("base64 prefix", "b!!!"),
    ("binary junk", b"\x00\xff\xfe"),
    ("binary socket.io", b"42"),
    ("engine.io message, huge int", "4" + HUGE),
    ("engine.io message, deep", "4" + DEEP),
    ("socket.io type 9", "49"),
    ("binary event", '451-["x",{"_placeholder":true,"num":0}]'),
    ("binary ack", "46"),
    ("event without data", "42"),
    ("event deep", "42" + DEEP),
    ("event huge int", "42[" + HUGE + "]"),
    ("event huge id", "42" + "9" * 200 + '["x"]'),
    ("event object", '42{"a":1}'),
    ("event string", '42"x"'),
    ("event empty list", "42[]"),
    ("event name int", "42[1]"),
    ("event name list", "42[[1]]"),
    ("event name object", "42[{}]"),
    ("event name null", "42[null]"),
    ("event NaN", '42["call:get",NaN]'),
    ("event 1e400", '42["call:get",1e400]'),
    ("event bad utf-8 escape", '42["call:get","\\ud800"]'),
    ("event truncated", '42["call:get",{"call_id":'),
    ("namespace junk", "42/\x00,[]"),
    ("connect deep", "40" + DEEP),
    ("connect huge", '40{"token":' + HUGE + "}"),
]
#: frames that are dropped without closing the connection
DROPPED: list[tuple[str, str]] = [
    ("client's own connect", '42["connect",1,2,3]'),
    ("client's own disconnect", '42["disconnect",1,2,3]'),
    ("ack nobody asked for", '431["x"]'),
    ("ack with junk", "43{}"),
    ("other namespace", '42/evil,["x"]'),
]


@pytest.fixture
def nothing_logged_as_error(caplog: pytest.LogCaptureFixture) -> Iterator[list[Any]]:
    caplog.set_level("WARNING")
    with structlog.testing.capture_logs() as events:
        yield events
        gc.collect()  # "Task exception was never retrieved" is logged when the task is freed
    bad = [e for e in events if e.get("log_level") in ("error", "critical", "exception")]
    bad += [
        (r.name, r.getMessage()[:200])
        for r in caplog.records
        if r.levelname in ("ERROR", "CRITICAL") or r.exc_info
    ]
    assert not bad, bad


async def open_socket(
    session: aiohttp.ClientSession, rig: Rig, token: str | None
) -> aiohttp.ClientWebSocketResponse:
    """engine.io open, then socket.io CONNECT (with ``token``: logged in; without: refused)."""
    url = rig.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = await session.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=3))
    opened = await ws.receive_str(timeout=5)
    assert opened.startswith("0{"), opened
    await ws.send_str("40" + (json.dumps({"token": token}) if token else ""))
    if token:  # the greeting and the CONNECT answer, in either order
        answers = sorted([await ws.receive_str(timeout=5), await ws.receive_str(timeout=5)])
        assert answers[0].startswith("40{") and answers[1].startswith('42["session:hello"')
    else:
        answer = await ws.receive_str(timeout=5)
        assert answer.startswith("44{"), answer
    return ws


async def closed_by_server(ws: aiohttp.ClientWebSocketResponse, within_s: float = 5) -> bool:
    try:
        async with asyncio.timeout(within_s):
            while True:
                msg = await ws.receive()
                if msg.type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSED,
                    aiohttp.WSMsgType.CLOSING,
                ):
                    return True
                if msg.type is aiohttp.WSMsgType.TEXT and msg.data == "1":
                    return True  # engine.io CLOSE packet
    except TimeoutError:
        return False


async def send(ws: aiohttp.ClientWebSocketResponse, frame: str | bytes) -> None:
    if isinstance(frame, bytes):
        await ws.send_bytes(frame)
    else:
        await ws.send_str(frame)


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "logged_in"])
async def test_malformed_frames_close_their_connection_and_log_no_error(
    rig: Rig, logged_in: bool, nothing_logged_as_error: list[Any]
) -> None:
    token = (await rig.person()).token if logged_in else None
    async with aiohttp.ClientSession() as session:
        for name, frame in MALFORMED:
            ws = await open_socket(session, rig, token)
            await send(ws, frame)
            assert await closed_by_server(ws), name
            await ws.close()
        for _name, frame in DROPPED:
            ws = await open_socket(session, rig, token)
            await send(ws, frame)
            await ws.send_str('42["call:current"]')  # still served: no ack when anonymous
            await ws.close()
    # the server still serves everyone
    healthy = await rig.http.get("/healthz")
    assert healthy.status == 200
    sock = await rig.connect(await rig.person())
    assert (await sock.ok("call:current"))["call"] is None
    refusals = [e for e in nothing_logged_as_error if e["event"] == "socket_frame_refused"]
    assert refusals and all(e["log_level"] == "warning" for e in refusals)


async def test_a_logged_in_socket_survives_a_dropped_frame(
    rig: Rig, nothing_logged_as_error: list[Any]
) -> None:
    token = (await rig.person()).token
    async with aiohttp.ClientSession() as session:
        ws = await open_socket(session, rig, token)
        await ws.send_str('42["disconnect",1,2,3]')
        await ws.send_str('421["call:current"]')
        ack = await ws.receive_str(timeout=5)
        assert ack.startswith("431[") and json.loads(ack[3:])[0]["ok"] is True, ack
        await ws.close()


async def test_refused_frames_are_logged_sparingly(
    make_rig: RigFactory, clock: FakeClock, nothing_logged_as_error: list[Any]
) -> None:
    async with (
        make_rig(clock, socket_refusal_logs_burst=5, socket_refusal_logs_per_s=0.1) as rig,
        aiohttp.ClientSession() as session,
    ):
        for _ in range(30):
            ws = await open_socket(session, rig, None)
            await ws.send_str("42[[1]]")
            assert await closed_by_server(ws)
            await ws.close()
        ws = await open_socket(session, rig, None)
        for _ in range(30):  # one connection's dropped frames: one line at most
            await ws.send_str('42["connect",1,2]')
        await ws.close()
    lines = [e for e in nothing_logged_as_error if e["event"] == "socket_frame_refused"]
    assert 1 <= len(lines) <= 8, len(lines)


def test_frame_refusals_log_once_per_connection_within_a_budget() -> None:
    frames = FrameRefusals(burst=3, per_s=0.001)
    with structlog.testing.capture_logs() as events:
        for connection in range(10):
            for _ in range(5):
                frames.refused(connection, "x")
        frames.forget(0)
    assert frames.total == 50
    assert [e["suppressed"] for e in events] == [0, 4, 4]
