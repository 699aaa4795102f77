"""docs/protocol.md names every event the server handles and sends, and every payload field."""

from __future__ import annotations

from pathlib import Path

from signaling.protocol import EVENTS, SERVER_EVENTS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


def test_every_client_event_and_field_is_documented() -> None:
    for event, model in EVENTS.items():
        assert f"`{event}`" in DOC, event
        for name in model.model_fields if model else {}:
            assert name in DOC, (event, name)


def test_every_server_event_is_documented() -> None:
    for event in SERVER_EVENTS:
        assert f"`{event}`" in DOC, event
