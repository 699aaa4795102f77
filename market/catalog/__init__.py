"""The companion catalog: who can be called, at what price, and whether they are online."""
