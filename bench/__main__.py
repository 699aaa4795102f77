"""Run every benchmark with its defaults: ``python -m bench`` (``make bench``)."""

import sys

from bench import metering, signaling

results = [metering.main([]), signaling.main([])]
sys.exit(max(results))
