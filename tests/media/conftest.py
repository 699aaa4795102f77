"""aiortc peers on loopback only: no STUN servers, and host candidates on 127.0.0.1 (aioice
leaves loopback out by default, and nothing but 127.0.0.1 may be reached from tests)."""

from __future__ import annotations

import aioice.ice
import pytest

from tests.harness.rig import make_rig, rig

__all__ = ["make_rig", "rig"]


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])
