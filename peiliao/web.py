"""The built browser client, served at ``/`` with its history-mode routes."""

from __future__ import annotations

from pathlib import Path

import structlog
from aiohttp import web

log = structlog.get_logger("peiliao")

REPO_ROOT = Path(__file__).resolve().parent.parent


#: the web client's own top-level routes (web_client/src/router.ts; a test keeps them in step)
CLIENT_ROUTES = (
    "login",
    "companions",
    "call",
    "wallet",
    "studio",
    "admin",
    "me",
    "apply",
    "bookings",
    "sessions",
    "support",
    "rooms",
)


def web_dist_path(configured: str) -> Path:
    """The built web client: ``PEILIAO_WEB_DIST_DIR`` (a relative one is taken from the working
    directory at start-up), else ``web_client/dist`` beside the code, so that a server started
    from any folder serves the same client (a cwd-relative default answered 503 elsewhere)."""
    return Path(configured).resolve() if configured else REPO_ROOT / "web_client" / "dist"


def mount_web_client(app: web.Application, dist_dir: str) -> None:
    dist = web_dist_path(dist_dir)
    index = dist / "index.html"
    if not index.is_file():
        log.warning("web_client_not_built", dist_dir=str(dist))

    async def index_page(request: web.Request) -> web.StreamResponse:
        if not index.is_file():
            return web.Response(
                status=503,
                content_type="text/plain",
                text="web client not built: run `make run` (or `make web`)\n",
            )
        return web.FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.router.add_get("/", index_page)
    # The client's own routes (history mode): a reload or a shared link gets the app itself.
    for prefix in CLIENT_ROUTES:
        app.router.add_get(f"/{prefix}", index_page)
        app.router.add_get(f"/{prefix}/{{rest:.*}}", index_page)
    if (dist / "assets").is_dir():
        app.router.add_static("/assets", dist / "assets", append_version=False)
