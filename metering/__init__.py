"""metering: see the README's architecture section."""
