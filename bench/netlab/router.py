"""The lab's router: one process owning every TUN device of a lab, moving IP packets between
the server's side and the clients' namespaces through each client's ``Pipe``s.

    python -m bench.netlab.router CONFIG_JSON

``CONFIG_JSON``: ``{"server_tun", "server_address", "clients": [{"id", "profile",
"ifaces": [{"tun", "address"}]}]}``.  It creates the TUN devices, prints ``{"ready": true}``, and
then answers JSON lines on stdin: ``{"cmd": "stats"}`` → ``{"stats": {client: {"up", "down"}},
"unroutable": n}``; ``{"cmd": "profile", "client", "profile"}`` → ``{"ok": true}``; ``{"cmd":
"stop"}`` or the end of stdin (its parent gone) ends it, and its TUN devices go with it.

A packet from a client to the server goes through the client's ``up`` pipe; from the server to
a client through the client's ``down`` pipe; from one client to another through the sender's
``up`` and then the receiver's ``down``.  Anything else (IPv6, an address outside the lab) is
dropped and counted as unroutable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from bench.netlab.profiles import Pipe, Profile
from bench.netlab.tun import open_tun

MAX_PACKET_BYTES = 65535
MAX_IN_FLIGHT = 20000  # packets scheduled for delivery at once (a bound, not a queue model)


@dataclass
class Client:
    id: str
    up: Pipe
    down: Pipe
    fds: dict[bytes, int] = field(default_factory=dict)  # address (4 bytes) → its TUN


class Router:
    def __init__(self, config: dict[str, Any]) -> None:
        self.server_address = _ip4(config["server_address"])
        self.server_fd = open_tun(config["server_tun"])
        self.clients: list[Client] = []
        self.by_address: dict[bytes, Client] = {}
        self.by_fd: dict[int, Client] = {}
        self.unroutable = 0
        self.write_errors = 0
        self.in_flight = 0
        for entry in config["clients"]:
            prof = Profile.from_dict(entry["profile"])
            client = Client(entry["id"], Pipe(prof.up), Pipe(prof.down))
            for iface in entry["ifaces"]:
                fd = open_tun(iface["tun"])
                address = _ip4(iface["address"])
                client.fds[address] = fd
                self.by_address[address] = client
                self.by_fd[fd] = client
            self.clients.append(client)

    def fds(self) -> list[int]:
        return [self.server_fd, *self.by_fd]

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        loop.add_reader(self.server_fd, self._drain, self.server_fd)
        for fd in self.by_fd:
            loop.add_reader(fd, self._drain, fd)

    def _drain(self, fd: int) -> None:
        for _ in range(64):  # bounded: other descriptors get their turn
            try:
                packet = os.read(fd, MAX_PACKET_BYTES)
            except BlockingIOError:
                return
            except OSError:
                return
            self._route(fd, packet)

    def _route(self, fd: int, packet: bytes) -> None:
        if len(packet) < 20 or packet[0] >> 4 != 4:
            self.unroutable += 1
            return
        dst = packet[16:20]
        now = self.loop.time()
        sender = self.by_fd.get(fd)
        if sender is None:  # from the server
            receiver = self.by_address.get(dst)
            if receiver is None:
                self.unroutable += 1
                return
            self._send(receiver.down.admit(len(packet), now), receiver.fds[dst], packet)
            return
        at = sender.up.admit(len(packet), now)
        if dst == self.server_address:
            self._send(at, self.server_fd, packet)
            return
        receiver = self.by_address.get(dst)
        if receiver is None:
            self.unroutable += 1
            return
        if at is not None:
            at = receiver.down.admit(len(packet), at)
        self._send(at, receiver.fds[dst], packet)

    def _send(self, at: float | None, fd: int, packet: bytes) -> None:
        if at is None:
            return
        if self.in_flight >= MAX_IN_FLIGHT:
            self.unroutable += 1
            return
        self.in_flight += 1
        self.loop.call_at(at, self._write, fd, packet)

    def _write(self, fd: int, packet: bytes) -> None:
        self.in_flight -= 1
        try:
            os.write(fd, packet)
        except OSError:  # the interface is down (an address that moved away) or full
            self.write_errors += 1

    def stats(self) -> dict[str, Any]:
        return {
            "stats": {
                c.id: {"up": c.up.counters.as_dict(), "down": c.down.counters.as_dict()}
                for c in self.clients
            },
            "unroutable": self.unroutable,
            "write_errors": self.write_errors,
        }

    def set_profile(self, client_id: str, prof: Profile) -> None:
        for client in self.clients:
            if client.id == client_id:
                client.up.reconfigure(prof.up)
                client.down.reconfigure(prof.down)
                return
        raise KeyError(client_id)

    def close(self) -> None:
        for fd in self.fds():
            with contextlib.suppress(Exception):
                self.loop.remove_reader(fd)
            with contextlib.suppress(OSError):
                os.close(fd)


def _ip4(text: str) -> bytes:
    parts = [int(p) for p in text.split(".")]
    if len(parts) != 4 or not all(0 <= p <= 255 for p in parts):
        raise ValueError(f"not an IPv4 address: {text!r}")
    return bytes(parts)


def say(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


def prioritise() -> None:
    """Run ahead of ordinary processes (SCHED_RR): a router woken late adds delay the profile
    did not ask for, and the machines this runs on are often busy.  It sleeps between packets,
    so it cannot starve anything."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(10))


async def serve(config: dict[str, Any]) -> None:
    prioritise()
    router = Router(config)
    loop = asyncio.get_running_loop()
    router.start(loop)
    say({"ready": True})
    try:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                break
            try:
                cmd = json.loads(line)
                if cmd["cmd"] == "stats":
                    say(router.stats())
                elif cmd["cmd"] == "profile":
                    router.set_profile(cmd["client"], Profile.from_dict(cmd["profile"]))
                    say({"ok": True})
                elif cmd["cmd"] == "stop":
                    break
                else:
                    say({"error": f"unknown command {cmd['cmd']!r}"})
            except (ValueError, KeyError, TypeError) as exc:
                say({"error": repr(exc)})
    finally:
        router.close()


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m bench.netlab.router CONFIG_JSON")
    asyncio.run(serve(json.loads(argv[0])))


if __name__ == "__main__":
    main(sys.argv[1:])
