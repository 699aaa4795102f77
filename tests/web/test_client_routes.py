"""Every route of the web client is served by the server (a reload or a shared link works)."""

from __future__ import annotations

import re

from peiliao.web import CLIENT_ROUTES
from tests.web.conftest import ROOT


def test_the_server_serves_every_client_route() -> None:
    router = (ROOT / "web_client" / "src" / "router.ts").read_text()
    paths = set(re.findall(r'path: "/([a-z]+)', router))
    assert paths == set(CLIENT_ROUTES)
