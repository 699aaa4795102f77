from tests.harness.rig import make_rig, rig

__all__ = ["make_rig", "rig"]
