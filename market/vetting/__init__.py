"""Companion vetting: applications, the admin review queue, levels."""
