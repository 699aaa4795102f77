"""Support: the support package's tables."""

from __future__ import annotations
