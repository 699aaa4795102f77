"""The app on a loopback server with real sockets (the signaling rig), its booking sweep left
to the tests: they move the fake clock and run ``run_once`` themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kernel.clock import FakeClock
from tests.harness.rig import Rig, RigFactory, make_rig

__all__ = ["make_rig", "rig"]


@pytest.fixture
async def rig(make_rig: RigFactory, clock: FakeClock) -> AsyncIterator[Rig]:
    async with make_rig(clock, booking_sweep_interval_s=3600.0) as rig:
        yield rig
