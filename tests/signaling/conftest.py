"""The signaling tests run on the harness's server and sockets (``tests.harness.rig``)."""

from __future__ import annotations

from tests.harness.rig import make_rig, rig

__all__ = ["make_rig", "rig"]
