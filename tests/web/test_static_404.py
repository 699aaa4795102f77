"""Review findings on the web client's paths (peiliao/web.py): unknown paths answer a clear 404
with the API's machine-readable code (or the app page, for a browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.clock import FakeClock
from tests.harness.rig import RigFactory, make_rig

__all__ = ["make_rig"]

pytestmark = pytest.mark.timeout(60)


async def test_a_missing_file_under_assets_is_a_404_with_a_code(
    make_rig: RigFactory, clock: FakeClock, tmp_path: Path
) -> None:
    """``/assets`` is aiohttp's static route: a path that resolves inside the folder but names no
    file gets a FileResponse that sets 404 itself, with an empty body (no JSON, no code), which
    the errors middleware never sees.  Any other unknown path answers ``not_found``."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>t</title>")
    (dist / "assets" / "app.js").write_text("console.log(1)")
    async with make_rig(clock, web_dist_dir=str(dist)) as rig:
        ok = await rig.http.get("/assets/app.js")
        assert ok.status == 200
        for path in ("/assets/nope.js", "/assets/..%5c..%5cpyproject.toml"):
            resp = await rig.http.get(path, headers={"Accept": "application/json"})
            body = await resp.read()
            assert resp.status == 404, path
            assert resp.content_type == "application/json", (path, resp.content_type, body)
            assert (await resp.json())["error"]["code"] == "not_found"
