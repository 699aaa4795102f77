import aioice.ice
import pytest

from tests.harness.rig import make_rig, rig

__all__ = ["make_rig", "rig"]


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiortc peers on loopback only (as tests/media do)."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])
