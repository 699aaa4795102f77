"""media: see the README's architecture section."""
