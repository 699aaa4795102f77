"""Appeals: the appeals package's tables."""

from __future__ import annotations
