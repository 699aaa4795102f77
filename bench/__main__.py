"""Run every benchmark: ``python -m bench`` (``make bench``)."""

import sys

from bench import metering

sys.exit(metering.main(sys.argv[1:]))
