"""The audit log: every admin action, append-only, readable by admins."""
