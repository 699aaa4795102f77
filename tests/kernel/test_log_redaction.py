"""Logs never carry SMS codes, tokens, ID or card numbers, message text, or whole phone numbers,
even when a careless call site passes them."""

from __future__ import annotations

import logging

import pytest
import structlog

from kernel.logs import configure_logging


def test_secrets_numbers_and_phones_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", json_logs=True)
    try:
        log = structlog.get_logger("test")
        log.info(
            "careless",
            token="tok_secret_value",
            sms_code="483920",
            text="my card 6222021234567890123",
            note="id 11010519491231002X and card 6222021234567890123, call 13812345678",
            code="invalid_sdp",  # an error code is not a secret
            request_id="a1b2c3d4e5f60718",
            at_ms=1764000000000,
        )
        out = capsys.readouterr().err
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers[:] = []
    for raw in ("tok_secret_value", "483920", "11010519491231002X", "6222021234567890123"):
        assert raw not in out
    assert "13812345678" not in out and "138****5678" in out
    assert "invalid_sdp" in out and "a1b2c3d4e5f60718" in out and "1764000000000" in out
