"""The built browser client, served at ``/`` with its history-mode routes."""

from __future__ import annotations

from pathlib import Path

import structlog
from aiohttp import web

from kernel.errors import NotFound

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
    "welcome",
    "forbidden",
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

    async def unknown_page(request: web.Request) -> web.StreamResponse:
        """Any other page: the app with a 404 status, so that the client shows its own "no such
        page" (in the reader's language) while the status stays true for crawlers and tools.
        A browser gets the page; anything that does not ask for HTML gets the API's JSON."""
        if not index.is_file() or "text/html" not in request.headers.get("Accept", ""):
            raise NotFound()
        return web.FileResponse(index, status=404, headers={"Cache-Control": "no-cache"})

    app.router.add_get("/", index_page)
    # The client's own routes (history mode): a reload or a shared link gets the app itself.
    for prefix in CLIENT_ROUTES:
        app.router.add_get(f"/{prefix}", index_page)
        app.router.add_get(f"/{prefix}/{{rest:.*}}", index_page)
    assets = (dist / "assets").resolve()

    async def asset(request: web.Request) -> web.StreamResponse:
        """A built file (content-hashed names: cached for good).  A name that is not a file in
        the folder (missing, a directory, or leading out of it) is the API's ``not_found``:
        aiohttp's static route answered those with an empty body and no code."""
        try:
            path = (assets / request.match_info["name"]).resolve()
        except (OSError, ValueError):
            raise NotFound() from None
        if not path.is_relative_to(assets) or not path.is_file():
            raise NotFound()
        return web.FileResponse(path, headers={"Cache-Control": "public, max-age=31536000"})

    app.router.add_get("/assets/{name:.+}", asset)
    # Last, after every API route: unknown paths outside the API's own prefixes (which keep
    # their JSON 404 with its code, ``not_found``) and the static files.
    app.router.add_get(r"/{path:(?!api/|api$|assets/|socket\.io/).*}", unknown_page)
