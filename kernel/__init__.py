"""The shared kernel: settings, clock, errors, logs, telemetry, crypto, heap, cursors, safe JSON and
the HTTP kit.  It imports no domain package, so every package may use it."""
