"""Login sessions: cookies with CSRF for browsers, bearer tokens for the CLI, expiry, revocation."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from accounts.sms import DevOutbox
from kernel.clock import FakeClock
from kernel.settings import Settings
from peiliao.app import create_app
from store import Database
from tests.harness import bearer, last_code, login_cli, send_code

pytestmark = pytest.mark.timeout(60)


async def browser_login(client: TestClient, outbox: DevOutbox, phone: str) -> dict:  # type: ignore[type-arg]
    await send_code(client, phone)
    resp = await client.post(
        "/api/auth/login", json={"phone": phone, "code": last_code(outbox, phone)}
    )
    assert resp.status == 200
    body: dict = await resp.json()  # type: ignore[type-arg]
    assert body["token"] is None, "a browser login must not expose the session token to scripts"
    set_cookie = resp.headers.getall("Set-Cookie")
    session_cookie = next(c for c in set_cookie if c.startswith("peiliao_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie  # dev serves plain http on loopback
    return body


async def test_cookie_session_reads_without_csrf_but_writes_need_it(
    client: TestClient, outbox: DevOutbox
) -> None:
    body = await browser_login(client, outbox, "13800000101")
    me = await client.get("/api/me")
    assert me.status == 200 and (await me.json())["phone"] == "13800000101"

    no_csrf = await client.patch("/api/me", json={"nickname": "小红"})
    assert no_csrf.status == 403
    assert (await no_csrf.json())["error"]["code"] == "csrf_failed"
    wrong = await client.patch(
        "/api/me", json={"nickname": "小红"}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert wrong.status == 403
    ok = await client.patch(
        "/api/me", json={"nickname": "小红"}, headers={"X-CSRF-Token": body["csrf_token"]}
    )
    assert ok.status == 200 and (await ok.json())["nickname"] == "小红"

    session = await client.get("/api/auth/session")
    assert (await session.json())["csrf_token"] == body["csrf_token"]


async def test_bearer_tokens_need_no_csrf(client: TestClient, outbox: DevOutbox) -> None:
    token = await login_cli(client, outbox, "13800000102")
    resp = await client.patch("/api/me", json={"tags": ["游戏"]}, headers=bearer(token))
    assert resp.status == 200 and (await resp.json())["tags"] == ["游戏"]


@pytest.mark.parametrize(
    "header", ["Bearer forged-token", "Bearer ", "Basic abc", "Token x", "Bearer " + "x" * 500]
)
async def test_missing_malformed_or_forged_tokens_are_401(client: TestClient, header: str) -> None:
    resp = await client.get("/api/me", headers={"Authorization": header})
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "unauthenticated"


async def test_anonymous_requests_are_401(client: TestClient) -> None:
    resp = await client.get("/api/me")
    assert resp.status == 401


async def test_logout_revokes_at_once(client: TestClient, outbox: DevOutbox) -> None:
    token = await login_cli(client, outbox, "13800000103")
    assert (await client.post("/api/auth/logout", headers=bearer(token))).status == 200
    assert (await client.get("/api/me", headers=bearer(token))).status == 401


async def test_logout_all_revokes_every_device(
    client: TestClient, outbox: DevOutbox, clock: FakeClock
) -> None:
    phone = "13800000104"
    first = await login_cli(client, outbox, phone)
    clock.advance(60)
    second = await login_cli(client, outbox, phone)
    assert (await client.get("/api/me", headers=bearer(first))).status == 200
    assert (await client.post("/api/auth/logout-all", headers=bearer(second))).status == 200
    for token in (first, second):
        assert (await client.get("/api/me", headers=bearer(token))).status == 401


async def test_cookie_logout_clears_cookies(client: TestClient, outbox: DevOutbox) -> None:
    body = await browser_login(client, outbox, "13800000105")
    resp = await client.post("/api/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert resp.status == 200
    assert (await client.get("/api/me")).status == 401


@pytest.fixture
async def short_client(
    db: Database, settings: Settings, clock: FakeClock, outbox: DevOutbox
) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    short = settings.replace(session_ttl_s=3600, session_idle_s=1200)
    async with TestClient(TestServer(create_app(short, clock=clock, sms=outbox))) as c:
        yield c


async def test_session_expires_after_its_lifetime(
    short_client: TestClient, outbox: DevOutbox, clock: FakeClock
) -> None:
    token = await login_cli(short_client, outbox, "13800000106")
    for _ in range(5):  # steady use keeps it from idling out (1200 s), not from expiring
        clock.advance(700)
        assert (await short_client.get("/api/me", headers=bearer(token))).status == 200
    clock.advance(100)  # 3600 s since login
    assert (await short_client.get("/api/me", headers=bearer(token))).status == 401


async def test_session_idles_out(
    short_client: TestClient, outbox: DevOutbox, clock: FakeClock
) -> None:
    token = await login_cli(short_client, outbox, "13800000107")
    clock.advance(1199)
    assert (await short_client.get("/api/me", headers=bearer(token))).status == 200
    clock.advance(1199)  # last use was touched only if >= 300 s had passed: it was
    assert (await short_client.get("/api/me", headers=bearer(token))).status == 200
    clock.advance(1200)
    assert (await short_client.get("/api/me", headers=bearer(token))).status == 401


async def test_secure_cookies_outside_dev(
    db: Database, settings: Settings, clock: FakeClock, outbox: DevOutbox
) -> None:
    app = create_app(settings.replace(cookie_secure=True), clock=clock, sms=outbox)
    async with TestClient(TestServer(app)) as c:
        await send_code(c, "13800000108")
        resp = await c.post(
            "/api/auth/login",
            json={"phone": "13800000108", "code": last_code(outbox, "13800000108")},
        )
        cookies = resp.headers.getall("Set-Cookie")
        assert all("Secure" in ck for ck in cookies)


async def test_a_cookie_whose_login_ended_reads_as_anonymous_on_routes_open_to_anyone(
    client: TestClient, outbox: DevOutbox, clock: FakeClock
) -> None:
    """A browser keeps the cookie of a login that ended (logged out elsewhere, suspended): on a
    route anyone may call it is anonymous, not 401; a route that needs a login still says 401,
    and a bearer token that no longer logs in is refused everywhere (a client sent it on
    purpose)."""
    phone = "13800000106"
    await browser_login(client, outbox, phone)
    clock.advance(60)
    cli = await login_cli(client, outbox, phone)
    assert (await client.post("/api/auth/logout-all", headers=bearer(cli))).status == 200

    assert (await client.get("/api/me")).status == 401
    listing = await client.get("/api/companions")
    assert listing.status == 200, await listing.text()
    # an unsafe route open to anyone: no CSRF asked of an anonymous caller; its own answer
    appeal = await client.post("/api/sanctions/appeal", json={"token": "x" * 40, "text": "我"})
    assert appeal.status == 400, await appeal.text()
    assert (await appeal.json())["error"]["code"] == "bad_appeal_token"

    client.session.cookie_jar.clear()
    stale = await client.get("/api/companions", headers=bearer(cli))
    assert stale.status == 401
