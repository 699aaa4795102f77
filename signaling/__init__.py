"""signaling: see the README's architecture section."""
