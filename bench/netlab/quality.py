"""Call quality as WebRTC measures it (issue 17, part 2): real Chromium on both sides, each in a
client namespace of the lab behind the same profile, with a fake camera and microphone; figures
from ``getStats()`` on each side over a window.

    async with Lab({"a": prof, "b": prof}) as lab:
        rows = await direct_run(lab, seconds=20)

``direct``: a minimal page (served here, on the lab's server address) makes one
RTCPeerConnection per side, exchanging SDP (non-trickle) through a mailbox this process serves:
the baseline, media straight from one namespace to the other through the router.  The relay
mode (``bench/netlab/relay.py``) measures the same figures for the web client calling through
the server.

Chromium runs inside a namespace through a wrapper (``ip netns exec NS chromium "$@"``):
Playwright drives it over a pipe, which namespaces do not cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import stat
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.netlab.lab import Lab

CHROMIUM = os.environ.get("PEILIAO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    # real host candidates, not mDNS names nobody in the lab can resolve
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
SETUP_TIMEOUT_S = 30.0
MAILBOX_WAIT_S = 20.0
MAX_MAILBOX_BYTES = 64_000

PAGE = """<!doctype html><meta charset=utf-8><title>direct</title><script>
window.__t0 = Date.now();
window.__q = (async () => {
  const role = new URLSearchParams(location.search).get("role");
  const t0 = performance.now();
  const local = await navigator.mediaDevices.getUserMedia(
    {audio: true, video: {width: 640, height: 480, frameRate: 30}});
  const pc = new RTCPeerConnection({bundlePolicy: "max-bundle"});
  window.__pc = pc;
  for (const t of local.getTracks()) pc.addTrack(t, local);
  pc.ontrack = (e) => { const v = document.createElement(e.track.kind);
    v.srcObject = e.streams[0]; v.autoplay = true; v.muted = e.track.kind === "video";
    document.body.appendChild(v); };
  const gathered = () => new Promise((ok) => {
    if (pc.iceGatheringState === "complete") return ok();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && ok(); });
  const put = (box, sdp) => fetch("/box/" + box, {method: "POST", body: sdp});
  const take = async (box) => { for (;;) { const r = await fetch("/box/" + box);
    if (r.status === 200) return await r.text(); } };
  if (role === "offer") {
    await pc.setLocalDescription(await pc.createOffer()); await gathered();
    await put("offer", pc.localDescription.sdp);
    await pc.setRemoteDescription({type: "answer", sdp: await take("answer")});
  } else {
    await pc.setRemoteDescription({type: "offer", sdp: await take("offer")});
    await pc.setLocalDescription(await pc.createAnswer()); await gathered();
    await put("answer", pc.localDescription.sdp);
  }
  await new Promise((ok) => { const f = () => pc.connectionState === "connected" && ok();
    pc.onconnectionstatechange = f; f(); });
  return performance.now() - t0;
})();
</script>"""

# Before the page's scripts: every peer connection it makes is kept (for STATS), and the first
# audio packet and decoded frame any of them receives are stamped (epoch ms), polled every 50 ms
# for at most 120 s.
RECORD = """
(() => {
  const Original = window.RTCPeerConnection;
  window.__pcs = [];
  window.__first = {audio: null, video: null};
  window.RTCPeerConnection = function (...args) {
    const pc = new Original(...args);
    window.__pcs.push(pc);
    // when each stage of the first connection came: the set-up's breakdown
    window.__stages ??= {created: Date.now(), ice: null, connected: null};
    const stage = () => {
      const ice = pc.iceConnectionState;
      if (ice === "connected" || ice === "completed") window.__stages.ice ??= Date.now();
      if (pc.connectionState === "connected") window.__stages.connected ??= Date.now();
    };
    pc.addEventListener("iceconnectionstatechange", stage);
    pc.addEventListener("connectionstatechange", stage);
    const until = Date.now() + 120000;
    const poll = async () => {
      if (pc.connectionState === "closed" || Date.now() > until) return;
      (await pc.getStats()).forEach((r) => {
        if (r.type !== "inbound-rtp") return;
        if (r.kind === "audio" && r.packetsReceived > 0) window.__first.audio ??= Date.now();
        if (r.kind === "video" && r.framesDecoded > 0) window.__first.video ??= Date.now();
      });
      if (window.__first.audio === null || window.__first.video === null) setTimeout(poll, 50);
    };
    setTimeout(poll, 50);
    return pc;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
})();
"""


def first_media(firsts: list[dict[str, Any]], t0_ms: float | list[float]) -> dict[str, Any]:
    """Each page's first received audio packet and first decoded frame after ``t0_ms`` (epoch
    ms: one for all pages, or one each), and ``setup_ms``: when both had come."""
    starts = t0_ms if isinstance(t0_ms, list) else [t0_ms] * len(firsts)
    audio = [round(f["audio"] - t) for f, t in zip(firsts, starts, strict=True)]
    video = [round(f["video"] - t) for f, t in zip(firsts, starts, strict=True)]
    stages = {
        name: [
            round(f["stages"][name] - t) if f.get("stages", {}).get(name) else None
            for f, t in zip(firsts, starts, strict=True)
        ]
        for name in ("created", "ice", "connected")
    }
    return {
        "setup_ms": [max(x, y) for x, y in zip(audio, video, strict=True)],
        "first_audio_ms": audio,
        "first_frame_ms": video,
        # the set-up's breakdown per page: its peer connection made, ICE connected, DTLS done
        "pc_created_ms": stages["created"],
        "ice_connected_ms": stages["ice"],
        "dtls_connected_ms": stages["connected"],
    }


#: what one side has received so far (cumulative counters) and its RTT now
STATS = """
async () => {
  const pcs = window.__pcs || (window.__pc ? [window.__pc] : []);
  const out = {audio: null, video: null, rtt_ms: null, send: null};
  for (const pc of pcs) {
    const stats = await pc.getStats();
    stats.forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "audio") out.audio = {
        concealed: r.concealedSamples || 0, samples: r.totalSamplesReceived || 0,
        jb_delay_s: r.jitterBufferDelay || 0, jb_emitted: r.jitterBufferEmittedCount || 0,
        jitter_s: r.jitter || 0, lost: r.packetsLost || 0, packets: r.packetsReceived || 0,
        bytes: r.bytesReceived || 0};
      if (r.type === "inbound-rtp" && r.kind === "video") out.video = {
        frames: r.framesDecoded || 0, freezes: r.freezeCount || 0,
        freeze_s: r.totalFreezesDuration || 0, width: r.frameWidth || 0,
        height: r.frameHeight || 0, jb_delay_s: r.jitterBufferDelay || 0,
        jb_emitted: r.jitterBufferEmittedCount || 0, bytes: r.bytesReceived || 0};
      if (r.type === "outbound-rtp" && r.kind === "video") out.send = {
        limit: r.qualityLimitationReason || null, target_bps: r.targetBitrate || null,
        width: r.frameWidth || 0, height: r.frameHeight || 0, bytes: r.bytesSent || 0,
        rtx_bytes: r.retransmittedBytesSent || 0, frames: r.framesEncoded || 0,
        qp_sum: r.qpSum || 0};
      if (r.type === "candidate-pair" && r.nominated && r.availableOutgoingBitrate)
        out.available_bps = r.availableOutgoingBitrate;
      if (r.type === "candidate-pair" && r.nominated && r.currentRoundTripTime !== undefined)
        out.rtt_ms = r.currentRoundTripTime * 1000;
    });
  }
  out.t = performance.now() / 1000;
  return out;
}
"""


def window_figures(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Figures over the window between two ``STATS`` samples of one receiving side."""
    seconds = max(1e-3, after["t"] - before["t"])
    out: dict[str, Any] = {"rtt_ms": _round(after.get("rtt_ms"), 1)}
    a0, a1 = before.get("audio"), after.get("audio")
    if a0 and a1:
        samples = a1["samples"] - a0["samples"]
        emitted = a1["jb_emitted"] - a0["jb_emitted"]
        out["concealed_ratio"] = (
            round((a1["concealed"] - a0["concealed"]) / samples, 4) if samples else None
        )
        out["audio_jb_delay_ms"] = (
            round(1000 * (a1["jb_delay_s"] - a0["jb_delay_s"]) / emitted, 1) if emitted else None
        )
        out["audio_jitter_ms"] = round(1000 * a1["jitter_s"], 1)
        if "bytes" in a0 and "bytes" in a1:
            out["audio_kbps"] = round(8 * (a1["bytes"] - a0["bytes"]) / seconds / 1000, 1)
    v0, v1 = before.get("video"), after.get("video")
    if v0 and v1:
        out["fps"] = round((v1["frames"] - v0["frames"]) / seconds, 1)
        out["freezes"] = v1["freezes"] - v0["freezes"]
        out["freeze_s"] = round(v1["freeze_s"] - v0["freeze_s"], 2)
        out["resolution"] = f"{v1['width']}x{v1['height']}"
        if "bytes" in v0 and "bytes" in v1:
            out["video_kbps"] = round(8 * (v1["bytes"] - v0["bytes"]) / seconds / 1000, 1)
    # What this page's own video encoder was doing at the end (the other side's receive figures
    # follow from it): why it limited quality, and the bitrate it aimed at.
    send = after.get("send")
    if send:
        out["send_limit"] = send.get("limit")
        target = send.get("target_bps")
        out["send_target_kbps"] = round(target / 1000, 1) if target else None
        s0 = before.get("send") or {}
        if "bytes" in send and "bytes" in s0:
            # what its encoder produced (retransmissions left out), and its mean QP (lower is
            # finer quantization: VP8 0–127)
            encoded = (send["bytes"] - send["rtx_bytes"]) - (s0["bytes"] - s0["rtx_bytes"])
            out["encoded_kbps"] = round(8 * encoded / seconds / 1000, 1)
            frames = send["frames"] - s0["frames"]
            out["encoded_qp"] = (
                round((send["qp_sum"] - s0["qp_sum"]) / frames, 1) if frames else None
            )
    available = after.get("available_bps")
    if available:
        out["available_kbps"] = round(available / 1000, 1)
    return out


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def wrapper_for(lab: Lab, cid: str, directory: Path) -> Path:
    """An executable that runs Chromium inside client ``cid``'s namespace."""
    path = directory / f"chromium-{cid}"
    argv = " ".join(lab.exec_argv(cid, [shutil.which(CHROMIUM) or CHROMIUM]))
    path.write_text(f'#!/bin/sh\nexec {argv} "$@"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


class Mailbox:
    """Two SDP boxes (offer, answer), and the page: what the direct pages need from a server."""

    def __init__(self) -> None:
        self.boxes: dict[str, str] = {}
        self._changed = asyncio.Condition()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_MAILBOX_BYTES)
        app.router.add_get("/direct", self._page)
        app.router.add_post("/box/{name:offer|answer}", self._put)
        app.router.add_get("/box/{name:offer|answer}", self._take)
        return app

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def _put(self, request: web.Request) -> web.Response:
        text = await request.text()
        async with self._changed:
            self.boxes[request.match_info["name"]] = text
            self._changed.notify_all()
        return web.Response(status=204)

    async def _take(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: name in self.boxes), MAILBOX_WAIT_S
                )
            text = self.boxes.get(name)
        return web.Response(text=text) if text is not None else web.Response(status=204)


async def direct_run(lab: Lab, seconds: float, a: str = "a", b: str = "b") -> dict[str, Any]:
    """A direct Chromium↔Chromium call between clients ``a`` and ``b`` for ``seconds``: set-up
    time and each side's receive figures over the window (after a 3 s warm-up)."""
    from playwright.async_api import async_playwright

    mailbox = Mailbox()
    runner = web.AppRunner(mailbox.app())
    await runner.setup()
    site = web.TCPSite(runner, lab.server_address, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://{lab.server_address}:{port}"
    try:
        with tempfile.TemporaryDirectory(prefix="peiliao-quality-") as tmp:
            async with async_playwright() as p:
                browsers = [
                    await p.chromium.launch(
                        executable_path=str(wrapper_for(lab, cid, Path(tmp))),
                        # getUserMedia needs a secure context: the lab's page is plain HTTP
                        args=[*CHROMIUM_ARGS, f"--unsafely-treat-insecure-origin-as-secure={base}"],
                    )
                    for cid in (a, b)
                ]
                try:
                    pages = []
                    for br in browsers:
                        context = await br.new_context()
                        await context.add_init_script(RECORD)
                        pages.append(await context.new_page())
                    started = time.monotonic()
                    await asyncio.gather(
                        pages[0].goto(f"{base}/direct?role=offer"),
                        pages[1].goto(f"{base}/direct?role=answer"),
                    )
                    async with asyncio.timeout(SETUP_TIMEOUT_S):
                        connected_ms = await asyncio.gather(
                            *(pg.evaluate("window.__q") for pg in pages)
                        )
                        wall_setup_ms = 1000 * (time.monotonic() - started)
                        firsts = await both_media(pages)
                    t0_ms = [await pg.evaluate("window.__t0") for pg in pages]
                    await asyncio.sleep(3)
                    before = [await pg.evaluate(STATS) for pg in pages]
                    await asyncio.sleep(seconds)
                    after = [await pg.evaluate(STATS) for pg in pages]
                finally:
                    for br in browsers:
                        with contextlib.suppress(Exception):
                            await br.close()
    finally:
        await runner.cleanup()
    return {
        # page start (getUserMedia, non-trickle ICE, DTLS) to first audio packet and frame
        **first_media(firsts, t0_ms),
        "connected_ms": [round(x) for x in connected_ms],
        "setup_wall_ms": round(wall_setup_ms),
        "sides": [window_figures(x, y) for x, y in zip(before, after, strict=True)],
    }


async def both_media(pages: list[Any]) -> list[dict[str, Any]]:
    """Each page's ``__first`` stamps once every page has received audio and a video frame
    (the caller bounds the wait)."""
    while True:
        firsts = [
            await pg.evaluate("({...window.__first, stages: window.__stages ?? {}})")
            for pg in pages
        ]
        if all(f["audio"] and f["video"] for f in firsts):
            return firsts
        await asyncio.sleep(0.2)


def combine(sides: list[dict[str, Any]]) -> dict[str, Any]:
    """One figure per quantity for a call: the mean of its two receiving sides."""
    out: dict[str, Any] = {}
    for key in sides[0]:
        values = [s.get(key) for s in sides]
        numbers = [v for v in values if isinstance(v, int | float)]
        if len(numbers) == len(values):
            out[key] = round(statistics.fmean(numbers), 4)
        else:
            out[key] = " / ".join(str(v) for v in values)
    return out
