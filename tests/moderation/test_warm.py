"""The detector's warm-up: after it, no scan compiles anything (the first chats of a server do
not stall its event loop), and it decides exactly as a cold detector does."""

from __future__ import annotations

import re
from unittest import mock

from moderation import detect


def test_after_warming_no_message_compiles_a_pattern() -> None:
    detect.warm()
    assert detect.warm() == 0  # everything is compiled once
    detector = detect.Detector(b"warm-test")
    texts = [
        "加我微信 abc123 明天见面",
        "你好呀今天心情怎么样",
        "vx: qq 12345678 线下约",
        "我才十五岁，初三",
        "peiliao caller test message 1 from the customer",
        "刷个礼物支持一下嘛，去别的平台转账更便宜",
    ]
    with mock.patch.object(re, "compile", side_effect=AssertionError("compiled while scanning")):
        decisions = [detector.check(t) for t in texts]
    assert any(d.categories for d in decisions)
