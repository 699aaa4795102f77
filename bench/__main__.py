"""Run every benchmark with its defaults: ``python -m bench`` (``make bench``)."""

import sys

from bench import catalog, media, metering, moderation, signaling

results = [
    metering.main([]),
    signaling.main([]),
    media.main([]),
    moderation.main([]),
    catalog.main([]),
]
sys.exit(max(results))
