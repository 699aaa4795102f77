"""Run every benchmark with its defaults: ``python -m bench`` (``make bench``)."""

import sys

from bench import media, metering, moderation, signaling

results = [metering.main([]), signaling.main([]), media.main([]), moderation.main([])]
sys.exit(max(results))
