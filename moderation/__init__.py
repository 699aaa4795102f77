"""Moderation and safety: blocks between users (now); chat detection, reports and the admin
queue arrive with the Moderation issue."""
