"""Voicerooms: the voicerooms package's tables."""

from __future__ import annotations
