"""The headless caller: a client of the server (HTTP API, Socket.IO, WebRTC) that acts as a
browser would, for tests, field checks and load.  ``caller.main`` is the entry point."""
