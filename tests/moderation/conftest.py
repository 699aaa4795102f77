import pytest

from moderation.detect import Detector
from tests.harness.rig import make_rig, rig
from tests.moderation.rounds import KEY

__all__ = ["make_rig", "rig"]


@pytest.fixture(scope="module")
def rules() -> Detector:
    """The rules without the n-gram model (the tuning rounds: ``tests.moderation.rounds``)."""
    return Detector(KEY, model=None)
