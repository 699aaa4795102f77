"""Browser tests: the built web client in Debian's Chromium (headless, fake camera and
microphone), driven by Playwright, against a real server on 127.0.0.1 (SQLite only, like every
test not marked ``both_databases``: the database layer has its own tests on both)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.rig import make_rig

__all__ = ["make_rig"]
ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web_client" / "dist"
SHOTS = ROOT / "web_client" / "screenshots"
CHROMIUM = os.environ.get("PEILIAO_CHROMIUM", "/usr/bin/chromium")


def _ready() -> bool:
    return Path(CHROMIUM).exists() and (DIST / "index.html").exists()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not _ready():
        if os.environ.get("PEILIAO_REQUIRE_SERVICES"):
            pytest.fail(f"browser tests need {CHROMIUM} and a built web client (make web)")
        pytest.skip(f"no {CHROMIUM} or no web_client/dist")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=shutil.which(CHROMIUM) or CHROMIUM,
            args=[
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        try:
            yield browser
        finally:
            await browser.close()
