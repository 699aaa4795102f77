"""The quality benchmark's relay mode (issue 17, part 2): the web client in Chromium in two lab
namespaces, a customer calling a companion by video through a real ``peiliao serve`` (bound to
the lab's server address, a temporary SQLite database, the demo accounts of ``peiliao seed
--demo``); the same ``getStats()`` figures as the direct mode.

    async with Lab({"a": prof, "b": prof}) as lab, Server(lab) as server:
        got = await relay_run(lab, server, seconds=20)

Both pages log in through the login page (the code from the dev SMS outbox, as a person would
read it), the companion goes online in the studio, the customer presses "video call" on the
companion's page and the companion accepts.  Set-up is timed in the pages: from the customer's
click to each page's first received audio packet and first decoded video frame (an in-page
``getStats`` poll every 50 ms, both Chromiums on this machine's clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from bench.netlab.lab import REPO, Lab
from bench.netlab.quality import (
    CHROMIUM_ARGS,
    RECORD,
    SETUP_TIMEOUT_S,
    STATS,
    both_media,
    first_media,
    window_figures,
    wrapper_for,
)

PEILIAO = str(Path(sys.executable).with_name("peiliao"))
SERVER_START_TIMEOUT_S = 30.0
COMMAND_TIMEOUT_S = 60.0
STEP_TIMEOUT_MS = 20_000
CUSTOMER_PHONE = "13800000001"  # peiliao seed --demo
COMPANION_PHONE = "13900000001"


#: the Opus parameters of the relay's answer, as the customer's page holds it
OPUS_FMTP = """
() => { const sdp = window.__pcs[window.__pcs.length - 1].remoteDescription.sdp;
  const pt = (/a=rtpmap:(\\d+) opus\\/48000/i.exec(sdp) || [])[1];
  const m = pt && new RegExp("a=fmtp:" + pt + " (.*)").exec(sdp);
  return m ? m[1].trim() : ""; }
"""


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """``peiliao serve`` on the lab's server address with a database of its own (migrated and
    seeded with the demo accounts); stopped (SIGTERM, then SIGKILL) and its files removed on
    exit."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.url = ""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self.log: Path | None = None
        self.seeded: dict[str, Any] = {}

    def _env(self, tmp: Path, port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PEILIAO_")}
        return env | {
            "PEILIAO_ENV": "dev",
            "PEILIAO_HOST": self.lab.server_address,
            "PEILIAO_PORT": str(port),
            "PEILIAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'peiliao.db'}",
            "PEILIAO_WEB_DIST_DIR": str(REPO / "web_client" / "dist"),
            "PEILIAO_ICE_HOST_ADDRESSES": self.lab.server_address,
            "PEILIAO_LOG_LEVEL": os.environ.get("NETLAB_SERVER_LOG_LEVEL", "warning"),
        }

    async def _run(self, env: dict[str, str], *argv: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            PEILIAO, *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT_S):
                out, err = await proc.communicate()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        if proc.returncode != 0:
            raise RuntimeError(f"peiliao {' '.join(argv)}: {err.decode()[-2000:]}")
        return out.decode()

    async def __aenter__(self) -> Server:
        self._tmp = tempfile.TemporaryDirectory(prefix="peiliao-relay-")
        tmp = Path(self._tmp.name)
        try:
            port = free_port(self.lab.server_address)
            env = self._env(tmp, port)
            await self._run(env, "db", "upgrade")
            self.seeded = json.loads(await self._run(env, "seed", "--demo"))
            self.log = tmp / "serve.log"
            with self.log.open("wb") as log:
                self._proc = await asyncio.create_subprocess_exec(
                    PEILIAO, "serve", "--workers", "1", env=env, stdout=log, stderr=log
                )
            self.url = f"http://{self.lab.server_address}:{port}"
            async with asyncio.timeout(SERVER_START_TIMEOUT_S), aiohttp.ClientSession() as http:
                while True:
                    if self._proc.returncode is not None:
                        raise RuntimeError(f"peiliao serve exited: {self.log_tail()}")
                    with contextlib.suppress(aiohttp.ClientError):
                        async with http.get(f"{self.url}/healthz") as resp:
                            if resp.status < 500:
                                break
                    await asyncio.sleep(0.2)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def log_tail(self) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(errors="replace")[-3000:]

    def companion_id(self) -> str:
        for c in self.seeded["companions"]:
            if c["phone"] == COMPANION_PHONE:
                return str(c["id"])
        raise RuntimeError(f"no demo companion {COMPANION_PHONE}: {self.seeded}")

    async def code_for(self, phone: str) -> str:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.url}/api/dev/sms-outbox", params={"phone": phone}) as resp,
        ):
            messages = (await resp.json())["messages"]
        return str(messages[0]["code"])  # the newest first

    async def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                async with asyncio.timeout(10):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        _keep_log(self.log)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _keep_log(log: Path | None) -> None:
    """For a diagnosis: append the server's log to ``$NETLAB_KEEP_SERVER_LOG`` (with
    ``NETLAB_SERVER_LOG_LEVEL=info`` for more than warnings)."""
    keep = os.environ.get("NETLAB_KEEP_SERVER_LOG")
    if keep and log is not None and log.exists():
        with open(keep, "ab") as out:
            out.write(log.read_bytes())


async def log_in(server: Server, page: Any, phone: str) -> None:
    await page.goto(f"{server.url}/login")
    await page.fill("#phone", phone)
    await page.click("[data-test=send-code]")
    await page.wait_for_selector("text=验证码已发送")
    await page.fill("#code", await server.code_for(phone))
    await page.click("[data-test=login]")
    await page.wait_for_url(re.compile(r"/(companions|studio|welcome)"))


async def relay_run(
    lab: Lab, server: Server, seconds: float, a: str = "a", b: str = "b"
) -> dict[str, Any]:
    """A video call through the server: the customer's Chromium in client ``a``, the
    companion's in ``b``, for ``seconds`` after a 3 s warm-up; set-up times and each side's
    receive figures over the window (customer first)."""
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory(prefix="peiliao-quality-") as tmp:
        async with async_playwright() as p:
            browsers = [
                await p.chromium.launch(
                    executable_path=str(wrapper_for(lab, cid, Path(tmp))),
                    args=[
                        *CHROMIUM_ARGS,
                        f"--unsafely-treat-insecure-origin-as-secure={server.url}",
                    ],
                )
                for cid in (a, b)
            ]
            try:
                pages = []
                for br in browsers:
                    context = await br.new_context(locale="zh-CN")
                    await context.add_init_script(RECORD)
                    page = await context.new_page()
                    page.set_default_timeout(STEP_TIMEOUT_MS)
                    pages.append(page)
                cust, comp = pages
                await log_in(server, cust, CUSTOMER_PHONE)
                await log_in(server, comp, COMPANION_PHONE)
                await comp.goto(f"{server.url}/studio")
                await comp.click("[data-test=go-online]")
                await comp.wait_for_selector("[data-test=studio-status][data-status=online]")
                await cust.goto(f"{server.url}/companions/{server.companion_id()}")
                button = cust.locator("[data-test=call-video]")
                await button.wait_for()
                clicked_ms = await cust.evaluate("Date.now()")
                await button.click()
                await comp.click("[data-test=accept]")
                accepted_ms = await comp.evaluate("Date.now()")
                async with asyncio.timeout(SETUP_TIMEOUT_S):
                    firsts = await both_media(pages)
                opus = await cust.evaluate(OPUS_FMTP)
                await asyncio.sleep(3)
                before = [await pg.evaluate(STATS) for pg in pages]
                await asyncio.sleep(seconds)
                after = [await pg.evaluate(STATS) for pg in pages]
                await cust.click("[data-test=hangup]")
                await cust.wait_for_selector("[data-test=phase][data-phase=ended]")
            except BaseException:
                print(f"relay run failed; server log:\n{server.log_tail()}", file=sys.stderr)
                raise
            finally:
                for br in browsers:
                    with contextlib.suppress(Exception):
                        await br.close()
    return {
        # the customer's click to each page's first audio packet and first decoded frame
        **first_media(firsts, clicked_ms),
        "accepted_ms": [round(accepted_ms - clicked_ms)] * 2,
        "relay_opus_fmtp": opus,
        "sides": [window_figures(x, y) for x, y in zip(before, after, strict=True)],
    }
