from tests.signaling.conftest import make_rig, rig

__all__ = ["make_rig", "rig"]
