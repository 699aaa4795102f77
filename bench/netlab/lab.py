"""A network lab: each client in a network namespace of its own, joined to the server's side
(the root namespace, where the server listens on the lab's address) through the lab's router,
which applies the client's profile to every packet both ways.

    async with Lab({"c1": PROFILES["good_4g"]}) as lab:
        lab.server_address          # 10.N.0.1, in the root namespace
        lab.netns("c1")             # run a client there: lab.exec_argv("c1", [...])
        await lab.switch("c1")      # the client's address changes (network_switch)
        await lab.stats()           # what the router did, per client and direction

Client ``k`` (from 1) has two networks, each a TUN device of the router in its namespace:
``a`` at 10.N.k.2 (up, default route) and ``b`` at 10.N.k.3 (down until ``switch``).  Why TUN
devices and not veth pairs: without netem the kernel has nothing to delay or drop packets with,
so every packet has to pass through a process; a TUN device hands it to one.

Everything the lab creates goes when it exits, on failure too: the router's TUN devices vanish
with its process, the namespaces are deleted; namespaces left by a lab whose process died
(``pl<pid>-…``) are deleted by the next lab.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.netlab.profiles import SWITCHED_TO, Profile
from bench.netlab.tun import socket_in, unavailable_reason

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 10.0
COMMAND_TIMEOUT_S = 5.0


class LabError(RuntimeError):
    """The lab could not be built or driven (with what to do next)."""


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)
    if done.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def _netns_list() -> list[str]:
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10)
    return [line.split()[0] for line in done.stdout.splitlines() if line.strip()]


def remove_stale() -> None:
    """Delete namespaces of labs whose process is gone."""
    for name in _netns_list():
        match = re.fullmatch(r"pl(\d+)-\w+", name)
        if match and not os.path.exists(f"/proc/{match[1]}"):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


def _free_second_octet() -> int:
    """A 10.N.0.0/16 no interface of this machine uses."""
    done = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True, timeout=10)
    used = {int(m[1]) for m in re.finditer(r"inet 10\.(\d+)\.", done.stdout)}
    start: int = 200 + os.getpid() % 50
    candidates: list[int] = [*range(start, 250), *range(200, start)]
    for n in candidates:
        if n not in used:
            return n
    raise LabError("no free 10.200-249.0.0/16 for the lab")


class Lab:
    def __init__(self, clients: dict[str, Profile]) -> None:
        if not clients:
            raise ValueError("a lab needs at least one client")
        for cid in clients:
            if not re.fullmatch(r"[a-z0-9]{1,6}", cid):
                raise ValueError(f"client id {cid!r}: 1-6 lowercase letters or digits")
        self.profiles = dict(clients)
        self.tag = f"pl{os.getpid()}"
        self.octet = 0
        self.server_address = ""
        self._index = {cid: k for k, cid in enumerate(clients, start=1)}
        self._namespaces: list[str] = []
        self._router: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    # -- names -----------------------------------------------------------------------------------

    def netns(self, cid: str) -> str:
        return f"{self.tag}-{cid}"

    def address(self, cid: str, network: str = "a") -> str:
        return f"10.{self.octet}.{self._index[cid]}.{2 if network == 'a' else 3}"

    def _tun(self, cid: str, network: str) -> str:
        return f"{self.tag}{self._index[cid]}{network}"[-15:]

    def exec_argv(self, cid: str, argv: list[str]) -> list[str]:
        """``argv`` run inside client ``cid``'s namespace."""
        return ["ip", "netns", "exec", self.netns(cid), *argv]

    def socket(self, cid: str, kind: int = socket.SOCK_DGRAM) -> socket.socket:
        """A socket in client ``cid``'s namespace, for this process to use."""
        return socket_in(self.netns(cid), socket.AF_INET, kind)

    # -- life ------------------------------------------------------------------------------------

    async def __aenter__(self) -> Lab:
        reason = unavailable_reason()
        if reason:
            raise LabError(reason)
        try:
            await asyncio.to_thread(self._build_namespaces)
            await self._start_router()
            await asyncio.to_thread(self._wire)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _build_namespaces(self) -> None:
        remove_stale()
        self.octet = _free_second_octet()
        self.server_address = f"10.{self.octet}.0.1"
        for cid in self.profiles:
            name = self.netns(cid)
            _ip("netns", "add", name)
            self._namespaces.append(name)
            _ip("-n", name, "link", "set", "lo", "up")

    async def _start_router(self) -> None:
        config = {
            "server_tun": f"{self.tag}s"[-15:],
            "server_address": self.server_address,
            "clients": [
                {
                    "id": cid,
                    "profile": prof.as_dict(),
                    "ifaces": [
                        {"tun": self._tun(cid, net), "address": self.address(cid, net)}
                        for net in ("a", "b")
                    ],
                }
                for cid, prof in self.profiles.items()
            ],
        }
        self._router = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.netlab.router",
            json.dumps(config),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=REPO,
        )
        reply = await self._reply(READY_TIMEOUT_S)
        if not reply.get("ready"):
            raise LabError(f"the router did not start: {reply}")

    def _wire(self) -> None:
        server_tun = f"{self.tag}s"[-15:]
        _ip("addr", "add", f"{self.server_address}/16", "dev", server_tun)
        _ip("link", "set", server_tun, "up")
        for cid in self.profiles:
            ns = self.netns(cid)
            for net in ("a", "b"):
                _ip("link", "set", self._tun(cid, net), "netns", ns)
            tun_a = self._tun(cid, "a")
            _ip("-n", ns, "addr", "add", f"{self.address(cid, 'a')}/32", "dev", tun_a)
            _ip("-n", ns, "link", "set", tun_a, "up")
            _ip("-n", ns, "route", "add", "default", "dev", tun_a)

    async def _reply(self, timeout_s: float) -> dict[str, Any]:
        assert self._router is not None and self._router.stdout is not None
        try:
            async with asyncio.timeout(timeout_s):
                line = await self._router.stdout.readline()
        except TimeoutError:
            raise LabError(f"the router said nothing for {timeout_s:g} s") from None
        if not line:
            raise LabError(f"the router exited ({await self._router.wait()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    async def _command(self, cmd: dict[str, Any]) -> dict[str, Any]:
        if self._router is None or self._router.stdin is None:
            raise LabError("the lab is not running")
        async with self._lock:
            self._router.stdin.write((json.dumps(cmd) + "\n").encode())
            await self._router.stdin.drain()
            reply = await self._reply(COMMAND_TIMEOUT_S)
        if "error" in reply:
            raise LabError(f"router: {reply['error']}")
        return reply

    async def stats(self) -> dict[str, Any]:
        """``{"stats": {client: {"up": counters, "down": counters}}, "unroutable", …}``."""
        return await self._command({"cmd": "stats"})

    async def set_profile(self, cid: str, prof: Profile) -> None:
        await self._command({"cmd": "profile", "client": cid, "profile": prof.as_dict()})
        self.profiles[cid] = prof

    async def switch(self, cid: str, to: Profile = SWITCHED_TO) -> str:
        """Move client ``cid`` from network ``a`` to network ``b``: its first address is gone,
        a new one takes over the default route, and ``to`` applies from then on.  Returns the
        new address."""
        ns, tun_a, tun_b = self.netns(cid), self._tun(cid, "a"), self._tun(cid, "b")
        new = self.address(cid, "b")

        def move() -> None:
            _ip("-n", ns, "addr", "flush", "dev", tun_a)
            _ip("-n", ns, "link", "set", tun_a, "down")
            _ip("-n", ns, "addr", "add", f"{new}/32", "dev", tun_b)
            _ip("-n", ns, "link", "set", tun_b, "up")
            _ip("-n", ns, "route", "replace", "default", "dev", tun_b)

        await self.set_profile(cid, to)
        await asyncio.to_thread(move)
        return new

    async def close(self) -> None:
        router, self._router = self._router, None
        if router is not None and router.returncode is None:
            with contextlib.suppress(Exception):
                assert router.stdin is not None
                router.stdin.write(b'{"cmd": "stop"}\n')
                router.stdin.close()
            try:
                async with asyncio.timeout(3):
                    await router.wait()
            except TimeoutError:
                router.kill()
                await router.wait()
        for name in self._namespaces:
            await asyncio.to_thread(
                subprocess.run, ["ip", "netns", "del", name], capture_output=True, timeout=10
            )
        self._namespaces.clear()
