"""coturn, started for a test: UDP on 127.0.0.1 with a TURN REST shared secret, logging to a
temporary file, stopped at the end.  Skipped (with the reason) where ``turnserver`` is not
installed; ``.ci/run`` installs Debian's coturn."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aioice.ice
import pytest

from tests.harness.rig import make_rig

__all__ = ["make_rig"]

TURNSERVER = shutil.which("turnserver") or shutil.which("turnserver", path="/usr/bin")
START_TIMEOUT_S = 10.0


@dataclass
class Coturn:
    port: int
    secret: str
    realm: str
    log: Path

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (coturn listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port: int = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port for coturn")


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In-process callers offer host candidates on 127.0.0.1 (aioice leaves loopback out)."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])
    yield


@pytest.fixture
async def coturn(tmp_path: Path) -> AsyncIterator[Coturn]:
    if TURNSERVER is None:
        pytest.skip("coturn is not installed (apt-get install coturn; .ci/run installs it)")
    server = Coturn(free_port(), secrets.token_urlsafe(24), "peiliao.test", tmp_path / "turn.log")
    relay_low = 20000 + secrets.randbelow(20000)
    proc = await asyncio.create_subprocess_exec(
        TURNSERVER,
        "-n",  # no configuration file: everything is on this command line
        "--listening-ip=127.0.0.1",
        "--relay-ip=127.0.0.1",
        f"--listening-port={server.port}",
        f"--min-port={relay_low}",
        f"--max-port={relay_low + 200}",
        "--use-auth-secret",
        f"--static-auth-secret={server.secret}",
        f"--realm={server.realm}",
        "--no-tls",
        "--no-dtls",
        "--no-cli",
        # The relay's peers (our server) are on loopback, which coturn refuses by default.
        "--allow-loopback-peers",
        "--fingerprint",
        f"--log-file={server.log}",
        "--simple-log",
        "--verbose",
        f"--userdb={tmp_path / 'turndb'}",
        f"--pidfile={tmp_path / 'turn.pid'}",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            while f"UDP listener opened on: 127.0.0.1:{server.port}" not in server.log_text():
                if proc.returncode is not None:
                    raise RuntimeError(f"turnserver exited {proc.returncode}: {server.log_text()}")
                await asyncio.sleep(0.05)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            async with asyncio.timeout(5):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
