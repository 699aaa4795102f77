"""Every route of the web client is served by the server (a reload or a shared link works)."""

from __future__ import annotations

import re
from typing import Any

from peiliao.web import CLIENT_ROUTES
from tests.web.conftest import ROOT


def test_the_server_serves_every_client_route() -> None:
    router = (ROOT / "web_client" / "src" / "router.ts").read_text()
    paths = set(re.findall(r'path: "/([a-z]+)', router))
    assert paths == set(CLIENT_ROUTES)


async def test_unknown_pages_get_the_client_with_404_and_unknown_api_paths_json(
    make_rig: Any, clock: Any, tmp_path: Any
) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><div id=app></div>")
    html = {"Accept": "text/html,application/xhtml+xml"}
    async with make_rig(clock, web_dist_dir=str(tmp_path)) as rig:
        # a page the client does not know: the client itself (it shows its 404), status 404
        for path in ("/no/such/page", "/companionsx", "/favicon-nope.png"):
            resp = await rig.http.get(path, headers=html)
            assert resp.status == 404, path
            assert resp.content_type == "text/html" and "id=app" in await resp.text()
        # a known client route is still 200
        resp = await rig.http.get("/companions/abc", headers=html)
        assert resp.status == 200
        # the API keeps its JSON 404 with a code, whatever the caller accepts
        for path in ("/api/no-such-thing", "/api", "/api/companions/x/nope"):
            resp = await rig.http.get(path, headers=html)
            assert resp.status == 404, path
            assert (await resp.json())["error"]["code"] == "not_found"
        resp = await rig.http.post("/api/no-such-thing", json={})
        assert (resp.status, (await resp.json())["error"]["code"]) == (404, "not_found")
        # a tool that does not ask for HTML gets JSON too
        resp = await rig.http.get("/no/such/page", headers={"Accept": "application/json"})
        assert (resp.status, (await resp.json())["error"]["code"]) == (404, "not_found")
        # a missing static file is not the app
        resp = await rig.http.get("/assets/nope.js", headers=html)
        assert resp.status == 404 and resp.content_type == "application/json"
